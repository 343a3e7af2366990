"""The sandbox's network: a check run reaches the batch's engines and nothing else."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from as_nobody import NOBODY, as_nobody_with_user_namespaces, grade_as_nobody
from conftest import LAB, code, write_course, write_notebook

from labgrader.batch import grade_batch
from labgrader.relay import loopback_endpoints, parse_endpoint
from labgrader.sandbox import Sandbox, default_sandbox, isolation_level
from orchlab.testing.fixtures import temporal_address  # noqa: F401  (a fixture)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ()),
        ({"TEMPORAL_ADDRESS": "127.0.0.1:7233"}, ("127.0.0.1:7233",)),
        (
            {"TEMPORAL_ADDRESS": "localhost:7233", "PREFECT_API_URL": "http://127.0.0.1:4200/api"},
            ("localhost:7233", "127.0.0.1:4200"),
        ),
        ({"PREFECT_API_URL": "http://[::1]:4200/api"}, ("::1:4200",)),
        ({"PREFECT_API_URL": "http://localhost/api"}, ("localhost:80",)),
        ({"TEMPORAL_ADDRESS": "temporal.example.com:7233"}, None),
        ({"TEMPORAL_ADDRESS": "127.0.0.1:7233", "PREFECT_API_URL": "https://10.0.0.5/api"}, None),
    ],
)
def test_loopback_endpoints_name_the_engines_or_none_when_one_is_remote(
    env: dict[str, str], expected: tuple[str, ...] | None
) -> None:
    assert loopback_endpoints(env) == expected


def test_a_remote_engine_keeps_the_hosts_network_and_says_so() -> None:
    remote = default_sandbox(None, engines={"TEMPORAL_ADDRESS": "temporal.example.com:7233"})
    assert remote.network and not remote.relay
    local = default_sandbox(None, engines={"TEMPORAL_ADDRESS": "127.0.0.1:7233"})
    assert not local.network and local.relay == ("127.0.0.1:7233",)
    assert not default_sandbox(None).network
    if os.getuid() == 0:
        assert "host's network" in isolation_level(remote)
        assert "loopback only, to the engines at 127.0.0.1:7233" in isolation_level(local)
    assert Sandbox.from_dict(local.to_dict()) == local


@pytest.mark.parametrize("bad", ["7233", "host:", ":7233", "host:port", "host:70000"])
def test_an_endpoint_without_a_port_is_refused_with_its_text(bad: str) -> None:
    with pytest.raises(ValueError, match="expected host:port"):
        parse_endpoint(bad)


ENGINE_CHECKS = """
import pytest


@pytest.mark.check(exercise="add", points=2)
async def test_the_engine_answers_through_the_sandbox(nb, temporal_client):
    await temporal_client.service_client.check_health()
    assert nb.add(1, 2) == 3


@pytest.mark.check(exercise="scale", points=1)
def test_scale(nb, temporal_address):
    assert nb.scale([1, 2]) == [10, 20]
"""


REACH = """
import socket


def reach(host, port):
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False
"""


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A TCP port on the host's loopback that a check run must not reach."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.mark.skipif(os.getuid() != 0, reason="network namespaces need root")
def test_a_check_run_reaches_its_engine_and_nothing_else(
    tmp_path: Path,
    temporal_address: str,  # noqa: F811
    host_listener: int,
) -> None:
    root = write_course(tmp_path / "course", ENGINE_CHECKS)
    engine_host, engine_port = parse_endpoint(temporal_address)
    probe = REACH + textwrap.dedent(
        f"""
        REACHED = {{
            "engine": reach({engine_host!r}, {engine_port}),
            "host port": reach("127.0.0.1", {host_listener}),
            "another machine": reach("192.0.2.1", 80),
        }}
        INTERFACES = [name for _, name in socket.if_nameindex()]

        def add(a, b):
            expected = {{"engine": True, "host port": False, "another machine": False}}
            assert REACHED == expected and INTERFACES == ["lo"], (REACHED, INTERFACES)
            return a + b
        """
    )
    scale = "def scale(values):\n    return [v * 10 for v in values]"
    write_notebook(
        tmp_path / "subs" / "prober.ipynb",
        [code(probe, exercise="add"), code(scale, exercise="scale")],
    )
    old = Path.cwd()
    os.chdir(root)
    try:
        report = grade_batch(
            lab=LAB, submissions=[tmp_path / "subs"], out=tmp_path / "graded", jobs=1
        )
    finally:
        os.chdir(old)
    (row,) = report.rows
    assert row.score == 3, [c["message"] for c in row.checks]
    assert f"loopback only, to the engines at {temporal_address}" in report.isolation


SNOOP = """
import glob

FOUND = [p for pattern in {patterns!r} for p in glob.glob(pattern, recursive=True)]
REACHED = {{"engine": reach({host!r}, {port}), "host port": reach("127.0.0.1", {closed})}}
INTERFACES = [name for _, name in socket.if_nameindex()]
LEAKED = []
for environ in glob.glob("/proc/[0-9]*/environ"):
    try:
        with open(environ, "rb") as file:
            if {secret!r}[::-1].encode() in file.read():
                LEAKED.append(environ)
    except OSError:
        pass

def add(a, b):
    assert not FOUND, FOUND
    assert not LEAKED, LEAKED
    assert REACHED == {{"engine": True, "host port": False}}, REACHED
    assert INTERFACES == ["lo"], INTERFACES
    return a + b
"""


@as_nobody_with_user_namespaces
def test_without_root_a_user_namespace_hides_the_course_and_the_network(
    temporal_address: str,  # noqa: F811
    host_listener: int,
) -> None:
    """labgrader run by an ordinary user (nobody) still hides solutions, checks and other
    learners, and still keeps the run to its own loopback and its engine."""
    base = Path(tempfile.mkdtemp(prefix="labgrader-nobody-"))
    try:
        write_course(base / "course", ENGINE_CHECKS)
        host, port = parse_endpoint(temporal_address)
        patterns = [f"{base}/course/**/*.ipynb", f"{base}/course/**/test_*.py", f"{base}/subs/*"]
        secret = f"s3cret-{os.getpid()}"  # in the grader's environment: not to be read
        snoop = REACH + SNOOP.format(
            patterns=patterns, host=host, port=port, closed=host_listener, secret=secret[::-1]
        )
        scale = "def scale(values):\n    return [v * 10 for v in values]"
        write_notebook(
            base / "subs" / "snoop.ipynb",
            [code(snoop, exercise="add"), code(scale, exercise="scale")],
        )
        write_notebook(base / "subs" / "other.ipynb", [code(scale, exercise="scale")])
        env = {"TEMPORAL_ADDRESS": temporal_address, "LABGRADER_TEST_SECRET": secret}
        report = grade_as_nobody(base, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    score, messages = report["rows"]["snoop"]
    assert score == 3, messages
    assert "a user namespace of its own per run" in report["isolation"]
    assert f"loopback only, to the engines at {temporal_address}" in report["isolation"]


HOSTILE_AS_NOBODY = {
    # Graded one at a time, in this order: the honest one comes after the others.
    "a-kill-parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)",
    "b-kill-group": "import os, signal\nos.killpg(0, signal.SIGKILL)",
    "c-escaped": "import subprocess\nsubprocess.Popen(['sleep', '3119'], start_new_session=True)",
    "d-honest": "",
    "e-loops": "while True:\n    pass",
}


def _nobodys() -> list[str]:
    """The processes of nobody still running (a zombie waiting to be reaped is not)."""
    found = []
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and entry.stat().st_uid == NOBODY:
                stat = Path(entry.path, "stat").read_text().rpartition(")")[2].split()
                if stat[0] != "Z":
                    found.append(Path(entry.path, "cmdline").read_bytes().decode(errors="replace"))
    return found


@as_nobody_with_user_namespaces
def test_without_root_a_run_can_neither_kill_the_grader_nor_leave_a_process_behind(
    tmp_path: Path,
) -> None:
    """Runs of an ordinary user get a PID namespace of their own: they cannot signal the
    grader (the same user) and every process they start ends with them."""
    base = Path(tempfile.mkdtemp(prefix="labgrader-nobody-"))
    try:
        write_course(base / "course")
        good_add = "def add(a, b):\n    return a + b\n"
        scale = "def scale(values):\n    return [v * 10 for v in values]"
        for name, prelude in HOSTILE_AS_NOBODY.items():
            cells = [
                code(f"{prelude}\n\n{good_add}", exercise="add"),
                code(scale, exercise="scale"),
            ]
            write_notebook(base / "subs" / f"{name}.ipynb", cells)
        report = grade_as_nobody(base, {}, timeout=6)
        time.sleep(0.5)  # what the runs left, if anything, had time to show
        leftover = _nobodys()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    rows = report["rows"]
    assert rows["d-honest"][0] == 5, rows["d-honest"]
    # Killing "the parent" or the group hits only the run itself: its own answers still count.
    assert rows["a-kill-parent"][0] == 5, rows["a-kill-parent"]
    assert rows["e-loops"][1][0] == "timeout", rows["e-loops"]
    assert leftover == []  # the sleeper and the endless loop ended with their runs
    assert "a PID namespace" in report["isolation"]


REPO = Path(__file__).resolve().parents[2]
MARK = f"labgrader-left-{os.getpid()}"
PRIVATE = ("/tmp", "/var/tmp", "/dev/shm", "/run")
PLANTER = """
from pathlib import Path

PLANTED = {{}}
for folder in {private!r}:
    try:
        Path(folder, {mark!r}).write_text("for the next learner")
        PLANTED[folder] = True
    except OSError as exc:
        PLANTED[folder] = repr(exc)

def add(a, b):
    assert all(ok is True for ok in PLANTED.values()), PLANTED
    return a + b
"""
READER = """
import errno, os, sysconfig
from pathlib import Path

REPO, COURSE = Path({repo!r}), Path({course!r})
LEFT = [f"{{f}}/{{n}}" for f in {private!r} for n in os.listdir(f) if n == {mark!r}]
SECRETS = [REPO / ".git", REPO / "solutions", REPO / "labs", REPO / "grading" / "checks",
           COURSE / "solutions", COURSE / "grading" / "checks", COURSE / ".." / "graded"]
GONE = [str(p) for p in SECRETS if os.path.lexists(p)]

def listable(path):
    try:
        return bool(os.listdir(path)) or True
    except OSError:
        return False

LISTED = [str(p) for p in (REPO, COURSE) if listable(p)]
try:
    Path(sysconfig.get_paths()["purelib"], "planted.py").write_text("x")
    WRITE = "written"
except OSError as exc:
    WRITE = errno.errorcode[exc.errno]

def add(a, b):
    assert (LEFT, GONE, LISTED, WRITE) == ([], [], [], "EROFS"), (LEFT, GONE, LISTED, WRITE)
    return a + b
"""
SCALE = "def scale(values):\n    return [v * 10 for v in values]"


def _leaky_batch(subs: Path, course: Path) -> None:
    """A learner who leaves files in every private folder, one who looks for them and for
    the course around the installation, and an honest one, graded in this order."""
    fmt = {"private": PRIVATE, "mark": MARK, "repo": str(REPO), "course": str(course)}
    for name, source in (("a-planter", PLANTER), ("b-reader", READER), ("c-honest", "")):
        add = source.format(**fmt) if source else "def add(a, b):\n    return a + b"
        write_notebook(
            subs / f"{name}.ipynb", [code(add, exercise="add"), code(SCALE, exercise="scale")]
        )


def _marks_left() -> list[str]:
    """The machine's own folders where a run left its mark (none, when each had its own)."""
    return [f for f in PRIVATE if Path(f, MARK).exists()]


@pytest.fixture
def clean_marks() -> Iterator[None]:
    """Remove what a run left in the machine's folders, were they not private."""
    yield
    for folder in _marks_left():
        Path(folder, MARK).unlink()


@pytest.mark.skipif(os.getuid() != 0, reason="a user of its own per run needs root")
@pytest.mark.usefixtures("clean_marks")
def test_as_root_no_run_finds_the_course_or_what_an_earlier_run_left(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    _leaky_batch(tmp_path / "subs", root)
    old = Path.cwd()
    os.chdir(root)
    try:
        report = grade_batch(
            lab=LAB, submissions=[tmp_path / "subs"], out=tmp_path / "graded", jobs=1
        )
    finally:
        os.chdir(old)
    rows = {r.learner: r for r in report.rows}
    for name in ("a-planter", "b-reader", "c-honest"):
        assert rows[name].score == 5, (name, [c["message"] for c in rows[name].checks])
    assert _marks_left() == []
    assert "private mount namespace and root" in report.isolation


@as_nobody_with_user_namespaces
@pytest.mark.usefixtures("clean_marks")
def test_as_an_ordinary_user_no_run_finds_the_course_or_what_an_earlier_run_left() -> None:
    base = Path(tempfile.mkdtemp(prefix="labgrader-nobody-"))
    try:
        write_course(base / "course")
        _leaky_batch(base / "subs", base / "course")
        report = grade_as_nobody(base, {})
    finally:
        shutil.rmtree(base, ignore_errors=True)
    for name in ("a-planter", "b-reader", "c-honest"):
        assert report["rows"][name][0] == 5, (name, report["rows"][name])
    assert _marks_left() == []
    assert "private mount namespace and root" in report["isolation"]
