"""AES-GCM payload encryption: unit behaviour, and a real Temporal client/worker round trip
showing ciphertext in the server's history, key rotation and a retired key refused."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
import temporalio.converter
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import Worker

from orchlab.policy import (
    ENCODING,
    KEY_ID,
    DecryptionError,
    EncryptionCodec,
    KeyRing,
    MemorySecrets,
    encode_key,
    new_key,
)

SECRET_TEXT = "patient-record-4711"
K1, K2 = new_key(), new_key()


@workflow.defn(sandboxed=False)
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return f"seen {text}"


def _client(base: Client, ring: KeyRing) -> Client:
    config = base.config()
    config["data_converter"] = dataclasses.replace(
        temporalio.converter.default(), payload_codec=EncryptionCodec(ring)
    )
    return Client(**config)


async def test_codec_round_trip_rotation_and_retirement(
    temporal_client: Client, task_queue: str
) -> None:
    old = _client(temporal_client, KeyRing({"k1": K1}, active="k1"))
    wf_id = f"echo-{uuid.uuid4().hex[:8]}"
    async with Worker(old, task_queue=task_queue, workflows=[Echo], build_id="test-codec"):
        result = await old.execute_workflow(Echo.run, SECRET_TEXT, id=wf_id, task_queue=task_queue)
    assert result == f"seen {SECRET_TEXT}"

    # The server only ever saw ciphertext, labelled with the key id.
    history = await temporal_client.get_workflow_handle(wf_id).fetch_history()
    raw = history.to_json()
    assert SECRET_TEXT not in raw
    start = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert start.metadata["encoding"] == ENCODING and start.metadata[KEY_ID] == b"k1"

    # Rotated: new payloads use k2, old ones still open with k1.
    rotated = _client(temporal_client, KeyRing({"k1": K1}, active="k1").rotate("k2", K2))
    assert await rotated.get_workflow_handle(wf_id).result() == f"seen {SECRET_TEXT}"
    new_id = f"echo-{uuid.uuid4().hex[:8]}"
    async with Worker(rotated, task_queue=task_queue, workflows=[Echo], build_id="test-codec"):
        await rotated.execute_workflow(Echo.run, "x", id=new_id, task_queue=task_queue)
    history = await temporal_client.get_workflow_handle(new_id).fetch_history()
    payload = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert payload.metadata[KEY_ID] == b"k2"

    # Retired: the old workflow's payloads are refused with a clear error.
    retired = _client(temporal_client, KeyRing({"k2": K2}, active="k2", retired=["k1"]))
    with pytest.raises(DecryptionError, match=r"retired key 'k1'"):
        await retired.get_workflow_handle(wf_id).result()


async def test_tampered_and_unknown_keys_are_refused() -> None:
    codec = EncryptionCodec(KeyRing({"k1": K1}, active="k1"))
    [sealed] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'"x"')])
    [opened] = await codec.decode([sealed])
    assert opened.data == b'"x"'
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\x00")
    with pytest.raises(DecryptionError, match=r"failed authentication"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k9"}, data=sealed.data)
    with pytest.raises(DecryptionError, match=r"unknown key 'k9'"):
        await codec.decode([relabelled])
    strict = EncryptionCodec(KeyRing({"k1": K1}, active="k1"), require_encryption=True)
    with pytest.raises(DecryptionError, match=r"plaintext payload refused"):
        await strict.decode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])


def test_key_ring_from_a_secret_store_and_bad_rings() -> None:
    store = MemorySecrets({"k1": encode_key(K1), "k2": encode_key(K2)})
    ring = KeyRing.from_store(store, active="k2", decrypt_only=["k1"])
    kid, blob = ring.encrypt(b"hello")
    assert kid == "k2" and ring.decrypt("k2", blob) == b"hello"
    with pytest.raises(ValueError, match=r"AES-256 needs 32"):
        KeyRing({"k": b"short"}, active="k")
    with pytest.raises(ValueError, match=r"active key 'k3' is not among"):
        KeyRing({"k1": K1}, active="k3")
    with pytest.raises(ValueError, match=r"also listed as retired"):
        KeyRing({"k1": K1}, active="k1", retired=["k1"])
