"""Shared data for the pipeline tests, and flaky task templates for retry tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict

from orchlab.errors import FailureClass, TransientError
from orchlab.pipelines import (
    Dataset,
    Metrics,
    StepContext,
    StepInputs,
    TaskTemplate,
    ingest,
    register_task,
)
from orchlab.reliability import FailureClassifier


class FlakyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    succeed_on: int = 2
    permanent: bool = False


def _flaky(ctx: StepContext, p: FlakyParams, inputs: StepInputs) -> Mapping[str, Any]:
    # Fails until attempt `succeed_on`: transiently, or permanently when told so.
    if ctx.attempt < p.succeed_on:
        if p.permanent:
            raise ValueError(f"bad input on attempt {ctx.attempt}")
        raise TransientError(f"service unavailable on attempt {ctx.attempt}")
    return {"metrics": Metrics(values={"attempt": float(ctx.attempt)})}


# Registered at import, so in-process Prefect task runs and Temporal workers see it too.
register_task(TaskTemplate("flaky", _flaky, FlakyParams, {}, {"metrics": "metrics"}), replace=True)


# A team's own classification, the opposite of the default for both errors: a locked
# SQLite database is worth retrying (the default calls it permanent), a TimeoutError of
# this dependency is not (the default calls it transient).
TEAM_CLASSIFIER = (
    FailureClassifier()
    .with_rule(FailureClass.TRANSIENT, types=(sqlite3.OperationalError,), name="db locked")
    .with_rule(FailureClass.PERMANENT, types=(TimeoutError,), name="partner gave up")
)


class ClassifiedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    succeed_on: int = 2
    error: Literal["locked", "timeout"] = "locked"


@TEAM_CLASSIFIER.temporal_activity
def _classified(ctx: StepContext, p: ClassifiedParams, inputs: StepInputs) -> Mapping[str, Any]:
    # A step wrapped with the reliability helpers: its failures leave it classified.
    if ctx.attempt < p.succeed_on:
        if p.error == "locked":
            raise sqlite3.OperationalError(f"database is locked on attempt {ctx.attempt}")
        raise TimeoutError(f"partner gave up on attempt {ctx.attempt}")
    return {"metrics": Metrics(values={"attempt": float(ctx.attempt)})}


register_task(
    TaskTemplate("classified", _classified, ClassifiedParams, {}, {"metrics": "metrics"}),
    replace=True,
)


def _one_step_spec(task: str, params: Mapping[str, Any], **step: Any) -> dict[str, Any]:
    return {
        "name": "retrying",
        "steps": [
            {"name": "call", "task": task, "params": dict(params), **step},
            {"name": "load", "task": "ingest", "needs": ["call"], "params": {"source": "wine"}},
        ],
    }


@pytest.fixture(scope="session")
def wine() -> Dataset:
    return ingest("wine")


@pytest.fixture
def registry_dir(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def flaky_spec() -> Callable[..., dict[str, Any]]:
    """Build a two-step spec whose first step fails until a given attempt."""

    def build(*, retries: int, succeed_on: int, permanent: bool = False) -> dict[str, Any]:
        return {
            "name": "flaky",
            "steps": [
                {
                    "name": "call",
                    "task": "flaky",
                    "retries": retries,
                    "retry_delay_seconds": 0.1,
                    "params": {"succeed_on": succeed_on, "permanent": permanent},
                },
                {"name": "load", "task": "ingest", "needs": ["call"], "params": {"source": "wine"}},
            ],
        }

    return build


@pytest.fixture
def one_step_spec() -> Callable[..., dict[str, Any]]:
    """Build a spec of one step ``call`` running a task (its parameters and its step
    fields given), then ``load`` after it."""
    return _one_step_spec
