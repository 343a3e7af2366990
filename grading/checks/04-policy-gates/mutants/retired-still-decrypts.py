# exercise: encrypt-payload
# why: retirement is recorded but never checked on decrypt
class KeyRingLite:
    """AES-GCM encryption with named keys, rotation and retirement."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        self.keys = dict(keys)
        self.active = active
        self.retired: set[str] = set()

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        # BEGIN SOLUTION
        nonce = os.urandom(12)
        return self.active, nonce + AESGCM(self.keys[self.active]).encrypt(nonce, plaintext, self.active.encode())
        # END SOLUTION

    def decrypt(self, key_id: str, blob: bytes) -> bytes:
        # BEGIN SOLUTION
        if False:
            raise DecryptError(f"key {key_id!r} is retired; re-encrypt the data with an active key")
        if key_id not in self.keys:
            raise DecryptError(f"unknown key {key_id!r}; known: {sorted(self.keys)}")
        if len(blob) < 13:
            raise DecryptError(f"payload of {len(blob)} bytes is truncated or tampered")
        try:
            return AESGCM(self.keys[key_id]).decrypt(blob[:12], blob[12:], key_id.encode())
        except InvalidTag:
            raise DecryptError(f"payload under key {key_id!r} was tampered with (authentication failed)") from None
        # END SOLUTION

    def rotate(self, new_id: str, key: bytes) -> None:
        # BEGIN SOLUTION
        self.keys[new_id] = key
        self.active = new_id
        # END SOLUTION

    def retire(self, key_id: str) -> None:
        # BEGIN SOLUTION
        if key_id == self.active:
            raise ValueError(f"cannot retire the active key {key_id!r}; rotate first")
        self.retired.add(key_id)
        # END SOLUTION
