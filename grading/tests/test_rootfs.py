"""The private root of a check run: its workspace and the installation, nothing else.

Each test forks runs that enter the batch's real sandbox (``default_sandbox`` of a course
whose Python installation lives inside the checkout, as this repository's ``.venv`` does) and
report what they see, as root (a user of its own per run) and as an ordinary user (nobody:
user, mount and PID namespaces of its own).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from as_nobody import NOBODY, as_nobody, as_nobody_with_user_namespaces
from conftest import write_course

from labgrader.rootfs import PRIVATE_FOLDERS
from labgrader.sandbox import (
    Sandbox,
    SandboxError,
    default_sandbox,
    enter_sandbox,
    installation_paths,
)

REPO = Path(__file__).resolve().parents[2]
MARK = "left-by-an-earlier-run"
SHM_KEY = 0x4C470000 + os.getpid() % 0xFFFF

PROBE = r'''
import ctypes, dataclasses, errno, glob, json, os, subprocess, sys, sysconfig
from pathlib import Path
from labgrader.sandbox import UserPool, default_sandbox, enter_learner_sandbox, enter_sandbox

base, repo, course = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
MARK, PRIVATE = sys.argv[4], ("/tmp", "/var/tmp", "/dev/shm", "/run")
box = default_sandbox(course, [base / "graded"])
users = UserPool()


def attempt(fn):
    try:
        return fn()
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def forked(body):
    """Run body() in a forked child; what it returned (or the error it raised)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        global CHANNEL
        os.close(read)
        CHANNEL = write
        try:
            result = body()
        except BaseException as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data or b'{"error": "no answer"}')


def sandboxed(work, probe, sandbox=box, learner=False):
    """Fork a run that enters the sandbox (as root, as a user of its own) and probes."""
    def body():
        os.chdir(work)
        if learner:
            gaps = enter_learner_sandbox(sandbox, work=work, keep_fds=[CHANNEL], uid=uid)
        else:
            box = dataclasses.replace(sandbox, uid=uid)
            gaps = enter_sandbox(box, work=work, pid_namespace=True)
        return {"gaps": gaps, "uid": os.getuid(), **probe()}
    with users.user() as uid:  # its processes are killed once it is done
        return forked(body)


SHM_KEY = int(sys.argv[6])
LIBC = ctypes.CDLL(None, use_errno=True)


def plant():
    found = {f: attempt(lambda f=f: Path(f, MARK).write_text("for the next run")) for f in PRIVATE}
    # A System V shared memory segment outlives its process: left for the next run.
    segment = LIBC.shmget(SHM_KEY, 4096, 0o1000 | 0o666)
    found["shm segment"] = segment >= 0 or errno.errorcode[ctypes.get_errno()]
    return found


def try_remount(path):
    """From a user namespace of its own (the run's last way to get capabilities): make
    the installation writable, or take its mount away."""
    def body():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000 | 0x00020000) != 0:
            return {"unshare": errno.errorcode[ctypes.get_errno()]}
        found = {}
        for name, call in (
            ("remount rw", lambda: libc.mount(None, path.encode(), None, 32 | 4096, None)),
            ("unmount", lambda: libc.umount2(path.encode(), 2)),
        ):
            found[name] = "done" if call() == 0 else errno.errorcode[ctypes.get_errno()]
        found["write"] = attempt(lambda: Path(path, "planted").write_text("x"))
        found["writable"] = os.access(path, os.W_OK)
        return found
    return forked(body)


def look():
    site = sysconfig.get_paths()["purelib"]
    listed = [repo, repo / "grading", repo.parent, course, base]
    gone = [repo / ".git", repo / "solutions", repo / "labs", repo / "grading" / "checks",
            repo / "README.md", repo / "pyproject.toml", course / "solutions",
            course / "grading" / "checks", base / "graded", base / "graded" / "gradebook.csv",
            base / "work-1"]
    patterns = [f"{p}/**/{n}" for p in (repo, course, base) for n in ("*.ipynb", "test_*.py")]
    fresh = subprocess.run(
        [sys.executable, "-c", "import labgrader.rootfs, orchlab.reliability; print('imported')"],
        capture_output=True, text=True,
    )
    import orchlab.policy  # not imported before the run: found through the remounted sys.path
    segment = LIBC.shmget(SHM_KEY, 0, 0)
    return {
        "shm segment": "found" if segment >= 0 else errno.errorcode[ctypes.get_errno()],
        "private": {f: sorted(os.listdir(f)) for f in PRIVATE},
        "list": {str(p): attempt(lambda p=p: sorted(os.listdir(p))) for p in listed},
        "exists": {str(p): os.path.lexists(p) for p in gone},
        "found": sorted(p for pattern in patterns for p in glob.glob(pattern, recursive=True)),
        "write site-packages": attempt(lambda: Path(site, "planted.py").write_text("x")),
        "write base": attempt(lambda: Path(sys.base_prefix, "planted").write_text("x")),
        "write labgrader": attempt(
            lambda: Path(sys.modules["labgrader"].__file__).with_name("x.py").write_text("x")),
        "remount": try_remount(sys.prefix),
        "executable": os.path.exists(sys.executable),
        "fresh interpreter": fresh.stdout.strip() or fresh.stderr[-300:],
        "cwd": os.getcwd(),
        "workspace": sorted(os.listdir(".")),
        "policy": orchlab.policy.__name__,
    }


def learner_view():
    return {
        "workspace": sorted(os.listdir(".")),
        "parent": attempt(lambda: sorted(os.listdir(".."))),
        "checks": os.path.lexists("../checks"),
        "results": os.path.lexists("../results.jsonl"),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "channel": CHANNEL,
    }


def learner_after_check_run():
    """The learner's process forked from a check run already in its sandbox."""
    def check_run():
        os.chdir(base / "work-3")
        enter_sandbox(dataclasses.replace(box, uid=uid_check), work=base / "work-3")
        return sandboxed(base / "work-3" / "learner", learner_view,
                         sandbox=dataclasses.replace(box, network=True), learner=True)
    with users.user() as uid_check:
        return forked(check_run)


def learner_before_check_run():
    """As root: the learner's process forked first, a user of its own; then the check run."""
    def check_run():
        os.chdir(base / "work-3")
        learner = sandboxed(base / "work-3" / "learner", learner_view, learner=True)
        enter_sandbox(dataclasses.replace(box, uid=uid_check), work=base / "work-3")
        return {**learner, "check run uid": os.getuid(), "check run sees": sorted(os.listdir("."))}
    with users.user() as uid_check:
        return forked(check_run)


mode = sys.argv[5]
if mode == "views":
    print(json.dumps({"planted": sandboxed(base / "work-1", plant),
                      "seen": sandboxed(base / "work-2", look)}))
elif mode == "learner first":
    print(json.dumps({"learner": learner_before_check_run()}))
else:
    print(json.dumps({"learner": learner_after_check_run()}))
'''


@pytest.fixture
def base() -> Iterator[Path]:
    """A folder that nobody can use too: a course, three workspaces, a batch's output."""
    folder = Path(tempfile.mkdtemp(prefix="labgrader-rootfs-"))
    try:
        write_course(folder / "course")
        for name in ("work-1", "work-2", "work-3/learner", "graded"):
            (folder / name).mkdir(parents=True)
        (folder / "graded" / "gradebook.csv").write_text("learner,score\n", encoding="utf-8")
        for name in ("checks", "results.jsonl"):
            (folder / "work-3" / name).write_text("the checks' own", encoding="utf-8")
        (folder / "work-3" / "learner" / "submission.py").write_text("x = 1\n", encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        libc = ctypes.CDLL(None, use_errno=True)
        segment = libc.shmget(SHM_KEY, 0, 0)
        if segment >= 0:  # only if a run's System V IPC was not its own
            libc.shmctl(segment, 0, None)  # IPC_RMID
        for private in PRIVATE_FOLDERS:
            with_mark = Path(private, MARK)
            if with_mark.exists():  # only if a run's private folder was not private
                with_mark.unlink()


def _probe(base: Path, mode: str, *, nobody: bool) -> dict[str, Any]:
    prefix: list[str] = []
    if nobody:
        for path in [base, *base.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        prefix = as_nobody()
    course = str(base / "course")
    args = [sys.executable, "-c", PROBE, str(base), str(REPO), course, MARK, mode, str(SHM_KEY)]
    done = subprocess.run(
        [*prefix, *args],
        env={"PATH": os.environ["PATH"], "HOME": str(base)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _leftovers() -> list[str]:
    return [f for f in PRIVATE_FOLDERS if Path(f, MARK).exists()]


def _assert_sees_only_its_own(base: Path, report: dict[str, Any]) -> None:
    planted, seen = report["planted"], report["seen"]
    assert planted.pop("gaps") == [] and planted.pop("uid") == seen["uid"]
    assert planted.pop("shm segment") is True
    assert seen["shm segment"] == "ENOENT"  # the segment ended with its run's namespace
    assert set(planted) == {"/tmp", "/var/tmp", "/dev/shm", "/run"}
    # The earlier run could write everywhere (else the check below would prove nothing).
    assert all(isinstance(v, int) for v in planted.values()), planted
    assert seen.get("error") is None, seen["error"]
    assert seen["gaps"] == []
    in_tmp = [base.relative_to("/tmp").parts[0]] if base.is_relative_to("/tmp") else []
    assert seen["private"] == {"/tmp": in_tmp, "/var/tmp": [], "/dev/shm": [], "/run": []}
    assert _leftovers() == []  # and nothing reached the machine's own folders
    # The checkout around the installation, the course, the batch: nothing to list or find.
    assert seen["list"][str(REPO)] == seen["list"][str(REPO / "grading")] == "EACCES"
    assert set(seen["list"].values()) <= {"EACCES", "ENOENT"}, seen["list"]
    assert not any(seen["exists"].values()), seen["exists"]
    assert seen["found"] == []
    # The installation: usable, read-only, and its mounts cannot be undone.
    assert seen["write site-packages"] == seen["write base"] == "EROFS"
    assert seen["write labgrader"] == "EROFS"
    remount = seen["remount"]
    assert remount.get("remount rw") in (None, "EPERM"), remount
    assert remount.get("unmount") in (None, "EINVAL", "EPERM"), remount
    assert remount.get("write") in (None, "EROFS"), remount
    assert seen["executable"] and seen["fresh interpreter"] == "imported"
    assert seen["policy"] == "orchlab.policy"
    assert (seen["cwd"], seen["workspace"]) == (str(base / "work-2"), [])


@pytest.mark.skipif(os.getuid() != 0, reason="a user of its own per run needs root")
def test_as_root_a_run_sees_its_workspace_and_the_installation_and_nothing_else(
    base: Path,
) -> None:
    report = _probe(base, "views", nobody=False)
    _assert_sees_only_its_own(base, report)
    assert report["seen"]["uid"] >= 61000
    # Where the kernel lets the run's user make a user namespace, its mounts stay locked.
    assert report["seen"]["remount"].get("unshare") in (None, "EPERM", "ENOSPC", "EINVAL")


@as_nobody_with_user_namespaces
def test_as_an_ordinary_user_a_run_sees_its_workspace_and_the_installation_and_nothing_else(
    base: Path,
) -> None:
    report = _probe(base, "views", nobody=True)
    _assert_sees_only_its_own(base, report)
    assert report["seen"]["uid"] == NOBODY
    assert "unshare" not in report["seen"]["remount"]  # it tried, and the mounts held


@pytest.mark.parametrize(
    "nobody",
    [
        pytest.param(
            False,
            marks=pytest.mark.skipif(os.getuid() != 0, reason="a user of its own needs root"),
        ),
        pytest.param(True, marks=as_nobody_with_user_namespaces),
    ],
    ids=["root", "nobody"],
)
def test_the_learners_process_sees_its_workspace_not_the_check_runs_files(
    base: Path, nobody: bool
) -> None:
    """Forked from a check run already in its sandbox, the learner's process narrows its
    view to its own folder and keeps no descriptor but 0, 1 and 2."""
    learner = _probe(base, "learner", nobody=nobody)["learner"]
    assert learner.get("error") is None, learner["error"]
    assert learner["gaps"] == []
    assert learner["workspace"] == ["submission.py"]
    assert learner["parent"] == "EACCES"
    assert not learner["checks"] and not learner["results"]
    # 0, 1, 2, the channel and the descriptor that listed them: nothing of the check run's.
    assert learner["fds"][:3] == [0, 1, 2] and len(learner["fds"]) == 5, learner["fds"]
    assert learner["channel"] in learner["fds"]


@pytest.mark.skipif(os.getuid() != 0, reason="users of their own need root")
def test_as_root_the_learners_process_forked_first_is_a_user_of_its_own(base: Path) -> None:
    learner = _probe(base, "learner first", nobody=False)["learner"]
    assert learner.get("error") is None, learner["error"]
    assert learner["gaps"] == []
    assert learner["workspace"] == ["submission.py"] and learner["parent"] == "EACCES"
    assert not learner["checks"] and not learner["results"]
    assert len(learner["fds"]) == 5 and learner["channel"] in learner["fds"]
    assert learner["uid"] >= 61000 and learner["check run uid"] >= 61000
    assert learner["uid"] != learner["check run uid"]
    assert learner["check run sees"] == ["checks", "learner", "results.jsonl"]


def test_the_installation_paths_are_the_pythons_not_the_checkouts() -> None:
    paths = [Path(p) for p in installation_paths()]
    assert Path(sys.base_prefix).resolve() in paths
    assert any(Path(sys.prefix).resolve().is_relative_to(p) for p in paths)
    labgrader_root = Path(__file__).resolve().parents[1] / "src"
    assert any(labgrader_root.is_relative_to(p) for p in paths)
    for path in paths:  # never the checkout itself, nor the folder tests run in
        assert not (REPO / "solutions").is_relative_to(path), path
        assert not Path.cwd().is_relative_to(path) or Path.cwd() == Path("/"), path


def test_an_installation_that_holds_a_hidden_folder_is_refused_with_its_reason(
    tmp_path: Path,
) -> None:
    inside = Path(sys.prefix) / "lib"
    with pytest.raises(
        SandboxError, match=f"a check run would see {inside.resolve()}: .* holds it"
    ):
        default_sandbox(None, [inside])


def test_the_sandbox_travels_as_plain_data(tmp_path: Path) -> None:
    box = default_sandbox(write_course(tmp_path / "course"), [tmp_path / "graded"])
    assert Sandbox.from_dict(json.loads(json.dumps(box.to_dict()))) == box
    assert str((tmp_path / "course" / ".git").resolve()) in box.hide
    assert str((tmp_path / "graded").resolve()) in box.hide
    assert box.private[:4] == PRIVATE_FOLDERS


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hide": ("/srv/course/solutions",)}, "must name the folders it exposes"),
        ({"expose": ("/usr",), "tmp_mb": 0}, "tmp_mb must be at least 1 \\(MiB\\), got 0"),
    ],
)
def test_a_sandbox_that_would_fail_open_is_refused_with_its_reason(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Sandbox(**fields)


def _entered(box: Sandbox, work: Path) -> str:
    """Enter ``box`` in a forked child: the error it stopped with (``""`` if none)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        message = ""
        try:
            enter_sandbox(box, work=work)
        except SandboxError as exc:
            message = str(exc)
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        text = answer.read().decode()
    os.waitpid(pid, 0)
    return text


@pytest.mark.skipif(
    os.getuid() != 0, reason="the check is made once the mount namespace is, which needs root"
)
@pytest.mark.parametrize(
    ("expose", "hide", "expected"),
    [
        ("{tmp}", (), "a check run would see other runs' folders: {tmp}, of the Python"),
        (sys.prefix, ("{tmp}",), "a check run would see {tmp}: its folder {tmp}/work lies inside"),
    ],
    ids=["installation-holds-the-workspaces", "workspace-in-a-hidden-folder"],
)
def test_a_run_whose_sandbox_would_show_it_other_runs_stops_with_the_reason(
    tmp_path: Path, expose: str, hide: tuple[str, ...], expected: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    tmp = str(tmp_path.resolve())
    box = Sandbox(expose=(expose.format(tmp=tmp),), hide=tuple(h.format(tmp=tmp) for h in hide))
    assert _entered(box, work).startswith(expected.format(tmp=tmp))
