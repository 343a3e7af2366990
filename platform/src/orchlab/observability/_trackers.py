"""Run tracking: each pipeline run as a run of an experiment tracker (MLflow, W&B, your own).

A :class:`Tracker` is four calls (start a run, log metrics, log an artifact, end the run);
:func:`track_result` feeds one from a finished :class:`~orchlab.pipelines.PipelineResult`
(its parameters, its tags, each step's metrics and duration, its artifact folders, its
status) and :func:`track_runs` does so for every run of the process, as a run observer.
Two trackers come with orchlab, both local and offline, their packages imported only when
one is built:

- :class:`MlflowTracker`: an MLflow tracking store in a folder (a SQLite database and an
  artifact folder under ``<state_dir>/mlflow`` by default); no server. Browse it with
  ``mlflow ui --backend-store-uri sqlite:///.state/mlflow/mlflow.db``.
- :class:`WandbTracker`: Weights & Biases in offline mode (no account, no network); the
  run's files go under ``<dir>/wandb/offline-run-*`` (``wandb sync`` uploads them later).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from orchlab.errors import OrchlabError
from orchlab.observability._instrument import add_run_observer, remove_run_observer

if TYPE_CHECKING:
    from orchlab.observability._runs import RunStatus
    from orchlab.pipelines._result import PipelineResult

TrackerName = Literal["mlflow", "wandb"]
"""The trackers :func:`make_tracker` builds."""


class TrackerError(OrchlabError, RuntimeError):
    """A tracker that cannot be built (its package is missing) or refused a call."""


@runtime_checkable
class Tracker(Protocol):
    """Where runs are tracked: one run open at a time, in the order of the methods below."""

    def start_run(self, name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Open a run called ``name`` with its parameters and tags; returns its id."""
        ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics of the open run (at ``step``, when given)."""
        ...

    def log_artifact(self, path: Path) -> None:
        """Attach a file or a folder to the open run."""
        ...

    def end_run(self, status: RunStatus) -> None:
        """Close the open run as ``succeeded`` or ``failed``."""
        ...


def result_metrics(result: PipelineResult) -> dict[str, float]:
    """A run's metrics, flat: ``<step>/<metric>`` (``evaluate/accuracy``), each finished
    step's ``duration_seconds/<step>``, and the run's ``steps_failed``."""
    metrics = {
        f"{step}/{name}": float(value)
        for step, values in result.metrics.items()
        for name, value in values.items()
    }
    for step in result.steps:
        if step.status != "skipped":
            metrics[f"duration_seconds/{step.name}"] = step.duration_seconds
    metrics["steps_failed"] = float(sum(s.status == "failed" for s in result.steps))
    return metrics


def result_artifacts(result: PipelineResult) -> dict[str, Path]:
    """The run's published artifacts that are files or folders on this machine (the
    registered model's version folder, a metrics file), by artifact name."""
    found = {}
    for name, ref in result.artifacts.items():
        location = ref.get("uri") or ref.get("path")
        if isinstance(location, str) and location and Path(location).exists():
            found[name] = Path(location)
    return found


def track_result(tracker: Tracker, result: PipelineResult) -> str:
    """Record a finished run on ``tracker``: one tracked run named after the run's id.

    Args:
        tracker: Where to record it.
        result: The finished run.

    Returns:
        The tracker's id of the new run.
    """
    tags = {
        "orchlab.pipeline": result.pipeline,
        "orchlab.version": result.version,
        "orchlab.engine": result.engine,
        "orchlab.run_id": result.run_id,
        "orchlab.status": result.status,
    }
    if result.engine_run_id:
        tags["orchlab.engine_run_id"] = result.engine_run_id
    run_id = tracker.start_run(result.run_id, dict(result.params), tags)
    try:
        tracker.log_metrics(result_metrics(result))
        for path in result_artifacts(result).values():
            tracker.log_artifact(path)
    except BaseException:
        tracker.end_run("failed")
        raise
    tracker.end_run(result.status)
    return run_id


@contextmanager
def track_runs(tracker: Tracker) -> Iterator[Tracker]:
    """Record every pipeline run that finishes inside the block on ``tracker``."""

    def observer(result: PipelineResult, seconds: float) -> None:
        track_result(tracker, result)

    add_run_observer(observer)
    try:
        yield tracker
    finally:
        remove_run_observer(observer)


def _missing(package: str, extra: str = "observability") -> TrackerError:
    return TrackerError(
        f"{package} is not installed: pip install 'orchlab[{extra}]' (or pip install {package})"
    )


def _state_dir() -> Path:
    from orchlab.config import get_settings

    return get_settings().state_dir


class MlflowTracker:
    """Track runs in an MLflow store (by default a SQLite file under ``<state_dir>/mlflow``).

    Args:
        tracking_uri: An MLflow tracking URI (``sqlite:///path/mlflow.db``, a server's URL);
            by default ``sqlite:///<state_dir>/mlflow/mlflow.db``.
        experiment: The experiment the runs go to (created when missing).
        artifact_location: Where a new experiment stores artifacts; by default the folder
            ``artifacts`` beside the SQLite file (ignored for an existing experiment).

    Raises:
        TrackerError: When ``mlflow`` (``mlflow-skinny``) is not installed.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment: str = "orchlab",
        artifact_location: str | None = None,
    ) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise _missing("mlflow-skinny") from None
        if tracking_uri is None:
            folder = (_state_dir() / "mlflow").resolve()
            folder.mkdir(parents=True, exist_ok=True)
            tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
            artifact_location = artifact_location or (folder / "artifacts").as_uri()
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id: str = (
            found.experiment_id
            if found is not None
            else self.client.create_experiment(experiment, artifact_location=artifact_location)
        )
        self._run_id: str | None = None

    def _open(self) -> str:
        if self._run_id is None:
            raise TrackerError("no MLflow run is open: call start_run first")
        return self._run_id

    def start_run(self, name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Open an MLflow run with its parameters and tags; returns its run id."""
        from mlflow.entities import Param

        run = self.client.create_run(self.experiment_id, run_name=name, tags=dict(tags))
        self._run_id = run.info.run_id
        self.client.log_batch(
            self._run_id, params=[Param(k, str(v)) for k, v in params.items()], synchronous=True
        )
        return self._run_id

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log metrics of the open run, in one batch."""
        import time

        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(k, float(v), stamp, step or 0) for k, v in metrics.items()]
        self.client.log_batch(self._open(), metrics=batch, synchronous=True)

    def log_artifact(self, path: Path) -> None:
        """Copy a file or a folder (under its own name) into the run's artifacts."""
        path = Path(path)
        if path.is_dir():
            self.client.log_artifacts(self._open(), str(path), artifact_path=path.name)
        else:
            self.client.log_artifact(self._open(), str(path))

    def end_run(self, status: RunStatus) -> None:
        """Close the open run as ``FINISHED`` or ``FAILED``."""
        self.client.set_terminated(
            self._open(), status="FINISHED" if status == "succeeded" else "FAILED"
        )
        self._run_id = None


class WandbTracker:
    """Track runs with Weights & Biases in offline mode: no account, no network.

    Args:
        project: The W&B project the runs belong to.
        dir: The folder W&B writes into (its runs go to ``<dir>/wandb/offline-run-*``); by
            default ``<state_dir>/wandb``.
        mode: ``offline`` (the default), or ``online`` / ``disabled`` as W&B takes them.

    Raises:
        TrackerError: When ``wandb`` is not installed.
    """

    def __init__(
        self,
        project: str = "orchlab",
        *,
        dir: Path | str | None = None,
        mode: Literal["offline", "online", "disabled"] = "offline",
    ) -> None:
        try:
            import wandb
        except ImportError:
            raise _missing("wandb") from None
        self._wandb = wandb
        self.project = project
        self.dir = Path(dir) if dir is not None else _state_dir() / "wandb"
        self.mode = mode
        self._run: Any = None
        self.run_dir: Path | None = None
        """The folder of the last run W&B wrote."""

    def _open(self) -> Any:
        if self._run is None:
            raise TrackerError("no W&B run is open: call start_run first")
        return self._run

    def start_run(self, name: str, params: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        """Open a W&B run (tags in its config under ``tags``); returns its id."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.mode == "offline":
            os.environ.setdefault("WANDB_SILENT", "true")
        settings = self._wandb.Settings(silent=True, console="off", x_disable_stats=True)
        self._run = self._wandb.init(
            project=self.project,
            dir=str(self.dir),
            mode=self.mode,
            name=name,
            config={**params, "tags": dict(tags)},
            tags=[str(v)[:64] for v in tags.values()],
            settings=settings,
            reinit="create_new",
        )
        self.run_dir = Path(self._run.dir).parent
        return str(self._run.id)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log metrics of the open run (into its history and summary)."""
        self._open().log(dict(metrics), step=step)

    def log_artifact(self, path: Path) -> None:
        """Attach a file or a folder as a W&B artifact named after it."""
        path = Path(path)
        artifact = self._wandb.Artifact(name=_artifact_name(path), type="model")
        if path.is_dir():
            artifact.add_dir(str(path))
        else:
            artifact.add_file(str(path))
        self._open().log_artifact(artifact)

    def end_run(self, status: RunStatus) -> None:
        """Finish the open run (exit code 0 when it succeeded, else 1); its files are
        complete on return (W&B's service, which writes them, is shut down)."""
        self._open().finish(exit_code=0 if status == "succeeded" else 1)
        self._run = None
        # finish() may return before the service has flushed the run's transaction log.
        self._wandb.teardown()


def _artifact_name(path: Path) -> str:
    # W&B artifact names: alphanumerics, dashes, underscores, dots.
    parts = [p for p in path.parts[-2:] if p not in ("/", "")]
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in "-".join(parts))


def make_tracker(name: TrackerName) -> Tracker:
    """The tracker called ``name`` with its defaults (stores under the state dir).

    Raises:
        TrackerError: When the name is unknown or its package is not installed.
    """
    if name == "mlflow":
        return MlflowTracker()
    if name == "wandb":
        return WandbTracker()
    raise TrackerError(f"unknown tracker {name!r}: use mlflow or wandb")


__all__ = [
    "MlflowTracker",
    "Tracker",
    "TrackerError",
    "TrackerName",
    "WandbTracker",
    "make_tracker",
    "result_artifacts",
    "result_metrics",
    "track_result",
    "track_runs",
]
