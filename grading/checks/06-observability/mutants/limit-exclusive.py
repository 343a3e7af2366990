# exercise: slo-budget
# why: calls a run of exactly max_seconds bad
def slo_report(runs: list[RunRecord], objective: float, max_seconds: float) -> SloReport:
    """The SLI of finished runs and the share of the error budget they used."""
    if not 0 < objective < 1:
        raise ValueError(f"an objective is a fraction strictly between 0 and 1, not {objective}")
    finished = []
    for run in runs:
        if run.status not in RUN_STATUSES:
            raise ValueError(f"run {run.run_id}: unknown status {run.status!r}")
        if run.status != "running":
            finished.append(run)
    if not finished:
        raise ValueError("no finished run to measure")
    good = sum(1 for run in finished if run.status == "completed" and run.ended - run.started < max_seconds)
    sli = good / len(finished)
    spent = (1 - sli) / (1 - objective)
    return SloReport(len(finished), good, sli, spent, 1 - spent)
