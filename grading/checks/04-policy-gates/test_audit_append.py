"""Checks for exercise ``audit-append``: ``append_record(chain, actor, action, data)``.

Contract: body = seq (len + 1), actor, action, data, prev (last hash or GENESIS); hash =
sha256(canonical(body)); appended and returned.
"""

import copy
import hashlib

import pytest

from labgrader.checks import assert_equal


def _expected(nb, seq, actor, action, data, prev):
    body = {"seq": seq, "actor": actor, "action": action, "data": data, "prev": prev}
    return {**body, "hash": hashlib.sha256(nb.canonical(body)).hexdigest()}


@pytest.mark.check(exercise="audit-append", points=5)
def test_worked_example(nb):
    chain = []
    first = nb.append_record(chain, "ci", "gate", {"allow": True})
    want = _expected(nb, 1, "ci", "gate", {"allow": True}, nb.GENESIS)
    assert_equal(first, want, what="the first record")
    second = nb.append_record(chain, "raj", "approve", {"subject": "fraud v7"})
    want2 = _expected(nb, 2, "raj", "approve", {"subject": "fraud v7"}, want["hash"])
    assert_equal(second, want2, what="the second record (it links to the first's hash)")
    assert_equal(chain, [want, want2], what="the chain (both records appended)")


@pytest.mark.check(exercise="audit-append", points=5, hidden=True)
def test_hidden_longer_chain_and_copies(nb):
    chain, prev = [], nb.GENESIS
    data = {"env": "prod", "nested": {"b": [1, 2], "a": "x"}}
    for i, actor in enumerate(["ci", "ana", "raj", "ci", "lee"], start=1):
        record = nb.append_record(chain, actor, f"step-{i}", data)
        want = _expected(nb, i, actor, f"step-{i}", copy.deepcopy(data), prev)
        assert_equal(record, want, what=f"record {i}")
        prev = want["hash"]
    data["env"] = "dev"
    assert_equal(
        chain[0]["data"]["env"],
        "prod",
        what="record 1's data after the caller changed its dict",
        hint="The record keeps a copy of data (dict(data)).",
    )
    assert len({r["hash"] for r in chain}) == 5, "every record's hash differs (prev differs)"
