"""Checks for exercise ``checkpoint-flow``: the Prefect flow ``checkpointed_flow``.

Contract: extract, build_features and train as Prefect tasks cached by their inputs with
the cache records in the ``checkpoints`` folder and results persisted; a rerun with the same
day and folder runs only the steps that did not yet succeed; another folder runs everything.
"""

import contextlib
import logging

import pytest

from labgrader.checks import strictly_equal


@contextlib.contextmanager
def _quiet():
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _calls(nb):
    return {name: nb.CALLS[name] for name in ("extract", "build_features", "train")}


def _expected(nb, day):
    amounts = nb.extract(day)
    return nb.train(nb.build_features(amounts))


@pytest.mark.check(exercise="checkpoint-flow", points=7)
def test_rerun_resumes_after_the_failed_step_then_repeats_nothing(nb, prefect_api_url, tmp_path):
    ckpt = str(tmp_path / "ckpt")
    nb.CALLS.clear()
    with _quiet():
        state = nb.checkpointed_flow("2024-05-01", ckpt, fail_train=True, return_state=True)
    assert state.is_failed(), (
        f"with fail_train=True the flow run should fail, it ended {state.name}"
    )
    assert strictly_equal(_calls(nb), {"extract": 1, "build_features": 1, "train": 1}), (
        f"the first run should run each step once, got {_calls(nb)}"
    )
    result = nb.checkpointed_flow("2024-05-01", ckpt)
    assert strictly_equal(_calls(nb), {"extract": 1, "build_features": 1, "train": 2}), (
        f"the rerun should resume at train: expected extract 1, build_features 1, train 2, got "
        f"{_calls(nb)}. Likely cause: no INPUTS cache policy with key_storage=checkpoints and "
        f"persist_result=True on extract and build_features"
    )
    again = nb.checkpointed_flow("2024-05-01", ckpt)
    assert strictly_equal(again, result) and strictly_equal(
        _calls(nb), {"extract": 1, "build_features": 1, "train": 2}
    ), (
        f"a third run of a completed day with the same checkpoints should run nothing again: "
        f"calls {_calls(nb)}, results {result!r} / {again!r}"
    )
    expected = _expected(nb, "2024-05-01")
    assert strictly_equal(result, expected), f"expected train's result {expected}, got {result!r}"


@pytest.mark.check(exercise="checkpoint-flow", points=3, hidden=True)
def test_hidden_another_folder_runs_everything_again(nb, prefect_api_url, tmp_path):
    nb.CALLS.clear()
    nb.checkpointed_flow("2024-07-01", str(tmp_path / "a"))
    result = nb.checkpointed_flow("2024-07-01", str(tmp_path / "b"))
    assert strictly_equal(_calls(nb), {"extract": 2, "build_features": 2, "train": 2}), (
        f"another checkpoints folder must run every step again, got {_calls(nb)}. Likely "
        f"cause: the cache records are not stored in `checkpoints` (key_storage)"
    )
    assert strictly_equal(result, _expected(nb, "2024-07-01")), (
        f"wrong result for 2024-07-01: {result!r}"
    )
