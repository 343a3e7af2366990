"""The learner's process and the channel: values cross by value, nothing the notebook
returns can run code on the checks' side, a broken cell costs only what it defines."""

import dataclasses
import datetime as dt
import os
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from conftest import write_submission_of

from labgrader.harness.proxy import NotebookNameError, RemoteObject
from labgrader.harness.session import LearnerSession

CELLS = [
    "import dataclasses\n\n@dataclasses.dataclass(frozen=True)\n"
    "class Point:\n    x: int\n    y: int = 0",
    "class Always:\n    def __eq__(self, other):\n        return True\n\n"
    "def always():\n    return Always()",
    "def same(v):\n    return v\n\ndef call_twice(fn):\n    return [fn(1), fn(2)]",
    "def broken(:\n    pass",
    "def grow(chain):\n    chain.append(len(chain))\n    return None",
    "import os\n\ndef where():\n    return os.getpid()\n\n"
    "def env(name):\n    return os.environ.get(name)",
    "class Boom(ValueError):\n    pass\n\ndef boom(x):\n    raise Boom(f'bad {x}')",
]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    path = write_submission_of(CELLS, tmp_path_factory.mktemp("sub"))
    s = LearnerSession(path)
    yield s
    s.close()


def test_the_notebook_runs_in_another_process(session):
    nb = session.module(hidden=False)
    assert type(nb.where()) is int
    assert nb.where() != os.getpid()


def test_plain_values_cross_by_value_with_their_types(session):
    nb = session.module(hidden=False)
    when = dt.datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    values = [1, 1.5, True, "x", b"y", (1, 2), [1, (2, 3)], {1: "a", (2, 3): None}, {1, 2}]
    values += [frozenset({3}), when, dt.date(2026, 1, 2), dt.timedelta(seconds=3)]
    values += [Decimal("1.10"), 2**80, None]
    for value in values:
        got = nb.same(value)
        assert type(got) is type(value) and got == value, f"{value!r} came back as {got!r}"
    assert nb.same(when).tzinfo == ZoneInfo("Europe/Berlin")
    assert nb.call_twice(lambda v: when + dt.timedelta(days=v)) == [
        when + dt.timedelta(days=1),
        when + dt.timedelta(days=2),
    ]


def test_dataclasses_are_rebuilt_by_the_checks_own_class(session):
    nb = session.module(hidden=False)
    point = nb.Point(1)
    assert dataclasses.is_dataclass(point) and point == nb.Point(1, 0)
    assert point != nb.Point(2, 0)
    assert type(point).__eq__.__module__ != "labgrader_submission"


def test_an_object_that_equals_everything_cannot_exist_here(session):
    nb = session.module(hidden=False)
    value = nb.always()
    assert isinstance(value, RemoteObject)
    assert value != 1 and value != "anything" and value != object()


def test_a_broken_cell_costs_only_its_names(session):
    nb = session.module(hidden=False)
    assert nb.same(2) == 2
    with pytest.raises(
        NotebookNameError, match=r"'broken' is not defined: cell 4 did not run \(SyntaxError"
    ):
        nb.broken  # noqa: B018


def test_arguments_changed_in_place_come_back(session):
    nb = session.module(hidden=False)
    chain = [0]
    nb.grow(chain)
    assert chain == [0, 1]


def test_exceptions_keep_their_class_and_base(session):
    nb = session.module(hidden=False)
    with pytest.raises(nb.Boom, match="bad 3") as caught:
        nb.boom(3)
    assert isinstance(caught.value, ValueError)


def test_hidden_checks_get_a_fresh_process(session):
    visible = session.module(hidden=False).where()
    hidden = session.module(hidden=True).where()
    assert visible != hidden


def test_each_load_tells_where_the_engines_are(session, monkeypatch):
    # A fixture may start an engine after the learner's processes could be forked.
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("ORCHLAB_SECRET_THING", "not for the notebook")
    nb = session.module(hidden=False)
    assert nb.env("PREFECT_API_URL") == "http://127.0.0.1:9/api"
    assert nb.env("ORCHLAB_SECRET_THING") is None
