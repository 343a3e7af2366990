# exercise: blue-green
# why: always deploys to blue, overwriting the live version, so the rollback has nothing warm to return to
class BlueGreenRouter:
    def __init__(self) -> None:
        self._slots: dict[str, str | None] = {"blue": None, "green": None}
        self._live: str | None = None

    @property
    def slots(self) -> dict[str, str | None]:
        return dict(self._slots)

    @property
    def live_version(self) -> str | None:
        return None if self._live is None else self._slots[self._live]

    def deploy(self, version: str) -> str:
        self._slots["blue"] = version
        return "blue"

    def switch(self) -> str:
        idle = "green" if self._live == "blue" else "blue"
        if self._slots[idle] is None:
            raise RuntimeError(f"the idle slot {idle} is empty")
        self._live = idle
        return idle

    def rollback(self) -> str:
        if self._live is None:
            raise RuntimeError("nothing is live")
        other = "green" if self._live == "blue" else "blue"
        if self._slots[other] is None:
            raise RuntimeError(f"the other slot {other} is empty")
        self._live = other
        return other
