"""Staleness of the account view, like the market streams': REST trouble moves the node to REDUCING.

Why: the account view (balances, margin, positions from ``clearinghouseState``) is what risk
decisions stand on. When REST requests fail, time out or are rate limited, the view silently
ages while trading goes on. ``AccountFreshness`` records every refresh attempt: each failure is
logged once with its cause (WARNING); once the view is older than ``max_age`` the node takes no
new risk (the ``account view`` condition on the ``HealthGate``, reason in the log) and the
failure streak is escalated to ERROR; the first successful refresh lifts it.
"""

from __future__ import annotations

from typing import Final

from nautilus_trader.common.component import Logger

from adapters.hyperliquid.dead_man import ConditionSink

__all__ = ["ACCOUNT_CONDITION", "AccountFreshness"]

ACCOUNT_CONDITION: Final[str] = "account view"
"""The ``HealthGate`` condition name held while the account view is stale."""

_SEC: Final[int] = 1_000_000_000


class AccountFreshness:
    """Tracks the age of the account view and the failures keeping it old (module notes).

    Parameters
    ----------
    max_age_secs : float
        Older than this, the view is stale (0 = never checked).
    set_condition : ConditionSink
        Holds/lifts the ``account view`` condition.
    log : Logger
        The execution client's logger.
    """

    def __init__(self, max_age_secs: float, set_condition: ConditionSink, log: Logger) -> None:
        self._max_age_ns = int(max_age_secs * _SEC)
        self._set_condition = set_condition
        self._log = log
        self.refreshed_ns: int | None = None
        self.failures = 0  # consecutive failed refreshes
        self.last_failure: str | None = None
        self._stale = False
        self._escalated = False

    @property
    def stale(self) -> bool:
        """Whether the condition is held now."""
        return self._stale

    def on_success(self, now_ns: int) -> None:
        """A refresh succeeded: the view is fresh."""
        if self.failures:
            self._log.info(f"Account view fresh again after {self.failures} failed requests")
        self.refreshed_ns = now_ns
        self.failures = 0
        self.last_failure = None
        self._escalated = False
        self.check(now_ns)

    def on_failure(self, request: str, cause: str, now_ns: int) -> None:
        """A request for the account view failed: logged once, with its cause."""
        self.failures += 1
        self.last_failure = f"{request}: {cause}"
        self._log.warning(f"Account refresh failed ({self.last_failure})")
        self.check(now_ns)

    def check(self, now_ns: int) -> None:
        """Timer tick (and after every attempt): hold or lift the condition."""
        if self._max_age_ns <= 0:
            return
        if self.refreshed_ns is None:
            return  # before the first refresh: start-up fails on its own if it cannot connect
        age_ns = now_ns - self.refreshed_ns
        stale = age_ns > self._max_age_ns
        if stale:
            cause = f"; last failure {self.last_failure}" if self.last_failure else ""
            reason = (
                f"last refreshed {age_ns / _SEC:.1f} s ago (max {self._max_age_ns / _SEC:g} s, "
                f"{self.failures} failed requests{cause})"
            )
            if not self._escalated:
                self._escalated = True
                self._log.error(f"Account view stale: {reason}; no new risk until refreshed")
            if not self._stale:
                self._stale = True
                self._set_condition(ACCOUNT_CONDITION, reason, now_ns)
        elif self._stale:
            self._stale = False
            self._set_condition(ACCOUNT_CONDITION, None, now_ns)
