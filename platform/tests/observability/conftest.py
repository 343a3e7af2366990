"""A step that logs a secret and fails transiently at first, and specs that use it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from orchlab.errors import TransientError
from orchlab.pipelines import Metrics, StepContext, StepInputs, TaskTemplate, register_task
from orchlab.policy import MemorySecrets

SECRET = f"tok-{uuid.uuid4().hex}"
"""A partner token, registered with the process-wide redactor by the store below."""
SECRETS = MemorySecrets({"partner_token": SECRET})
PARTNER_LOG = logging.getLogger("orchlab.tests.partner")


class PartnerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    succeed_on: int = 2


def _call_partner(ctx: StepContext, p: PartnerParams, inputs: StepInputs) -> Mapping[str, Any]:
    # Logs its credential (a careless step), then fails until attempt `succeed_on`.
    PARTNER_LOG.info("calling partner with token %s", SECRETS.get("partner_token"))
    if ctx.attempt < p.succeed_on:
        raise TransientError(f"partner unavailable on attempt {ctx.attempt}")
    return {"metrics": Metrics(values={"attempt": float(ctx.attempt)})}


# Registered at import, so in-process Prefect task runs and Temporal workers see it too.
register_task(
    TaskTemplate("call_partner", _call_partner, PartnerParams, {}, {"metrics": "metrics"}),
    replace=True,
)


@pytest.fixture(scope="session")
def partner_secret() -> str:
    """The token the ``call_partner`` step logs (it must never reach a log line)."""
    return SECRET


@pytest.fixture(scope="module")
def partner_spec() -> dict[str, Any]:
    """Three steps: ``call`` (fails once, then succeeds on its retry), then ``load`` and
    ``check`` after it."""
    return {
        "name": "partner",
        "steps": [
            {
                "name": "call",
                "task": "call_partner",
                "retries": 2,
                "retry_delay_seconds": 0.1,
                "params": {"succeed_on": 2},
            },
            {"name": "load", "task": "ingest", "needs": ["call"], "params": {"source": "wine"}},
            {"name": "check", "task": "validate", "needs": ["load"],
             "params": {"dataset": "${steps.load.dataset}"}},
        ],
    }  # fmt: skip
