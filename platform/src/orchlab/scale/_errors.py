"""The errors of orchlab.scale, under orchlab's one root."""

from __future__ import annotations

from orchlab.errors import PermanentError


class ClaimCheckError(PermanentError, LookupError):
    """A claim check that cannot be redeemed: its object is missing, or its bytes changed."""


__all__ = ["ClaimCheckError"]
