"""Checks for exercise ``audit-verify``: ``verify_chain(chain) -> int | None``.

Contract: the 1-based position of the first record whose seq, prev link or hash is wrong
(or that is malformed); None when intact (an empty chain is intact).
"""

import copy
import hashlib

import pytest

from labgrader.checks import assert_equal


def _chain(nb, n):
    chain, prev = [], nb.GENESIS
    for i in range(1, n + 1):
        body = {"seq": i, "actor": f"user{i % 3}", "action": "step", "data": {"i": i}, "prev": prev}
        prev = hashlib.sha256(nb.canonical(body)).hexdigest()
        chain.append({**body, "hash": prev})
    return chain


def _rehash(nb, record):
    body = {k: v for k, v in record.items() if k != "hash"}
    record["hash"] = hashlib.sha256(nb.canonical(body)).hexdigest()


@pytest.mark.check(exercise="audit-verify", points=5)
def test_worked_example(nb):
    chain = _chain(nb, 4)
    assert_equal(nb.verify_chain(copy.deepcopy(chain)), None, what="an intact chain")
    edited = copy.deepcopy(chain)
    edited[1]["data"]["i"] = 99
    assert_equal(nb.verify_chain(edited), 2, what="record 2's data edited")
    assert_equal(
        nb.verify_chain(copy.deepcopy(chain[1:])),
        1,
        what="record 1 deleted",
        hint="The record now first is bad.",
    )


@pytest.mark.check(exercise="audit-verify", points=5, hidden=True)
def test_hidden_forged_and_reordered(nb):
    chain = _chain(nb, 6)
    assert_equal(nb.verify_chain([]), None, what="an empty chain (intact)")
    middle = copy.deepcopy(chain[:3] + chain[4:])
    assert_equal(
        nb.verify_chain(middle),
        4,
        what="record 4 of 6 deleted",
        hint="The record in its place (4) is bad.",
    )
    forged = copy.deepcopy(chain)
    forged[2]["actor"] = "mallory"
    _rehash(nb, forged[2])
    assert_equal(
        nb.verify_chain(forged),
        4,
        what="record 3 edited and re-hashed",
        hint="It looks valid, but record 4's prev no longer matches. Likely cause: prev links "
        "not checked.",
    )
    swapped = copy.deepcopy([chain[0], chain[2], chain[1], *chain[3:]])
    assert_equal(nb.verify_chain(swapped), 2, what="records 2 and 3 swapped")
    extra = copy.deepcopy(chain)
    extra[4]["note"] = "added"
    assert_equal(nb.verify_chain(extra), 5, what="a key added to record 5 (it changes its hash)")
    resequenced = copy.deepcopy(chain)
    resequenced[5]["seq"] = 9
    _rehash(nb, resequenced[5])
    assert_equal(nb.verify_chain(resequenced), 6, what="record 6 with seq 9 (seq must be 6)")
    broken = copy.deepcopy(chain)
    del broken[2]["prev"]
    assert_equal(nb.verify_chain(broken), 3, what="record 3 lacks 'prev' (malformed)")
