"""Checks for exercise ``dead-letter``: ``process_batch`` and ``replay``.

Contract: each item's handler is called until success, up to ``max_attempts`` for transient
failures, once for a permanent one; failures become ``DeadLetter(key, payload, error_type,
error, attempts)`` and the batch goes on; fatal failures stop it. ``replay`` calls each
letter's handler once: success removes it, other failures stay with ``attempts + 1`` and the
new error, fatal re-raises.
"""

from collections import Counter

import pytest

from labgrader.checks import strictly_equal


def _handler(nb, transient_times=None, fixed=()):
    """A handler: 'bad-*' items fail with HTTP 400 unless fixed; 'slow-*' items time out the
    given number of times; 'boom' is fatal. Counts calls per item."""
    calls = Counter()
    transient_times = transient_times or {}

    def handle(payload):
        name = payload["name"]
        calls[name] += 1
        if name == "boom":
            raise nb.HTTPError(401, "token revoked")
        if name.startswith("bad") and name not in fixed:
            raise nb.HTTPError(400, f"cannot parse {name}")
        if calls[name] <= transient_times.get(name, 0):
            raise TimeoutError(f"{name} timed out")
        return name.upper()

    return handle, calls


def _items(*names):
    return {f"k-{name}": {"name": name} for name in names}


@pytest.mark.check(exercise="dead-letter", points=3)
def test_poison_items_are_parked_and_the_batch_goes_on(nb):
    dlq = nb.DeadLetterQueue()
    handle, calls = _handler(nb, transient_times={"slow": 1, "stuck": 99})
    results = nb.process_batch(
        _items("a", "bad1", "slow", "stuck", "b"), handle, dlq, max_attempts=3
    )
    assert strictly_equal(results, {"k-a": "A", "k-slow": "SLOW", "k-b": "B"}), (
        f"expected results for a, slow (after one timeout) and b, got {results}"
    )
    letters = {k: (v.error_type, v.attempts) for k, v in dlq.letters.items()}
    assert strictly_equal(letters, {"k-bad1": ("HTTPError", 1), "k-stuck": ("TimeoutError", 3)}), (
        f"expected dead letters bad1 (HTTPError after 1 attempt: permanent) and stuck "
        f"(TimeoutError after 3 attempts), got {letters}"
    )
    assert calls == Counter({"a": 1, "bad1": 1, "slow": 2, "stuck": 3, "b": 1}), (
        f"handler calls per item: expected a 1, bad1 1, slow 2, stuck 3, b 1, got {dict(calls)}"
    )
    letter = dlq.letters["k-bad1"]
    assert (
        strictly_equal(letter.payload, {"name": "bad1"})
        and type(letter.error) is str
        and "cannot parse bad1" in letter.error
    ), f"a dead letter keeps the payload and str(exc): got {letter}"


@pytest.mark.check(exercise="dead-letter", points=3)
def test_replay_removes_successes_and_is_safe_to_repeat(nb):
    dlq = nb.DeadLetterQueue()
    handle, _ = _handler(nb)
    nb.process_batch(_items("bad1", "bad2", "ok"), handle, dlq)
    fixed, calls = _handler(nb, fixed={"bad1"})
    first = nb.replay(dlq, fixed)
    assert strictly_equal(first, {"k-bad1": "BAD1"}) and strictly_equal(
        list(dlq.letters), ["k-bad2"]
    ), (
        f"after fixing bad1, replay should return {{'k-bad1': 'BAD1'}} and leave only k-bad2, "
        f"got {first} and {list(dlq.letters)}"
    )
    assert strictly_equal(dlq.letters["k-bad2"].attempts, 2), (
        f"bad2 failed its replay: attempts should go from 1 to 2, got "
        f"{dlq.letters['k-bad2'].attempts}"
    )
    second = nb.replay(dlq, fixed)
    assert strictly_equal(second, {}) and calls["bad1"] == 1, (
        f"a second replay must not process bad1 again: results {second}, bad1 handled "
        f"{calls['bad1']} times"
    )


@pytest.mark.check(exercise="dead-letter", points=2, hidden=True)
def test_hidden_fatal_stops_the_batch(nb):
    dlq = nb.DeadLetterQueue()
    handle, calls = _handler(nb)
    with pytest.raises(nb.HTTPError):
        nb.process_batch(_items("a", "boom", "b"), handle, dlq)
    assert calls["boom"] == 1 and calls["b"] == 0 and len(dlq) == 0, (
        f"a fatal failure (401) must stop the batch at once, not be retried or dead-lettered: "
        f"calls {dict(calls)}, dead letters {list(dlq.letters)}"
    )


@pytest.mark.check(exercise="dead-letter", points=2, hidden=True)
def test_hidden_replay_records_the_new_error(nb):
    dlq = nb.DeadLetterQueue()
    handle, _ = _handler(nb, transient_times={"slow": 99})
    nb.process_batch(_items("slow"), handle, dlq, max_attempts=2)
    assert strictly_equal(dlq.letters["k-slow"].attempts, 2), (
        f"max_attempts=2: expected 2 attempts, got {dlq.letters}"
    )

    def now_bad(payload):
        raise ValueError(f"schema changed for {payload['name']}")

    assert strictly_equal(nb.replay(dlq, now_bad), {}), "a failed replay returns no result"
    letter = dlq.letters["k-slow"]
    assert (
        strictly_equal((letter.error_type, letter.attempts), ("ValueError", 3))
        and type(letter.error) is str
        and "schema changed" in letter.error
    ), (
        f"a failed replay updates the error and adds one attempt: expected ValueError, 3, "
        f"got {letter}"
    )
