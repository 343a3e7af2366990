"""Checks for exercise ``encrypt-payload``: ``KeyRingLite(keys, active)``.

Contract: encrypt with the active key, a fresh 12-byte nonce, the key id as associated data,
returning (key id, nonce + ciphertext); decrypt raises DecryptError for retired ('retired'),
unknown ('unknown') or tampered/short ('tampered') input; rotate adds and activates a key;
retire refuses a key (ValueError for the active one).
"""

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from labgrader.checks import assert_type, strictly_equal, text


def _error(nb, ring, key_id, blob):
    try:
        ring.decrypt(key_id, blob)
    except nb.DecryptError as exc:
        return text(exc, what="the DecryptError's message")
    return None


def _encrypt(ring, plaintext):
    """``ring.encrypt(plaintext)``, checked to be a (str, bytes) tuple."""
    got = ring.encrypt(plaintext)
    assert_type(got, tuple, what=f"encrypt({plaintext!r})")
    assert len(got) == 2, f"encrypt({plaintext!r}): expected (key id, blob), got {got!r}"
    assert_type(got[0], str, what=f"encrypt({plaintext!r})[0], the key id")
    assert_type(got[1], bytes, what=f"encrypt({plaintext!r})[1], the blob")
    return got


@pytest.mark.check(exercise="encrypt-payload", points=5)
def test_worked_example(nb):
    k1, k2 = os.urandom(32), os.urandom(32)
    ring = nb.KeyRingLite({"k1": k1}, active="k1")
    kid, blob = _encrypt(ring, b'{"customer": 42}')
    assert strictly_equal(kid, "k1") and len(blob) == 12 + 16 + 16, (
        f"expected ('k1', 12-byte nonce + 16-byte ciphertext + 16-byte tag = 44 bytes), got "
        f"({kid!r}, {len(blob)} bytes)"
    )
    plain = AESGCM(k1).decrypt(blob[:12], blob[12:], b"k1")
    assert plain == b'{"customer": 42}', "the blob is AESGCM with the key id as associated data"
    ring.rotate("k2", k2)
    assert strictly_equal(_encrypt(ring, b"x")[0], "k2"), "after rotate, new payloads use k2"
    assert strictly_equal(ring.decrypt(kid, blob), b'{"customer": 42}'), (
        "old payloads still decrypt"
    )
    ring.retire("k1")
    message = _error(nb, ring, kid, blob)
    assert message is not None and "retired" in message, (
        f"a retired key is refused with a DecryptError mentioning 'retired'; got {message!r}"
    )


@pytest.mark.check(exercise="encrypt-payload", points=5, hidden=True)
def test_hidden_tampering_nonces_and_unknown_keys(nb):
    ring = nb.KeyRingLite({"a": os.urandom(32), "b": os.urandom(32)}, active="a")
    first, second = _encrypt(ring, b"same"), _encrypt(ring, b"same")
    assert first[1][:12] != second[1][:12], (
        "two encryptions must use different nonces (os.urandom(12) per call); a reused nonce "
        "breaks AES-GCM"
    )
    kid, blob = _encrypt(ring, b"model weights uri")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    for label, args in (
        ("a flipped bit", (kid, flipped)),
        ("a truncated blob", (kid, blob[:10])),
        ("the wrong key id", ("b", blob)),
    ):
        message = _error(nb, ring, *args)
        assert message is not None and "tampered" in message, (
            f"{label} must raise DecryptError mentioning 'tampered'; got {message!r}"
        )
    message = _error(nb, ring, "zz", blob)
    assert message is not None and "unknown" in message, (
        f"an unknown key id raises DecryptError mentioning 'unknown'; got {message!r}"
    )
    with pytest.raises(ValueError):
        ring.retire("a")
    ring.rotate("c", os.urandom(32))
    ring.retire("a")
    assert _error(nb, ring, kid, blob) is not None, "retired after rotation: refused"
    assert strictly_equal(ring.decrypt(*_encrypt(ring, b"")), b""), "an empty payload round-trips"
