"""
Determinism: the same recorded input gives the identical sequence of structural events.

The input is synthetic but shaped like a real feed (seeded): a calm market with book snapshots,
level updates, trades and once-a-second venue context (mark, oracle, funding, open interest),
then a liquidation cascade (bids pulled, price falling, aggressive selling, OI collapsing,
funding flipping) and a recovery in which the bids refill. It runs twice through a
BacktestEngine and once through a bare DataEngine + TestClock replay (no BacktestEngine), and
the hashes of the event sequences must match. Replaying live through the Hyperliquid data client
needs that client (another issue) and is not covered here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Sequence
from decimal import Decimal

from nautilus_trader.backtest.data_client import BacktestMarketDataClient
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.config import LoggingConfig
from nautilus_trader.core.data import Data
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventThresholds
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import new_open_interest_update
from common.nautilus import custom_data_topic

INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
IID = INSTRUMENT.id
CLIENT_ID = ClientId("BINANCE")
T0 = 1_700_000_000_000_000_000
MS = 1_000_000
SEC = 1_000_000_000
SEED = 20_240_611

# Compact windows so a two-minute recording exercises every event kind's machinery.
THRESHOLDS = StructuralEventThresholds(
    oi_drop_pct=5.0,
    oi_drop_window_secs=10.0,
    oi_surge_pct=5.0,
    oi_surge_window_secs=10.0,
    depth_low_usd=100_000.0,
    depth_low_bps=20.0,
    absorption_min_usd=250_000.0,
    absorption_max_move_bps=2.0,
    absorption_window_secs=5.0,
    funding_accel_per_hour=0.0001,
    funding_window_secs=30.0,
    thinning_ratio=0.5,
    thinning_baseline_window_secs=30.0,
    refill_share=0.8,
    sweep_drop_share=0.5,
    rearm_secs=5.0,
)

CALM_END_S = 60.0
CASCADE_END_S = 75.0
END_S = 110.0
LEVELS = 25
TICK_STEP = 5.0  # 1 bp at 50k


class _Recording:
    """Builds a time-ordered list of Nautilus data with strictly increasing ts_init."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, Data]] = []
        self._n = 0

    def add(self, nominal_ns: int, make: object) -> None:
        self._items.append((nominal_ns, self._n, make))  # type: ignore[arg-type]
        self._n += 1

    def finish(self) -> list[Data]:
        out: list[Data] = []
        last = 0
        for nominal, _, make in sorted(self._items, key=lambda x: (x[0], x[1])):
            ts = max(nominal, last + 1)
            last = ts
            out.append(make(ts))  # type: ignore[operator]
        return out


def _book_delta(side: OrderSide, px: float, size: float, ts: int, flags: int) -> OrderBookDelta:
    action = BookAction.DELETE if size == 0.0 else BookAction.UPDATE
    order = BookOrder(side, Price(px, 1), Quantity(size, 3), 0)
    return OrderBookDelta(IID, action, order, flags, 0, ts, ts)


def _snapshot_maker(mid: float, bid_sizes: list[float], ask_sizes: list[float]) -> object:
    best_bid = round(mid - 0.5 * TICK_STEP, 1)

    def make(ts: int) -> OrderBookDeltas:
        items = [OrderBookDelta.clear(IID, 0, ts, ts)]
        n = len(bid_sizes) + len(ask_sizes)
        for i, size in enumerate(bid_sizes):
            order = BookOrder(
                OrderSide.BUY, Price(best_bid - i * TICK_STEP, 1), Quantity(size, 3), 0
            )
            items.append(OrderBookDelta(IID, BookAction.ADD, order, 0, 0, ts, ts))
        for i, size in enumerate(ask_sizes):
            px = best_bid + TICK_STEP + i * TICK_STEP
            flags = RecordFlag.F_LAST if len(bid_sizes) + i == n - 1 else 0
            order = BookOrder(OrderSide.SELL, Price(px, 1), Quantity(size, 3), 0)
            items.append(OrderBookDelta(IID, BookAction.ADD, order, flags, 0, ts, ts))
        return OrderBookDeltas(IID, items)

    return make


def _level_update_maker(side: OrderSide, px: float, size: float) -> object:
    def make(ts: int) -> OrderBookDeltas:
        return OrderBookDeltas(IID, [_book_delta(side, px, size, ts, RecordFlag.F_LAST)])

    return make


def _trade_maker(px: float, size: float, buyer: bool, n: int) -> object:
    side = AggressorSide.BUYER if buyer else AggressorSide.SELLER

    def make(ts: int) -> TradeTick:
        return TradeTick(IID, Price(px, 1), Quantity(size, 3), side, TradeId(str(n)), ts, ts)

    return make


def _context_makers(mark: float, oracle: float, funding: float, oi: float) -> list[object]:
    return [
        lambda ts: MarkPriceUpdate(IID, Price(mark, 1), ts, ts),
        lambda ts: IndexPriceUpdate(IID, Price(oracle, 1), ts, ts),
        lambda ts: FundingRateUpdate(IID, Decimal(f"{funding:.8f}"), ts, ts),
        lambda ts: CustomData(OPEN_INTEREST_DATA_TYPE, new_open_interest_update(IID, oi, ts, ts)),
    ]


def recorded_input(seed: int = SEED) -> list[Data]:
    """A seeded two-minute recording: calm, cascade (60-75 s), recovery."""
    rng = random.Random(seed)
    rec = _Recording()
    mid = 50_000.0
    oi = 10_000.0
    funding = 0.0000125
    trade_n = 0

    def normal_sizes() -> list[float]:
        return [round(rng.uniform(1.0, 4.0), 3) for _ in range(LEVELS)]

    bid_sizes = normal_sizes()
    ask_sizes = normal_sizes()
    step_ms = 5
    t_ms = 0
    while t_ms < END_S * 1000:
        t_s = t_ms / 1000.0
        nominal = T0 + t_ms * MS
        cascade = CALM_END_S <= t_s < CASCADE_END_S
        snapshot_every_ms = 200 if cascade else 1000
        if t_ms % snapshot_every_ms == 0:
            if cascade:
                mid *= 1.0 - 0.0008  # about -6 % over the 15 s sell-off
                bid_sizes = [round(rng.uniform(0.005, 0.02), 3) for _ in range(LEVELS)]
                ask_sizes = normal_sizes()
            else:
                mid *= 1.0 + rng.gauss(0.0, 0.0001)
                bid_sizes = normal_sizes()
                ask_sizes = normal_sizes()
            mid = round(mid * 2) / 2  # keep the grid on whole ticks
            rec.add(nominal, _snapshot_maker(mid, list(bid_sizes), list(ask_sizes)))
        elif not cascade:
            # Level churn between snapshots: one level resized (rarely pulled).
            is_bid = rng.random() < 0.5
            i = rng.randrange(LEVELS)
            best_bid = round(mid - 0.5 * TICK_STEP, 1)
            px = best_bid - i * TICK_STEP if is_bid else best_bid + TICK_STEP + i * TICK_STEP
            size = 0.0 if rng.random() < 0.02 else round(rng.uniform(1.0, 4.0), 3)
            side = OrderSide.BUY if is_bid else OrderSide.SELL
            rec.add(nominal, _level_update_maker(side, px, size))

        trade_rate_per_step = (60.0 if cascade else 4.0) * step_ms / 1000.0
        if rng.random() < trade_rate_per_step:
            trade_n += 1
            buyer = (rng.random() < 0.5) if not cascade else (rng.random() < 0.1)
            size = round(rng.uniform(0.2, 2.0) if cascade else rng.uniform(0.01, 0.3), 3)
            px = mid + 0.5 * TICK_STEP if buyer else mid - 0.5 * TICK_STEP
            rec.add(nominal + 1, _trade_maker(round(px, 1), size, buyer, trade_n))

        if t_ms % 1000 == 500:
            if cascade:
                oi *= 0.985  # liquidations: about -20 % over the sell-off
                funding = max(funding - 0.00002, -0.0002)
            else:
                oi *= 1.0 + rng.gauss(0.0, 0.0005)
                if t_s >= CASCADE_END_S:
                    funding = min(funding + 0.000005, 0.0000125)
            mark = round(mid + rng.uniform(-2.0, 2.0), 1)
            oracle = round(mid + rng.uniform(-2.0, 2.0), 1)
            for k, make in enumerate(_context_makers(mark, oracle, funding, round(oi, 3))):
                rec.add(nominal + 2 + k, make)
        t_ms += step_ms
    return rec.finish()


class EventRecorder(Actor):
    """Records every StructuralEvent published on the bus."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[StructuralEvent] = []

    def on_start(self) -> None:
        self.msgbus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self.events.append)


def _builder() -> MarketStateBuilder:
    return MarketStateBuilder(
        MarketStateBuilderConfig(instrument_id=IID, client_id=CLIENT_ID, thresholds=THRESHOLDS),
    )


def run_in_backtest_engine(data: Sequence[Data]) -> list[StructuralEvent]:
    """Events of one BacktestEngine run over `data`."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(1_000_000, USDT)],
        book_type=BookType.L2_MBP,
    )
    engine.add_instrument(INSTRUMENT)
    by_type: dict[type, list[Data]] = {}
    for item in data:
        by_type.setdefault(type(item), []).append(item)
    for kind, items in by_type.items():
        engine.add_data(items, client_id=CLIENT_ID if kind is CustomData else None, sort=False)
    engine.sort_data()
    recorder = EventRecorder()
    engine.add_actor(_builder())
    engine.add_actor(recorder)
    try:
        engine.run()
    finally:
        engine.dispose()
    return recorder.events


def run_direct_replay(data: Sequence[Data]) -> list[StructuralEvent]:
    """Events of a replay through a bare DataEngine driven by a TestClock (no BacktestEngine)."""
    clock = TestClock()
    clock.set_time(data[0].ts_init)
    msgbus = MessageBus(TraderId("REPLAY-001"), clock)
    # The backtest data client forwards subscriptions to the BacktestEngine; here the replay
    # pushes every object itself, so subscriptions need no action.
    msgbus.register("BacktestEngine.execute", lambda command: None)
    cache = Cache()
    portfolio = Portfolio(msgbus, cache, clock)
    data_engine = DataEngine(msgbus, cache, clock)
    data_engine.register_client(BacktestMarketDataClient(CLIENT_ID, msgbus, cache, clock))
    cache.add_instrument(INSTRUMENT)
    builder = _builder()
    recorder = EventRecorder()
    for actor in (builder, recorder):
        actor.register_base(portfolio, msgbus, cache, clock)
    data_engine.start()
    builder.start()
    recorder.start()
    for item in data:
        for handler in clock.advance_time(item.ts_init):
            handler.handle()
        data_engine.process(item)
    builder.stop()
    recorder.stop()
    data_engine.stop()
    return recorder.events


def events_hash(events: Sequence[StructuralEvent]) -> str:
    """SHA-256 over the events' dicts, in order (floats by repr: bit-exact)."""
    payload = json.dumps([event.to_dict() for event in events], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def test_recording_is_itself_reproducible() -> None:
    first = recorded_input()
    second = recorded_input()

    assert len(first) == len(second) > 20_000
    assert [type(x) for x in first] == [type(x) for x in second]
    assert [x.ts_init for x in first] == [x.ts_init for x in second]
    stamps = [x.ts_init for x in first]
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_same_input_gives_identical_structural_events_in_backtests_and_direct_replay() -> None:
    data = recorded_input()

    backtest_1 = run_in_backtest_engine(data)
    backtest_2 = run_in_backtest_engine(data)
    replay = run_direct_replay(data)

    kinds = {event.kind for event in backtest_1}
    assert {"OI_DROP", "BID_DEPTH_LOW", "DEPTH_THINNING", "FUNDING_ACCELERATION"} <= kinds, kinds
    assert "BOOK_REFILL" in kinds, kinds
    assert events_hash(backtest_1) == events_hash(backtest_2) == events_hash(replay)
    assert len(backtest_1) == len(replay) > 0
    # The cascade's facts land inside the cascade window.
    oi_drop = next(e for e in backtest_1 if e.kind == "OI_DROP")
    assert T0 + int(CALM_END_S * SEC) < oi_drop.ts_event < T0 + int(CASCADE_END_S * SEC)
