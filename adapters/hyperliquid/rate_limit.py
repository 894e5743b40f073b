"""Weighted token-bucket limiter for the venue's per-IP REST budget (1200 weight per minute).

Why: the venue counts every REST request against one budget per IP (PROTOCOL.md §10); exceeding
it gets HTTP 429 for every client of the process at once. So one limiter is shared by all clients
in a process (`shared_rate_limiter()`), requests wait for budget instead of failing, and a 429
makes every client back off together, visibly (a WARNING log line and the counters in
`RateLimiterMetrics`).

The bucket works by reservation: `acquire(weight)` takes the weight at once (the balance may go
below zero) and sleeps exactly as long as the refill needs to cover the deficit, so waiters are
served in arrival order, a waiter sleeps once (never polls), and no lock is needed (the limiter can
be shared by clients on different event loops). Weights the venue only charges once the answer is
known (items returned by fills, funding and history queries, candles) are added afterwards with
`debit(weight)`, which makes later requests wait instead.

Time comes from an injected monotonic clock and sleep, so tests are deterministic.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Final

from nautilus_trader.common.component import Logger

__all__ = [
    "DEFAULT_INFO_WEIGHT",
    "EXCHANGE_BATCH_DIVISOR",
    "INFO_WEIGHTS",
    "ITEMS_PER_EXTRA_WEIGHT",
    "REST_WEIGHT_PER_MINUTE",
    "RateLimiterMetrics",
    "WeightedRateLimiter",
    "exchange_weight",
    "info_extra_weight",
    "info_weight",
    "jittered_backoff",
    "shared_rate_limiter",
]

REST_WEIGHT_PER_MINUTE: Final[int] = 1200
"""The venue's REST budget per IP (PROTOCOL.md §10)."""

DEFAULT_INFO_WEIGHT: Final[int] = 20
"""Weight of an info request not listed in `INFO_WEIGHTS`."""

INFO_WEIGHTS: Final[Mapping[str, int]] = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}
"""Info request `type` -> base weight, for the types that do not weigh `DEFAULT_INFO_WEIGHT`."""

ITEMS_PER_EXTRA_WEIGHT: Final[Mapping[str, int]] = {
    "recentTrades": 20,
    "historicalOrders": 20,
    "userFills": 20,
    "userFillsByTime": 20,
    "fundingHistory": 20,
    "userFunding": 20,
    "userNonFundingLedgerUpdates": 20,
    "twapHistory": 20,
    "userTwapSliceFills": 20,
    "userTwapSliceFillsByTime": 20,
    "delegatorHistory": 20,
    "delegatorRewards": 20,
    "validatorStats": 20,
    "candleSnapshot": 60,
}
"""Info request `type` -> returned items per extra unit of weight (venue docs, rate limits)."""

EXCHANGE_BATCH_DIVISOR: Final[int] = 40
"""An exchange action weighs `1 + floor(batch_length / 40)`."""

# Keys of the list that makes an action a batch, per action type.
_BATCH_KEYS: Final[Mapping[str, str]] = {
    "order": "orders",
    "cancel": "cancels",
    "cancelByCloid": "cancels",
    "batchModify": "modifies",
}


def info_weight(info_type: str) -> int:
    """Weight charged up front for an info request of this `type`."""
    return INFO_WEIGHTS.get(info_type, DEFAULT_INFO_WEIGHT)


def info_extra_weight(info_type: str, items_returned: int) -> int:
    """Weight the venue adds once the answer is known (per returned item for listed types)."""
    per = ITEMS_PER_EXTRA_WEIGHT.get(info_type)
    if per is None or items_returned <= 0:
        return 0
    return items_returned // per


def exchange_weight(action: Mapping[str, Any] | Any) -> int:
    """Weight of an exchange action: `1 + floor(batch_length / 40)`.

    `action` is the action dict or an action Struct (its batch list is found by the action type).
    """
    if isinstance(action, Mapping):
        action_type = action.get("type")
        batch = action.get(_BATCH_KEYS.get(str(action_type), ""), ())
    else:
        tag = getattr(type(action), "__struct_config__", None)
        action_type = getattr(tag, "tag", None)
        batch = getattr(action, _BATCH_KEYS.get(str(action_type), "_"), ())
    try:
        length = len(batch)
    except TypeError:
        length = 0
    return 1 + length // EXCHANGE_BATCH_DIVISOR


def jittered_backoff(
    attempt: int, initial_secs: float, max_secs: float, rng: random.Random
) -> float:
    """Delay before retry/reconnect number `attempt` (1, 2, ...): exponential, capped, jittered.

    The base doubles per attempt from `initial_secs` up to `max_secs`; the delay is drawn in
    [base / 2, base] so clients that failed together do not come back together, while a delay
    never falls below half its base (the backoff stays a backoff).
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, was {attempt}")
    base = min(max_secs, initial_secs * math.pow(2.0, min(attempt - 1, 60)))
    return base * (0.5 + 0.5 * rng.random())


@dataclass(frozen=True, slots=True)
class RateLimiterMetrics:
    """Counters of a limiter, for logs, health and the metrics endpoint.

    Parameters
    ----------
    acquired : int
        Requests that went through `acquire`.
    weight_acquired : int
        Total weight taken by `acquire` and `debit`.
    waits : int
        Acquires that had to wait for budget or for a 429 backoff.
    total_wait_secs : float
        Total time those acquires waited.
    max_wait_secs : float
        Longest single wait.
    rate_limited : int
        HTTP 429 answers reported by clients.
    backoff_secs : float
        The pause imposed by the latest 429 (0 once a request succeeded again).
    """

    acquired: int
    weight_acquired: int
    waits: int
    total_wait_secs: float
    max_wait_secs: float
    rate_limited: int
    backoff_secs: float


class WeightedRateLimiter:
    """A token bucket of `capacity` weight refilled evenly over `period_secs` (see module notes).

    Parameters
    ----------
    capacity : int
        Budget per period (the venue's 1200 weight per minute).
    period_secs : float
        Period over which `capacity` refills.
    backoff_initial_secs : float
        Pause after a first 429 (doubled for each further 429 without a success in between).
    backoff_max_secs : float
        Cap of that pause.
    clock : Callable[[], float]
        Monotonic seconds.
    sleep : Callable[[float], Awaitable[None]]
        Coroutine that sleeps the given seconds (injected by tests together with `clock`).
    logger : Logger, optional
        NautilusTrader logger for 429 pauses (default: one named ``HyperliquidRateLimiter``).
    """

    def __init__(
        self,
        capacity: int = REST_WEIGHT_PER_MINUTE,
        period_secs: float = 60.0,
        *,
        backoff_initial_secs: float = 1.0,
        backoff_max_secs: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        logger: Logger | None = None,
    ) -> None:
        if capacity <= 0 or period_secs <= 0:
            raise ValueError("capacity and period_secs must be > 0")
        if backoff_initial_secs <= 0 or backoff_max_secs < backoff_initial_secs:
            raise ValueError("need 0 < backoff_initial_secs <= backoff_max_secs")
        self._capacity = float(capacity)
        self._rate = capacity / period_secs
        self._backoff_initial = backoff_initial_secs
        self._backoff_max = backoff_max_secs
        self._clock = clock
        self._sleep = sleep
        self._log = logger if logger is not None else Logger("HyperliquidRateLimiter")
        self._tokens = float(capacity)
        self._updated = clock()
        self._blocked_until = 0.0
        self._consecutive_429 = 0
        self._backoff = 0.0
        self._acquired = 0
        self._weight = 0
        self._waits = 0
        self._wait_total = 0.0
        self._wait_max = 0.0
        self._rate_limited = 0

    @property
    def capacity(self) -> int:
        """Budget per period."""
        return int(self._capacity)

    @property
    def available(self) -> float:
        """Weight available now (negative while requests are waiting for refill)."""
        self._refill(self._clock())
        return self._tokens

    @property
    def metrics(self) -> RateLimiterMetrics:
        """A snapshot of the counters."""
        return RateLimiterMetrics(
            acquired=self._acquired,
            weight_acquired=self._weight,
            waits=self._waits,
            total_wait_secs=self._wait_total,
            max_wait_secs=self._wait_max,
            rate_limited=self._rate_limited,
            backoff_secs=self._backoff,
        )

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
            self._updated = now

    def reserve(self, weight: int) -> float:
        """Take `weight` now and return how long the caller must wait before using it."""
        if weight <= 0:
            raise ValueError(f"weight must be > 0, was {weight}")
        if weight > self._capacity:
            raise ValueError(f"weight {weight} exceeds the bucket capacity {self._capacity:g}")
        now = self._clock()
        self._refill(now)
        self._tokens -= weight
        self._acquired += 1
        self._weight += weight
        deficit_wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        return max(deficit_wait, self._blocked_until - now, 0.0)

    async def acquire(self, weight: int) -> float:
        """Wait until `weight` may be spent; returns the seconds waited (0.0 if none).

        Cancelling a waiting acquire gives its weight back.
        """
        wait = self.reserve(weight)
        if wait <= 0.0:
            return 0.0
        self._waits += 1
        self._wait_total += wait
        self._wait_max = max(self._wait_max, wait)
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            self._tokens = min(self._capacity, self._tokens + weight)
            self._weight -= weight
            raise
        return wait

    def debit(self, weight: int) -> None:
        """Charge weight the venue counts after the fact; never waits (later acquires do)."""
        if weight <= 0:
            return
        self._refill(self._clock())
        self._tokens -= weight
        self._weight += weight

    def on_rate_limited(self, source: str, retry_after_secs: float | None = None) -> float:
        """Record a 429 from the venue: empty the bucket and pause every client; returns the pause.

        The pause doubles with each 429 that is not followed by a success, and honours the
        server's `Retry-After` when that is longer.
        """
        now = self._clock()
        self._refill(now)
        self._rate_limited += 1
        self._consecutive_429 += 1
        exponent = min(self._consecutive_429 - 1, 30)
        pause = min(self._backoff_max, self._backoff_initial * math.pow(2.0, exponent))
        if retry_after_secs is not None and retry_after_secs > pause:
            pause = min(retry_after_secs, self._backoff_max)
        self._tokens = min(self._tokens, 0.0)
        self._blocked_until = max(self._blocked_until, now + pause)
        self._backoff = pause
        self._log.warning(
            f"Hyperliquid rate limit hit (HTTP 429) on {source}: all requests paused "
            f"{pause:.2f} s (429 #{self._consecutive_429} in a row, {self._rate_limited} in total)"
        )
        return pause

    def on_success(self) -> None:
        """A request went through: the next 429 starts again from the initial pause."""
        if self._consecutive_429:
            self._consecutive_429 = 0
            self._backoff = 0.0


_SHARED: WeightedRateLimiter | None = None


def shared_rate_limiter() -> WeightedRateLimiter:
    """The process-wide limiter for the venue's per-IP budget (created on first use)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = WeightedRateLimiter()
    return _SHARED
