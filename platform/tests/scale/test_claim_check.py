"""Claim check: large payloads leave the Temporal history, on a real dev server, and come back
intact; missing, modified or forged objects are refused with a clear error."""

from __future__ import annotations

import dataclasses
import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import temporalio.converter
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from orchlab.policy import EncryptionCodec, KeyRing, new_key
from orchlab.scale import (
    ENCODING,
    SIZE,
    ClaimCheckCodec,
    ClaimCheckError,
    FolderStore,
    chain,
    content_key,
)

BIG = 3 * 1024 * 1024  # above the server's 2 MB limit for one payload


@activity.defn
async def checksum(blob: bytes) -> str:
    return content_key(blob)


@workflow.defn(sandboxed=False)
class Digest:
    @workflow.run
    async def run(self, blob: bytes) -> bytes:
        # The large input goes to an activity and a large result comes back: every payload
        # on the way (workflow input, activity input, workflow result) is above the threshold.
        key = await workflow.execute_activity(
            checksum, blob, start_to_close_timeout=timedelta(seconds=30)
        )
        return key.encode() + blob[: 256 * 1024]


def _client(base: Client, codec: temporalio.converter.PayloadCodec | None) -> Client:
    config = base.config()
    config["data_converter"] = dataclasses.replace(
        temporalio.converter.default(), payload_codec=codec
    )
    return Client(**config)


async def test_large_payloads_leave_the_history_and_come_back(
    temporal_client: Client, task_queue: str, tmp_path: Path
) -> None:
    store = FolderStore(tmp_path / "claims")
    client = _client(temporal_client, ClaimCheckCodec(store))
    blob = os.urandom(BIG)
    wf_id = f"digest-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[Digest], activities=[checksum]):
        result = await client.execute_workflow(Digest.run, blob, id=wf_id, task_queue=task_queue)
    assert result == content_key(blob).encode() + blob[: 256 * 1024]

    history = await temporal_client.get_workflow_handle(wf_id).fetch_history()
    start = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert start.metadata["encoding"] == ENCODING
    assert int(start.metadata[SIZE]) > BIG
    # The whole history, every event of it, is a few kilobytes instead of megabytes.
    assert len(history.to_json()) < 20_000
    # Workflow input (= activity input, same bytes, one object) and the workflow result.
    assert len(store.keys()) == 2


async def test_without_the_codec_the_server_refuses_the_payload(
    temporal_client: Client, task_queue: str
) -> None:
    with pytest.raises(RPCError, match="Blob data size exceeds limit"):
        await temporal_client.start_workflow(
            Digest.run, os.urandom(BIG), id=f"digest-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )


async def test_a_deleted_object_is_named_when_the_result_is_read(
    temporal_client: Client, task_queue: str, tmp_path: Path
) -> None:
    store = FolderStore(tmp_path / "claims")
    client = _client(temporal_client, ClaimCheckCodec(store, threshold=1024))
    blob = os.urandom(4096)
    wf_id = f"digest-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[Digest], activities=[checksum]):
        await client.execute_workflow(Digest.run, blob, id=wf_id, task_queue=task_queue)
    result_key = content_key(
        (await temporalio.converter.default().encode([content_key(blob).encode() + blob]))[
            0
        ].SerializeToString()
    )
    assert store.delete(result_key)
    with pytest.raises(ClaimCheckError, match=rf"claim check {result_key} is not in FolderStore"):
        await client.get_workflow_handle(wf_id).result()


async def test_small_payloads_pass_through_and_equal_objects_are_stored_once(
    tmp_path: Path,
) -> None:
    store = FolderStore(tmp_path)
    codec = ClaimCheckCodec(store, threshold=100)
    small = Payload(metadata={"encoding": b"json/plain"}, data=b'"hi"')
    big = Payload(metadata={"encoding": b"binary/plain"}, data=b"x" * 500)
    encoded = await codec.encode([small, big, big])
    assert encoded[0] == small
    assert encoded[1] == encoded[2] and encoded[1].metadata["encoding"] == ENCODING
    assert store.keys() == [encoded[1].data.decode()]
    assert await codec.decode(encoded) == [small, big, big]


async def test_modified_and_forged_references_are_refused(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    codec = ClaimCheckCodec(store, threshold=10)
    [ref] = await codec.encode([Payload(data=b"y" * 100)])
    key = ref.data.decode()
    digest = key.removeprefix("sha256:")
    (tmp_path / digest[:2] / digest).write_bytes(b"tampered")
    with pytest.raises(ClaimCheckError, match="does not match its stored bytes"):
        await codec.decode([ref])

    forged = Payload(metadata={"encoding": ENCODING}, data=b"sha256:../../etc/passwd")
    with pytest.raises(ClaimCheckError, match="corrupt claim-check reference"):
        await codec.decode([forged])


async def test_chained_after_encryption_the_store_holds_only_ciphertext(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    secret = b"patient-record-4711" * 100
    codec = chain(
        EncryptionCodec(KeyRing({"k1": new_key()}, active="k1")),
        ClaimCheckCodec(store, threshold=100),
    )
    encoded = await codec.encode([Payload(metadata={"encoding": b"binary/plain"}, data=secret)])
    assert encoded[0].metadata["encoding"] == ENCODING
    [key] = store.keys()
    assert b"patient-record" not in (store.get(key) or b"")
    [back] = await codec.decode(encoded)
    assert back.data == secret


def test_sweep_deletes_old_objects_but_keeps_referenced_ones(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)
    keys = []
    for data in (b"a", b"b", b"c"):
        key = content_key(data)
        store.put(key, data)
        keys.append(key)
    old = 1_000_000_000
    for key in keys:
        digest = key.removeprefix("sha256:")
        os.utime(tmp_path / digest[:2] / digest, (old, old))
    fresh = content_key(b"d")
    store.put(fresh, b"d")
    assert store.sweep(older_than=3600, keep={keys[0]}) == 2
    assert store.keys() == sorted([keys[0], fresh])


@pytest.mark.parametrize("threshold", [0, -1, True, 1.5])
def test_threshold_must_be_a_positive_int(threshold: object, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threshold must be a positive number of bytes"):
        ClaimCheckCodec(FolderStore(tmp_path), threshold=threshold)  # type: ignore[arg-type]
