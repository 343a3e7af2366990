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
