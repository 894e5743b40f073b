"""The weighted token bucket: venue weights, waiting without polling, 429 backoff, counters.

Time is a fake monotonic clock whose `sleep` advances it, so every wait is exact and the tests
are deterministic; expected waits are computed here from the venue's figures (1200 weight per
minute = 20 per second), never by the limiter.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from adapters.hyperliquid.rate_limit import WeightedRateLimiter
from adapters.hyperliquid.rate_limit import exchange_weight
from adapters.hyperliquid.rate_limit import info_extra_weight
from adapters.hyperliquid.rate_limit import info_weight
from adapters.hyperliquid.rate_limit import jittered_backoff
from adapters.hyperliquid.rate_limit import shared_rate_limiter
from adapters.hyperliquid.schemas.exchange import CancelAction
from adapters.hyperliquid.schemas.exchange import CancelWire
from adapters.hyperliquid.schemas.exchange import LimitOrderType
from adapters.hyperliquid.schemas.exchange import OrderAction
from adapters.hyperliquid.schemas.exchange import OrderTypeWire
from adapters.hyperliquid.schemas.exchange import OrderWire
from jarvis.testkit import CapturingLogger


class FakeTime:
    """A monotonic clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, secs: float) -> None:
        self.sleeps.append(secs)
        self.now += secs


def _limiter(fake: FakeTime, **kwargs: float) -> WeightedRateLimiter:
    return WeightedRateLimiter(clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]


def _order(n: int) -> dict[str, object]:
    wire = {"a": 0, "b": True, "p": "100", "s": "1", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    return {"type": "order", "orders": [wire] * n, "grouping": "na"}


# --- weights (PROTOCOL.md §10) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("info_type", "weight"),
    [
        ("l2Book", 2),
        ("allMids", 2),
        ("clearinghouseState", 2),
        ("orderStatus", 2),
        ("spotClearinghouseState", 2),
        ("exchangeStatus", 2),
        ("userRole", 60),
        ("meta", 20),
        ("userFills", 20),
        ("candleSnapshot", 20),
        ("somethingNew", 20),
    ],
)
def test_info_weights_follow_the_venue_table(info_type: str, weight: int) -> None:
    assert info_weight(info_type) == weight


@pytest.mark.parametrize(
    ("info_type", "items", "extra"),
    [
        ("userFills", 19, 0),
        ("userFills", 20, 1),
        ("userFills", 2000, 100),
        ("fundingHistory", 45, 2),
        ("userFunding", 500, 25),
        ("historicalOrders", 40, 2),
        ("recentTrades", 39, 1),
        ("candleSnapshot", 59, 0),
        ("candleSnapshot", 130, 2),
        ("candleSnapshot", 5000, 83),
        ("l2Book", 1000, 0),
        ("meta", 1000, 0),
    ],
)
def test_extra_weight_is_charged_per_returned_item_for_history_queries(
    info_type: str, items: int, extra: int
) -> None:
    assert info_extra_weight(info_type, items) == extra


@pytest.mark.parametrize(("n_orders", "weight"), [(1, 1), (39, 1), (40, 2), (79, 2), (80, 3)])
def test_exchange_weight_is_one_plus_batch_length_over_40(n_orders: int, weight: int) -> None:
    assert exchange_weight(_order(n_orders)) == weight


def test_exchange_weight_reads_struct_actions_and_non_batch_actions() -> None:
    wire = OrderWire(
        a=0, b=True, p="100", s="1", r=False, t=OrderTypeWire(limit=LimitOrderType(tif="Gtc"))
    )
    assert exchange_weight(OrderAction(orders=[wire] * 41, grouping="na")) == 2
    assert exchange_weight(CancelAction(cancels=[CancelWire(a=0, o=1)] * 120)) == 4
    assert exchange_weight({"type": "cancelByCloid", "cancels": [{}] * 40}) == 2
    assert exchange_weight({"type": "batchModify", "modifies": [{}] * 80}) == 3
    assert exchange_weight({"type": "updateLeverage", "asset": 0, "isCross": True}) == 1
    assert exchange_weight({"type": "scheduleCancel"}) == 1


# --- the bucket ----------------------------------------------------------------------------------


async def test_requests_within_the_budget_never_wait() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)

    waits = [await limiter.acquire(2) for _ in range(600)]  # 600 * 2 = 1200, the full minute

    assert waits == [0.0] * 600
    assert fake.sleeps == []
    assert limiter.metrics.waits == 0
    assert limiter.metrics.weight_acquired == 1200


async def test_an_empty_bucket_waits_exactly_for_the_refill_in_one_sleep() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    for _ in range(60):
        await limiter.acquire(20)  # 1200: empty

    waited = await limiter.acquire(20)  # needs 20 at 20 per second

    assert waited == pytest.approx(1.0)
    assert fake.sleeps == [pytest.approx(1.0)]
    metrics = limiter.metrics
    assert metrics.waits == 1
    assert metrics.total_wait_secs == pytest.approx(1.0)
    assert metrics.max_wait_secs == pytest.approx(1.0)


async def test_budget_refills_with_time_up_to_the_capacity() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    for _ in range(60):
        await limiter.acquire(20)

    fake.now += 30.0
    assert limiter.available == pytest.approx(600.0)
    fake.now += 3_600.0
    assert limiter.available == pytest.approx(1200.0)


async def test_waiters_are_served_in_arrival_order() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    for _ in range(60):
        await limiter.acquire(20)

    # Each later reservation waits for the refill of everything reserved before it.
    assert limiter.reserve(20) == pytest.approx(1.0)
    assert limiter.reserve(60) == pytest.approx(4.0)
    assert limiter.reserve(2) == pytest.approx(4.1)


async def test_later_weight_charged_by_debit_makes_the_next_request_wait() -> None:
    fake = FakeTime()
    limiter = _limiter(fake)
    await limiter.acquire(20)

    limiter.debit(1200)  # e.g. a huge history answer; debit itself never waits

    assert fake.sleeps == []
    assert await limiter.acquire(2) == pytest.approx((20 + 2) / 20)


async def test_a_weight_above_the_capacity_is_refused_loudly() -> None:
    limiter = _limiter(FakeTime(), capacity=100)
    with pytest.raises(ValueError, match="exceeds the bucket capacity"):
        await limiter.acquire(101)
    with pytest.raises(ValueError, match="weight must be > 0"):
        await limiter.acquire(0)


async def test_a_cancelled_wait_gives_its_weight_back() -> None:
    blocked = asyncio.Event()
    now = [0.0]

    async def never_wakes(_: float) -> None:
        blocked.set()
        await asyncio.Event().wait()

    limiter = WeightedRateLimiter(capacity=100, clock=lambda: now[0], sleep=never_wakes)
    await limiter.acquire(100)
    task = asyncio.create_task(limiter.acquire(50))
    await blocked.wait()
    assert limiter.available == pytest.approx(-50.0)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert limiter.available == pytest.approx(0.0)


async def test_a_real_clock_wait_sleeps_instead_of_polling() -> None:
    limiter = WeightedRateLimiter(capacity=10, period_secs=1.0)  # 10 per second, real time
    await limiter.acquire(10)
    loop = asyncio.get_running_loop()
    started = loop.time()

    await limiter.acquire(1)  # one tenth of a second of refill

    assert loop.time() - started >= 0.09
    assert limiter.metrics.waits == 1


# --- 429 ----------------------------------------------------------------------------------------


async def test_a_429_pauses_every_request_and_is_counted_and_logged() -> None:
    fake = FakeTime()
    log = CapturingLogger()
    limiter = WeightedRateLimiter(
        clock=fake.clock,
        sleep=fake.sleep,  # type: ignore[arg-type]
        backoff_initial_secs=1.0,
        backoff_max_secs=8.0,
        logger=log,
    )

    pause = limiter.on_rate_limited("info:l2Book")

    assert pause == pytest.approx(1.0)
    # The bucket is emptied too: the venue says our view of the budget was too optimistic.
    assert await limiter.acquire(2) == pytest.approx(1.0)
    assert limiter.metrics.rate_limited == 1
    assert limiter.metrics.backoff_secs == pytest.approx(1.0)
    (line,) = log.lines
    assert line.startswith("WARNING ")
    assert "HTTP 429" in line
    assert "info:l2Book" in line
    assert "paused 1.00 s" in line


async def test_consecutive_429s_double_the_pause_up_to_the_cap_and_success_resets_it() -> None:
    fake = FakeTime()
    limiter = _limiter(fake, backoff_initial_secs=1.0, backoff_max_secs=5.0)

    pauses = [limiter.on_rate_limited("info:meta") for _ in range(5)]
    limiter.on_success()
    after_success = limiter.on_rate_limited("info:meta")

    assert pauses == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert after_success == 1.0
    assert limiter.metrics.rate_limited == 6


async def test_a_longer_retry_after_from_the_server_is_honoured() -> None:
    fake = FakeTime()
    limiter = _limiter(fake, backoff_initial_secs=1.0, backoff_max_secs=60.0)

    assert limiter.on_rate_limited("exchange:order", retry_after_secs=7.5) == 7.5
    assert await limiter.acquire(1) == pytest.approx(7.5)


def test_one_limiter_is_shared_by_the_whole_process() -> None:
    assert shared_rate_limiter() is shared_rate_limiter()


# --- backoff ------------------------------------------------------------------------------------


def test_jittered_backoff_doubles_from_the_initial_delay_and_stays_capped() -> None:
    rng = random.Random(3)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 5.0), (50, 5.0)]:
        delays = [jittered_backoff(attempt, 0.5, 5.0, rng) for _ in range(200)]
        assert min(delays) >= base / 2
        assert max(delays) <= base
        assert max(delays) - min(delays) > base / 4  # really jittered, not a constant


# --- property: the bucket never grants more than capacity + refill in any window -------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=60), st.floats(min_value=0.0, max_value=3.0)),
        min_size=1,
        max_size=80,
    )
)
def test_granted_weight_never_exceeds_capacity_plus_refill_in_any_window(
    requests: list[tuple[int, float]],
) -> None:
    now = [0.0]
    limiter = WeightedRateLimiter(capacity=120, period_secs=6.0, clock=lambda: now[0])
    rate = 120 / 6.0
    grants: list[tuple[float, int]] = []
    for weight, gap in requests:
        now[0] += gap
        grants.append((now[0] + limiter.reserve(weight), weight))
    grants.sort()

    for i, (start, _) in enumerate(grants):
        total = 0
        for end, weight in grants[i:]:
            total += weight
            assert total <= 120 + rate * (end - start) + 1e-6
