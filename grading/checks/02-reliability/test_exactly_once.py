"""Checks for exercise ``exactly-once``: ``idempotency_key`` and ``exactly_once``.

Contract: the key depends only on the operation and the payload's content (dict key order
ignored, nested too); ``exactly_once`` returns the ledger's recorded result without calling
the effect, else calls it, records ``json.dumps(result)`` only when it returns, and lets a
failure propagate with nothing recorded; the ledger is durable (a new ``Ledger`` on the same
file sees the record).
"""

import pytest

from labgrader.checks import strictly_equal


class Payments:
    """Counts real charges."""

    def __init__(self, fail_first=0):
        self.charges = []
        self.fail_first = fail_first
        self.calls = 0

    def charge(self, customer, cents):
        self.calls += 1
        if self.calls <= self.fail_first:
            raise ConnectionError(f"provider unreachable (call {self.calls})")
        self.charges.append((customer, cents))
        return {"charge_id": f"ch-{len(self.charges)}", "cents": cents}


@pytest.mark.check(exercise="exactly-once", points=4)
def test_second_call_returns_the_record_without_the_effect(nb, tmp_path):
    payments = Payments()
    key = nb.idempotency_key("charge", {"customer": "c-17", "cents": 1250})
    ledger = nb.Ledger(tmp_path / "ledger.db")
    first = nb.exactly_once(ledger, key, lambda: payments.charge("c-17", 1250))
    second = nb.exactly_once(ledger, key, lambda: payments.charge("c-17", 1250))
    assert payments.charges == [("c-17", 1250)], (
        f"the same key twice must charge once, charges made: {payments.charges}"
    )
    expected = {"charge_id": "ch-1", "cents": 1250}
    assert strictly_equal(first, expected) and strictly_equal(second, expected), (
        f"both calls should return the first charge's result, got {first!r} and {second!r}"
    )


@pytest.mark.check(exercise="exactly-once", points=3)
def test_the_record_survives_a_new_process(nb, tmp_path):
    payments = Payments()
    key = nb.idempotency_key("charge", {"customer": "c-3", "cents": 99})
    nb.exactly_once(nb.Ledger(tmp_path / "l.db"), key, lambda: payments.charge("c-3", 99))
    again = nb.exactly_once(nb.Ledger(tmp_path / "l.db"), key, lambda: payments.charge("c-3", 99))
    assert len(payments.charges) == 1 and strictly_equal(
        again, {"charge_id": "ch-1", "cents": 99}
    ), (
        f"a rerun (a new Ledger on the same file) must not charge again: charges "
        f"{payments.charges}, result {again!r}. Likely cause: the record is kept in memory, "
        f"not with ledger.put"
    )


@pytest.mark.check(exercise="exactly-once", points=3)
def test_a_failed_effect_is_not_recorded(nb, tmp_path):
    payments = Payments(fail_first=1)
    key = nb.idempotency_key("charge", {"customer": "c-9", "cents": 500})
    ledger = nb.Ledger(tmp_path / "l.db")
    with pytest.raises(ConnectionError):
        nb.exactly_once(ledger, key, lambda: payments.charge("c-9", 500))
    assert ledger.get(key) is None, (
        f"the effect raised, so nothing may be recorded; the ledger holds {ledger.get(key)!r}"
    )
    result = nb.exactly_once(ledger, key, lambda: payments.charge("c-9", 500))
    assert payments.charges == [("c-9", 500)] and strictly_equal(result["charge_id"], "ch-1"), (
        f"the retry after a failure must charge (once): charges {payments.charges}, "
        f"result {result!r}"
    )


@pytest.mark.check(exercise="exactly-once", points=3, hidden=True)
def test_hidden_key_depends_on_content_only(nb):
    a = nb.idempotency_key("register", {"model": "fraud", "meta": {"auc": 0.91, "seed": 7}, "v": 3})
    b = nb.idempotency_key("register", {"v": 3, "meta": {"seed": 7, "auc": 0.91}, "model": "fraud"})
    assert type(a) is str and strictly_equal(b, a), (
        f"the same payload with its keys (nested too) in another order must give the same "
        f"key: {a!r} != {b!r}"
    )
    others = {
        "operation": nb.idempotency_key(
            "deploy", {"model": "fraud", "meta": {"auc": 0.91, "seed": 7}, "v": 3}
        ),
        "nested value": nb.idempotency_key(
            "register", {"model": "fraud", "meta": {"auc": 0.91, "seed": 8}, "v": 3}
        ),
        "value type": nb.idempotency_key(
            "register", {"model": "fraud", "meta": {"auc": 0.91, "seed": 7}, "v": "3"}
        ),
    }
    same = [what for what, key in others.items() if strictly_equal(key, a)]
    assert not same, f"a different {', '.join(same)} must give a different key, got {a!r}"


@pytest.mark.check(exercise="exactly-once", points=2, hidden=True)
def test_hidden_distinct_keys_and_list_results(nb, tmp_path):
    ledger = nb.Ledger(tmp_path / "l.db")
    runs = []

    def effect(tag):
        runs.append(tag)
        return [tag, len(runs)]

    for day in ("2024-05-01", "2024-05-02", "2024-05-01", "2024-05-02", "2024-05-03"):
        key = nb.idempotency_key("publish", {"day": day})
        nb.exactly_once(ledger, key, lambda day=day: effect(day))
    assert runs == ["2024-05-01", "2024-05-02", "2024-05-03"], (
        f"three distinct days, each published once, expected runs in order "
        f"['2024-05-01', '2024-05-02', '2024-05-03'], got {runs}"
    )
    again = nb.exactly_once(
        ledger, nb.idempotency_key("publish", {"day": "2024-05-02"}), lambda: effect("x")
    )
    assert strictly_equal(again, ["2024-05-02", 2]), (
        f"expected the recorded result ['2024-05-02', 2], got {again!r}"
    )
