"""Checks for exercise ``dry-run``: ``dry_run(spec, overrides, tasks=...)``.

Contract: without calling any task, return a ``Plan`` with the spec's name, a 12-character
lowercase hex ``version`` that depends only on the spec's content (not on key order, not on
the overrides), the execution order of the steps and the resolved parameters; a step whose
task is not in ``tasks`` raises ``ValueError`` naming the step and the task, and the errors of
``execution_order`` and ``resolve_params`` propagate.
"""

from __future__ import annotations

import copy
import re

import pytest

from labgrader.checks import assert_equal, assert_not_equal, assert_type, text

SPEC = {
    "name": "churn",
    "params": {"dataset": "wine", "seed": 0, "C": 1.0, "min_accuracy": 0.9},
    "steps": {
        "ingest": {"task": "ingest", "needs": []},
        "validate": {"task": "validate", "needs": ["ingest"]},
        "train": {"task": "train", "needs": ["validate"]},
        "register": {"task": "register", "needs": ["train"]},
    },
}


def _tripwires(names):
    """Tasks that fail the check if the dry run calls any of them."""

    def make(name):
        def task(*args, **kwargs):
            raise AssertionError(
                f"dry_run called the task {name!r}: a dry run must not run anything"
            )

        return task

    return {name: make(name) for name in names}


TASKS = ("ingest", "validate", "train", "register", "notify")


def _reordered(value):
    """The same content with every dict's keys in reverse order."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    return copy.deepcopy(value)


@pytest.mark.check(exercise="dry-run", points=5)
def test_plan_has_name_version_order_and_params(nb):
    plan = nb.dry_run(SPEC, ["C=0.5", "seed=3"], tasks=_tripwires(TASKS))
    assert_type(plan, nb.Plan, what="dry_run(SPEC, ['C=0.5', 'seed=3'])")
    assert_equal(plan.pipeline, "churn", what="plan.pipeline")
    assert_equal(plan.order, ["ingest", "validate", "train", "register"], what="plan.order")
    assert_equal(
        plan.params,
        {"dataset": "wine", "seed": 3, "C": 0.5, "min_accuracy": 0.9},
        what="plan.params (the defaults with C=0.5 and seed=3)",
    )
    assert type(plan.version) is str and re.fullmatch(r"[0-9a-f]{12}", plan.version), (
        f"plan.version: expected 12 lowercase hex characters, got {plan.version!r}"
    )


@pytest.mark.check(exercise="dry-run", points=4)
def test_version_identifies_the_definition_not_the_run(nb):
    tasks = _tripwires(TASKS)
    base = nb.dry_run(SPEC, [], tasks=tasks).version
    assert_type(base, str, what="plan.version")
    assert_equal(
        nb.dry_run(_reordered(SPEC), [], tasks=tasks).version,
        base,
        what="the same spec with its keys in another order got another version",
        hint="Serialize the spec canonically (json.dumps(..., sort_keys=True)) before hashing.",
    )
    assert_equal(
        nb.dry_run(SPEC, ["seed=9"], tasks=tasks).version,
        base,
        what="overrides changed the version",
        hint="The version identifies the pipeline definition, and a run's parameters are not "
        "part of it.",
    )
    changed = copy.deepcopy(SPEC)
    changed["steps"]["register"]["needs"] = ["validate", "train"]
    assert_not_equal(
        nb.dry_run(changed, [], tasks=tasks).version,
        base,
        what="adding a dependency to 'register' kept the same version",
        hint="Hash the whole spec.",
    )


@pytest.mark.check(exercise="dry-run", points=2)
def test_unknown_task_and_cycle_fail_before_anything_runs(nb):
    spec = copy.deepcopy(SPEC)
    spec["steps"]["notify"] = {"task": "slack", "needs": ["register"]}
    with pytest.raises(ValueError) as info:
        plan = nb.dry_run(spec, [], tasks=_tripwires(TASKS))
        raise AssertionError(
            f"dry_run returned {plan} although step 'notify' uses the unknown task 'slack'"
        )
    message = text(info.value)
    assert "notify" in message and "slack" in message, (
        f"expected the error to name the step 'notify' and its task 'slack', got {info.value!r}"
    )
    spec = copy.deepcopy(SPEC)
    spec["steps"]["ingest"]["needs"] = ["register"]
    with pytest.raises(ValueError):
        plan = nb.dry_run(spec, [], tasks=_tripwires(TASKS))
        raise AssertionError(f"dry_run returned {plan} for a spec with a cycle")


@pytest.mark.check(exercise="dry-run", points=2, hidden=True)
def test_hidden_other_spec_with_a_branch(nb):
    spec = {
        "name": "fraud-nightly",
        "params": {"window_days": 7, "threshold": 0.5, "notify": True},
        "steps": {
            "score": {"task": "train", "needs": ["features", "baseline"]},
            "features": {"task": "validate", "needs": ["load"]},
            "baseline": {"task": "validate", "needs": ["load"]},
            "load": {"task": "ingest", "needs": []},
            "alert": {"task": "notify", "needs": ["score"]},
        },
    }
    plan = nb.dry_run(spec, ["notify=no", "window_days=30"], tasks=_tripwires(TASKS))
    assert_equal(
        (plan.pipeline, plan.order, plan.params),
        (
            "fraud-nightly",
            ["load", "baseline", "features", "score", "alert"],
            {"window_days": 30, "threshold": 0.5, "notify": False},
        ),
        what="(plan.pipeline, plan.order, plan.params) for the fraud-nightly spec",
    )
    with pytest.raises(ValueError):
        nb.dry_run(spec, ["threshold=high"], tasks=_tripwires(TASKS))


@pytest.mark.check(exercise="dry-run", points=2, hidden=True)
def test_hidden_version_sees_every_change(nb):
    tasks = _tripwires(TASKS)
    base = nb.dry_run(SPEC, [], tasks=tasks).version
    assert_type(base, str, what="plan.version")
    for what, edit in [
        ("a default parameter", lambda s: s["params"].__setitem__("C", 2.0)),
        ("the pipeline name", lambda s: s.__setitem__("name", "churn-v2")),
        ("a step's task", lambda s: s["steps"]["register"].__setitem__("task", "notify")),
    ]:
        spec = copy.deepcopy(SPEC)
        edit(spec)
        assert_not_equal(
            nb.dry_run(spec, [], tasks=tasks).version,
            base,
            what=f"changing {what} kept the version",
            hint="Hash the whole spec.",
        )
