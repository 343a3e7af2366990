"""``orchlab up``, ``down``, ``status`` and ``exec``: the embedded engines from the shell."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail, say_error
from orchlab.config import get_settings
from orchlab.errors import OrchlabError
from orchlab.runtime import ServiceRecord, Stack, read_stack, stop_stack
from orchlab.runtime.stack import answers

console = Console()


_LABELS = {"temporal": "Temporal", "prefect": "Prefect", "jupyter": "JupyterLab"}


def _show(records: Mapping[str, ServiceRecord]) -> None:
    # Plain lines, never a table: a URL with a token must not be truncated or wrapped.
    for name, rec in records.items():
        label = _LABELS.get(name, name)
        if name == "jupyter":
            line = f"  {label:<11} {rec.url}"
        else:
            kind = "address" if name == "temporal" else "API"
            line = f"  {label:<11} UI {rec.extra.get('ui', '-'):<26} {kind} {rec.url}"
            if "metrics" in rec.extra:
                line += f"  metrics {rec.extra['metrics']}"
        console.print(f"{line}   [dim](pid {rec.pid})[/]", soft_wrap=True, highlight=False)
        if name == "jupyter" and (start := rec.extra.get("start")):
            console.print(f"  {'start here':<11} {start}", soft_wrap=True, highlight=False)


@app.command()
def up(
    jupyter: Annotated[
        bool, typer.Option("--jupyter", help="Also start JupyterLab on labs/.")
    ] = False,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", help="Stay in the foreground; Ctrl-C stops everything."),
    ] = False,
    labs_dir: Annotated[Path, typer.Option(help="The folder JupyterLab serves.")] = Path("labs"),
) -> None:
    """Start Temporal (with its Web UI), Prefect (with its UI) and optionally JupyterLab.

    Everything binds to 127.0.0.1 and keeps its state in .state/ (ORCHLAB_STATE_DIR).
    Ports come from ORCHLAB_TEMPORAL_PORT, ORCHLAB_TEMPORAL_UI_PORT, ORCHLAB_PREFECT_PORT and
    ORCHLAB_JUPYTER_PORT (a free port is used when one is busy). With a Temporal cluster
    configured (TEMPORAL_ADDRESS or a Temporal profile) or PREFECT_API_URL set, that engine
    is used instead of started; ORCHLAB_PROFILE=prod starts none.

    Example: orchlab up --jupyter
    """
    settings = get_settings()

    def stage(text: str) -> None:
        console.print(f"[dim]{text}[/]", highlight=False)

    stack = Stack(settings, jupyter=jupyter, labs_dir=labs_dir, on_stage=stage)
    running = read_stack(stack.state_dir)
    if running:
        console.print(
            "[yellow]orchlab is already running[/] (stop it with Ctrl-C in its "
            "terminal, or `orchlab down`):"
        )
        _show(running)
        return
    with console.status(
        "starting Temporal, Prefect"
        + (" and JupyterLab" if jupyter else "")
        + " (Prefect takes 10-30 s the first time)..."
    ):
        records = stack.start(tie_to_parent=foreground)
    for note in stack.notes:
        console.print(f"[yellow]note:[/] {note}")
    _show(records)
    if not foreground:
        console.print("stop them with [bold]orchlab down[/]")
        return
    console.print("[green]ready.[/] Press Ctrl-C to stop everything.")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            dead = [s.name for s in stack.services if s.process is None or not s.process.running()]
            if dead:
                say_error(f"{', '.join(dead)} stopped unexpectedly; see .state/*/*.log")
                break
    finally:
        console.print("stopping...")
        stack.stop()
        console.print("stopped.")


@app.command()
def down() -> None:
    """Stop the services started by `orchlab up` (from any terminal).

    Example: orchlab down
    """
    stopped = stop_stack()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command()
def status() -> None:
    """Show the running services and whether each one answers. Exit 1 when none runs.

    Example: orchlab status
    """
    records = read_stack()
    if not records:
        console.print("no orchlab services are running here (start them with `make lab`)")
        raise typer.Exit(1)
    _show(records)
    silent = [name for name, rec in records.items() if not answers(rec)]
    if silent:
        fail(f"not answering: {', '.join(silent)} (see the logs under .state/)")
    console.print("all services answer")


def _existing_engines() -> dict[str, str]:
    """The engines already there (external or a running stack), by environment variable."""
    from orchlab.runtime import prefect_api_url, temporal_address

    found: dict[str, str] = {}
    for var, find in (("TEMPORAL_ADDRESS", temporal_address), ("PREFECT_API_URL", prefect_api_url)):
        with contextlib.suppress(OrchlabError):
            found[var] = find()
    return found


@app.command(
    "exec",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def exec_(
    ctx: typer.Context,
    reuse: Annotated[
        bool,
        typer.Option(
            "--reuse",
            help="Use engines that are already there (TEMPORAL_ADDRESS, PREFECT_API_URL, "
            "a running `make lab`) and start only the missing ones.",
        ),
    ] = False,
) -> None:
    """Run a command with engines: `orchlab exec [--reuse] -- pytest ...`.

    Starts a Temporal dev server and a Prefect server (no UIs) in a temporary state folder,
    runs the command with TEMPORAL_ADDRESS and PREFECT_API_URL set, stops both, and exits
    with the command's exit code. This is how `make test` shares one set of engines
    between all its phases without touching a learner's running lab.

    Example: orchlab exec --reuse -- pytest platform/tests
    """
    import tempfile

    from orchlab.runtime import PrefectServer, TemporalDevServer

    argv = list(ctx.args)
    if not argv:
        fail("usage: orchlab exec [--reuse] -- COMMAND [ARGS...]", USAGE_EXIT)
    env = dict(os.environ)
    with contextlib.ExitStack() as owned:
        tmp = Path(owned.enter_context(tempfile.TemporaryDirectory(prefix="orchlab-exec-")))
        started = time.monotonic()
        with console.status("starting engines (Prefect takes 10-30 s)..."):
            existing = _existing_engines() if reuse else {}
            temporal = existing.get("TEMPORAL_ADDRESS") or (
                owned.enter_context(TemporalDevServer(tmp / "temporal")).address
            )
            prefect = existing.get("PREFECT_API_URL") or (
                owned.enter_context(PrefectServer(tmp / "prefect", ui=False)).api_url
            )
        env.update(TEMPORAL_ADDRESS=temporal, PREFECT_API_URL=prefect)
        console.print(
            f"engines ready in {time.monotonic() - started:.1f} s: "
            f"Temporal {env['TEMPORAL_ADDRESS']}, Prefect {env['PREFECT_API_URL']}",
            highlight=False,
        )
        rc = subprocess.call(argv, env=env)
    raise typer.Exit(rc)


__all__ = ["down", "exec_", "status", "up"]
