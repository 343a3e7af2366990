"""Checks for exercise ``critical-path``: ``critical_path(spans)``.

Contract: the span ids from the one root (parent None) to a leaf, at each span following the
child with the latest end (a tie: the first in the list); ValueError for no spans, no root,
several roots, or a parent id that names no span.
"""

import pytest

from labgrader.checks import assert_equal, assert_type


def _path(nb, spans, what):
    got = nb.critical_path(spans)
    assert_type(got, list, what=what)
    for item in got:
        assert_type(item, str, what=f"each id in {what}")
    return got


def _spans(nb, rows):
    return [nb.Span(name, "t1", sid, parent, start, end) for name, sid, parent, start, end in rows]


WORKED = [
    ("pipeline", "r", None, 0.0, 10.0),
    ("ingest", "a", "r", 0.0, 3.0),
    ("train", "b", "r", 3.0, 9.5),
    ("eval", "c", "r", 3.0, 6.0),
    ("fit", "d", "b", 3.5, 9.0),
]


@pytest.mark.check(exercise="critical-path", points=5)
def test_worked_example(nb):
    spans = _spans(nb, WORKED)
    assert_equal(
        _path(nb, spans, "critical_path(worked example)"),
        ["r", "b", "d"],
        what="critical_path(worked example)",
    )
    with pytest.raises(ValueError):
        nb.critical_path([])
    orphan = _spans(nb, [*WORKED, ("lost", "x", "zz", 1.0, 2.0)])
    with pytest.raises(ValueError):
        nb.critical_path(orphan)


@pytest.mark.check(exercise="critical-path", points=5, hidden=True)
def test_hidden_latest_end_ties_and_roots(nb):
    # The long-running child started first and ended earlier: the late, short one bounds the run.
    rows = [
        ("step:c", "c", "r", 6.0, 9.0),
        ("pipeline", "r", None, 0.0, 9.0),
        ("step:a", "a", "r", 0.0, 8.0),
        ("step:b", "b", "r", 1.0, 9.0),
        ("inner", "i", "a", 0.5, 7.9),
        ("leaf", "l", "c", 6.5, 8.5),
    ]
    assert_equal(
        _path(nb, _spans(nb, rows), "critical_path"),
        ["r", "c", "l"],
        what="critical_path (the latest end, not the longest duration; a tie: the first)",
        hint="step:c and step:b both end at 9.0; step:c comes first in the list",
    )
    single = _spans(nb, [("only", "o", None, 1.0, 2.0)])
    assert_equal(
        _path(nb, single, "critical_path(one span)"), ["o"], what="critical_path(one span)"
    )
    two_roots = _spans(nb, [("a", "a", None, 0.0, 1.0), ("b", "b", None, 0.0, 2.0)])
    with pytest.raises(ValueError):
        nb.critical_path(two_roots)
    no_root = _spans(nb, [("a", "a", "b", 0.0, 1.0), ("b", "b", "a", 0.0, 2.0)])
    with pytest.raises(ValueError):
        nb.critical_path(no_root)
