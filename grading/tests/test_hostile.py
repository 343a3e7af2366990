"""Hostile submissions in a real batch: none earns an undeserved point, none leaves a process
behind, and the batch goes on. Each runs under small limits in the fixture lab."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import LAB, code, write_course, write_notebook

from labgrader.batch import grade_batch
from labgrader.gradebook import Row, Status, gradebook_csv
from labgrader.limits import Limits
from labgrader.sandbox import UID_BASE, UID_SPAN

MARK = "labgrader-hostile-3117"
GOOD_SCALE = code("def scale(values):\n    return [v * 10 for v in values]", exercise="scale")
GOOD_ADD = "def add(a, b):\n    return a + b\n"
WRONG_ADD = "def add(a, b):\n    return 0\n"
# Walk up from a frame to pytest's, take the harness's recorder and record every check as
# passed: what a notebook could do if it could get hold of a frame.
STEAL = """
import os
from labgrader import pytest_plugin


def _steal(frame):
    while frame is not None:
        item = frame.f_locals.get("item")
        if item is not None and hasattr(item, "config"):
            state = item.config.stash[pytest_plugin._STATE_KEY]
            for nodeid in state.checks:
                state.recorder.emit({"event": "result", "nodeid": nodeid, "passed": True})
            state.recorder.emit({"event": "done", "exitstatus": 0})
            os._exit(0)
        frame = frame.f_back

"""
REACHING_IN = (
    "frames-getframe",
    "frames-inspect",
    "frames-traceback",
    "frames-signal",
    "gc-walk",
)


def _cells(prelude: str, add: str = GOOD_ADD) -> list:  # type: ignore[type-arg]
    source = textwrap.dedent(prelude).strip("\n") + "\n\n" + add
    return [code(source, exercise="add"), GOOD_SCALE]


HOSTILE = {
    # An honest learner, graded in the same batch: full marks.
    "honest": _cells(""),
    "sys-exit": _cells("import sys\nsys.exit(0)"),
    "os-exit": _cells("import os\nos._exit(0)"),
    "kill-parent": _cells("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"),
    "kill-group": _cells("import os, signal\nos.killpg(0, signal.SIGKILL)"),
    "endless-loop": _cells("while True:\n    pass"),
    "memory-bomb": _cells("hog = []\nwhile True:\n    hog.append(bytearray(50_000_000))"),
    "fork-bomb": _cells("import os\nwhile True:\n    os.fork()"),
    "escaped-sleeper": _cells(
        f"import subprocess\nsubprocess.Popen(['sleep', '3117'], start_new_session=True)\n"
        f"MARK = {MARK!r}",
        add="def add(a, b):\n    return a - b\n",
    ),
    "fake-results": _cells(
        """
        import json, pathlib
        for name in ("results.json", "junit.xml", "results.jsonl"):
            pathlib.Path(name).write_text(json.dumps({"score": 100, "event": "done"}))
        pathlib.Path("conftest.py").write_text("def pytest_runtest_call(item):\\n    pass\\n")
        """,
        add="def add(a, b):\n    return 0\n",
    ),
    "patch-pytest": _cells(
        """
        import _pytest.python, _pytest.runner
        _pytest.python.Function.runtest = lambda self: None
        _pytest.runner.pytest_runtest_call = lambda item: None
        """,
        add="def add(a, b):\n    return 0\n",
    ),
    "patch-checks": _cells(
        """
        import gc, sys
        for obj in gc.get_objects():
            if callable(obj) and getattr(obj, "__name__", "").startswith("test_"):
                try:
                    obj.__code__ = (lambda nb: None).__code__
                except (AttributeError, TypeError, ValueError):
                    pass
        """,
        add="def add(a, b):\n    return 0\n",
    ),
    "edit-checks": _cells(
        """
        import pathlib, shutil
        for path in pathlib.Path(".").rglob("test_*.py"):
            path.write_text("def test_add_small(nb):\\n    pass\\n")
        shutil.rmtree("checks", ignore_errors=True)
        """,
        add="def add(a, b):\n    return 0\n",
    ),
    "hard-coded": _cells("", add="def add(a, b):\n    return 3\n"),
    # Reaching into the harness to make it record passes (labgrader is open source: a learner
    # can read how it works). Each is refused by the guard and flagged for review, or found
    # by its integrity check.
    "forge-records": _cells(
        """
        import labgrader.pytest_plugin as plugin
        _emit = plugin.FileRecorder.emit
        def _forged(self, record):
            if record.get("event") == "result":
                record = {**record, "passed": True, "message": ""}
            _emit(self, record)
        plugin.FileRecorder.emit = _forged
        """,
        add=WRONG_ADD,
    ),
    "frames-getframe": _cells(STEAL + "import sys\n_steal(sys._getframe())", add=WRONG_ADD),
    "frames-inspect": _cells(
        STEAL + "import inspect\n_steal(inspect.currentframe())", add=WRONG_ADD
    ),
    "frames-traceback": _cells(
        STEAL + "try:\n    1 / 0\nexcept ZeroDivisionError as exc:\n"
        "    _steal(exc.__traceback__.tb_frame)",
        add=WRONG_ADD,
    ),
    "frames-signal": _cells(
        STEAL
        + "import signal, time\nsignal.signal(signal.SIGALRM, lambda n, frame: _steal(frame))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.01)\ntime.sleep(1)",
        add=WRONG_ADD,
    ),
    "gc-walk": _cells(
        """
        import gc, os
        from labgrader.pytest_plugin import _State
        for state in [o for o in gc.get_objects() if isinstance(o, _State)]:
            for nodeid in state.checks:
                state.recorder.emit({"event": "result", "nodeid": nodeid, "passed": True})
            state.recorder.emit({"event": "done", "exitstatus": 0})
            os._exit(0)
        """,
        add=WRONG_ADD,
    ),
    # Looking for the checks' modules to read the hidden checks' inputs: they are gone from
    # sys.modules before the notebook runs (its add asserts it saw none: full marks).
    "read-hidden-checks": _cells(
        """
        import sys
        SEEN = [
            name for name, module in list(sys.modules.items())
            if "/checks/" in str(getattr(module, "__file__", None) or "")
        ]
        """,
        add="def add(a, b):\n    assert not SEEN, SEEN\n    return a + b\n",
    ),
    # Rebinding a module's function is not an audited event: the integrity check finds it,
    # and the whole run earns nothing, right answers included.
    "rebind-harness": _cells(
        "import labgrader.pytest_plugin as plugin\nplugin.failure_message = lambda exc: ''"
    ),
    "fake-output": _cells(
        'print("test_fixture.py::test_add_small PASSED\\n5/5 points\\n== 4 passed ==")',
        add="def add(a, b):\n    return a * b\n",
    ),
}


def _stray() -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{entry.name}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z":  # dead, waiting for init to reap it
            continue
        if "/.venv/bin/python" in cmd and not cmd.startswith(sys.executable):
            continue  # another checkout's grader (a concurrent test run on this machine)
        if "sleep 3117" in cmd or UID_BASE <= uid < UID_BASE + UID_SPAN + 64:
            found.append(f"{entry.name} (uid {uid}): {cmd}")
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Row]:
    root = write_course(tmp_path_factory.mktemp("hostile") / "course")
    subs = root.parent / "subs"
    for name, cells in HOSTILE.items():
        write_notebook(subs / f"{name}.ipynb", cells)
    old = Path.cwd()
    os.chdir(root)
    try:
        report = grade_batch(
            lab=LAB,
            submissions=[subs],
            out=root.parent / "graded",
            jobs=2,
            timeout=8,
            limits=Limits(memory_mb=1024, cpu_seconds=20, file_mb=8, processes=32),
        )
    finally:
        os.chdir(old)
    return {r.learner: r for r in report.rows}


def test_every_hostile_submission_gets_one_row_and_the_honest_one_full_marks(
    batch: dict[str, Row],
) -> None:
    assert set(batch) == set(HOSTILE)
    assert (batch["honest"].status, batch["honest"].score) == (Status.GRADED, 5)


@pytest.mark.parametrize(
    "name", sorted(set(HOSTILE) - {"honest", "hard-coded", "read-hidden-checks"})
)
def test_no_hostile_submission_earns_a_point_for_add(batch: dict[str, Row], name: str) -> None:
    row = batch[name]
    assert row.exercises.get("add", 0) == 0, (row.status, row.message, row.checks)


def test_statuses_and_messages_say_what_happened(batch: dict[str, Row]) -> None:
    assert batch["endless-loop"].status is Status.TIMEOUT
    assert "stopped after 8 s" in batch["endless-loop"].message
    assert "endless loop" in batch["endless-loop"].message
    assert batch["os-exit"].status is Status.CRASHED
    assert batch["kill-group"].status is Status.CRASHED
    assert "killed by SIGKILL" in batch["kill-group"].message
    assert batch["memory-bomb"].score == 0
    assert batch["fork-bomb"].score == 0
    # Points earned elsewhere in the notebook still count when the run completed.
    assert batch["fake-output"].status is Status.GRADED and batch["fake-output"].score == 2


def test_hard_coded_visible_answers_lose_the_hidden_points(batch: dict[str, Row]) -> None:
    row = batch["hard-coded"]
    assert row.exercises["add"] == 2 and row.score == 4  # visible 2 of 3 on add


def test_tampering_with_pytest_or_the_checks_earns_nothing(batch: dict[str, Row]) -> None:
    for name in ("patch-pytest", "patch-checks", "edit-checks", "fake-results"):
        assert batch[name].exercises.get("add", 0) == 0, name


@pytest.mark.parametrize("name", REACHING_IN)
def test_reaching_into_the_harness_is_refused_and_flagged(batch: dict[str, Row], name: str) -> None:
    row = batch[name]
    assert row.score == 0, (row.status, row.message, row.checks)
    refused = [n for n in row.notes if n.startswith("flagged for review") and "(refused)" in n]
    assert refused, (row.notes, row.status, row.message, [c["message"] for c in row.checks])
    assert any("graded code may not" in c["message"] for c in row.checks), row.checks


def test_the_checks_modules_are_out_of_reach_and_looking_is_flagged(
    batch: dict[str, Row],
) -> None:
    row = batch["read-hidden-checks"]
    assert (row.status, row.score) == (Status.GRADED, 5), [c["message"] for c in row.checks]
    assert any("looks through the loaded modules" in n for n in row.notes), row.notes


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("forge-records", "labgrader.pytest_plugin.FileRecorder.emit"),
        ("rebind-harness", "labgrader.pytest_plugin.failure_message"),
    ],
)
def test_a_changed_harness_earns_nothing_even_for_right_answers(
    batch: dict[str, Row], name: str, changed: str
) -> None:
    row = batch[name]
    assert (row.status, row.score) == (Status.INVALID, 0), (row.message, row.checks)
    assert f"changed the grader's harness ({changed})" in row.message


def test_suspicious_source_is_flagged_for_review_and_honest_work_is_not(
    batch: dict[str, Row],
) -> None:
    assert batch["honest"].notes == []
    assert any(
        "uses ctypes" not in n and "walks the garbage collector, at cell 1" in n
        for n in batch["gc-walk"].notes
    ), batch["gc-walk"].notes
    assert any("installs signal handlers" in n for n in batch["frames-signal"].notes)
    csv_rows = {
        line.split(",")[0]: line.split(",")
        for line in gradebook_csv(list(batch.values()), ["add", "scale"]).splitlines()
    }
    review = csv_rows["learner"].index("review")
    assert csv_rows["honest"][review] == "0"
    assert int(csv_rows["gc-walk"][review]) == len(batch["gc-walk"].review) >= 2


def test_no_process_is_left_behind(batch: dict[str, Row]) -> None:
    assert _stray() == []


@pytest.mark.skipif(os.getuid() != 0, reason="namespaces and users of its own need root")
def test_a_submission_cannot_find_solutions_checks_or_other_learners(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    subs = tmp_path / "subs"
    snoop = f"""
        import glob, os
        BASE = {str(tmp_path)!r}
        PATTERNS = (BASE + "/**/*.ipynb", BASE + "/**/test_*.py", "/root/**/*.ipynb", "checks/*")
        FOUND = [p for pattern in PATTERNS for p in glob.glob(pattern, recursive=True)]
        SECRETS = sorted(k for k in os.environ if "SECRET" in k or "TOKEN" in k)
    """
    add = (
        "def add(a, b):\n    assert not FOUND and not SECRETS, (FOUND, SECRETS)\n    return a + b\n"
    )
    write_notebook(subs / "snoop.ipynb", _cells(snoop, add=add))
    write_notebook(subs / "other.ipynb", _cells(""))
    os.environ["LABGRADER_TEST_SECRET"] = "s3cret"
    old = Path.cwd()
    os.chdir(root)
    try:
        report = grade_batch(lab=LAB, submissions=[subs], out=tmp_path / "graded", jobs=1)
    finally:
        os.chdir(old)
        del os.environ["LABGRADER_TEST_SECRET"]
    rows = {r.learner: r for r in report.rows}
    assert rows["snoop"].score == 5, [c["message"] for c in rows["snoop"].checks]
    assert "private mount namespace" in report.isolation


def test_a_check_that_hangs_costs_only_its_own_points(tmp_path: Path) -> None:
    """With a time limit per check, an exercise that loops forever fails its own checks with
    a message, and the rest of the notebook is still graded."""
    root = write_course(tmp_path / "course")
    hang = "def scale(values):\n    while True:\n        pass"
    write_notebook(tmp_path / "subs" / "loops.ipynb", [code(GOOD_ADD, exercise="add"), code(hang)])
    old = Path.cwd()
    os.chdir(root)
    try:
        report = grade_batch(
            lab=LAB,
            submissions=[tmp_path / "subs"],
            out=tmp_path / "graded",
            timeout=60,
            limits=Limits(check_seconds=1.5),
        )
    finally:
        os.chdir(old)
    (row,) = report.rows
    assert (row.status, row.exercises) == (Status.GRADED, {"add": 3, "scale": 0}), row.message
    scale = [c["message"] for c in row.checks if c["exercise"] == "scale"]
    assert (
        scale
        == [
            "the check took longer than 1.5 s and was stopped: look for an endless "
            "loop or a call that waits forever"
        ]
        * 2
    )
    assert row.duration < 20
