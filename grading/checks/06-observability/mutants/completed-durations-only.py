# exercise: alert-threshold
# why: takes the p95 over completed runs only, leaving failed runs' durations out
def threshold_alerts(runs: list[RunRecord], max_p95_s: float, max_failure_rate: float, min_runs: int = 20) -> list[str]:
    """Which of the duration and failure-rate alerts fire on these runs."""
    if not 0 <= max_failure_rate <= 1:
        raise ValueError(f"max_failure_rate is a fraction in [0, 1], not {max_failure_rate}")
    if min_runs < 1:
        raise ValueError(f"min_runs must be at least 1, not {min_runs}")
    finished = [run for run in runs if run.status in ("completed", "failed")]
    if len(finished) < min_runs:
        return []
    durations = sorted(run.ended - run.started for run in finished if run.status == "completed") or [0.0]
    p95 = durations[math.ceil(0.95 * len(durations)) - 1]
    failure_rate = sum(1 for run in finished if run.status == "failed") / len(finished)
    alerts = []
    if p95 > max_p95_s:
        alerts.append("duration")
    if failure_rate > max_failure_rate:
        alerts.append("failure-rate")
    return alerts
