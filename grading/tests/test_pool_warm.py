"""The check-run server's preload: what trusted code imports, lazily too, is paid once."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from labgrader.notebook import SUBMISSION_MODULE_PREFIX, build_submission
from labgrader.pool import (
    ForkServer,
    RunRequest,
    checks_imports,
    notebook_imports,
    preload_one,
    warm_imports,
)

# A module no test of this suite imports, read lazily by the notebook's cells.
LAZY = "mailbox"
SOLUTION = f"""
import importlib

def box_kind():
    return importlib.import_module("{LAZY}").Maildir.__name__

SECRET_ANSWER = box_kind()
"""


def _solution():
    doc = nbformat.v4.new_notebook()
    doc.cells = [nbformat.v4.new_code_cell(SOLUTION)]
    return build_submission(doc)


def test_from_imports_name_the_attribute_too():
    names = notebook_imports("from prefect import flow, task\nimport json\nfrom . import x\n")
    assert names == ("prefect", "prefect.flow", "prefect.task", "json")


def test_an_attribute_entry_is_read_from_its_module():
    preload_one("json.decoder.JSONDecodeError")  # a class: imported, then read
    preload_one("json.decoder")


def test_checks_imports_leave_the_mutants_out(tmp_path):
    (tmp_path / "test_a.py").write_text("from email import message\n", encoding="utf-8")
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "wrong.py").write_text("import tomllib\n", encoding="utf-8")
    assert checks_imports(tmp_path) == ("email", "email.message")


def test_warm_imports_are_the_run_s_library_modules_only(tmp_path):
    from labgrader.notebook import write_submission

    module = write_submission(_solution(), tmp_path)
    names = warm_imports(module)
    assert LAZY in names, f"expected the lazily imported {LAZY} among {names[:20]}"
    assert not [n for n in names if n.startswith(SUBMISSION_MODULE_PREFIX)]


def test_warm_imports_of_a_failing_module_are_none(tmp_path):
    from labgrader.notebook import write_submission

    doc = nbformat.v4.new_notebook()
    doc.cells = [nbformat.v4.new_code_cell("import os\nos._exit(3)\n")]
    assert warm_imports(write_submission(build_submission(doc), tmp_path)) == []


def test_a_warmed_server_has_the_modules_but_not_the_solution(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json, sys\n"
        "names = [n for n in sys.modules]\n"
        "print(json.dumps({'lazy': "
        f"{LAZY!r} in sys.modules, "
        "'solution': [n for n in names if n.startswith("
        f"{SUBMISSION_MODULE_PREFIX!r})], "
        "'secret': any('SECRET_ANSWER' in vars(m) for m in list(sys.modules.values()) "
        "if m is not None and hasattr(m, '__dict__'))}))\n",
        encoding="utf-8",
    )
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_probe.py").write_text(
        "def test_probe():\n    exec(open(" + repr(str(probe)) + ").read())\n", encoding="utf-8"
    )
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with ForkServer(warm=[_solution()]) as server:
        code = server.run(
            RunRequest(
                argv=["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(checks)],
                cwd=tmp_path,
                env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "/usr/bin:/bin"},
                stdout=out,
                stderr=err,
            ),
            timeout=120,
        )
    assert code == 0, out.read_text() + err.read_text()
    line = next(x for x in out.read_text().splitlines() if x.startswith("{"))
    seen = json.loads(line)
    assert seen == {"lazy": True, "solution": [], "secret": False}, seen


def test_module_paths_are_not_left_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with ForkServer(warm=[_solution()]):
        pass
    assert not list(Path(tmp_path).glob("labgrader-warm-*"))
