"""Checks for exercise ``audit-verify``: ``verify_chain(chain) -> int | None``.

Contract: the 1-based position of the first record whose seq, prev link or hash is wrong
(or that is malformed); None when intact (an empty chain is intact).
"""

import copy
import hashlib

import pytest


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
    assert nb.verify_chain(copy.deepcopy(chain)) is None, "an intact chain verifies: None"
    edited = copy.deepcopy(chain)
    edited[1]["data"]["i"] = 99
    got = nb.verify_chain(edited)
    assert got == 2, f"record 2's data was edited: expected 2, got {got!r}"
    got = nb.verify_chain(copy.deepcopy(chain[1:]))
    assert got == 1, f"record 1 was deleted: the record now first is bad, expected 1, got {got!r}"


@pytest.mark.check(exercise="audit-verify", points=5, hidden=True)
def test_hidden_forged_and_reordered(nb):
    chain = _chain(nb, 6)
    assert nb.verify_chain([]) is None, "an empty chain is intact"
    middle = copy.deepcopy(chain[:3] + chain[4:])
    got = nb.verify_chain(middle)
    assert got == 4, f"record 4 of 6 deleted: the record in its place (4) is bad; got {got!r}"
    forged = copy.deepcopy(chain)
    forged[2]["actor"] = "mallory"
    _rehash(nb, forged[2])
    got = nb.verify_chain(forged)
    assert got == 4, (
        f"record 3 edited and re-hashed: it looks valid, but record 4's prev no longer matches; "
        f"expected 4, got {got!r}. Likely cause: prev links not checked"
    )
    swapped = copy.deepcopy([chain[0], chain[2], chain[1], *chain[3:]])
    assert nb.verify_chain(swapped) == 2, "records 2 and 3 swapped: position 2 is bad"
    extra = copy.deepcopy(chain)
    extra[4]["note"] = "added"
    assert nb.verify_chain(extra) == 5, "a key added to record 5 changes its hash: 5 is bad"
    resequenced = copy.deepcopy(chain)
    resequenced[5]["seq"] = 9
    _rehash(nb, resequenced[5])
    assert nb.verify_chain(resequenced) == 6, "record 6 with seq 9 is bad (seq must be 6)"
    broken = copy.deepcopy(chain)
    del broken[2]["prev"]
    assert nb.verify_chain(broken) == 3, "record 3 lacks 'prev': malformed, 3 is bad"
