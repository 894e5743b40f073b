"""
The regime controller: one regime per instrument, and the lifecycle of every strategy in the node.

A NautilusTrader ``Controller`` (configured through ``TradingNodeConfig.controller`` /
``BacktestEngineConfig.controller`` with ``RegimeControllerConfig``), so the same object runs
live and in a ``BacktestEngine``; it reads only the bus, the cache and its clock.

- Creates the configured strategies (``strategies``: each an ``ImportableStrategyConfig`` with its
  side, instrument and gate policy), restores their saved state (``cache.load_strategy``:
  NautilusTrader's ``load_state`` skips controller-added strategies, NAUTILUS_FACTS §8), and
  takes more at runtime through ``add_strategy_from_config`` (the intent compiler's way in).
- Classifies every ``MarketState`` (``controllers.classification``), drops to DISABLED at once
  on a stale state or an unhealthy ``FeedHealth`` stream of the instrument's coin.
- Gates: SIDEWAYS enables the sideways side, EXPANSION the expansion side, DISABLED none. A
  side is enabled only after every strategy of the other side on that instrument reported
  DISABLED and flat (and the cache agrees: no open order, no open position); not within
  ``handover_timeout_secs`` ⇒ the node goes REDUCING with the reason logged.
- Grants one holder per instrument on ``GRANT_ENDPOINT`` (synchronous), released when the holder
  reports SCANNING or DISABLED. No grant while the node is not ACTIVE (REDUCING still lets a flat
  account open a position, NAUTILUS_FACTS §5).
- Publishes ``RegimeChange`` and ``StrategyGate``; logs one line per decision with its inputs.

Timers are armed on the first ``MarketState``, not in ``on_start`` (NAUTILUS_FACTS §1).

In a node config (TOML, ``config/loading.py``)::

    [node.controller]
    controller_path = "controllers.regime:RegimeController"
    config_path = "controllers.regime:RegimeControllerConfig"
    [node.controller.config]
    enter_confirm_secs = 30.0
    [[node.controller.config.strategies]]
    side = "SIDEWAYS"
    [node.controller.config.strategies.strategy]
    strategy_path = "strategies.geometry:Geometry"
    config_path = "strategies.geometry:GeometryConfig"
    config = { instrument_id = "BTC-USD-PERP.HYPERLIQUID" }

At runtime (the intent compiler): ``add_strategy_from_config(ImportableStrategyConfig, ...)`` on
the node's loop thread (``loop.call_soon_threadsafe``, NAUTILUS_FACTS §2), or NautilusTrader's
``CreateStrategy`` command on ``"Controller.execute"`` (gate policy from the strategy config).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from datetime import timedelta
from typing import Any

from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.trading.config import StrategyFactory
from nautilus_trader.trading.controller import Controller
from nautilus_trader.trading.strategy import Strategy
from nautilus_trader.trading.trader import Trader

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from adapters.hyperliquid.data_types import FEED_HEALTH_DATA_TYPE
from adapters.hyperliquid.data_types import FeedHealth
from common.nautilus import custom_data_topic
from controllers.classification import RegimeDecision
from controllers.classification import RegimeThresholds
from controllers.classification import RegimeTracker
from controllers.classification import coin_of
from controllers.protocol import GRANT_ENDPOINT
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import GrantRequest
from controllers.protocol import Regime
from controllers.protocol import StrategySide
from controllers.protocol import StrategyState
from controllers.protocol import StrategyStatus
from controllers.protocol import new_regime_change
from controllers.protocol import new_strategy_gate

__all__ = [
    "ManagedStrategyConfig",
    "RegimeController",
    "RegimeControllerConfig",
]

_NS_PER_SEC = 1_000_000_000
_DISABLED = StrategyStatus.DISABLED.value
_SCANNING = StrategyStatus.SCANNING.value
# States in which a strategy holds its instrument (STRATEGIES.md: ARMED until back to SCANNING).
_HOLDING = frozenset(
    {
        StrategyStatus.ARMED.value,
        StrategyStatus.ENTERED.value,
        StrategyStatus.EXITED.value,
        StrategyStatus.COOLDOWN.value,
    },
)
_SIDE_FOR_REGIME: dict[Regime, StrategySide | None] = {
    Regime.SIDEWAYS: StrategySide.SIDEWAYS,
    Regime.EXPANSION: StrategySide.EXPANSION,
    Regime.DISABLED: None,
}


class ManagedStrategyConfig(NautilusConfig, frozen=True, kw_only=True):
    """
    One strategy the controller creates and gates.

    Parameters
    ----------
    strategy : ImportableStrategyConfig
        What to create (``StrategyFactory``).
    instrument_id : InstrumentId, optional
        The instrument it trades; None: the strategy config's ``instrument_id``.
    side : StrategySide, optional
        SIDEWAYS or EXPANSION for rulebook strategies; None: the strategy config's ``side``, and
        if that is absent too, a user template (not regime-gated unless ``regime_gate``).
    regime_gate : Regime, optional
        For a user template: the regime it runs in (``"SIDEWAYS"`` ...); None: the strategy
        config's ``regime_gate``, and if absent, always enabled. It then takes part in mutual
        exclusion as that side.

    """

    strategy: ImportableStrategyConfig
    instrument_id: InstrumentId | None = None
    side: StrategySide | None = None
    regime_gate: Regime | None = None


class RegimeControllerConfig(ActorConfig, frozen=True, kw_only=True):
    """
    Configuration of the ``RegimeController``.

    Parameters
    ----------
    instrument_ids : list[InstrumentId], default []
        Instruments to classify (besides those of the strategies); [] and no strategies: every
        instrument a ``MarketState`` arrives for.
    strategies : list[ManagedStrategyConfig], default []
        Strategies created at start, each with its side and instrument.
    thresholds : RegimeThresholds
        The regime table's numbers.
    enter_confirm_secs : float, default 30
        How long SIDEWAYS / EXPANSION must hold continuously before it is entered.
    exit_confirm_secs : float, default 10
        How long the current regime must fail before it is left (to DISABLED).
    max_state_age_ms : int, default 2000
        A state whose newest input is older than this is stale: DISABLED at once.
    handover_timeout_secs : float, default 10
        How long the outgoing side may take to be DISABLED and flat before the node goes
        REDUCING.
    check_interval_ms : int, default 250
        Timer for staleness (no state at all) and hand-over checks.
    load_strategy_state : bool, default True
        Restore each created strategy's saved state from the cache before it starts.

    """

    instrument_ids: list[InstrumentId] = []
    strategies: list[ManagedStrategyConfig] = []
    thresholds: RegimeThresholds = RegimeThresholds()
    enter_confirm_secs: NonNegativeFloat = 30.0
    exit_confirm_secs: NonNegativeFloat = 10.0
    max_state_age_ms: PositiveInt = 2_000
    handover_timeout_secs: NonNegativeFloat = 10.0
    check_interval_ms: PositiveInt = 250
    load_strategy_state: bool = True

    def __post_init__(self) -> None:
        """Fail at construction naming the field."""
        for name in ("enter_confirm_secs", "exit_confirm_secs", "handover_timeout_secs"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0.0:
                raise ValueError(f"{name} must be a finite number >= 0, was {value}")


@dataclass(slots=True)
class _Managed:
    """What the controller knows about one strategy."""

    strategy_id: str
    instrument_id: InstrumentId
    side: StrategySide | None  # None: ungated user template
    strategy: Strategy | None = None
    enabled: bool = False
    # A gate decided before the strategy ran (it subscribes in on_start) is sent once it runs.
    gate_pending: tuple[str, str] | None = None
    state: str = ""  # last reported StrategyStatus value ("" = never reported)
    flat: bool = True


@dataclass(slots=True)
class _Instrument:
    """Per-instrument regime, hand-over and grant state."""

    tracker: RegimeTracker
    enabled_side: StrategySide | None = None
    outgoing: StrategySide | None = None
    incoming: StrategySide | None = None
    handover_deadline_ns: int = 0
    handover_failed: bool = False
    holder: str | None = None
    last_input_ts_ns: int = 0
    strategies: list[_Managed] = field(default_factory=list)


class RegimeController(Controller):
    """Classifies regimes, gates strategies, hands over between sides, grants instruments."""

    def __init__(self, trader: Trader, config: RegimeControllerConfig | None = None) -> None:
        config = config or RegimeControllerConfig()
        super().__init__(trader=trader, config=config)
        self._cfg = config
        self._instruments: dict[InstrumentId, _Instrument] = {}
        self._managed: dict[str, _Managed] = {}
        self._unhealthy: dict[str, str] = {}  # stream -> "status (reason)"
        self._timer_armed = False
        self._timer_name = f"{type(self).__name__}-check"
        for instrument_id in config.instrument_ids:
            self._instrument(instrument_id)
        # Observability
        self.decisions: list[RegimeDecision] = []
        self.states_handled = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        """Subscribe, register the grant endpoint, create the configured strategies."""
        self.msgbus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self.on_market_state)
        self.msgbus.subscribe(custom_data_topic(FEED_HEALTH_DATA_TYPE), self.on_feed_health)
        self.msgbus.subscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self.on_strategy_state)
        if GRANT_ENDPOINT not in self.msgbus.endpoints():
            self.msgbus.register(GRANT_ENDPOINT, self.on_grant_request)
        for managed in self._cfg.strategies:
            self.add_strategy_from_config(
                managed.strategy,
                instrument_id=managed.instrument_id,
                side=managed.side,
                regime_gate=managed.regime_gate,
            )

    def on_stop(self) -> None:
        """Mirror of ``on_start`` (strategies are stopped by the trader)."""
        self.msgbus.unsubscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self.on_market_state)
        self.msgbus.unsubscribe(custom_data_topic(FEED_HEALTH_DATA_TYPE), self.on_feed_health)
        self.msgbus.unsubscribe(
            custom_data_topic(STRATEGY_STATE_DATA_TYPE),
            self.on_strategy_state,
        )
        if GRANT_ENDPOINT in self.msgbus.endpoints():
            self.msgbus.deregister(GRANT_ENDPOINT, self.on_grant_request)
        if self._timer_name in self.clock.timer_names:
            self.clock.cancel_timer(self._timer_name)
        self._timer_armed = False

    def on_reset(self) -> None:
        """Forget regimes, hand-overs, grants and feed health (strategies stay managed)."""
        for instrument_id, inst in list(self._instruments.items()):
            fresh = _Instrument(tracker=self._new_tracker(instrument_id))
            fresh.strategies = inst.strategies
            self._instruments[instrument_id] = fresh
        for managed in self._managed.values():
            managed.enabled = False
            managed.gate_pending = None
        self._unhealthy.clear()
        self.decisions.clear()
        self.states_handled = 0

    # -- strategies --------------------------------------------------------------------------

    def add_strategy_from_config(
        self,
        config: ImportableStrategyConfig,
        instrument_id: InstrumentId | None = None,
        side: StrategySide | None = None,
        regime_gate: Regime | None = None,
    ) -> Strategy:
        """
        Create, restore and register a strategy with its gate policy; start it if running.

        ``instrument_id`` / ``side`` / ``regime_gate`` default to the strategy config's fields
        of the same names. A strategy with neither side nor ``regime_gate`` is a user template:
        enabled at once and regardless of regime (grants and the trading state still apply).
        """
        strategy = StrategyFactory.create(config)
        raw: dict[str, Any] = dict(config.config)
        if instrument_id is None:
            value = raw.get("instrument_id")
            if value is None:
                raise ValueError(
                    f"strategy {config.strategy_path}: no instrument_id in the managed entry "
                    "or the strategy config",
                )
            instrument_id = InstrumentId.from_str(str(value))
        if side is None and raw.get("side") is not None:
            side = StrategySide(str(raw["side"]))
        if regime_gate is None and raw.get("regime_gate") is not None:
            regime_gate = Regime(str(raw["regime_gate"]))
        if side is None and regime_gate is not None:
            gate_side = _SIDE_FOR_REGIME[regime_gate]
            if gate_side is None:
                raise ValueError(f"regime_gate must be SIDEWAYS or EXPANSION, was {regime_gate}")
            side = gate_side
        self._trader.add_strategy(strategy)
        if self._cfg.load_strategy_state:
            self.cache.load_strategy(strategy)
        strategy_id = strategy.id.value
        managed = _Managed(
            strategy_id=strategy_id,
            instrument_id=instrument_id,
            side=side,
            strategy=strategy,
        )
        self._managed[strategy_id] = managed
        self._instrument(instrument_id).strategies.append(managed)
        self.log.info(
            f"Strategy {strategy_id} on {instrument_id}: "
            f"{'side ' + side.value if side is not None else 'not regime-gated'}",
        )
        if self._trader.is_running:
            strategy.start()
        if side is None:
            self._gate(managed, True, "not regime-gated", self.clock.timestamp_ns())
        else:
            inst = self._instruments[instrument_id]
            if inst.enabled_side is side:
                self._gate(managed, True, f"{side.value} side enabled", self.clock.timestamp_ns())
        return strategy

    def create_strategy_from_config(
        self,
        strategy_config: ImportableStrategyConfig,
        start: bool = True,
    ) -> None:
        """
        NautilusTrader's ``CreateStrategy`` path (``"Controller.execute"``), made gate-aware.

        Side, instrument and ``regime_gate`` come from the strategy config; ``start`` is
        ignored: a strategy starts with the trader, or at once if the trader runs.
        """
        self.add_strategy_from_config(strategy_config)

    def remove_strategy(self, strategy: Strategy) -> None:
        """Stop and remove a strategy; forget it here and release any grant it held."""
        managed = self._managed.pop(strategy.id.value, None)
        if managed is not None:
            inst = self._instruments[managed.instrument_id]
            inst.strategies.remove(managed)
            if inst.holder == managed.strategy_id:
                inst.holder = None
                now = self.clock.timestamp_ns()
                self._publish_gate(managed, "RELEASE", "strategy removed", now)
            if inst.outgoing is not None:
                self._try_complete_handover(inst, self.clock.timestamp_ns())
        super().remove_strategy(strategy)

    # -- inputs ------------------------------------------------------------------------------

    def on_market_state(self, state: MarketState) -> None:
        """Classify; apply any regime change to the gates."""
        self.states_handled += 1
        instrument_id = state.instrument_id
        inst = self._instruments.get(instrument_id)
        if inst is None:
            if self._cfg.instrument_ids or self._cfg.strategies:
                return
            inst = self._instrument(instrument_id)
        if not self._timer_armed:
            self._arm_timer()
        if state.input_ts_ns > inst.last_input_ts_ns:
            inst.last_input_ts_ns = state.input_ts_ns
        # The decision's time is the state's own: it cannot use anything stamped later.
        now = state.ts_init
        decisions = inst.tracker.on_state(state, now, self._unhealthy_for(instrument_id))
        for decision in decisions:
            self._apply(inst, decision)

    def on_feed_health(self, health: FeedHealth) -> None:
        """Track unhealthy streams; an unhealthy stream disables its coin's regime at once."""
        if health.is_healthy:
            self._unhealthy.pop(health.stream, None)
            return
        self._unhealthy[health.stream] = f"{health.stream} {health.status} ({health.reason})"
        now = self.clock.timestamp_ns()
        for instrument_id, inst in self._instruments.items():
            reason = self._unhealthy_for(instrument_id)
            if reason is not None:
                for decision in inst.tracker.force_disabled(now, "feed unhealthy", reason):
                    self._apply(inst, decision)

    def on_strategy_state(self, report: StrategyState) -> None:
        """A strategy moved: release its grant, complete a hand-over."""
        managed = self._managed.get(report.strategy_id)
        if managed is None:
            return
        managed.state = report.state
        managed.flat = report.flat
        if managed.gate_pending is not None:
            self._flush_gate(managed, report.ts_init)
        inst = self._instruments[managed.instrument_id]
        if report.state in _HOLDING and inst.holder != report.strategy_id:
            self._adopt_holder(inst, managed, report)
        if inst.holder == report.strategy_id and report.state in (_SCANNING, _DISABLED):
            inst.holder = None
            self._publish_gate(
                managed,
                "RELEASE",
                f"holder reported {report.state}",
                report.ts_init,
            )
        if inst.outgoing is not None:
            self._try_complete_handover(inst, report.ts_init)

    def _adopt_holder(self, inst: _Instrument, managed: _Managed, report: StrategyState) -> None:
        """
        A strategy reports ARMED/ENTERED without holding the grant: after a restart its state
        came back from the cache, the grant did not. Free instrument: it holds it again. Held
        by another: two strategies claim one net position -- the node goes REDUCING.
        """
        if inst.holder is None:
            inst.holder = report.strategy_id
            self._publish_gate(
                managed, "GRANT", f"re-established: reported {report.state}", report.ts_init
            )
            return
        reason = (
            f"{report.strategy_id} reports {report.state} on {managed.instrument_id} held by "
            f"{inst.holder}: one position per instrument violated"
        )
        self.log.error(f"Node REDUCING: {reason}")
        self._set_reducing()

    def on_grant_request(self, request: GrantRequest) -> None:
        """Answer in place: may ``request.strategy_id`` hold ``request.instrument_id``?"""
        now = self.clock.timestamp_ns()
        managed = self._managed.get(request.strategy_id)
        reason = ""
        if managed is None:
            reason = "not a strategy of this controller"
        elif managed.instrument_id != request.instrument_id:
            reason = f"strategy trades {managed.instrument_id}, not {request.instrument_id}"
        elif not managed.enabled:
            reason = "strategy not enabled"
        else:
            state = TradingState(self._trader_risk_state())
            if state != TradingState.ACTIVE:
                reason = f"node trading state {state.name}"
        inst = self._instruments.get(request.instrument_id)
        if not reason and inst is not None and inst.holder not in (None, request.strategy_id):
            reason = f"held by {inst.holder}"
        if reason or managed is None or inst is None:
            request.granted = False
            request.reason = reason
            if managed is not None:
                self._publish_gate(managed, "REFUSE", reason, now)
            else:
                self.log.warning(f"Grant {request.strategy_id} {request.instrument_id}: {reason}")
            return
        request.granted = True
        request.reason = "granted"
        if inst.holder != request.strategy_id:
            inst.holder = request.strategy_id
            self._publish_gate(managed, "GRANT", "instrument free", now)

    # -- timer -------------------------------------------------------------------------------

    def _arm_timer(self) -> None:
        self._timer_armed = True
        self.clock.set_timer(
            self._timer_name,
            timedelta(milliseconds=self._cfg.check_interval_ms),
            callback=self._on_check,
        )

    def _on_check(self, event: TimeEvent) -> None:
        now = event.ts_event
        for inst in self._instruments.values():
            if inst.last_input_ts_ns and inst.tracker.is_stale(inst.last_input_ts_ns, now):
                age_ms = (now - inst.last_input_ts_ns) / 1e6
                for decision in inst.tracker.force_disabled(
                    now,
                    "state stale",
                    f"state_age_ms={age_ms:.0f} > {self._cfg.max_state_age_ms}",
                ):
                    self._apply(inst, decision)
            if inst.outgoing is not None:
                self._try_complete_handover(inst, now)
            for managed in inst.strategies:
                if managed.gate_pending is not None:
                    self._flush_gate(managed, now)

    # -- decisions ---------------------------------------------------------------------------

    def _apply(self, inst: _Instrument, decision: RegimeDecision) -> None:
        self.decisions.append(decision)
        self.log.info(decision.log_line())
        self.publish_data(
            REGIME_CHANGE_DATA_TYPE,
            new_regime_change(
                decision.instrument_id,
                decision.previous,
                decision.regime,
                decision.reason,
                decision.inputs,
                ts_event=decision.ts_ns,
                ts_init=decision.ts_ns,
            ),
        )
        target = _SIDE_FOR_REGIME[decision.regime]
        now = decision.ts_ns
        reason = f"regime {decision.regime.value}"
        if inst.enabled_side is not None and inst.enabled_side is not target:
            outgoing = inst.enabled_side
            for managed in inst.strategies:
                if managed.side is outgoing and managed.enabled:
                    self._gate(managed, False, reason, now)
            inst.enabled_side = None
            inst.outgoing = outgoing
            inst.handover_deadline_ns = now + round(self._cfg.handover_timeout_secs * _NS_PER_SEC)
            inst.handover_failed = False
        inst.incoming = target
        if inst.outgoing is not None:
            self._try_complete_handover(inst, now)
        elif target is not None and inst.enabled_side is not target:
            self._enable_side(inst, target, reason, now)

    def _try_complete_handover(self, inst: _Instrument, now: int) -> None:
        outgoing = inst.outgoing
        waiting = [
            m.strategy_id
            for m in inst.strategies
            if m.side is outgoing and not self._is_disabled_and_flat(m)
        ]
        if not waiting:
            inst.outgoing = None
            self.log.info(
                f"Hand-over {coin_of(inst.tracker.instrument_id)}: "
                f"{outgoing.value if outgoing else '-'} side DISABLED and flat",
            )
            incoming = inst.incoming
            if incoming is not None:
                self._enable_side(inst, incoming, f"regime {inst.tracker.regime.value}", now)
            return
        if not inst.handover_failed and now >= inst.handover_deadline_ns:
            inst.handover_failed = True
            reason = (
                f"hand-over on {inst.tracker.instrument_id} timed out after "
                f"{self._cfg.handover_timeout_secs:g}s: {', '.join(waiting)} not DISABLED and "
                "flat"
            )
            self.log.error(f"Node REDUCING: {reason}")
            self._set_reducing()

    def _is_disabled_and_flat(self, managed: _Managed) -> bool:
        """Reported DISABLED and flat (or never left DISABLED), and the cache agrees."""
        if managed.state not in ("", _DISABLED) or not managed.flat:
            return False
        strategy_id = StrategyId(managed.strategy_id)
        cache = self.cache
        instrument_id = managed.instrument_id
        return (
            not cache.orders_open(instrument_id=instrument_id, strategy_id=strategy_id)
            and not cache.orders_inflight(instrument_id=instrument_id, strategy_id=strategy_id)
            and not cache.positions_open(instrument_id=instrument_id, strategy_id=strategy_id)
        )

    def _enable_side(self, inst: _Instrument, side: StrategySide, reason: str, now: int) -> None:
        inst.enabled_side = side
        for managed in inst.strategies:
            if managed.side is side and not managed.enabled:
                self._gate(managed, True, reason, now)

    def _gate(self, managed: _Managed, enabled: bool, reason: str, now: int) -> None:
        managed.enabled = enabled
        action = "ENABLE" if enabled else "DISABLE"
        if not self._is_listening(managed):
            managed.gate_pending = (action, reason)
            return
        managed.gate_pending = None
        self._publish_gate(managed, action, reason, now)

    def _is_listening(self, managed: _Managed) -> bool:
        # It has reported (it subscribes before announcing itself) or it runs.
        strategy = managed.strategy
        return managed.state != "" or strategy is None or strategy.is_running

    def _flush_gate(self, managed: _Managed, now: int) -> None:
        pending = managed.gate_pending
        if pending is None or not self._is_listening(managed):
            return
        managed.gate_pending = None
        self._publish_gate(managed, pending[0], pending[1], now)

    def _publish_gate(self, managed: _Managed, action: str, reason: str, now: int) -> None:
        self.log.info(
            f"Gate {managed.strategy_id} {coin_of(managed.instrument_id)} {action}: {reason}",
        )
        self.publish_data(
            STRATEGY_GATE_DATA_TYPE,
            new_strategy_gate(
                managed.strategy_id,
                managed.instrument_id,
                managed.enabled,
                action,
                reason,
                ts_event=now,
                ts_init=now,
            ),
        )

    # -- helpers -----------------------------------------------------------------------------

    def _instrument(self, instrument_id: InstrumentId) -> _Instrument:
        inst = self._instruments.get(instrument_id)
        if inst is None:
            inst = _Instrument(tracker=self._new_tracker(instrument_id))
            self._instruments[instrument_id] = inst
        return inst

    def _new_tracker(self, instrument_id: InstrumentId) -> RegimeTracker:
        cfg = self._cfg
        return RegimeTracker(
            instrument_id,
            cfg.thresholds,
            cfg.enter_confirm_secs,
            cfg.exit_confirm_secs,
            cfg.max_state_age_ms,
        )

    def _unhealthy_for(self, instrument_id: InstrumentId) -> str | None:
        if not self._unhealthy:
            return None
        coin = coin_of(instrument_id)
        bad = [text for stream, text in self._unhealthy.items() if _concerns(stream, coin)]
        return "; ".join(bad) if bad else None

    def _trader_risk_state(self) -> int:
        engine = self._risk_engine()
        return int(engine.trading_state) if engine is not None else int(TradingState.ACTIVE)

    def _risk_engine(self) -> Any:
        # NautilusTrader hands controllers the Trader, which holds the RiskEngine it was built
        # with; there is no public accessor in 1.231.
        return getattr(self._trader, "_risk_engine", None)

    def _set_reducing(self) -> None:
        engine = self._risk_engine()
        if engine is None:
            self.log.error("No RiskEngine reachable: cannot set REDUCING")
            return
        engine.set_trading_state(TradingState.REDUCING)

    def regime(self, instrument_id: InstrumentId) -> Regime:
        """The current regime of an instrument (DISABLED if unknown)."""
        inst = self._instruments.get(instrument_id)
        return Regime.DISABLED if inst is None else inst.tracker.regime

    def holder(self, instrument_id: InstrumentId) -> str | None:
        """The strategy holding the instrument's grant, if any."""
        inst = self._instruments.get(instrument_id)
        return None if inst is None else inst.holder


def _concerns(stream: str, coin: str) -> bool:
    """Whether a feed stream key (``health.stream_key``) concerns ``coin``.

    ``"l2Book:BTC"``, ``"candle:BTC:1m"`` and HIP-3 ``"l2Book:dex:COIN"`` name their coin after
    the channel; a key without a coin (``"allMids"``) concerns every coin.
    """
    _, sep, rest = stream.partition(":")
    if not sep:
        return True
    return rest == coin or rest.startswith(coin + ":")
