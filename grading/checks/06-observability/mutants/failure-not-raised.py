# exercise: trace-log
# why: logs a failed step but swallows the exception
def add_trace_ids(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: the current span's trace and span ids, when there is one."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def log_step(step: str, work: Callable[[], Any]) -> Any:
    """Run ``work`` inside a span ``step:<step>`` and log one line about it, correlated with the span."""
    log = lab_logger()
    with TRACER.start_as_current_span(f"step:{step}", attributes={"step": step}):
        started = time.perf_counter()
        try:
            value = work()
        except Exception as exc:
            log.error("step failed", step=step, error=type(exc).__name__)
            return None
        log.info("step finished", step=step, seconds=time.perf_counter() - started)
        return value
