import os
import subprocess
import sys
from pathlib import Path

PHASE = Path(__file__).resolve().parents[1] / "phase.py"


def _phase(cwd: Path, *args: str, out: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ORCHLAB_TEST_OUT"}
    if out is not None:
        env["ORCHLAB_TEST_OUT"] = str(out)
    return subprocess.run(
        [sys.executable, str(PHASE), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_a_phase_is_timed_logged_and_keeps_its_exit_code(tmp_path: Path) -> None:
    ok = _phase(tmp_path, "hello", "--", sys.executable, "-c", "print('hi there')", out=tmp_path)
    assert ok.returncode == 0 and "hi there" in ok.stdout and "<== hello:" in ok.stdout
    assert (tmp_path / "logs" / "hello.log").read_text() == "hi there\n"
    bad = _phase(tmp_path, "broken", "--", sys.executable, "-c", "raise SystemExit(3)")
    assert bad.returncode == 3 and "exit 3" in bad.stdout
    rows = (tmp_path / ".state" / "phases.tsv").read_text().splitlines()
    assert [r.split("\t")[0] for r in rows] == ["hello", "broken"]
    summary = _phase(tmp_path, "--summary")
    assert "hello" in summary.stdout and "(exit 3)" in summary.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    run = _phase(tmp_path, "name-without-command")
    assert run.returncode == 2 and "usage: python tools/phase.py NAME -- CMD" in run.stderr
