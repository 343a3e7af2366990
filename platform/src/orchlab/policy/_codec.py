"""Encrypt Temporal payloads with AES-GCM, with key ids and key rotation.

A :class:`KeyRing` holds named 256-bit keys: one **active** (encrypts new payloads), any
number of **decrypt-only** ones (old payloads still open) and **retired** ids (refused
with a clear error, so a leaked key can be cut off). :class:`EncryptionCodec` is a
Temporal ``PayloadCodec``: each payload is serialised, encrypted with a fresh 96-bit nonce,
and stored with ``encoding: binary/encrypted`` and ``encryption-key-id`` metadata. The key
id is also bound as associated data, so a payload cannot be relabelled to another key.

Use it on the client (workers built from that client inherit it)::

    codec = EncryptionCodec(KeyRing.from_store(EnvSecrets(), active="k2", decrypt_only=["k1"]))
    client = await Client.connect(addr, data_converter=dataclasses.replace(
        temporalio.converter.default(), payload_codec=codec))
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from orchlab.policy._errors import DecryptionError
from orchlab.policy._secrets import SecretStore

ENCODING = b"binary/encrypted"
"""The payload ``encoding`` metadata of an encrypted payload."""
KEY_ID = "encryption-key-id"
"""The metadata entry naming the key a payload was encrypted with."""
_NONCE = 12


def new_key() -> bytes:
    """A fresh random 256-bit AES key."""
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    """A key as URL-safe base64, the form :meth:`KeyRing.from_store` reads."""
    return base64.urlsafe_b64encode(key).decode()


class KeyRing:
    """Named AES-256 keys: one active, some decrypt-only, some retired.

    Args:
        keys: Key id to 32-byte key, for every usable key.
        active: The id new payloads are encrypted with.
        retired: Ids refused on decrypt (their keys may be absent).
    """

    def __init__(
        self, keys: Mapping[str, bytes], *, active: str, retired: Iterable[str] = ()
    ) -> None:
        if active not in keys:
            raise ValueError(f"active key {active!r} is not among the keys {sorted(keys)}")
        for kid, key in keys.items():
            if not kid or len(kid) > 64:
                raise ValueError(f"invalid key id {kid!r}: 1 to 64 characters")
            if len(key) != 32:
                raise ValueError(f"key {kid!r} is {len(key)} bytes; AES-256 needs 32")
        self.retired = frozenset(retired)
        if active in self.retired:
            raise ValueError(f"active key {active!r} is also listed as retired")
        self._raw = {kid: key for kid, key in keys.items() if kid not in self.retired}
        self._keys = {kid: AESGCM(key) for kid, key in self._raw.items()}
        self.active = active

    @classmethod
    def from_store(
        cls,
        store: SecretStore,
        *,
        active: str,
        decrypt_only: Sequence[str] = (),
        retired: Iterable[str] = (),
    ) -> KeyRing:
        """Read base64 keys named by their ids from a secret store."""
        keys: dict[str, bytes] = {}
        for kid in (active, *decrypt_only):
            try:
                keys[kid] = base64.urlsafe_b64decode(store.get(kid))
            except (ValueError, TypeError):
                raise ValueError(f"secret {kid!r} is not a base64-encoded key") from None
        return cls(keys, active=active, retired=retired)

    def rotate(self, new_id: str, key: bytes, *, retire: Iterable[str] = ()) -> KeyRing:
        """A new ring whose active key is ``new_id``; the old keys stay decrypt-only
        unless listed in ``retire``."""
        keys = {**self._raw, new_id: key}
        return KeyRing(keys, active=new_id, retired={*self.retired, *retire})

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """Encrypt with the active key: returns ``(key id, nonce + ciphertext)``."""
        nonce = os.urandom(_NONCE)
        sealed = self._keys[self.active].encrypt(nonce, plaintext, self.active.encode())
        return self.active, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes) -> bytes:
        """Decrypt a blob made by :meth:`encrypt`.

        Raises:
            DecryptionError: Retired or unknown key, or bytes that were tampered with.
        """
        if key_id in self.retired:
            raise DecryptionError(
                f"payload encrypted with retired key {key_id!r}: it is refused; re-encrypt "
                "the data with an active key, or restore the key if retiring it was a mistake"
            )
        aead = self._keys.get(key_id)
        if aead is None:
            raise DecryptionError(
                f"payload encrypted with unknown key {key_id!r}; known keys: "
                f"{', '.join(sorted(self._keys))}"
            )
        if len(blob) <= _NONCE:
            raise DecryptionError(f"encrypted payload of {len(blob)} bytes is truncated")
        try:
            return aead.decrypt(blob[:_NONCE], blob[_NONCE:], key_id.encode())
        except InvalidTag:
            raise DecryptionError(
                f"payload under key {key_id!r} failed authentication: it was modified or "
                "encrypted with a different key of the same id"
            ) from None


class EncryptionCodec(PayloadCodec):
    """A Temporal payload codec that encrypts every payload with the ring's active key.

    Args:
        keys: The key ring.
        require_encryption: Refuse plaintext payloads on decode (default: pass them
            through, so histories written before encryption was turned on stay readable).
    """

    def __init__(self, keys: KeyRing, *, require_encryption: bool = False) -> None:
        self.keys = keys
        self.require_encryption = require_encryption

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload (metadata and data) into a new one."""
        out = []
        for payload in payloads:
            kid, blob = self.keys.encrypt(payload.SerializeToString())
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: kid.encode()}, data=blob))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt encrypted payloads; pass others through unchanged (e.g. from old runs)."""
        out = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                if self.require_encryption:
                    raise DecryptionError(
                        "plaintext payload refused: this codec requires encryption"
                    )
                out.append(payload)
                continue
            raw_id = payload.metadata.get(KEY_ID)
            if raw_id is None:
                raise DecryptionError(f"encrypted payload has no {KEY_ID!r} metadata")
            inner = Payload()
            inner.ParseFromString(self.keys.decrypt(raw_id.decode(), payload.data))
            out.append(inner)
        return out


__all__ = [
    "ENCODING",
    "KEY_ID",
    "EncryptionCodec",
    "KeyRing",
    "encode_key",
    "new_key",
]
