"""Run labgrader (or any Python) as an ordinary user, ``nobody``, from tests run as root.

Becoming nobody needs root; the tests that do are skipped otherwise, and where the kernel
gives nobody no user namespaces (without them an ordinary user's runs get no namespaces at
all, which other tests cover). The interpreter and the course must stay reachable for
nobody: a Python installed under a ``0700`` folder (a pyenv in ``/root``) is bound into a
tmpfs put over that folder, in a mount namespace of the command's own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import LAB

NOBODY = 65534
"""The uid (and gid) of nobody."""

AS_NOBODY = """
import json, os, sys
from pathlib import Path
from labgrader.batch import grade_batch

root = Path(sys.argv[1])
os.chdir(root / "course")
timeout = float(sys.argv[3])
report = grade_batch(
    lab=sys.argv[2], submissions=[root / "subs"], out=root / "graded", jobs=1, timeout=timeout
)
rows = {
    r.learner: [r.score, [r.status.value, r.message, *(c["message"] for c in r.checks)]]
    for r in report.rows
}
print(json.dumps({"rows": rows, "isolation": report.isolation}))
"""


def _reachable(*folders: Path) -> list[str]:
    """A command prefix that makes these folders reachable by any user: those under a 0700
    folder (a pyenv in /root) are bound into a tmpfs put over it, in a mount namespace of the
    command's own. Empty when they all are reachable already."""
    binds, covers, moves = [], {}, []
    for number, folder in enumerate(folders):
        closed = next((p for p in reversed(folder.parents) if not p.stat().st_mode & 0o001), None)
        if closed is not None:
            stage = f"/tmp/.labgrader-stage-{os.getpid()}-{number}"
            binds += [f"mkdir -p {stage}", f"mount --bind {folder} {stage}"]
            covers[closed] = f"mount -t tmpfs -o mode=755 tmpfs {closed}"
            moves += [f"mkdir -p {folder}", f"mount --move {stage} {folder}"]
    if not binds:
        return []
    script = "; ".join([*binds, *covers.values(), *moves, 'exec "$@"'])
    return ["unshare", "-m", "--propagation", "private", "sh", "-ec", script, "sh"]


def _nobody_gets_user_namespaces() -> bool:
    """Whether nobody may make user namespaces here (root is needed to become nobody)."""
    if os.getuid() != 0 or not shutil.which("setpriv") or not shutil.which("unshare"):
        return False
    probe = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    done = subprocess.run([*probe, "unshare", "-U", "true"], capture_output=True, check=False)
    return done.returncode == 0


as_nobody_with_user_namespaces = pytest.mark.skipif(
    not _nobody_gets_user_namespaces(),
    reason="needs root (to become nobody) and a kernel that gives nobody user namespaces",
)


def as_nobody() -> list[str]:
    """The command prefix that runs a command as nobody, this Python within reach."""
    return [
        *_reachable(Path(sys.base_prefix).resolve(), Path(__file__).resolve().parents[2]),
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
    ]


def grade_as_nobody(base: Path, env: dict[str, str], *, timeout: float = 300) -> dict[str, Any]:
    """Grade ``base/subs`` against the course in ``base/course`` as nobody; the report."""
    for path in [base, *base.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    done = subprocess.run(
        [*as_nobody(), sys.executable, "-c", AS_NOBODY, str(base), LAB, str(timeout)],
        env={"PATH": os.environ["PATH"], "HOME": str(base), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
