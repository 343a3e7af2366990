import logging

import pytest

from orchlab.logs import quiet_engine_logs


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> _Capture:
    handler = _Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    yield handler  # type: ignore[misc]
    root.removeHandler(handler)
    root.setLevel(old)


def _boom(logger: logging.Logger) -> None:
    try:
        raise ValueError("step failed")
    except ValueError:
        logger.error("task run failed", exc_info=True)


def test_quiet_drops_low_levels_and_tracebacks_then_restores(captured: _Capture) -> None:
    task_runs = logging.getLogger("prefect.task_runs")
    worker = logging.getLogger("temporalio.worker")
    task_runs.setLevel(logging.INFO)
    filters = list(task_runs.filters)  # Prefect's own, once it configured its logging
    with quiet_engine_logs("prefect", "temporal", tracebacks=False):
        task_runs.info("Finished in state Completed()")
        worker.warning("Completing activity as failed")
        _boom(task_runs)
    assert [r.getMessage() for r in captured.records] == ["task run failed"]
    assert captured.records[0].exc_info is None
    assert task_runs.level == logging.INFO and task_runs.filters == filters
    captured.records.clear()
    _boom(task_runs)
    task_runs.info("back to normal")
    assert captured.records[0].exc_info is not None
    assert [r.getMessage() for r in captured.records] == ["task run failed", "back to normal"]


def test_one_engine_leaves_the_other_alone(captured: _Capture) -> None:
    with quiet_engine_logs("temporal"):
        logging.getLogger("temporalio.activity").warning("quiet")
        logging.getLogger("prefect.flow_runs").warning("heard")
    assert [r.getMessage() for r in captured.records] == ["heard"]


def test_an_unknown_engine_is_refused() -> None:
    quiet = quiet_engine_logs("airflow")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no logger list for 'airflow'; known engines: prefect"):
        quiet.__enter__()
