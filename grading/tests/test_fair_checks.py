"""Correct answers the contracts allow, written otherwise than the solution, earn full marks.

Each variant below replaces one exercise cell of a real lab's solution notebook with an
answer that keeps the contract but takes a liberty its wording leaves open, and is graded
by the real grader with the lab's real checks (hidden ones included):

* lab 03 ``saga``: the failed compensations are "comma-separated"; ``","`` separates them as
  well as ``", "`` does;
* lab 04 ``promotion-gate``: each reason "starts with the word given"; a colon right after
  the word (``"four-eyes: ..."``) still starts the reason with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labgrader.grade import grade_submission
from labgrader.mutants import Mutant, apply_mutant
from labgrader.notebook import build_submission, read_notebook
from labgrader.run import scan_checks
from labgrader.services import service_env

ROOT = Path(__file__).resolve().parents[2]

SAGA_WITHOUT_SPACES = '''
@workflow.defn(name="ProvisionSaga", sandboxed=False)
class ProvisionSaga:
    """Reserve, copy, deploy; on failure undo what was done, in reverse."""

    @workflow.run
    async def run(self, run_id: str) -> list[str]:
        results: list[str] = []
        undo: list[str] = []
        for step, compensation in SAGA_STEPS:
            try:
                results.append(
                    await workflow.execute_activity(
                        step,
                        run_id,
                        start_to_close_timeout=timedelta(seconds=10),
                        retry_policy=STEP_RETRY,
                    )
                )
            except ActivityError:
                failed = []
                for name in reversed(undo):
                    try:
                        await workflow.execute_activity(
                            name,
                            run_id,
                            start_to_close_timeout=timedelta(seconds=10),
                            retry_policy=COMPENSATION_RETRY,
                        )
                    except ActivityError:
                        failed.append(name)
                if failed:
                    raise ApplicationError(
                        f"compensation failed: {','.join(failed)}; original failure in {step}",
                        type="CompensationFailed",
                        non_retryable=True,
                    ) from None
                raise
            undo.append(compensation)
        return results
'''

GATE_WITH_COLONS = '''
def promotion_decision(request: Mapping[str, Any]) -> GateDecision:
    """Decide whether a model may be promoted, with every reason it may not."""
    reasons: list[str] = []
    source, target = request.get("source"), request.get("target")
    if source not in ORDER or target not in ORDER:
        reasons.append(f"unknown environment: {source} -> {target}")
    elif ORDER[target] != ORDER[source] + 1:
        reasons.append(f"one step at a time: {source} -> {target}")
    metrics = request.get("metrics")
    accuracy = metrics.get("accuracy") if isinstance(metrics, Mapping) else None
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float):
        reasons.append("accuracy missing: metrics has no numeric accuracy")
    elif target in MIN_ACCURACY and accuracy < MIN_ACCURACY[target]:
        reasons.append(f"accuracy below: {accuracy} < {MIN_ACCURACY[target]}")
    if target == "prod":
        approval = request.get("approval")
        approval = approval if isinstance(approval, Mapping) else {}
        if approval.get("approved") is not True:
            reasons.append("approval required: prod needs an approval")
        if "approver" in approval and approval["approver"] == request.get("requested_by"):
            reasons.append(f"four-eyes: {approval['approver']} approved their own request")
    return GateDecision(allow=not reasons, reasons=reasons)
'''

VARIANTS = [
    ("03-durable-workflows", "saga", "names-joined-by-a-bare-comma", SAGA_WITHOUT_SPACES),
    ("04-policy-gates", "promotion-gate", "each-word-followed-by-a-colon", GATE_WITH_COLONS),
]


@pytest.mark.parametrize(
    ("lab", "exercise", "name", "source"), VARIANTS, ids=[v[2] for v in VARIANTS]
)
def test_an_answer_the_contract_allows_earns_full_marks(
    lab: str, exercise: str, name: str, source: str
) -> None:
    [solution] = sorted((ROOT / "solutions" / lab).glob("*.ipynb"))
    variant = Mutant(name, exercise, "a correct answer written otherwise", source.strip())
    submission = build_submission(apply_mutant(read_notebook(solution), variant))
    checks = ROOT / "grading" / "checks" / lab
    result = grade_submission(
        submission,
        notebook=name,
        lab=lab,
        checks_dir=checks,
        exercise=exercise,
        env=service_env(scan_checks(checks).services, start=True),
    )
    failed = [f"{c.name}: {c.message}" for c in result.checks if not c.passed]
    assert result.checks and not failed, f"{exercise} variant {name} lost points: {failed}"
    assert result.points == result.max_points > 0, (result.status, result.message)
