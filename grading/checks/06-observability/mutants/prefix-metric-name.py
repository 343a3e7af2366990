# exercise: dashboard-panel
# why: accepts a metric name whose start is valid (re.match instead of re.fullmatch)
def latency_panel(metric: str, title: str, panel_id: int, thresholds: list[float],
                  quantiles: Sequence[float] = (0.5, 0.95, 0.99)) -> dict[str, Any]:
    """A Grafana time-series panel of a histogram's quantiles, with thresholds."""
    if not re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", metric):
        raise ValueError(f"{metric!r} is not a Prometheus metric name")
    if panel_id < 1:
        raise ValueError(f"panel ids start at 1, not {panel_id}")
    if not thresholds or any(b <= a for a, b in zip(thresholds, thresholds[1:])):
        raise ValueError(f"thresholds must be non-empty and strictly increasing: {thresholds}")
    if not quantiles or any(not 0 < q < 1 for q in quantiles):
        raise ValueError(f"quantiles must be non-empty, each strictly between 0 and 1: {quantiles}")
    targets = [{"refId": chr(ord("A") + i), "expr": f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))",
                "legendFormat": f"p{q * 100:g}"} for i, q in enumerate(quantiles)]
    steps = [{"color": "green", "value": None}] + [
        {"color": "red" if i == len(thresholds) - 1 else "orange", "value": t} for i, t in enumerate(thresholds)]
    return {"id": panel_id, "type": "timeseries", "title": title,
            "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, "targets": targets,
            "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
            "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}}
