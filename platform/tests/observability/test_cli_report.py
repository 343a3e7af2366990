"""``orchlab report``: an HTML page with embedded figures from traces and run records."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Registering two command modules keeps `app` a group (`orchlab report ...`).
import orchlab.cli.report
import orchlab.cli.run  # noqa: F401
from orchlab.cli import app
from orchlab.observability import RunRecord, write_run_records

runner = CliRunner()
SPEC = "name: tiny\nsteps:\n  - {name: load, task: ingest}\n  - {name: check, task: validate, needs: [load], params: {dataset: '${steps.load.dataset}'}}\n"  # noqa: E501


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def traced_run(tmp_path: Path) -> str:  # one run: each report renders three figures
    """The run id of a traced local run of a two-step spec."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    result = runner.invoke(app, ["run", str(spec), "--trace"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "state" / "traces").glob("tiny-*.jsonl")
    return path.stem


def test_the_report_of_the_traced_runs_embeds_its_figures_as_png_or_svg(
    traced_run: str, tmp_path: Path
) -> None:
    older = datetime.now(UTC) - timedelta(hours=1)
    runs = write_run_records(tmp_path / "runs.jsonl", [
        RunRecord("tiny", "earlier-run", "prefect", "failed", older, older + timedelta(seconds=3)),
    ])  # fmt: skip
    result = runner.invoke(app, ["report", "--runs", str(runs)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "state" / "reports" / "runs.html").read_text()
    assert "2 runs: SLI 50.00% against 99.00%" in result.output
    assert traced_run in page and "earlier-run" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 3  # waterfall, histogram, burn rate
    assert all(base64.b64decode(i).startswith(b"\x89PNG\r\n") for i in images)
    # The critical path table names both steps, in order.
    path_table = page.split("critical path")[1]
    assert path_table.index("<td>load</td>") < path_table.index("<td>check</td>")

    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(tmp_path / "state" / "traces"), "--svg",
                                 "--last", "1", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count("<svg") == 3 and "data:image/png" not in page
    assert "1 runs: SLI 100.00%" in result.output and "earlier-run" not in page


def test_the_report_names_what_is_missing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 2
    assert "no traces in" in result.output and "run a pipeline with --trace first" in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = runner.invoke(app, ["report", str(empty)])
    assert result.exit_code == 2 and "no runs to report" in result.output
    result = runner.invoke(app, ["report", "--runs", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2 and "no run records at" in result.output
