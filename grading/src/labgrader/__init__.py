"""labgrader: assign, check and grade orchlab's notebook labs."""

__all__: list[str] = []
