"""Checks for exercise ``redact-secrets``: ``redact(value, secrets)``.

Contract: strings have every secret (4+ characters, longest first) replaced by MASK; dict
values under keys containing password/secret/token/api_key become MASK; lists and tuples keep
their type; other values unchanged; the input is never modified.
"""

import copy

import pytest

from labgrader.checks import assert_equal


@pytest.mark.check(exercise="redact-secrets", points=5)
def test_worked_example(nb):
    value = {"url": "postgres://ml:hunter22@db/features", "DB_PASSWORD": "hunter22",
             "rows": [1, "hunter22!"]}  # fmt: skip
    before = copy.deepcopy(value)
    got = nb.redact(value, ["hunter22"])
    want = {"url": "postgres://ml:***@db/features", "DB_PASSWORD": "***", "rows": [1, "***!"]}
    assert_equal(got, want, what="redact(value, ['hunter22'])")
    assert_equal(value, before, what="the input after redact", hint="redact returns a copy.")


@pytest.mark.check(exercise="redact-secrets", points=5, hidden=True)
def test_hidden_nesting_keys_and_order(nb):
    value = (
        "token=abcd-prod-key and abcd",
        {"Api_Key": 12345, "auth": {"refresh_token": ["x"], "user": "sam"}, 7: None},
        ["tok", 3.5, ("abcd",)],
    )
    got = nb.redact(value, ["abc", "abcd", "abcd-prod-key"])
    want = (
        "token=*** and ***",
        {"Api_Key": "***", "auth": {"refresh_token": "***", "user": "sam"}, 7: None},
        ["tok", 3.5, ("***",)],
    )
    assert_equal(
        got,
        want,
        what="redact(value, ['abc', 'abcd', 'abcd-prod-key'])",
        hint="Likely causes: secrets not replaced longest first, key names compared "
        "case-sensitively, a tuple turned into a list, or short secrets (under 4 characters) "
        "masked.",
    )
    assert_equal(nb.redact(42, ["4242"]), 42, what="redact(42, ['4242'])")
    assert_equal(nb.redact("nothing", []), "nothing", what="redact('nothing', [])")
