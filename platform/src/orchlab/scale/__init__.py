"""Scale: patterns that keep orchestration fast and cheap as runs, payloads and tenants grow.

Claim check
    :class:`ClaimCheckCodec` stores Temporal payloads above a threshold in an
    :class:`ObjectStore` (:class:`FolderStore` by default) and keeps a content-addressed
    reference in the workflow history; :func:`chain` combines it with another codec
    (encrypt first, then claim-check).
Fan-out / fan-in
    :func:`fan_out` calls an activity (or any coroutine) per shard with bounded concurrency and
    collects every outcome in a :class:`FanOutResult`; :meth:`FanOutResult.retry_failed`
    runs only the failed shards again. Deterministic, so usable in workflow code.
"""

from orchlab.scale._claim_check import (
    DEFAULT_THRESHOLD,
    ENCODING,
    SIZE,
    ClaimCheckCodec,
    chain,
)
from orchlab.scale._errors import ClaimCheckError
from orchlab.scale._fan_out import FanOutResult, fan_out
from orchlab.scale._stores import FolderStore, ObjectStore, check_key, content_key

__all__ = [
    "DEFAULT_THRESHOLD",
    "ENCODING",
    "SIZE",
    "ClaimCheckCodec",
    "ClaimCheckError",
    "FanOutResult",
    "FolderStore",
    "ObjectStore",
    "chain",
    "check_key",
    "content_key",
    "fan_out",
]
