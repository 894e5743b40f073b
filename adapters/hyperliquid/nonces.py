"""The nonces an execution client signs with: milliseconds, strictly increasing, in one lane.

Why lanes: the venue refuses a nonce it has seen for the same signer ("duplicate nonce"), and
``jarvis serve --nodes`` runs several node processes signing for the node's account with the
same key. Each signs only nonces equal to its lane modulo the number of lanes, so two processes
signing in the same millisecond never send the same one.
"""

from __future__ import annotations

__all__ = ["NonceSource", "next_nonce"]


def next_nonce(now_ms: int, last: int, lanes: int = 1, lane: int = 0) -> int:
    """The clock's millisecond, above ``last``, and in ``lane`` (modulo ``lanes``)."""
    nonce = max(now_ms, last + 1)
    return nonce + (lane - nonce) % lanes


class NonceSource:
    """One client's nonces (see the module docstring)."""

    def __init__(self, lanes: int = 1, lane: int = 0) -> None:
        self._lanes = lanes
        self._lane = lane
        self._last = 0

    def next(self, now_ms: int) -> int:
        """The nonce to sign with at ``now_ms``."""
        self._last = next_nonce(now_ms, self._last, self._lanes, self._lane)
        return self._last
