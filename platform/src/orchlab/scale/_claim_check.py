"""Claim check: large Temporal payloads stored outside the history and passed by reference.

A workflow history holds every input and result. Temporal refuses a payload above 2 MB (the
server's ``limit.blobSize.error``) and slows down well before that, since every replay reads
the whole history. :class:`ClaimCheckCodec` is a ``PayloadCodec``: a payload at or above its
threshold is written to an :class:`~orchlab.scale.ObjectStore` under its content key and
replaced in the history by a small reference; decoding fetches it back and checks its hash.
Workflow and activity code stay unchanged: the codec sits in the client's data converter,
and workers built from that client inherit it::

    codec = ClaimCheckCodec(FolderStore(".state/claims"), threshold=128 * 1024)
    client = await Client.connect(addr, data_converter=dataclasses.replace(
        temporalio.converter.default(), payload_codec=codec))

Everything that decodes the history (workers, ``handle.result()``, replayers, the UI's codec
server) needs the same store. To combine with encryption, chain the codecs so the large
object is encrypted before it leaves: :func:`chain`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from orchlab.scale._errors import ClaimCheckError
from orchlab.scale._stores import ObjectStore, check_key, content_key

ENCODING = b"binary/claim-check"
"""The ``encoding`` metadata of a payload that is a reference to a stored object."""
SIZE = "claim-check-size"
"""The metadata entry holding the stored object's size in bytes (for people reading a history)."""
DEFAULT_THRESHOLD = 128 * 1024
"""Payloads of this many serialised bytes or more are claim-checked by default."""


class ClaimCheckCodec(PayloadCodec):
    """Store payloads of ``threshold`` bytes or more in ``store``; keep a reference instead.

    Args:
        store: Where the objects go (a :class:`~orchlab.scale.FolderStore`, or yours).
        threshold: Serialised size in bytes from which a payload is stored outside.
    """

    def __init__(self, store: ObjectStore, *, threshold: int = DEFAULT_THRESHOLD) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ValueError(f"threshold must be a positive number of bytes, got {threshold!r}")
        self.store = store
        self.threshold = threshold

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Replace each large payload by a reference to its stored bytes."""
        out = []
        for payload in payloads:
            raw = payload.SerializeToString()
            if len(raw) < self.threshold:
                out.append(payload)
                continue
            key = content_key(raw)
            await asyncio.to_thread(self.store.put, key, raw)
            out.append(
                Payload(
                    metadata={"encoding": ENCODING, SIZE: str(len(raw)).encode()},
                    data=key.encode(),
                )
            )
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Fetch each referenced payload back; pass every other payload through.

        Raises:
            ClaimCheckError: The object is missing from the store or its bytes changed.
        """
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                out.append(payload)
                continue
            try:
                key = check_key(payload.data.decode("ascii", errors="replace"))
            except ValueError as exc:
                raise ClaimCheckError(f"corrupt claim-check reference: {exc}") from None
            raw = await asyncio.to_thread(self.store.get, key)
            if raw is None:
                raise ClaimCheckError(
                    f"claim check {key} is not in {self.store!r}: the object was deleted "
                    "(a retention sweep that ran too early?) or this process uses another store"
                )
            if content_key(raw) != key:
                raise ClaimCheckError(
                    f"claim check {key} does not match its stored bytes: the object in "
                    f"{self.store!r} was modified"
                )
            inner = Payload()
            inner.ParseFromString(raw)
            out.append(inner)
        return out


class _Chain(PayloadCodec):
    def __init__(self, codecs: Sequence[PayloadCodec]) -> None:
        self.codecs = list(codecs)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = list(payloads)
        for codec in self.codecs:
            out = await codec.encode(out)
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = list(payloads)
        for codec in reversed(self.codecs):
            out = await codec.decode(out)
        return out


def chain(*codecs: PayloadCodec) -> PayloadCodec:
    """One codec that encodes with each of ``codecs`` in order and decodes in reverse.

    ``chain(EncryptionCodec(ring), ClaimCheckCodec(store))`` encrypts first, so the object
    store only ever holds ciphertext.
    """
    if not codecs:
        raise ValueError("chain() needs at least one codec")
    return _Chain(codecs)


__all__ = ["DEFAULT_THRESHOLD", "ENCODING", "SIZE", "ClaimCheckCodec", "chain"]
