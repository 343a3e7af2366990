# exercise: jit-elevation
# why: the maximum duration is not enforced, so a grant may last a day
class Elevations:
    """Just-in-time role grants that expire on their own."""

    def __init__(self, clock: Callable[[], float], max_seconds: float = 3600) -> None:
        self.clock = clock
        self.max_seconds = max_seconds
        self.log: list[tuple[float, str, str, float, str]] = []
        """Every grant: (time, user, role, seconds, reason)."""
        # BEGIN SOLUTION
        self.grants: list[tuple[str, str, float]] = []
        # END SOLUTION

    def grant(self, user: str, role: str, seconds: float, reason: str) -> float:
        """Grant ``role`` to ``user`` for ``seconds``; returns the expiry time."""
        # BEGIN SOLUTION
        if not reason or not reason.strip():
            raise ValueError("an elevation needs a reason (a ticket or incident id)")
        if not 0 < seconds:
            raise ValueError(f"elevation of {seconds} s is outside (0, {self.max_seconds}] s")
        now = self.clock()
        self.grants.append((user, role, now + seconds))
        self.log.append((now, user, role, seconds, reason))
        return now + seconds
        # END SOLUTION

    def roles(self, user: str, base_roles: Collection[str]) -> set[str]:
        """The user's roles now: base roles plus active elevations."""
        # BEGIN SOLUTION
        now = self.clock()
        return set(base_roles) | {role for who, role, expiry in self.grants if who == user and now < expiry}
        # END SOLUTION
