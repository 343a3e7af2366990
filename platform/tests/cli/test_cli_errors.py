"""The orchlab command line's one error path: one line on stderr, exit 2 for a user error,
exit 1 for a failure, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ORCHLAB = [sys.executable, "-m", "orchlab.cli"]


def _orchlab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORCHLAB, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300", **(env or {})},
    )


def _one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["run", "wine_training", "--engine", "spark"],
            "Invalid value for '--engine' / '-e': Value error, 'spark' is not one of 'local', "
            "'prefect', 'temporal'. (see `orchlab run --help`)",
        ),
        (["frobnicate"], "No such command 'frobnicate'. (see `orchlab --help`)"),
        (
            ["dlq", "list", "--status", "lost"],
            "Invalid value for '--status': Value error, 'lost' is not one of 'dead', 'replayed', "
            "'discarded', 'all'.",
        ),
        (["audit", "export", "x.jsonl", "-o", "y", "--format", "xml"], "'xml' is not one of"),
        (["run", "no-such-spec"], "no spec file 'no-such-spec' and no bundled example"),
        (["run", "wine_training", "-p", "oops"], "--param expects key=value, got 'oops'"),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    run = _orchlab(*args)
    assert run.returncode == 2
    assert message in _one_error_line(run)


def test_an_invalid_setting_is_a_user_error() -> None:
    run = _orchlab("up", env={"ORCHLAB_PREFECT_PORT": "99999"})
    assert run.returncode == 2
    assert "invalid setting 'prefect_port'" in _one_error_line(run)


def _run_unreachable(engine: str, var: str, address: str, tmp_path: Path) -> tuple[int, str]:
    """``orchlab run`` on an engine at a port nothing listens on: (the port, the error line)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run = _orchlab(
        "run",
        "wine_training",
        "--engine",
        engine,
        "--workdir",
        str(tmp_path / "run"),
        env={var: address.format(port=port)},
    )
    assert run.returncode == 1
    return port, _one_error_line(run)


def test_an_unreachable_engine_is_a_failure_exit_1(tmp_path: Path) -> None:
    port, line = _run_unreachable("temporal", "TEMPORAL_ADDRESS", "127.0.0.1:{port}", tmp_path)
    assert line == (
        f"error: cannot reach Temporal at 127.0.0.1:{port} (from TEMPORAL_ADDRESS; namespace "
        "default): connection refused (nothing listens there). Start the engines with `make "
        "lab` (or `orchlab up`), or set TEMPORAL_ADDRESS to a reachable frontend"
    )


def test_an_unreachable_prefect_is_one_line_naming_the_url_and_its_source(
    tmp_path: Path,
) -> None:
    url = "http://127.0.0.1:{port}/api"
    port, line = _run_unreachable("prefect", "PREFECT_API_URL", url, tmp_path)
    assert line == (
        f"error: cannot reach Prefect at http://127.0.0.1:{port}/api (from PREFECT_API_URL): "
        "connection refused (nothing listens there). Start the engines with `make lab` (or "
        "`orchlab up`), or set PREFECT_API_URL to a reachable server's API (http://host:port/api)"
    )


def test_a_command_group_without_a_command_shows_its_help() -> None:
    run = _orchlab("dlq")
    assert "Usage: orchlab dlq" in run.stdout + run.stderr
    assert "error:" not in run.stderr
