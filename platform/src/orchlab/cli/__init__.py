"""The ``orchlab`` command line: services (up, down, status), pipelines (run), reports and the
demo.

Each command group lives in its own module and registers itself on :data:`app`. Commands
raise; the root group reports every error on one line (see :mod:`orchlab.cli._errors`).
"""

from __future__ import annotations

import os
import sys

import typer

from orchlab.cli._errors import OrchlabGroup
from orchlab.cli.help import EXIT_CODES, run_app, version_option

app = typer.Typer(
    cls=OrchlabGroup,
    name="orchlab",
    help="orchlab: run ML pipelines on Prefect or Temporal, and manage the embedded engines.",
    epilog=EXIT_CODES,
    rich_markup_mode="markdown",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=version_option("orchlab", "orchlab"),
        is_eager=True,
        help="Print orchlab's version and exit.",
    ),
) -> None:
    """orchlab: run ML pipelines on Prefect or Temporal, and manage the embedded engines."""


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from orchlab.cli import audit, chaos, demo, dlq, report, run, services  # noqa: F401


def main() -> None:
    """Entry point of the ``orchlab`` console script."""
    _register()
    try:
        run_app(app, "orchlab")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code != 0 and "temporalio.bridge" in sys.modules:
            # After a failed connect, the Temporal SDK's core threads may still call into
            # Python while the interpreter shuts down, which aborts it (a crash instead of
            # the exit code). The error line is out: leave without the shutdown.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        raise


__all__ = ["app", "main"]
