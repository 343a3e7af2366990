"""Shared data for the pipeline tests, and a flaky task template for retry tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from orchlab.errors import TransientError
from orchlab.pipelines import (
    Dataset,
    Metrics,
    StepContext,
    StepInputs,
    TaskTemplate,
    ingest,
    register_task,
)


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
