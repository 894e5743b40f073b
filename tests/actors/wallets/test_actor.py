"""Wallet tracker actor in a BacktestEngine: prints and OI_DROP in, state on the bus and store."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ActorFactory
from nautilus_trader.common.config import ImportableActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from actors.hot_state import HotStateReader
from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from actors.wallets.actor import WalletTrackerActor
from actors.wallets.actor import WalletTrackerConfig
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.data import WALLET_BEHAVIOUR_DATA_TYPE
from actors.wallets.data import ManipulatorState
from actors.wallets.data import WalletBehaviour
from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import new_open_interest_update
from common.nautilus import custom_data_topic

INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
IID = INSTRUMENT.id
CLIENT = ClientId("BINANCE")
S = 1_000_000_000
T0 = 1_700_000_000 * S
HUNTER = "0x" + "ab" * 20
MAKER = "0x" + "cd" * 20
CROWD = "0x" + "ef" * 20


def _print(secs: float, px: float, usd: float, buyer: str, seller: str, side: str) -> CustomData:
    ts = T0 + int(secs * S)
    ctor: Any = HyperliquidTrade
    trade = ctor(
        ts_event=ts,
        ts_init=ts,
        instrument_id=IID,
        price=px,
        size=usd / px,
        aggressor_side=side,
        buyer=buyer,
        seller=seller,
        hash="0x00",
        tid=int(secs * 1000),
    )
    return CustomData(HYPERLIQUID_TRADE_DATA_TYPE, trade)


def _oi(secs: float, value: float) -> CustomData:
    ts = T0 + int(secs * S)
    return CustomData(OPEN_INTEREST_DATA_TYPE, new_open_interest_update(IID, value, ts, ts))


def _book(ts: int) -> OrderBookDeltas:
    items = [OrderBookDelta.clear(IID, 0, ts, ts)]
    for side, px in ((OrderSide.BUY, 49_990.0), (OrderSide.SELL, 50_010.0)):
        order = BookOrder(side, Price(px, 1), Quantity(5.0, 3), 0)
        items.append(OrderBookDelta(IID, BookAction.ADD, order, 0, 0, ts, ts))
    last = items[-1]
    items[-1] = OrderBookDelta(
        IID, last.action, last.order, RecordFlag.F_LAST, 0, last.ts_event, last.ts_init
    )
    return OrderBookDeltas(IID, items)


class Sink(Actor):
    """Collects the tracker's publications and the state builder's MarketState + hot store."""

    def __init__(self, hot_store_name: str) -> None:
        super().__init__()
        self.behaviours: list[WalletBehaviour] = []
        self.states: list[ManipulatorState] = []
        self.market: list[MarketState] = []
        self.hot: list[dict[str, Any]] = []
        self._name = hot_store_name

    def on_start(self) -> None:
        self.msgbus.subscribe(custom_data_topic(WALLET_BEHAVIOUR_DATA_TYPE), self.behaviours.append)
        self.msgbus.subscribe(custom_data_topic(MANIPULATOR_STATE_DATA_TYPE), self.states.append)
        self.msgbus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_market)

    def _on_market(self, state: MarketState) -> None:
        self.market.append(state)
        with HotStateReader(self._name) as reader:
            snap = reader.read(0, reader.new_snapshot(), self.clock.timestamp_ns())
            assert snap is not None
            self.hot.append(snap.to_dict())


def _run(prints: Sequence[CustomData], oi: Sequence[CustomData]) -> tuple[Sink, Any]:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(Venue("BINANCE"), OmsType.NETTING, AccountType.MARGIN, [Money(1e6, USDT)])
    engine.add_instrument(INSTRUMENT)
    engine.add_data([_book(T0)])
    engine.add_data(list(prints), client_id=CLIENT)
    engine.add_data(list(oi), client_id=CLIENT)
    name = f"jarvis-test-wallets-{uuid.uuid4().hex[:8]}"
    builder = MarketStateBuilder(
        MarketStateBuilderConfig(instrument_id=IID, hot_store_name=name, refresh_interval_ms=0)
    )
    tracker = WalletTrackerActor(WalletTrackerConfig(instrument_ids=[IID]))
    sink = Sink(name)
    engine.add_actor(builder)
    engine.add_actor(tracker)
    engine.add_actor(sink)
    try:
        engine.run()
    finally:
        engine.dispose()
    return sink, tracker


def _transitions(states: Sequence[ManipulatorState]) -> list[ManipulatorState]:
    out: list[ManipulatorState] = []
    for state in states:
        key = (state.is_manipulator_active, state.manipulator_direction)
        if not out or key != (out[-1].is_manipulator_active, out[-1].manipulator_direction):
            out.append(state)
    return out


def _hunt(cascade: bool) -> tuple[list[CustomData], list[CustomData]]:
    prints = [_print(5, 50_000.0, 400_000.0, MAKER, HUNTER, "A")]  # the hunter sells short
    for i in range(25):  # the price slides 3 %
        prints.append(_print(6 + i, 50_000.0 * (1 - 0.0012 * i), 2_000.0, MAKER, CROWD, "A"))
    prints.append(_print(40, 48_000.0, 400_000.0 * 0.96, HUNTER, MAKER, "B"))  # covers
    drop = 0.90 if cascade else 0.99
    oi = [_oi(s, 1_000.0) for s in range(0, 30)] + [_oi(s, 1_000.0 * drop) for s in (30, 31)]
    oi += [_oi(45, 1_000.0 * drop)]
    return prints, oi


def test_oi_drop_after_an_aggressive_short_flags_the_hunter_on_bus_and_hot_store() -> None:
    sink, tracker = _run(*_hunt(cascade=True))

    assert [(b.address, b.behaviour) for b in sink.behaviours] == [
        (HUNTER, "PRE_CASCADE_ENTRY"),
        (HUNTER, "CASCADE_EXIT"),
        (HUNTER, "SHORT_HOLD"),
        (MAKER, "CASCADE_EXIT"),  # the maker's long was reduced in the cascade: a fact ...
    ]
    assert sink.behaviours[-1].taker_share == 0.0  # ... but built passively: no manipulator
    changes = _transitions(sink.states)
    assert [
        (s.ts_init - T0, s.is_manipulator_active, s.manipulator_direction) for s in changes
    ] == [
        (0 * S + S, False, "NONE"),  # the first heartbeat
        (30 * S, True, "SHORT"),  # the OI drop at 30 s
        (40 * S, False, "NONE"),  # the hunter covered
    ]
    assert changes[1].address == HUNTER
    assert changes[1].position_usd == pytest.approx(-400_000.0)
    flagged = [m for m in sink.market if T0 + 30 * S <= m.ts_init < T0 + 40 * S]
    assert flagged and all(m.is_manipulator_active == 1.0 for m in flagged)
    assert all(m.manipulator_direction == -1.0 for m in flagged)
    hot = [h for h, m in zip(sink.hot, sink.market, strict=True) if m in flagged]
    assert all(h["is_manipulator_active"] == 1.0 for h in hot)
    assert all(h["manipulator_direction"] == -1.0 for h in hot)
    after = [m for m in sink.market if m.ts_init > T0 + 41 * S]
    assert after and after[-1].is_manipulator_active == 0.0
    assert tracker.behaviours_published == 4


def test_without_a_cascade_nobody_is_flagged_and_the_heartbeat_says_so() -> None:
    sink, _ = _run(*_hunt(cascade=False))

    assert [b.behaviour for b in sink.behaviours] == ["SHORT_HOLD"]  # alone: no manipulation
    assert sink.states and not any(s.is_manipulator_active for s in sink.states)
    assert all(s.manipulator_direction == "NONE" for s in sink.states)
    late = [m for m in sink.market if m.ts_init > T0 + 2 * S]
    assert late and all(m.is_manipulator_active == 0.0 for m in late)
    early = [m for m in sink.market if m.ts_init < T0 + S]
    assert all(math.isnan(m.is_manipulator_active) for m in early)


def test_the_actor_loads_from_a_node_config_table_and_refuses_bad_values() -> None:
    table = {
        "component_id": "WalletTracker",
        "instrument_ids": ["BTC-USD-PERP.HYPERLIQUID", "ETH-USD-PERP.HYPERLIQUID"],
        "thresholds": {"max_addresses": 5000, "min_position_usd": 250000.0},
    }

    actor = ActorFactory.create(
        ImportableActorConfig(
            actor_path="actors.wallets.actor:WalletTrackerActor",
            config_path="actors.wallets.actor:WalletTrackerConfig",
            config=table,
        )
    )

    assert isinstance(actor, WalletTrackerActor)
    assert actor.tracker.thresholds.max_addresses == 5000
    assert actor.tracker.thresholds.min_position_usd == 250_000.0
    with pytest.raises(ValueError, match="instrument_ids"):
        WalletTrackerConfig(instrument_ids=[])
    with pytest.raises(ValueError, match="min_taker_share"):
        WalletTrackerConfig.parse(
            '{"instrument_ids": ["BTC-USD-PERP.HYPERLIQUID"], '
            '"thresholds": {"min_taker_share": 2.0}}'
        )
