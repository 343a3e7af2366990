# exercise: custom-metric
# why: sets the pending gauge to a negative count instead of refusing it
class StepMetrics:
    """Step counts, step durations and pending activities, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.steps = Counter("lab06_steps", "Finished step attempts.", ["step", "status"], registry=self.registry)
        self.duration = Histogram("lab06_step_duration_seconds", "Step wall time.", ["step"],
                                  buckets=DURATION_BUCKETS, registry=self.registry)
        self.pending = Gauge("lab06_pending_activities", "Activities waiting for a worker.", ["task_queue"],
                             registry=self.registry)

    def step_finished(self, step: str, status: str, seconds: float) -> None:
        if status not in STEP_STATUSES:
            raise ValueError(f"status must be one of {STEP_STATUSES}, not {status!r}")
        if seconds < 0:
            raise ValueError(f"a duration cannot be negative: {seconds}")
        self.steps.labels(step=step, status=status).inc()
        self.duration.labels(step=step).observe(seconds)

    def set_pending(self, task_queue: str, count: int) -> None:
        self.pending.labels(task_queue=task_queue).set(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def read_metric(exposition: bytes, name: str, labels: Mapping[str, str]) -> float:
    """The value of the sample ``name`` with exactly ``labels`` in a Prometheus text exposition."""
    wanted = dict(labels)
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            if sample.name == name and dict(sample.labels) == wanted:
                return float(sample.value)
    raise KeyError(f"no sample {name}{wanted}")
