"""The venue's dead-man switch (``scheduleCancel``), armed from venue time, and the venue clock.

Why: if the node dies, its resting orders must not rest forever. The venue cancels every order
of the account at the scheduled time unless the node keeps pushing it forward. Three things make
that fail silently, so each is handled here:

* **Clock skew.** The schedule is a venue timestamp. Computed from the local clock, a venue clock
  ahead by more than the window makes every schedule "in the past" (refused). ``VenueClock``
  tracks the venue's offset from the times in its own answers (``clearinghouseState.time``),
  and the schedule is ``venue now + window``. After a refusal the venue time is sampled afresh
  before the next try.
* **Refusals and failures** (too early, not enough traded volume yet, HTTP 500, timeouts): the
  switch retries with backoff (1 s doubling up to the refresh period), never gives up.
* **Unprotected trading.** While the switch is not armed, or its refresh is overdue by more than
  half the window (the venue would cancel everything soon after, or already has), the node must
  not take new risk: the switch holds the condition ``dead-man switch`` on the ``HealthGate``
  (REDUCING, with the reason in the log). A config may make the switch optional; then the node
  trades on and says every minute, at WARNING, that its orders are unprotected.

Times: ``now_ns`` is the local wall clock (NautilusTrader's clock), used for overdue checks and
the warning cadence; venue times are milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Final
from typing import Protocol

from nautilus_trader.common.component import Logger

from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.order_builder import schedule_cancel_action
from adapters.hyperliquid.rejections import classify_rejection
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.exchange import ScheduleCancelAction

__all__ = ["DEAD_MAN_CONDITION", "DeadManSwitch", "VenueClock"]

DEAD_MAN_CONDITION: Final[str] = "dead-man switch"
"""The ``HealthGate`` condition name this switch holds while orders are unprotected."""

_MS: Final[int] = 1_000_000
_SEC: Final[int] = 1_000_000_000
_WARN_EVERY_NS: Final[int] = 60 * _SEC
_FIRST_RETRY_SECS: Final[float] = 1.0


class VenueClock:
    """The venue's clock as seen in its own answers: local time plus a tracked offset."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.samples = 0
        self.sampled_ns = 0

    def observe(self, venue_ms: int, sent_ns: int, received_ns: int) -> None:
        """A venue timestamp from an answer to a request sent and received at these local
        times; the venue stamped it somewhere in between (the midpoint is taken)."""
        midpoint_ms = (sent_ns + received_ns) // 2 // _MS
        self.offset_ms = venue_ms - midpoint_ms
        self.samples += 1
        self.sampled_ns = received_ns

    def venue_ms(self, now_ns: int) -> int:
        """The venue's time now, in ms."""
        return now_ns // _MS + self.offset_ms


class ConditionSink(Protocol):
    """Where the switch holds or lifts its no-new-risk condition (``HealthGate.set_condition``)."""

    def __call__(self, name: str, reason: str | None, now_ns: int) -> None: ...


class DeadManSwitch:
    """Keeps ``scheduleCancel`` armed (module notes).

    Parameters
    ----------
    window_secs : float
        Horizon: the venue cancels at venue now + this (0 = disabled, optional only).
    refresh_secs : float
        How often it is pushed forward while all is well.
    required : bool
        Whether an unarmed switch holds the node in REDUCING (else: a WARNING every minute).
    post : Callable
        Signs and posts one action ONCE (the execution client's ``_post``).
    sample_venue_time : Callable
        Fetches a venue answer that carries its time and feeds ``clock`` (a fresh sample).
    clock : VenueClock
        The tracked venue clock.
    now_ns : Callable
        The local wall clock.
    set_condition : ConditionSink
        Holds/lifts the ``dead-man switch`` condition.
    log : Logger
        The execution client's logger.
    """

    def __init__(
        self,
        *,
        window_secs: float,
        refresh_secs: float,
        required: bool,
        post: Callable[[ScheduleCancelAction], Awaitable[ExchangeResponse]],
        sample_venue_time: Callable[[], Awaitable[None]],
        clock: VenueClock,
        now_ns: Callable[[], int],
        set_condition: ConditionSink,
        log: Logger,
    ) -> None:
        self._window_ms = int(window_secs * 1000)
        self._refresh_secs = refresh_secs
        self._required = required
        self._post = post
        self._sample = sample_venue_time
        self._clock = clock
        self._now_ns = now_ns
        self._set_condition = set_condition
        self._log = log
        self.armed_until_ms: int | None = None  # venue time of the schedule the venue accepted
        self.armed_ns: int | None = None  # local time of the last accepted schedule
        self.refreshes = 0
        self.failures = 0  # consecutive failed or refused attempts
        self.refusals = 0  # attempts the venue refused, in total
        self.problem: str | None = "not armed yet"
        self._resample = True
        self._warned_ns: int | None = None
        self.unprotected_warnings = 0
        self._holding: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether the switch is used at all."""
        return self._window_ms > 0

    def retry_delay_secs(self) -> float:
        """Time to the next attempt: the refresh period, or a backoff after failures."""
        if self.failures == 0:
            return self._refresh_secs
        return min(_FIRST_RETRY_SECS * 2 ** (self.failures - 1), self._refresh_secs)

    async def run(self) -> None:
        """Arm now, then keep it armed until cancelled."""
        while True:
            await self.arm()
            await asyncio.sleep(self.retry_delay_secs())

    async def arm(self) -> bool:
        """One attempt to push the schedule forward; True if the venue accepted it."""
        if not self.enabled:
            self.check(self._now_ns())
            return False
        if self._resample:
            try:
                await self._sample()
                self._resample = False
            except HyperliquidError as exc:
                self._log.warning(f"Dead-man switch: venue time not sampled ({exc}); using offset")
        now_ns = self._now_ns()
        venue_now = self._clock.venue_ms(now_ns)
        cancel_at = venue_now + self._window_ms
        try:
            response = await self._post(schedule_cancel_action(cancel_at, venue_now))
        except HyperliquidError as exc:
            self._failed(f"request failed: {exc}", refused=False)
            return False
        if isinstance(response, ExchangeErr):
            reason = classify_rejection(response.response).reason
            self._failed(f"refused by the venue: {reason}", refused=True)
            return False
        if self.failures:
            self._log.info(f"Dead-man switch armed again after {self.failures} failed attempts")
        self.failures = 0
        self.problem = None
        self.armed_until_ms = cancel_at
        self.armed_ns = self._now_ns()
        self.refreshes += 1
        self._log.debug(
            f"Dead-man switch armed until venue time {cancel_at} "
            f"(offset {self._clock.offset_ms} ms)"
        )
        self.check(self.armed_ns)
        return True

    def _failed(self, problem: str, *, refused: bool) -> None:
        self.failures += 1
        self._resample = True
        if refused:  # the venue's old schedule may still stand, but it refused ours
            self.refusals += 1
            self.problem = problem
        elif self.armed_ns is None:
            self.problem = f"not armed yet ({problem})"
        retry = self.retry_delay_secs()
        self._log.warning(
            f"Dead-man switch {problem} (attempt {self.failures}); retrying in {retry:g} s"
        )
        self.check(self._now_ns())

    def unprotected_reason(self, now_ns: int) -> str | None:
        """Why orders are not protected now, ``None`` if the switch holds."""
        if not self.enabled:
            return "disabled by config (dead_man_switch_secs = 0)"
        if self.problem is not None:
            return self.problem
        assert self.armed_ns is not None
        late_ns = now_ns - self.armed_ns - int(self._refresh_secs * _SEC)
        if late_ns > self._window_ms * _MS // 2:
            return (
                f"refresh overdue by {late_ns / _SEC:.1f} s (last armed "
                f"{(now_ns - self.armed_ns) / _SEC:.1f} s ago, window {self._window_ms / 1000:g} s)"
            )
        return None

    def check(self, now_ns: int) -> None:
        """Timer tick (and after every attempt): hold or lift the condition, or warn."""
        reason = self.unprotected_reason(now_ns)
        if not self._required:
            if reason is None:
                self._warned_ns = None
            elif self._warned_ns is None or now_ns - self._warned_ns >= _WARN_EVERY_NS:
                self._warned_ns = now_ns
                self.unprotected_warnings += 1
                self._log.warning(
                    f"Orders are UNPROTECTED: dead-man switch {reason}; the venue will not cancel "
                    "them if this node dies (dead_man_switch_required = false)"
                )
            return
        if reason == self._holding:
            return
        if reason is not None and self._holding is None:
            if self.armed_ns is None and self.failures == 0:
                # Start-up, before the first attempt has answered: expected, not an error.
                self._log.info("Dead-man switch arming: no new risk until the venue accepts it")
            else:
                self._log.error(
                    f"Dead-man switch {reason}: no new risk until it is armed again (retrying; "
                    "dead_man_switch_required = false trades with unprotected orders instead)"
                )
        self._holding = reason
        self._set_condition(DEAD_MAN_CONDITION, reason, now_ns)
