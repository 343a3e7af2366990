# exercise: burn-rate-alert
# why: keeps a record that is exactly window_s old inside the window
class BurnRateAlert:
    """A multiwindow, multi-burn-rate alert on an error budget."""

    def __init__(self, objective: float, windows: Sequence[tuple[float, float, float]] = PAGE_WINDOWS,
                 clock: Callable[[], float] = time.time) -> None:
        self.objective = objective
        self.windows = tuple(windows)
        self.clock = clock
        self.records: list[tuple[float, int, int]] = []

    def record(self, good: int, bad: int) -> None:
        if good < 0 or bad < 0:
            raise ValueError(f"event counts cannot be negative: good={good}, bad={bad}")
        self.records.append((self.clock(), good, bad))

    def burn_rate(self, window_s: float) -> float:
        now = self.clock()
        good = bad = 0
        for t, g, b in self.records:
            if now - window_s <= t <= now:
                good, bad = good + g, bad + b
        if good + bad == 0:
            return 0.0
        return bad / (good + bad) / (1 - self.objective)

    def firing(self) -> bool:
        return any(self.burn_rate(long) >= threshold and self.burn_rate(short) >= threshold
                   for long, short, threshold in self.windows)
