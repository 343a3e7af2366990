# exercise: rebuild-state
# why: up_to is ignored, so the state as of an earlier event is the final state
def rebuild_state(events: list[dict[str, Any]], up_to: int | None = None) -> RunState:
    """Rebuild a run's state from its history events (event sourcing).

    Args:
        events: The simplified events, in order.
        up_to: Fold only the events with ``id <= up_to``; None for all.

    Returns:
        The state after those events.
    """
    state = RunState()
    for event in events:
        kind = event["type"]
        if kind == "ActivityTaskStarted":
            name = event["activity"]
            state.attempts[name] = max(state.attempts.get(name, 0), event["attempt"])
        elif kind == "ActivityTaskCompleted":
            state.completed[event["activity"]] = event["result"]
        elif kind in ("ActivityTaskFailed", "ActivityTaskTimedOut"):
            state.failures.append(event["failure"])
        elif kind == "WorkflowExecutionSignaled":
            state.signals.append(event["signal"])
        elif kind == "WorkflowExecutionCompleted":
            state.status = "completed"
        elif kind in (
            "WorkflowExecutionFailed",
            "WorkflowExecutionTimedOut",
            "WorkflowExecutionTerminated",
        ):
            state.status = "failed"
    return state
