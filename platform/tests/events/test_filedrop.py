"""Files dropped into a folder become events with content-hash ids; a watcher starts one run per
file on the real dev server, and a restarted watcher starts nothing twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from event_workflows import OnArrival
from temporalio.client import Client
from temporalio.worker import Worker

from orchlab.events import OBJECT_CREATED, EventReceiver, Route, file_events, watch


def test_ids_follow_content_and_partial_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv.part").write_text("half")
    (tmp_path / ".hidden").write_text("no")
    (tmp_path / "c.csv.tmp").write_text("no")
    [event] = file_events(tmp_path, source="/drop")
    assert event.type == OBJECT_CREATED and event.source == "/drop" and event.subject == "a.csv"
    assert event.data == {"path": "a.csv", "size": 8, "sha256": event.id.split("sha256:")[1]}
    assert [e.id for e in file_events(tmp_path, source="/drop")] == [event.id]  # stable
    (tmp_path / "a.csv").write_text("x,y\n1,3\n")
    [changed] = file_events(tmp_path, source="/drop")
    assert changed.id != event.id  # new content, new event


async def test_a_watcher_starts_one_run_per_file_and_a_restart_starts_none(
    temporal_client: Client, task_queue: str, tmp_path: Path
) -> None:
    receiver = EventReceiver(
        temporal_client, [Route(OBJECT_CREATED, workflow="OnArrival", task_queue=task_queue)]
    )
    for name in ("one.csv", "two.csv"):
        (tmp_path / name).write_text(name)
    stop = asyncio.Event()
    stop.set()  # one scan, then return
    first = await watch(tmp_path, receiver, interval=0.05, source="/drop", stop=stop)
    assert [o.status for o in first] == [202, 202]
    restarted = await watch(tmp_path, receiver, interval=0.05, source="/drop", stop=stop)
    assert [o.duplicate for o in restarted] == [True, True]
    assert [o.workflow_id for o in restarted] == [o.workflow_id for o in first]

    async with Worker(temporal_client, task_queue=task_queue, workflows=[OnArrival]):
        results = [
            await temporal_client.get_workflow_handle(o.workflow_id or "").result() for o in first
        ]
    assert [r["data"]["path"] for r in results] == ["one.csv", "two.csv"]


async def test_watch_needs_a_positive_interval(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval must be positive seconds"):
        await watch(tmp_path, EventReceiver(None, []), interval=0)  # type: ignore[arg-type]
