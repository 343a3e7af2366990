"""``orchlab audit``: verify an audit log's hash chain, and export it.

Exit codes: 0 the log is intact (or exported), 1 the chain is broken (the first bad record
is named), 2 a usage problem (missing file, unknown format, bad key variable).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail, say_error
from orchlab.policy import AuditIntegrityError, EnvSecrets, SecretNotFound, export_log, verify_log

audit_app = typer.Typer(
    name="audit", help="Verify and export tamper-evident audit logs.", no_args_is_help=True
)
app.add_typer(audit_app)

console = Console()

KeyEnv = Annotated[
    str | None,
    typer.Option(
        "--key-env",
        help="Environment variable holding the log's HMAC key, if it was written with one.",
    ),
]


class ExportFormat(StrEnum):
    """Export formats."""

    JSONL = "jsonl"
    CLOUDEVENTS = "cloudevents"


def _key(var: str | None) -> bytes | None:
    if var is None:
        return None
    try:
        value = EnvSecrets().get(var)  # registered with the log redactor
    except SecretNotFound:
        fail(f"environment variable {var} is not set", USAGE_EXIT)
    if not value:
        fail(f"environment variable {var} is empty", USAGE_EXIT)
    return value.encode()


@audit_app.command("verify")
def verify_command(
    log: Annotated[Path, typer.Argument(help="The audit log (JSONL).")],
    expected_head: Annotated[
        str | None,
        typer.Option(help="The head hash recorded elsewhere; detects records cut off the end."),
    ] = None,
    key_env: KeyEnv = None,
) -> None:
    """Check every record's hash and link; name the first bad record.

    Example: orchlab audit verify .state/audit.jsonl
    """
    if not log.exists():
        fail(f"no audit log at {log}", USAGE_EXIT)
    report = verify_log(log, key=_key(key_env), expected_head=expected_head)
    if report.ok:
        console.print(
            f"[green]ok[/]: {report.records} records, chain intact; head {report.head}",
            highlight=False,
        )
        return
    say_error(
        f"{log}: record at line {report.first_bad}: {report.problem} "
        f"({report.records} records before it are intact)",
        label="tampered",
    )
    raise typer.Exit(1)


@audit_app.command("export")
def export_command(
    log: Annotated[Path, typer.Argument(help="The audit log (JSONL).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the export.")],
    format: Annotated[ExportFormat, typer.Option(help="jsonl or cloudevents.")] = (
        ExportFormat.JSONL
    ),
    source: Annotated[str, typer.Option(help="The CloudEvents source URI.")] = "/orchlab/audit",
    key_env: KeyEnv = None,
) -> None:
    """Verify the log, then write it as JSONL or CloudEvents (one JSON event a line).

    Example: orchlab audit export .state/audit.jsonl -o audit.events --format cloudevents
    """
    if not log.exists():
        fail(f"no audit log at {log}", USAGE_EXIT)
    try:
        count = export_log(log, output, format=format.value, key=_key(key_env), source=source)
    except AuditIntegrityError as exc:  # a ValueError, but a tampered log, not bad input
        say_error(str(exc), label="not exported")
        raise typer.Exit(1) from None
    console.print(f"wrote {count} records as {format.value} to {output}", highlight=False)


__all__ = ["audit_app", "export_command", "verify_command"]
