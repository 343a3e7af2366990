# exercise: alert-threshold
# why: accepts a failure-rate bound outside [0, 1] and a min_runs below 1
def threshold_alerts(runs: list[RunRecord], max_p95_s: float, max_failure_rate: float, min_runs: int = 20) -> list[str]:
    """Which of the duration and failure-rate alerts fire on these runs."""
    finished = [run for run in runs if run.status in ("completed", "failed")]
    if len(finished) < min_runs:
        return []
    durations = sorted(run.ended - run.started for run in finished)
    p95 = durations[math.ceil(0.95 * len(durations)) - 1]
    failure_rate = sum(1 for run in finished if run.status == "failed") / len(finished)
    alerts = []
    if p95 > max_p95_s:
        alerts.append("duration")
    if failure_rate > max_failure_rate:
        alerts.append("failure-rate")
    return alerts
