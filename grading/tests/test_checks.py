"""Tests for labgrader.checks: strict comparison against hostile learner values."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from labgrader.checks import (
    assert_close,
    assert_equal,
    assert_not_equal,
    assert_one_of,
    assert_type,
    difference,
    show,
    strictly_equal,
    text,
)


class AlwaysEqual:
    """What a determined learner returns: equal to anything, never unequal."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


class SneakyStr(str):
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __contains__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


class SneakyInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


class SneakyList(list):  # type: ignore[type-arg]
    def __eq__(self, other: object) -> bool:
        return True


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no")


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclass
class Run:
    run_id: str
    attempts: int
    tags: list[str] = field(default_factory=list)
    note: str = field(default="", compare=False)


@dataclass
class LiarRun:
    run_id: str

    def __eq__(self, other: object) -> bool:
        return True


def fails(got: object, expected: object, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as info:
        assert_equal(got, expected, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        (AlwaysEqual(), 3),
        (AlwaysEqual(), "x"),
        (AlwaysEqual(), [1, 2]),
        (AlwaysEqual(), None),
        (SneakyStr("anything"), "ready"),
        (SneakyStr("ready"), "ready"),  # even with the right characters: a subclass
        (SneakyInt(7), 7),
        (SneakyList([1]), [1]),
        (True, 1),
        (1, True),
        (0, False),
        (1, 1.0),
        (1.0, 1),
        ((1, 2), [1, 2]),
        ([1, 2], (1, 2)),
        ({1, 2}, frozenset({1, 2})),
        (b"a", "a"),
        (Decimal("1.5"), 1.5),
    ],
)
def test_hostile_or_lookalike_values_never_equal(got: object, expected: object) -> None:
    assert not strictly_equal(got, expected)
    message = fails(got, expected)
    assert type(expected).__name__ in message and type(got).__name__ in message


def test_equal_values_pass() -> None:
    value = {
        "runs": [Run("a-1", 2, ["x"]), Run("b-1", 1)],
        "when": datetime(2024, 1, 1, tzinfo=UTC),
        "delay": timedelta(seconds=1.5),
        "color": Color.RED,
        "ids": {"a", "b"},
        "pair": (1, 2.5, None, True),
        "nested": {("k", 1): frozenset({1})},
        "cost": Decimal("0.10"),
    }
    twin = {
        "runs": [Run("a-1", 2, ["x"]), Run("b-1", 1)],
        "when": datetime(2024, 1, 1, tzinfo=UTC),
        "delay": timedelta(seconds=1.5),
        "color": Color.RED,
        "ids": {"b", "a"},
        "pair": (1, 2.5, None, True),
        "nested": {("k", 1): frozenset({1})},
        "cost": Decimal("0.10"),
    }
    assert_equal(twin, value)
    assert strictly_equal(twin, value)
    assert difference(twin, value) is None


def test_hostile_value_nested_deep_is_found_with_its_path() -> None:
    expected = {"plan": [Run("a", 1), Run("b", 2)]}
    got = {"plan": [Run("a", 1), Run(SneakyStr("b"), 2)]}
    message = fails(got, expected, what="dry_run(SPEC)")
    assert message.startswith(
        "dry_run(SPEC): at ['plan'][1].run_id: expected str 'b', got SneakyStr"
    )


def test_first_difference_names_the_path_types_and_values() -> None:
    message = fails({"seed": 7.0, "C": 0.5}, {"seed": 7, "C": 0.5}, what="resolve_params(D)")
    assert message.startswith("resolve_params(D): at ['seed']: expected int 7, got float 7.0")
    assert "(expected {'C': 0.5, 'seed': 7}, got {'C': 0.5, 'seed': 7.0})" in message


def test_hint_comes_after_the_difference() -> None:
    message = fails([1, 2], [2, 1], what="order", hint="sort the ready steps")
    assert message.startswith("order: at [0]: expected int 2, got int 1")
    assert message.endswith("sort the ready steps")


def test_lengths_missing_and_extra_items() -> None:
    assert "expected a list of 3 items, got 2; the first missing item is int 3" in fails(
        [1, 2], [1, 2, 3]
    )
    assert "got 3; the first extra item is int 3" in fails([1, 2, 3], [1, 2])
    assert "at [1]: expected a tuple of 1 items, got 2" in fails([(1,), (1, 2)], [(1,), (1,)])


def test_dict_keys_are_matched_strictly() -> None:
    assert "missing key str 'b'; unexpected key str 'c'" in fails(
        {"a": 1, "c": 2}, {"a": 1, "b": 2}
    )
    # a key that hashes and compares like the expected one is still another key
    assert "unexpected key SneakyStr" in fails({SneakyStr("a"): 1}, {"a": 1})
    assert "unexpected key bool True" in fails({True: "x"}, {1: "x"})
    assert "unexpected key AlwaysEqual" in fails({AlwaysEqual(): 1}, {("k",): 1})
    # tuple keys: each part keeps its type
    assert "missing key tuple (1, 'a')" in fails({(1.0, "a"): 1}, {(1, "a"): 1})
    assert "at [(1, 'a')]: expected int 2, got int 3" in fails({(1, "a"): 3}, {(1, "a"): 2})


def test_sets_are_matched_strictly() -> None:
    message = fails({1, 2}, {1, 2.0})
    assert "missing float 2.0; unexpected int 2" in message
    assert_equal({(1, "a"), (2, "b")}, {(2, "b"), (1, "a")})
    assert "unexpected AlwaysEqual" in fails({AlwaysEqual(), 2}, {(1,), 2})


def test_dataclasses_compare_field_by_field_and_never_call_their_eq() -> None:
    assert "at .attempts: expected int 2, got bool True" in fails(Run("a", True), Run("a", 2))  # type: ignore[arg-type]
    assert_equal(Run("a", 1, note="free"), Run("a", 1, note="other"))  # compare=False field
    # the class's own __eq__ says equal; the fields do not
    assert "at .run_id: expected str 'b', got str 'a'" in fails(LiarRun("a"), LiarRun("b"))


def test_floats_nan_and_signed_zero() -> None:
    assert_equal(math.nan, math.nan)
    assert_equal([0.0], [-0.0])
    assert "expected float nan, got float 1.0" in fails(1.0, math.nan)
    assert "expected float 1.0, got float nan" in fails(math.nan, 1.0)
    assert "at ['p']: expected float 0.5, got float 0.25" in fails({"p": 0.25}, {"p": 0.5})


def test_enums_are_the_same_member() -> None:
    assert_equal(Color.GREEN, Color.GREEN)
    assert "expected Color <Color.RED: 1>, got Color <Color.GREEN: 2>" in fails(
        Color.GREEN, Color.RED
    )
    assert "expected Color" in fails(1, Color.RED)


def test_datetimes_compare_by_the_type_own_equality() -> None:
    berlin = timezone(timedelta(hours=1))
    assert_equal(datetime(2024, 1, 1, 1, tzinfo=berlin), datetime(2024, 1, 1, tzinfo=UTC))
    assert "expected datetime" in fails(datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=UTC))
    assert "expected datetime" in fails("2024-01-01", datetime(2024, 1, 1))


def test_a_cycle_fails_with_a_message_not_a_crash() -> None:
    loop: list[Any] = []
    loop.append(loop)
    expected: list[Any] = [[[[]]]]
    for _ in range(2000):
        expected = [expected]
    assert "nested too deeply" in fails(loop, expected)


def test_show_survives_a_raising_repr_and_cuts_long_values() -> None:
    assert show(BadRepr()).startswith("<BadRepr instance at 0x")
    assert len(show("x" * 10_000)) < 100
    assert "expected int 1, got BadRepr <BadRepr instance" in fails(BadRepr(), 1)


def test_assert_not_equal() -> None:
    assert_not_equal("abc", "abd")
    assert_not_equal(1, True)
    with pytest.raises(AssertionError, match="version: expected something other than str 'ab'"):
        assert_not_equal("ab", "ab", what="version")


def test_assert_one_of_is_strict() -> None:
    assert_one_of("allow", ["allow", "deny"])
    with pytest.raises(AssertionError) as info:
        assert_one_of(SneakyStr("allow"), ["allow", "deny"], what="decision", hint="say which")
    assert str(info.value) == (
        "decision: expected one of str 'allow', str 'deny'; got SneakyStr 'allow' say which"
    )
    with pytest.raises(AssertionError, match="got int 1"):
        assert_one_of(1, [True, False])


def test_assert_type_refuses_subclasses() -> None:
    assert_type("x", str)
    with pytest.raises(AssertionError, match="reason: expected a str, got SneakyStr 'x'"):
        assert_type(SneakyStr("x"), str, what="reason")
    with pytest.raises(AssertionError, match="expected a int, got bool True"):
        assert_type(True, int)


def test_text_refuses_a_message_that_contains_everything() -> None:
    class Sneaky(Exception):
        def __str__(self) -> str:
            return SneakyStr("nothing useful")

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert text(ValueError("unknown key 'sed'")) == "unknown key 'sed'"
    assert type(text(ValueError("x"))) is str
    with pytest.raises(AssertionError, match="returned a SneakyStr, expected a plain str"):
        text(Sneaky())
    with pytest.raises(
        AssertionError, match="the error: str\\(\\) of a Broken raised RuntimeError"
    ):
        text(Broken(), what="the error")


def test_assert_close_matches_numbers_within_the_tolerance_only() -> None:
    assert_close([0.1 + 0.2, 1, 2.0], [0.3, 1.0, 2])  # an int wait and a float wait are one wait
    assert_close({"p": 1.0000001}, {"p": 1.0})
    assert_close(math.nan, math.nan)
    with pytest.raises(AssertionError, match=r"at \[1\]: expected float 1.5 \(within rel 1e-06"):
        assert_close([0.5, 1.6], [0.5, 1.5], what="waits")
    with pytest.raises(AssertionError, match=r"expected float 1\.0, got bool True"):
        assert_close([True], [1.0])
    with pytest.raises(AssertionError, match="got AlwaysEqual"):
        assert_close([AlwaysEqual()], [1.0])
    with pytest.raises(AssertionError, match="expected int 3, got SneakyInt 3"):
        assert_close(SneakyInt(3), 3)
    with pytest.raises(AssertionError, match="expected str 'a', got str 'b'"):
        assert_close(("b", 1.0), ("a", 1.0))
