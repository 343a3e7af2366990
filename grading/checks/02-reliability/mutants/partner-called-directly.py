# exercise: partner-fallback
# why: the partner is called directly, not through the breaker, so an outage is hammered with every call
def price_with_fallback(
    sku: str,
    *,
    partner: Callable[[str], float],
    breaker: CircuitBreaker,
    last_good: dict[str, float],
    static: Mapping[str, float],
) -> tuple[float, str]:
    """A price from the partner, or from a fallback when the partner is down.

    Returns:
        The price and its source: ``partner``, ``last-good`` or ``static``.
    """
    try:
        price = partner(sku)
    except Exception as exc:
        if classify_failure(exc) is not FailureClass.TRANSIENT:
            raise
        if sku in last_good:
            return last_good[sku], "last-good"
        if sku in static:
            return static[sku], "static"
        raise
    last_good[sku] = price
    return price, "partner"
