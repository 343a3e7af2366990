"""Scale: patterns that keep orchestration fast and cheap as runs, payloads and tenants grow.

Claim check
    :class:`ClaimCheckCodec` stores Temporal payloads above a threshold in an
    :class:`ObjectStore` (:class:`FolderStore` by default) and keeps a content-addressed
    reference in the workflow history; :func:`chain` combines it with another codec
    (encrypt first, then claim-check).
"""

from orchlab.scale._claim_check import (
    DEFAULT_THRESHOLD,
    ENCODING,
    SIZE,
    ClaimCheckCodec,
    chain,
)
from orchlab.scale._errors import ClaimCheckError
from orchlab.scale._stores import FolderStore, ObjectStore, check_key, content_key

__all__ = [
    "DEFAULT_THRESHOLD",
    "ENCODING",
    "SIZE",
    "ClaimCheckCodec",
    "ClaimCheckError",
    "FolderStore",
    "ObjectStore",
    "chain",
    "check_key",
    "content_key",
]
