# exercise: circuit-breaker
# why: a success does not reset the failure count, so failures spread over a day open the breaker
class CircuitBreaker:
    """Fail fast while a dependency is down; probe it with one call after a cool-down."""

    def __init__(
        self,
        failure_threshold: int = 3,
        reset_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self.failures = 0
        """Consecutive counted failures."""
        self.opened_at: float | None = None
        """When the breaker last opened (``clock()``), or None while closed."""

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_timeout else "open"

    def call(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` through the breaker.

        Raises:
            CircuitOpen: The breaker is open; ``fn`` was not called.
        """
        state = self.state
        if state == "open":
            raise CircuitOpen(
                f"circuit open for another {self.reset_timeout - (self.clock() - self.opened_at):.1f} s "
                f"after {self.failures} consecutive failures"
            )
        try:
            result = fn()
        except Exception as exc:
            if classify_failure(exc) is not FailureClass.PERMANENT:
                self.failures += 1
                if state == "half-open" or self.failures >= self.failure_threshold:
                    self.opened_at = self.clock()
            raise
        self.opened_at = None
        return result
