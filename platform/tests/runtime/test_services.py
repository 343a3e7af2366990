import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from orchlab.errors import ServiceError
from orchlab.runtime import TemporalDevServer
from orchlab.runtime._process import pid_alive, port_open


async def test_dev_server_keeps_workflows_across_a_restart(tmp_path: Path) -> None:
    server = TemporalDevServer(tmp_path).start()
    port, pid = server.port, server.pid
    client = await Client.connect(server.address)
    wf_id = f"survivor-{uuid.uuid4().hex[:8]}"
    # No worker polls this queue: the workflow stays open and must survive the restart.
    await client.start_workflow(
        "NoSuchWorkflow",
        id=wf_id,
        task_queue=f"nobody-{wf_id}",
        execution_timeout=timedelta(minutes=5),
    )
    server.stop()
    assert not pid_alive(pid)
    assert not port_open("127.0.0.1", port)

    with TemporalDevServer(tmp_path, port=port) as again:
        client = await Client.connect(again.address)
        desc = await client.get_workflow_handle(wf_id).describe()
        assert desc.status is not None and desc.status.name == "RUNNING"


def test_busy_port_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with TemporalDevServer(tmp_path / "a") as first:
        second = TemporalDevServer(tmp_path / "b", port=first.port)
        with pytest.raises(ServiceError, match=f"port {first.port} .* already in use"):
            second.start()


def test_the_server_metrics_are_served_on_loopback(tmp_path: Path) -> None:
    with TemporalDevServer(tmp_path) as server:
        assert server.metrics_url == f"http://127.0.0.1:{server.metrics_port}/metrics"
        assert server.record().extra["metrics"] == server.metrics_url
        with urllib.request.urlopen(server.metrics_url, timeout=10) as response:
            text = response.read().decode()
    assert "# TYPE" in text and "service_name" in text  # the server's own Prometheus metrics


def test_ui_is_served_when_asked(tmp_path: Path) -> None:
    with TemporalDevServer(tmp_path, ui=True) as server:
        assert server.ui_url is not None
        assert port_open("127.0.0.1", server.ui_port)


def test_the_wait_for_health_is_the_startup_timeout_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `orchlab exec`, the test fixtures and `make lab` all start services through here: a slow
    # machine lengthens the wait with ORCHLAB_STARTUP_TIMEOUT (a near-zero one proves it is read).
    monkeypatch.setenv("ORCHLAB_STARTUP_TIMEOUT", "0.001")
    server = TemporalDevServer(tmp_path)
    with pytest.raises(ServiceError, match=r"temporal was not healthy after 0 s"):
        server.start()
    assert server.port is not None and not port_open(server.host, server.port)  # stopped
