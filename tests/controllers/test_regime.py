"""The regime controller inside a BacktestEngine: gates, hand-over and its timeout, grants,
runtime additions, and what it publishes -- with a real test strategy speaking the protocol."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider
from nautilus_trader.trading.messages import CreateStrategy

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyGate
from controllers.protocol import StrategySide
from controllers.protocol import StrategyState
from controllers.protocol import StrategyStatus
from controllers.regime import RegimeController
from controllers.regime import RegimeControllerConfig
from controllers.regime import _concerns
from jarvis.testkit import EXPANSION_INPUTS
from jarvis.testkit import SIDEWAYS_INPUTS

INSTRUMENT = TestInstrumentProvider.btcusdt_perp_binance()
IID = INSTRUMENT.id
SEC = 1_000_000_000
MS = 1_000_000
T0 = 1_700_000_000 * SEC
STRATEGY_PATH = "tests.controllers.protocol_strategy:ProtocolStrategy"
STRATEGY_CONFIG_PATH = "tests.controllers.protocol_strategy:ProtocolStrategyConfig"

SIDEWAYS = SIDEWAYS_INPUTS
EXPANSION = EXPANSION_INPUTS
Phases = Callable[[int], dict[str, float] | None]


class Feeder(Actor):
    """Publishes one hand-built MarketState per quote tick (None from `phases`: no state),
    and the FeedHealth changes of `health` (seconds -> (stream, status)) when their time comes."""

    def __init__(self, phases: Phases, health: dict[float, tuple[str, str]] | None = None) -> None:
        super().__init__()
        self._phases = phases
        self._health = sorted((health or {}).items())

    def on_start(self) -> None:
        self.subscribe_quote_ticks(IID)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        while self._health and T0 + round(self._health[0][0] * SEC) <= tick.ts_init:
            _, (stream, status) = self._health.pop(0)
            ctor: Any = FeedHealth
            health = ctor(
                stream=stream,
                status=status,
                reason="test",
                since_ns=tick.ts_init,
                ts_event=tick.ts_init,
                ts_init=tick.ts_init,
            )
            self.publish_data(FEED_HEALTH_DATA_TYPE, health)
        fields = self._phases(tick.ts_init - T0)
        if fields is None:
            return
        make: Any = MarketState
        state: MarketState = make(
            ts_event=tick.ts_init,
            ts_init=tick.ts_init,
            instrument_id=IID,
            input_ts_ns=tick.ts_init,
            **fields,
        )
        self.publish_data(MARKET_STATE_DATA_TYPE, state)


class Recorder(Actor):
    """Everything the controller and the strategies publish, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Any] = []
        # At each ENABLE: (strategy id, open positions on IID, every strategy's own status).
        self.at_enable: list[tuple[str, int, dict[str, str]]] = []
        self.trader: Any = None

    def on_start(self) -> None:
        for data_type in (
            REGIME_CHANGE_DATA_TYPE,
            STRATEGY_GATE_DATA_TYPE,
            STRATEGY_STATE_DATA_TYPE,
        ):
            self.msgbus.subscribe(custom_data_topic(data_type), self._on_item)

    def _on_item(self, item: Any) -> None:
        self.items.append(item)
        if isinstance(item, StrategyGate) and item.action == "ENABLE":
            self.at_enable.append(
                (
                    item.strategy_id,
                    len(self.cache.positions_open(instrument_id=IID)),
                    {s.id.value: s.status.value for s in self.trader.strategies()},
                ),
            )

    def of(self, cls: type) -> list[Any]:
        return [i for i in self.items if isinstance(i, cls)]


def _strategy(
    name: str,  # for the reader: ids are ProtocolStrategy-<tag>
    side: str | None,
    tag: str,
    **config: Any,
) -> dict[str, Any]:
    return {
        "strategy": ImportableStrategyConfig(
            strategy_path=STRATEGY_PATH,
            config_path=STRATEGY_CONFIG_PATH,
            config={
                "order_id_tag": tag,
                "instrument_id": str(IID),
                **config,
            },
        ),
        "side": side,
    }


def _quotes(secs: int) -> list[QuoteTick]:
    return [
        QuoteTick(
            IID,
            Price(50000.0, 1),
            Price(50001.0, 1),
            Quantity(10.0, 3),
            Quantity(10.0, 3),
            T0 + k * 100 * MS,
            T0 + k * 100 * MS,
        )
        for k in range(secs * 10 + 1)
    ]


def _run(
    phases: Phases,
    strategies: list[dict[str, Any]],
    secs: int = 30,
    during: Callable[[BacktestEngine, RegimeController], None] | None = None,
    health: dict[float, tuple[str, str]] | None = None,
    **controller: Any,
) -> tuple[BacktestEngine, RegimeController, Recorder]:
    config = {
        "instrument_ids": [str(IID)],
        "enter_confirm_secs": 2.0,
        "exit_confirm_secs": 1.0,
        "handover_timeout_secs": 3.0,
        "strategies": strategies,
        **controller,
    }
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR"),
            controller=ImportableControllerConfig(
                controller_path="controllers.regime:RegimeController",
                config_path="controllers.regime:RegimeControllerConfig",
                config=config,
            ),
        ),
    )
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(1_000_000, USDT)],
    )
    engine.add_instrument(INSTRUMENT)
    engine.add_data(_quotes(secs))
    recorder = Recorder()
    engine.add_actor(recorder)
    engine.add_actor(Feeder(phases, health))
    ctl: RegimeController = engine.kernel._controller  # type: ignore[assignment]
    recorder.trader = engine.trader
    if during is None:
        engine.run()
    else:
        half = T0 + secs * SEC // 2
        import pandas as pd

        engine.run(end=pd.Timestamp(half, unit="ns", tz="UTC"), streaming=True)
        during(engine, ctl)
        engine.run(start=pd.Timestamp(half + 1, unit="ns", tz="UTC"), streaming=True)
        engine.end()
    return engine, ctl, recorder


def _switch(at_secs: int, first: dict[str, float], then: dict[str, float]) -> Phases:
    return lambda t: first if t < at_secs * SEC else then


def _gates(recorder: Recorder) -> list[tuple[str, str, float]]:
    return [(g.strategy_id, g.action, (g.ts_init - T0) / SEC) for g in recorder.of(StrategyGate)]


def _enabled_sides_over_time(recorder: Recorder, sides: dict[str, str]) -> list[set[str]]:
    enabled: set[str] = set()
    history = []
    for item in recorder.items:
        if isinstance(item, StrategyGate) and item.action in ("ENABLE", "DISABLE"):
            if item.action == "ENABLE":
                enabled.add(item.strategy_id)
            else:
                enabled.discard(item.strategy_id)
            history.append({sides[s] for s in enabled})
    return history


# -- gates and grants ------------------------------------------------------------------------


def test_sideways_enables_the_sideways_side_and_grants_the_instrument_to_the_first_armer() -> None:
    engine, ctl, recorder = _run(
        lambda t: SIDEWAYS,
        [
            _strategy("GEO", "SIDEWAYS", "001", arm_on_enable=True),
            _strategy("KIN", "SIDEWAYS", "002", arm_on_enable=True),
            _strategy("CAS", "EXPANSION", "003", arm_on_enable=True),
        ],
        secs=5,
    )
    try:
        changes = recorder.of(RegimeChange)
        assert [(c.previous, c.regime, (c.ts_init - T0) / SEC) for c in changes] == [
            ("DISABLED", "SIDEWAYS", 2.0),
        ]
        assert _gates(recorder) == [
            ("ProtocolStrategy-001", "ENABLE", 2.0),
            ("ProtocolStrategy-001", "GRANT", 2.0),
            ("ProtocolStrategy-002", "ENABLE", 2.0),
            ("ProtocolStrategy-002", "REFUSE", 2.0),
        ]
        refused = [g for g in recorder.of(StrategyGate) if g.action == "REFUSE"]
        assert refused[0].reason == "held by ProtocolStrategy-001"
        assert ctl.holder(IID) == "ProtocolStrategy-001"
    finally:
        engine.dispose()


def test_the_grant_is_released_when_the_holder_reports_scanning_and_then_goes_to_the_next() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        geo = engine.trader.strategies()[0]
        kin = engine.trader.strategies()[1]
        assert kin.request_grant().granted is False  # type: ignore[attr-defined]
        geo.back_to_scanning()  # type: ignore[attr-defined]
        assert ctl.holder(IID) is None
        assert kin.request_grant().granted is True  # type: ignore[attr-defined]
        assert geo.request_grant().granted is False  # type: ignore[attr-defined]

    engine, ctl, recorder = _run(
        lambda t: SIDEWAYS,
        [
            _strategy("GEO", "SIDEWAYS", "001", arm_on_enable=True),
            _strategy("KIN", "SIDEWAYS", "002"),
        ],
        secs=6,
        during=during,
    )
    try:
        actions = [(s, a) for s, a, _ in _gates(recorder)]
        assert actions == [
            ("ProtocolStrategy-001", "ENABLE"),
            ("ProtocolStrategy-001", "GRANT"),
            ("ProtocolStrategy-002", "ENABLE"),
            ("ProtocolStrategy-002", "REFUSE"),
            ("ProtocolStrategy-001", "RELEASE"),
            ("ProtocolStrategy-002", "GRANT"),
            ("ProtocolStrategy-001", "REFUSE"),
        ]
        assert ctl.holder(IID) == "ProtocolStrategy-002"
    finally:
        engine.dispose()


def test_no_grant_while_the_node_is_reducing() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        engine.kernel.risk_engine.set_trading_state(TradingState.REDUCING)
        request = engine.trader.strategies()[0].request_grant()  # type: ignore[attr-defined]
        assert request.granted is False
        assert request.reason == "node trading state REDUCING"

    engine, ctl, _ = _run(
        lambda t: SIDEWAYS,
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=6,
        during=during,
    )
    engine.dispose()
    assert ctl.holder(IID) is None


def test_a_disabled_regime_enables_nothing() -> None:
    ambiguous_or_warming = {**SIDEWAYS, "depth_asymmetry_mean_15m": float("nan")}
    engine, _, recorder = _run(
        lambda t: ambiguous_or_warming,
        [_strategy("GEO", "SIDEWAYS", "001"), _strategy("CAS", "EXPANSION", "003")],
        secs=6,
    )
    engine.dispose()
    assert recorder.of(RegimeChange) == []
    assert _gates(recorder) == []


# -- hand-over -------------------------------------------------------------------------------


def test_switch_disables_the_outgoing_side_and_enables_the_incoming_only_once_it_is_flat() -> None:
    # Arrange: exit confirmation longer than entry, so SIDEWAYS -> EXPANSION is one switch;
    # GEO holds a position when it comes.
    sides = {"ProtocolStrategy-001": "SIDEWAYS", "ProtocolStrategy-003": "EXPANSION"}
    engine, _, recorder = _run(
        _switch(5, SIDEWAYS, EXPANSION),
        [
            _strategy("GEO", "SIDEWAYS", "001", arm_on_enable=True, enter_on_arm=True),
            _strategy("CAS", "EXPANSION", "003"),
        ],
        secs=12,
        exit_confirm_secs=5.0,
    )
    try:
        # Assert: the regime switched directly; GEO had entered; CAS was enabled only once GEO
        # was DISABLED with no position left (its close filled); never both sides at once;
        # the node stayed ACTIVE.
        changes = [(c.previous, c.regime) for c in recorder.of(RegimeChange)]
        assert changes == [("DISABLED", "SIDEWAYS"), ("SIDEWAYS", "EXPANSION")]
        geo_states = [s.state for s in recorder.of(StrategyState) if s.strategy_id.endswith("1")]
        assert geo_states == ["DISABLED", "SCANNING", "ARMED", "ENTERED", "DISABLED"]
        assert recorder.at_enable == [
            (
                "ProtocolStrategy-001",
                0,
                {"ProtocolStrategy-001": "DISABLED", "ProtocolStrategy-003": "DISABLED"},
            ),
            (
                "ProtocolStrategy-003",
                0,
                {"ProtocolStrategy-001": "DISABLED", "ProtocolStrategy-003": "DISABLED"},
            ),
        ]
        assert all(len(s) <= 1 for s in _enabled_sides_over_time(recorder, sides))
        assert engine.kernel.risk_engine.trading_state == TradingState.ACTIVE
        assert engine.cache.positions_open(instrument_id=IID) == []
    finally:
        engine.dispose()


def test_handover_not_done_in_time_sets_reducing_and_never_enables_the_incoming_side() -> None:
    # Arrange: GEO reports DISABLED and flat but keeps its position: the cache says otherwise.
    engine, _, recorder = _run(
        _switch(5, SIDEWAYS, EXPANSION),
        [
            _strategy(
                "GEO",
                "SIDEWAYS",
                "001",
                arm_on_enable=True,
                enter_on_arm=True,
                keep_position_on_disable=True,
            ),
            _strategy("CAS", "EXPANSION", "003"),
        ],
        secs=16,
        exit_confirm_secs=5.0,
    )
    try:
        reports = [
            s.state for s in recorder.of(StrategyState) if s.strategy_id == "ProtocolStrategy-001"
        ]
        assert reports[-1] == "DISABLED"
        assert ("ProtocolStrategy-003", "ENABLE") not in [(s, a) for s, a, _ in _gates(recorder)]
        assert engine.kernel.risk_engine.trading_state == TradingState.REDUCING
        assert len(engine.cache.positions_open(instrument_id=IID)) == 1
    finally:
        engine.dispose()


def test_leaving_to_disabled_disables_the_side_and_enables_nothing() -> None:
    breach = {**SIDEWAYS, "oi_change_pct_15m": 2.31}
    engine, _, recorder = _run(
        _switch(5, SIDEWAYS, breach),
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=10,
    )
    engine.dispose()
    changes = recorder.of(RegimeChange)
    assert [(c.previous, c.regime, (c.ts_init - T0) / SEC) for c in changes] == [
        ("DISABLED", "SIDEWAYS", 2.0),
        ("SIDEWAYS", "DISABLED", 6.0),
    ]
    assert "oi_change_pct_15m=2.31 > 1.00" in changes[1].inputs
    assert [(s, a) for s, a, _ in _gates(recorder)] == [
        ("ProtocolStrategy-001", "ENABLE"),
        ("ProtocolStrategy-001", "DISABLE"),
    ]


def test_states_stopping_disables_at_once_on_the_staleness_timer() -> None:
    engine, _, recorder = _run(
        lambda t: SIDEWAYS if t < 5 * SEC else None,
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=10,
    )
    engine.dispose()
    changes = recorder.of(RegimeChange)
    assert [(c.regime, c.reason) for c in changes] == [
        ("SIDEWAYS", "SIDEWAYS held for 2s"),
        ("DISABLED", "state stale"),
    ]
    # Last state at 4.9 s; stale once older than 2 s, seen by the 250 ms check timer.
    assert 6.9 * SEC < changes[1].ts_init - T0 <= 7.2 * SEC


# -- user templates and runtime additions ----------------------------------------------------


def test_a_user_template_is_enabled_regardless_of_regime_unless_it_asks_for_a_gate() -> None:
    engine, _, recorder = _run(
        lambda t: None,  # no market state at all: the regime stays DISABLED
        [
            _strategy("DCA", None, "004"),
            _strategy("TWAP", None, "005", regime_gate="SIDEWAYS"),
        ],
        secs=3,
    )
    engine.dispose()
    assert [(s, a) for s, a, _ in _gates(recorder)] == [("ProtocolStrategy-004", "ENABLE")]
    assert recorder.of(StrategyGate)[0].reason == "not regime-gated"


def test_a_strategy_added_at_runtime_is_started_and_gated_by_the_current_regime() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        for name, side, tag in (("KIN", "SIDEWAYS", "002"), ("CAS", "EXPANSION", "003")):
            entry = _strategy(name, side, tag)
            strategy = ctl.add_strategy_from_config(entry["strategy"], side=StrategySide(side))
            assert strategy.is_running

    engine, _, recorder = _run(
        lambda t: SIDEWAYS,
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=6,
        during=during,
    )
    engine.dispose()
    assert [(s, a) for s, a, _ in _gates(recorder)] == [
        ("ProtocolStrategy-001", "ENABLE"),
        ("ProtocolStrategy-002", "ENABLE"),
    ]


def test_nautilus_create_strategy_command_goes_through_the_gate_policy() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        config = ImportableStrategyConfig(
            strategy_path=STRATEGY_PATH,
            config_path=STRATEGY_CONFIG_PATH,
            config={"order_id_tag": "003", "instrument_id": str(IID), "side": "EXPANSION"},
        )
        engine.kernel.msgbus.send("Controller.execute", CreateStrategy(config))
        assert [s.id.value for s in engine.trader.strategies()][-1] == "ProtocolStrategy-003"

    engine, _, recorder = _run(
        lambda t: SIDEWAYS,
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=6,
        during=during,
    )
    engine.dispose()
    # CAS is an EXPANSION strategy (from its own config): not enabled in SIDEWAYS.
    assert [(s, a) for s, a, _ in _gates(recorder)] == [("ProtocolStrategy-001", "ENABLE")]


def test_removing_the_holder_releases_the_instrument() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        geo = engine.trader.strategies()[0]
        assert ctl.holder(IID) == "ProtocolStrategy-001"
        ctl.remove_strategy(geo)
        assert ctl.holder(IID) is None
        assert engine.trader.strategies()[0].request_grant().granted is True  # type: ignore[attr-defined]

    engine, ctl, recorder = _run(
        lambda t: SIDEWAYS,
        [
            _strategy("GEO", "SIDEWAYS", "001", arm_on_enable=True),
            _strategy("KIN", "SIDEWAYS", "002"),
        ],
        secs=6,
        during=during,
    )
    engine.dispose()
    assert ("ProtocolStrategy-001", "RELEASE") in [(s, a) for s, a, _ in _gates(recorder)]
    assert ctl.holder(IID) == "ProtocolStrategy-002"


def test_strategy_without_an_instrument_is_refused_with_a_clear_error() -> None:
    entry = _strategy("GEO", "SIDEWAYS", "001")
    raw = dict(entry["strategy"].config)
    raw.pop("instrument_id")
    with pytest.raises(Exception, match="instrument_id"):
        _run(
            lambda t: None,
            [{"strategy": ImportableStrategyConfig(STRATEGY_PATH, STRATEGY_CONFIG_PATH, raw)}],
            secs=1,
        )


# -- feed health -----------------------------------------------------------------------------


def test_an_unhealthy_stream_of_the_coin_disables_at_once_and_the_regime_returns_after_entry() -> (
    None
):
    # Arrange: BTCUSDT's book stream goes STALE at 4 s and is OK again at 6 s; another coin's
    # stream going bad at 3 s changes nothing.
    engine, _, recorder = _run(
        lambda t: SIDEWAYS,
        [_strategy("GEO", "SIDEWAYS", "001")],
        secs=10,
        health={
            3.0: ("l2Book:ETH", "STALE"),
            4.0: ("l2Book:BTCUSDT", "STALE"),
            6.0: ("l2Book:BTCUSDT", "OK"),
        },
    )
    engine.dispose()

    # Assert
    changes = recorder.of(RegimeChange)
    assert [(c.regime, c.reason, (c.ts_init - T0) / SEC) for c in changes] == [
        ("SIDEWAYS", "SIDEWAYS held for 2s", 2.0),
        ("DISABLED", "feed unhealthy", 4.0),
        ("SIDEWAYS", "SIDEWAYS held for 2s", 8.0),
    ]
    assert "l2Book:BTCUSDT STALE" in changes[1].inputs
    assert "l2Book:ETH" not in changes[1].inputs
    assert [(s, a) for s, a, _ in _gates(recorder)] == [
        ("ProtocolStrategy-001", "ENABLE"),
        ("ProtocolStrategy-001", "DISABLE"),
        ("ProtocolStrategy-001", "ENABLE"),
    ]


@pytest.mark.parametrize(
    ("stream", "coin", "concerns"),
    [
        ("l2Book:BTC", "BTC", True),
        ("candle:BTC:1m", "BTC", True),
        ("l2Book:BTCUSD", "BTC", False),
        ("l2Book:ETH", "BTC", False),
        ("l2Book:dex:COIN", "dex:COIN", True),
        ("allMids", "BTC", True),
    ],
)
def test_which_feed_streams_concern_a_coin(stream: str, coin: str, concerns: bool) -> None:
    assert _concerns(stream, coin) is concerns


def test_controller_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match="handover_timeout_secs"):
        RegimeControllerConfig(handover_timeout_secs=math.nan)


def test_a_restored_holder_holds_the_instrument_again_and_a_second_claim_reduces() -> None:
    def during(engine: BacktestEngine, ctl: RegimeController) -> None:
        geo, kin = engine.trader.strategies()[:2]
        # As after a restart: state restored from the cache, no grant asked for.
        geo._report(StrategyStatus.ENTERED, "restored", flat=False)  # type: ignore[attr-defined]
        assert ctl.holder(IID) == "ProtocolStrategy-001"
        assert engine.kernel.risk_engine.trading_state == TradingState.ACTIVE
        kin._report(StrategyStatus.ARMED, "restored")  # type: ignore[attr-defined]

    engine, ctl, recorder = _run(
        lambda t: SIDEWAYS,
        [_strategy("GEO", "SIDEWAYS", "001"), _strategy("KIN", "SIDEWAYS", "002")],
        secs=6,
        during=during,
    )
    try:
        grants = [g for g in recorder.of(StrategyGate) if g.action == "GRANT"]
        assert [(g.strategy_id, g.reason) for g in grants] == [
            ("ProtocolStrategy-001", "re-established: reported ENTERED"),
        ]
        assert ctl.holder(IID) == "ProtocolStrategy-001"
        assert engine.kernel.risk_engine.trading_state == TradingState.REDUCING
    finally:
        engine.dispose()
