"""Checks for exercise ``validate-input``: ``validate_train_request(payload, max_bytes)``.

Contract: InputError(field, problem) for the first problem, in order: not a dict / too big
('(payload)'), unknown field, missing field, dataset (non-empty relative str, no '..' part,
no NUL), epochs (int 1..100, not bool), owner (non-empty str); else a copy.
"""

import pytest

from labgrader.checks import assert_equal, strictly_equal

OK = {"dataset": "wine/v3.parquet", "epochs": 5, "owner": "ana"}


def _field(nb, payload, **kwargs):
    try:
        nb.validate_train_request(payload, **kwargs)
    except nb.InputError as exc:
        return exc.field
    return None


@pytest.mark.check(exercise="validate-input", points=5)
def test_worked_example(nb):
    payload = dict(OK)
    got = nb.validate_train_request(payload)
    assert_equal(got, OK, what="a valid request (returned as it is)")
    for payload, field in (
        ({**OK, "dataset": "../../etc/passwd"}, "dataset"),
        ({**OK, "epochs": "5"}, "epochs"),
        ({**OK, "gpu": 8}, "gpu"),
    ):
        got = _field(nb, payload)
        assert strictly_equal(got, field), (
            f"{payload!r} should raise InputError naming {field!r}; got field {got!r} "
            f"(None: nothing raised)"
        )


@pytest.mark.check(exercise="validate-input", points=5, hidden=True)
def test_hidden_other_bad_inputs(nb):
    cases = [
        (["dataset"], "(payload)"),
        ({**OK, "owner": "x" * 5000}, "(payload)"),
        ({"epochs": 5, "owner": "ana"}, "dataset"),
        ({"dataset": "a.csv", "owner": "ana"}, "epochs"),
        ({"zzz": 1, "dataset": "../x", "epochs": 5, "owner": "ana"}, "zzz"),
        ({**OK, "dataset": "/etc/passwd"}, "dataset"),
        ({**OK, "dataset": "data\\..\\..\\secrets"}, "dataset"),
        ({**OK, "dataset": "a\x00.csv"}, "dataset"),
        ({**OK, "dataset": ""}, "dataset"),
        ({**OK, "dataset": 7}, "dataset"),
        ({**OK, "epochs": True}, "epochs"),
        ({**OK, "epochs": 0}, "epochs"),
        ({**OK, "epochs": 101}, "epochs"),
        ({**OK, "epochs": 2.0}, "epochs"),
        ({**OK, "owner": ""}, "owner"),
        ({**OK, "owner": None}, "owner"),
    ]
    for payload, field in cases:
        got = _field(nb, payload)
        assert strictly_equal(got, field), (
            f"{str(payload)[:80]!r} should raise InputError naming {field!r}; got {got!r} "
            f"(None: nothing raised)"
        )
    for fine in ({**OK, "dataset": "v1..2.csv", "epochs": 100}, {**OK, "epochs": 1}):
        assert _field(nb, fine) is None, f"{fine!r} is valid; it was rejected"
    assert strictly_equal(_field(nb, dict(OK), max_bytes=20), "(payload)"), (
        "max_bytes=20 is exceeded"
    )
