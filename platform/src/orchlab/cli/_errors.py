"""The one error path of the ``orchlab`` command line.

Every command raises; :class:`OrchlabGroup` reports. A failure is one line on stderr
(``error: ...``), never a traceback, and the exit code says whose problem it is:

* ``2``: the input is wrong (a bad option or argument, an invalid spec or setting, an unknown
  id): an :class:`~orchlab.errors.OrchlabError` that is also a ``ValueError`` or
  ``LookupError``, or a usage error from the command-line parser;
* ``1``: the work failed (an engine could not be reached, a run failed): any other
  :class:`~orchlab.errors.OrchlabError`, or an error of the Temporal SDK, Prefect or HTTP.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

# typer (>= 0.29) ships its own copy of click; its parser errors are only named there.
from typer._click.core import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from orchlab.errors import OrchlabError, error_text, first_line

err = Console(stderr=True)

USAGE_EXIT = 2
"""The exit code of a user error."""
FAILURE_EXIT = 1
"""The exit code of a failure."""


def say_error(message: str, *, label: str = "error") -> None:
    """Print ``label: message`` on stderr on one line (the message is never markup)."""
    err.print(Text.assemble((f"{label}: ", "bold red"), message), soft_wrap=True, highlight=False)


def fail(message: str, code: int = FAILURE_EXIT) -> NoReturn:
    """Print one error line on stderr and exit with ``code``."""
    say_error(message)
    raise typer.Exit(code)


def exit_code(exc: OrchlabError) -> int:
    """``2`` for a user error (a ``ValueError`` or ``LookupError``), else ``1``."""
    return USAGE_EXIT if isinstance(exc, ValueError | LookupError) else FAILURE_EXIT


def _engine_errors() -> tuple[type[BaseException], ...]:
    # Evaluated only when an exception is being matched: an engine that was never imported
    # cannot have raised, so nothing is imported here.
    found: list[type[BaseException]] = []
    for module, name in (
        ("temporalio.exceptions", "TemporalError"),
        ("prefect.exceptions", "PrefectException"),
        ("httpx", "HTTPError"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


class OrchlabGroup(TyperGroup):
    """The root command group: runs the command and turns its errors into one line."""

    def invoke(self, ctx: Context) -> Any:
        """Run the command; report a user error or a failure on one line and exit."""
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:  # a command group without a command: its help is shown
            raise
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            fail(f"{first_line(exc.format_message())} (see `{where} --help`)", USAGE_EXIT)
        except OrchlabError as exc:
            fail(str(exc) or type(exc).__name__, exit_code(exc))
        except _engine_errors() as exc:
            fail(f"the engine failed: {error_text(exc)}", FAILURE_EXIT)


__all__ = ["FAILURE_EXIT", "USAGE_EXIT", "OrchlabGroup", "exit_code", "fail", "say_error"]
