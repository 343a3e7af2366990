import pytest

from orchlab.errors import (
    ConfigError,
    FailureClass,
    FatalError,
    OrchlabError,
    PermanentError,
    SpecError,
    TransientError,
    classify,
)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TransientError("flaky"), FailureClass.TRANSIENT),
        (PermanentError("bad input"), FailureClass.PERMANENT),
        (FatalError("corrupt"), FailureClass.FATAL),
        (TimeoutError(), FailureClass.TRANSIENT),
        (ConnectionResetError(), FailureClass.TRANSIENT),
        (KeyError("x"), FailureClass.PERMANENT),
        (SpecError("cycle"), FailureClass.PERMANENT),
    ],
)
def test_classify(exc: BaseException, expected: FailureClass) -> None:
    assert classify(exc) is expected


def test_narrow_errors_are_also_builtins() -> None:
    with pytest.raises(ValueError):
        raise ConfigError("x")
    assert issubclass(SpecError, OrchlabError)
    assert issubclass(SpecError, ValueError)


def test_first_line_and_error_text() -> None:
    from orchlab.errors import error_text, first_line

    assert first_line("\n  \n  spec invalid: x  \nmore\n") == "spec invalid: x"
    assert first_line(ValueError(""), "none") == "none"
    assert error_text(KeyError("missing")) == "KeyError: 'missing'"
    assert error_text(RuntimeError("down\ntraceback...")) == "RuntimeError: down"
    assert error_text(TimeoutError()) == "TimeoutError"
