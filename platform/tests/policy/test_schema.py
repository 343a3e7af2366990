"""Input validation: strict types, unknown fields, sizes and path traversal, with messages
naming the field."""

from __future__ import annotations

import pytest
from pydantic import Field

from orchlab.policy import InputRejected, SafePath, StrictInput, path_problem, validate_input


class Job(StrictInput):
    name: str = Field(max_length=64)
    epochs: int = Field(ge=1)
    output: SafePath = "out"
    tags: dict[str, str] = Field(default_factory=dict)


def test_a_good_payload_parses() -> None:
    job = validate_input(Job, {"name": "train", "epochs": 3, "output": "runs/a/model.bin"})
    assert job.epochs == 3 and job.output == "runs/a/model.bin"
    assert validate_input(Job, '{"name": "t", "epochs": 1}').name == "t"
    assert validate_input(Job, job) == job


@pytest.mark.parametrize(
    ("payload", "message", "fields"),
    [
        ({"name": "t", "epochs": "3"}, "epochs: Input should be a valid integer", ["epochs"]),
        ({"name": "t", "epochs": 1, "admin": True}, "admin: unknown field", ["admin"]),
        ({"epochs": 1}, "name: is required", ["name"]),
        ({"name": "t", "epochs": 0}, "epochs: Input should be greater than or equal to 1", None),
        ({"name": "t", "epochs": 1, "output": "/etc"}, "output: unsafe path '/etc'", None),
        ({"name": "t", "epochs": 1, "tags": {"k": "a/../../b"}}, "tags: unsafe path", None),
        ({"name": "..", "epochs": 1}, "name: unsafe path '..'", None),
    ],
)
def test_bad_payloads_name_the_field(
    payload: dict[str, object], message: str, fields: list[str] | None
) -> None:
    with pytest.raises(InputRejected, match=r"input rejected by Job") as info:
        validate_input(Job, payload)
    assert message in str(info.value)
    if fields is not None:
        assert list(info.value.fields) == fields


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(InputRejected) as info:
        validate_input(Job, {"name": 1, "epochs": "x", "extra": 1}, what="input of Train")
    text = str(info.value)
    assert text.startswith("input of Train rejected by Job:")
    assert set(info.value.fields) == {"name", "epochs", "extra"}


def test_oversized_payloads_are_refused_before_parsing() -> None:
    with pytest.raises(InputRejected, match=r"is 2\d{3} bytes, over the 1024-byte limit"):
        validate_input(Job, {"name": "t", "epochs": 1, "tags": {"k": "v" * 2000}}, max_bytes=1024)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a/b.csv", None),
        ("v1..2", None),
        ("../x", "'..' path segment"),
        ("a\\..\\b", "'..' path segment"),
        ("%2e%2e/x", "URL-encoded"),
        ("a\x00b", "NUL byte"),
        ("~/x", "absolute path"),
        ("C:\\x", "absolute path"),
    ],
)
def test_path_problem(value: str, problem: str | None) -> None:
    found = path_problem(value)
    assert (found is None) if problem is None else (problem in (found or ""))
