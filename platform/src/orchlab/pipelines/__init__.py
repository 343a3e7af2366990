"""Declarative ML pipelines that run the same on Prefect, Temporal or in-process.

Three layers, each usable on its own:

- **Task templates**, plain typed functions on scikit-learn's bundled data sets:
  :func:`ingest`, :func:`validate`, :func:`transform`, :func:`features`, :func:`train`,
  :func:`evaluate`, :func:`register` (a file-based :class:`ModelRegistry`), :func:`infer`
  and :func:`monitor` (data drift as PSI per feature).
- **A pipeline spec** (:class:`PipelineSpec`, from YAML or a dict with :func:`load_spec`):
  typed parameters, steps with dependencies and retries, checked before anything runs, and
  ordered into an :class:`ExecutionPlan` by :func:`build_plan`.
- **Engine adapters** returning one :class:`PipelineResult`: :func:`run_local`,
  :func:`run_prefect` and :func:`run_temporal`.
- **Schedules**: a spec's ``schedule:`` (:class:`ScheduleSpec`) becomes a Temporal Schedule
  (:func:`create_temporal_schedule`, :func:`backfill_temporal`) or Prefect deployment
  schedules (:func:`prefect_deployment`).

Example::

    from orchlab.pipelines import load_spec, run_local

    result = run_local(load_spec("wine_training"), {"model": "random_forest"})
    print(result.status, result.metrics["evaluate"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.pipelines._artifacts import (
        ColumnSchema,
        ColumnType,
        Dataset,
        DatasetRef,
        DriftReport,
        Metrics,
        ModelRef,
        ModelVersion,
        PredictionsRef,
        Schema,
        TaskKind,
        TrainedModel,
        ValidationReport,
    )
    from orchlab.pipelines._data import SOURCES, Source, features, ingest, transform, validate
    from orchlab.pipelines._local import RunSetup, SpecSource, prepare_run, run_local
    from orchlab.pipelines._model import ALGORITHMS, Algorithm, evaluate, infer, train
    from orchlab.pipelines._monitor import DEFAULT_THRESHOLD, monitor, population_stability_index
    from orchlab.pipelines._plan import ExecutionPlan, PlannedStep, bind_params, build_plan
    from orchlab.pipelines._prefect import pipeline_flow, run_prefect, scheduled_pipeline_flow
    from orchlab.pipelines._registry import ModelRegistry, register
    from orchlab.pipelines._result import (
        Engine,
        PipelineFailed,
        PipelineResult,
        StepResult,
        StepStatus,
    )
    from orchlab.pipelines._schedule import (
        PrefectScheduling,
        backfill_temporal,
        create_temporal_schedule,
        prefect_deployment,
        prefect_schedules,
        scheduled_run,
        temporal_schedule,
    )
    from orchlab.pipelines._schedule_spec import ScheduleSpec
    from orchlab.pipelines._scheduled_workflow import ScheduledPipelineWorkflow, ScheduledRun
    from orchlab.pipelines._spec import (
        ParamSpec,
        ParamType,
        PipelineSpec,
        StepSpec,
        list_examples,
        load_spec,
    )
    from orchlab.pipelines._tasks import (
        StepCall,
        StepContext,
        StepInputs,
        StepOutput,
        TaskTemplate,
        execute_step,
        get_task,
        register_task,
        task_names,
    )
    from orchlab.pipelines._temporal import (
        DEFAULT_TASK_QUEUE,
        create_worker,
        run_step_activity,
        run_temporal,
    )
    from orchlab.pipelines._temporal_workflow import PipelineInput, PipelineWorkflow

# Names resolve on first use (PEP 562), so `import orchlab.pipelines` stays fast and light:
# the engines (Prefect, Temporal) and scikit-learn load only when a name needs them. It also
# keeps the package importable inside Temporal's workflow sandbox.
_EXPORTS: dict[str, str] = {
    "ALGORITHMS": "_model",
    "Algorithm": "_model",
    "ColumnSchema": "_artifacts",
    "ColumnType": "_artifacts",
    "DEFAULT_TASK_QUEUE": "_temporal",
    "DEFAULT_THRESHOLD": "_monitor",
    "Dataset": "_artifacts",
    "DatasetRef": "_artifacts",
    "DriftReport": "_artifacts",
    "Engine": "_result",
    "ExecutionPlan": "_plan",
    "Metrics": "_artifacts",
    "ModelRef": "_artifacts",
    "ModelRegistry": "_registry",
    "ModelVersion": "_artifacts",
    "ParamSpec": "_spec",
    "ParamType": "_spec",
    "PipelineFailed": "_result",
    "PipelineInput": "_temporal_workflow",
    "PipelineResult": "_result",
    "PipelineSpec": "_spec",
    "PipelineWorkflow": "_temporal_workflow",
    "PlannedStep": "_plan",
    "PredictionsRef": "_artifacts",
    "PrefectScheduling": "_schedule",
    "RunSetup": "_local",
    "SOURCES": "_data",
    "ScheduleSpec": "_schedule_spec",
    "ScheduledPipelineWorkflow": "_scheduled_workflow",
    "ScheduledRun": "_scheduled_workflow",
    "Schema": "_artifacts",
    "Source": "_data",
    "SpecSource": "_local",
    "StepCall": "_tasks",
    "StepContext": "_tasks",
    "StepInputs": "_tasks",
    "StepOutput": "_tasks",
    "StepResult": "_result",
    "StepSpec": "_spec",
    "StepStatus": "_result",
    "TaskKind": "_artifacts",
    "TaskTemplate": "_tasks",
    "TrainedModel": "_artifacts",
    "ValidationReport": "_artifacts",
    "backfill_temporal": "_schedule",
    "bind_params": "_plan",
    "build_plan": "_plan",
    "create_temporal_schedule": "_schedule",
    "create_worker": "_temporal",
    "evaluate": "_model",
    "execute_step": "_tasks",
    "features": "_data",
    "get_task": "_tasks",
    "infer": "_model",
    "ingest": "_data",
    "list_examples": "_spec",
    "load_spec": "_spec",
    "monitor": "_monitor",
    "pipeline_flow": "_prefect",
    "population_stability_index": "_monitor",
    "prefect_deployment": "_schedule",
    "prefect_schedules": "_schedule",
    "prepare_run": "_local",
    "register": "_registry",
    "register_task": "_tasks",
    "run_local": "_local",
    "run_prefect": "_prefect",
    "run_step_activity": "_temporal",
    "run_temporal": "_temporal",
    "scheduled_pipeline_flow": "_prefect",
    "scheduled_run": "_schedule",
    "task_names": "_tasks",
    "temporal_schedule": "_schedule",
    "train": "_model",
    "transform": "_data",
    "validate": "_data",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "ALGORITHMS",
    "DEFAULT_TASK_QUEUE",
    "DEFAULT_THRESHOLD",
    "SOURCES",
    "Algorithm",
    "ColumnSchema",
    "ColumnType",
    "Dataset",
    "DatasetRef",
    "DriftReport",
    "Engine",
    "ExecutionPlan",
    "Metrics",
    "ModelRef",
    "ModelRegistry",
    "ModelVersion",
    "ParamSpec",
    "ParamType",
    "PipelineFailed",
    "PipelineInput",
    "PipelineResult",
    "PipelineSpec",
    "PipelineWorkflow",
    "PlannedStep",
    "PredictionsRef",
    "PrefectScheduling",
    "RunSetup",
    "ScheduleSpec",
    "ScheduledPipelineWorkflow",
    "ScheduledRun",
    "Schema",
    "Source",
    "SpecSource",
    "StepCall",
    "StepContext",
    "StepInputs",
    "StepOutput",
    "StepResult",
    "StepSpec",
    "StepStatus",
    "TaskKind",
    "TaskTemplate",
    "TrainedModel",
    "ValidationReport",
    "backfill_temporal",
    "bind_params",
    "build_plan",
    "create_temporal_schedule",
    "create_worker",
    "evaluate",
    "execute_step",
    "features",
    "get_task",
    "infer",
    "ingest",
    "list_examples",
    "load_spec",
    "monitor",
    "pipeline_flow",
    "population_stability_index",
    "prefect_deployment",
    "prefect_schedules",
    "prepare_run",
    "register",
    "register_task",
    "run_local",
    "run_prefect",
    "run_step_activity",
    "run_temporal",
    "scheduled_pipeline_flow",
    "scheduled_run",
    "task_names",
    "temporal_schedule",
    "train",
    "transform",
    "validate",
]
