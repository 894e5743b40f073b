"""
The base of every rulebook strategy (Geometry, Kinematics, Cascade): the shared state machine,
the controller's gates and grants, timeouts, intents and the ``StrategyState`` reports.

A concrete strategy implements three small hooks and never touches orders:

* ``scan(state)`` while SCANNING: return ``Levels`` when the setup holds (the base asks the
  controller for the instrument and arms);
* ``on_armed_state(state)`` / ``on_armed_event(event)`` while ARMED or ENTERED: return an
  ``Intent`` to enter (ARMED only), or an invalidation reason;
* ``on_regime(change)``: an invalidation reason when the regime left the strategy's side.

Everything else is here, once: the transition table (``state_machine.py``), timeouts measured on
the data's own ``ts_init`` (so a replay or a backtest decides exactly as live did), disabling
(ARMED cancels its entry; ENTERED closes at market first and only then reports DISABLED), forced
reset, stale state and exceptions (-> DISABLED), the grant request before arming (no controller
answer = refused), and ``on_save``/``on_load``.

Why the strategy subscribes to the bus topics directly: in NautilusTrader 1.231
``subscribe_data`` for custom data without a client id does not deliver what ``publish_data``
sends (``common.nautilus.custom_data_topic``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from dataclasses import dataclass
from typing import Any
from typing import Final

from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.manipulator_filter import ManipulatorFilterConfig
from actors.wallets.manipulator_filter import ManipulatorWatch
from common.nautilus import custom_data_topic
from controllers.protocol import GRANT_ENDPOINT
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import GrantRequest
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyGate
from controllers.protocol import StrategyStatus
from controllers.protocol import new_strategy_state
from strategies.executor import ExecutorPhase
from strategies.executor import IntentExecutor
from strategies.intents import Intent
from strategies.intents import IntentOutcome
from strategies.intents import IntentOutcomeKind
from strategies.state_machine import InvalidStrategyTransition
from strategies.state_machine import StrategyStateMachine

__all__ = ["Levels", "RulebookStrategy", "RulebookStrategyConfig"]

_S = StrategyStatus
_K = IntentOutcomeKind
_NS: Final[int] = 1_000_000_000
_NAN: Final[float] = math.nan


class RulebookStrategyConfig(StrategyConfig, frozen=True, kw_only=True):
    """
    What every rulebook strategy has in common.

    Parameters
    ----------
    instrument_id : InstrumentId
        The one instrument the strategy trades.
    size_pct_equity : float
        Position notional as a percentage of account equity (1.0 = 1 %).
    arm_timeout_secs : float
        ARMED longer than this without an entry trigger -> SCANNING.
    max_hold_secs : float
        ENTERED longer than this -> close at market (time stop).
    cooldown_secs : float
        Time in COOLDOWN after an exit before SCANNING again.
    max_state_age_ms : int
        A MarketState whose newest input is older than this is stale -> DISABLED.
    exit_slippage_bps : tuple[float, ...]
        Emergency-exit attempts, each priced this far through the best opposite price.
    exit_retry_delay_secs : float
        Pause between two emergency-exit attempts (the last one's fills arrive, a thin book
        refills).
    manipulator_filter : ManipulatorFilterConfig
        Off by default. On: no arming while the wallet tracker reports a manipulator active
        against the setup's direction (or, fail closed, no fresh report at all).
    """

    instrument_id: InstrumentId
    size_pct_equity: PositiveFloat = 1.0
    arm_timeout_secs: PositiveFloat = 60.0
    max_hold_secs: PositiveFloat = 900.0
    cooldown_secs: NonNegativeFloat = 60.0
    max_state_age_ms: PositiveInt = 2_000
    exit_slippage_bps: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0, 400.0)
    exit_retry_delay_secs: NonNegativeFloat = 0.25
    manipulator_filter: ManipulatorFilterConfig = ManipulatorFilterConfig()

    def __post_init__(self) -> None:
        if self.size_pct_equity > 100:
            raise ValueError(f"size_pct_equity must be <= 100, was {self.size_pct_equity}")
        if not self.exit_slippage_bps or any(not 0 < b < 10_000 for b in self.exit_slippage_bps):
            raise ValueError(
                f"exit_slippage_bps must be non-empty with each value in (0, 10000), was "
                f"{self.exit_slippage_bps}"
            )


@dataclass(frozen=True, slots=True)
class Levels:
    """The prices in force, frozen when the strategy arms (NaN where not in force)."""

    entry: float = _NAN
    stop: float = _NAN
    target: float = _NAN
    extra: tuple[tuple[str, float], ...] = ()

    def get(self, name: str) -> float:
        """A strategy-specific frozen value (e.g. the range's high)."""
        return dict(self.extra).get(name, _NAN)


class RulebookStrategy(Strategy):
    """The shared runtime of a rulebook strategy (see module notes)."""

    def __init__(self, config: RulebookStrategyConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.instrument_id = config.instrument_id
        self.instrument: Instrument | None = None
        self.fsm = StrategyStateMachine()
        self.levels = Levels()
        self.reason = "created"
        self.executor: IntentExecutor | None = None
        self.last_state: MarketState | None = None
        self._armed_at_ns = 0
        self._entered_at_ns = 0
        self._cooldown_until_ns = 0
        self._disable_reason: str | None = None  # set while closing before DISABLED
        self._exit_reason: str | None = None  # set while closing an invalidated position
        self._exit_failed = False
        self._restored: dict[str, Any] | None = None
        self._published_flat = True
        self.transitions: list[tuple[str, str, str]] = []  # (from, to, reason), for tests/demo
        self.manipulators = ManipulatorWatch(config.instrument_id, config.manipulator_filter)

    # -- hooks for concrete strategies ----------------------------------------------------------

    def scan(self, state: MarketState) -> Levels | None:
        """SCANNING: the levels to freeze when the setup holds, else None."""
        raise NotImplementedError

    def scan_event(self, event: StructuralEvent) -> Levels | None:
        """SCANNING: the levels to freeze when a structural event completes the setup (Cascade
        arms on an OI_DROP); None by default."""
        return None

    def setup_reason(self) -> str:
        """One line saying why the last ``scan`` / ``scan_event`` armed (inputs and thresholds)."""
        return "setup holds"

    def on_armed_state(self, state: MarketState) -> Intent | str | None:
        """ARMED/ENTERED on a MarketState: an Intent (ARMED), an invalidation reason, or None."""
        raise NotImplementedError

    def on_armed_event(self, event: StructuralEvent) -> Intent | str | None:
        """ARMED/ENTERED on a structural event: an Intent (ARMED), a reason, or None."""
        raise NotImplementedError

    def on_regime(self, change: RegimeChange) -> str | None:
        """An invalidation reason when the instrument's regime no longer suits the strategy."""
        return None

    def setup_direction(self, levels: Levels) -> str | None:
        """LONG or SHORT for the setup ``scan`` returned (the manipulator filter asks)."""
        return None

    # -- lifecycle --------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Instrument from the cache, bus subscriptions, then re-announce the state."""
        self.instrument = self.cache.instrument(self.instrument_id)
        if self.instrument is None:
            self.log.error(f"{self.instrument_id} not in the cache: the strategy cannot run")
            self.stop()
            return
        self.executor = IntentExecutor(
            self,
            self.instrument,
            self._on_intent_outcome,
            self.cfg.exit_slippage_bps,
            self.cfg.exit_retry_delay_secs,
        )
        self.subscribe_quote_ticks(self.instrument_id)
        bus = self.msgbus
        bus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_market_state)
        bus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self._on_structural_event)
        bus.subscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime_change)
        bus.subscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        if self.cfg.manipulator_filter.enabled:
            topic = custom_data_topic(MANIPULATOR_STATE_DATA_TYPE)
            bus.subscribe(topic, self.manipulators.on_state)
        self._resume_restored()

    def on_stop(self) -> None:
        """Unsubscribe; orders at the venue stay (the protective stop keeps protecting)."""
        bus = self.msgbus
        bus.unsubscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_market_state)
        bus.unsubscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self._on_structural_event)
        bus.unsubscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime_change)
        bus.unsubscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        if self.cfg.manipulator_filter.enabled:
            topic = custom_data_topic(MANIPULATOR_STATE_DATA_TYPE)
            bus.unsubscribe(topic, self.manipulators.on_state)

    def on_reset(self) -> None:
        """Back to a fresh DISABLED machine."""
        self.fsm = StrategyStateMachine()
        self.levels = Levels()
        self._disable_reason = self._exit_reason = None

    def on_save(self) -> dict[str, bytes]:
        """State, reason and frozen levels (a restarted node knows where it was)."""
        payload = {
            "state": self.fsm.state.value,
            "reason": self.reason,
            "levels": asdict(self.levels),
            "entered_at_ns": self._entered_at_ns,
        }
        return {"rulebook": json.dumps(payload).encode()}

    def on_load(self, state: dict[str, bytes]) -> None:
        """Keep the saved state; ``on_start`` resumes from it once the instrument is known."""
        raw = state.get("rulebook")
        if raw:
            self._restored = json.loads(raw)

    def _resume_restored(self) -> None:
        """ENTERED with a position resumes ENTERED (its venue orders still protect it);
        anything else waits DISABLED for the controller's gate."""
        saved, self._restored = self._restored, None
        if saved is None:
            self._publish(_S.DISABLED, _S.DISABLED, "started")
            return
        levels = saved.get("levels") or {}
        was = StrategyStatus(saved.get("state", "DISABLED"))
        assert self.executor is not None
        if was == _S.ENTERED and self.executor.position_qty() != 0:
            self.fsm.force(_S.ENTERED)
            self.levels = Levels(
                entry=levels.get("entry", _NAN),
                stop=levels.get("stop", _NAN),
                target=levels.get("target", _NAN),
                extra=tuple(tuple(x) for x in levels.get("extra", ())),  # type: ignore[misc]
            )
            self._entered_at_ns = int(saved.get("entered_at_ns", 0))
            self.reason = "restarted while ENTERED: venue stop and target still protect"
            self._publish(_S.ENTERED, _S.ENTERED, self.reason)
            self.executor.adopt(self.levels.stop, self.levels.target)
            return
        self._publish(_S.DISABLED, _S.DISABLED, f"restarted (was {was.value})")

    # -- transitions ------------------------------------------------------------------------------

    @property
    def state(self) -> StrategyStatus:
        """The state machine's current state."""
        return self.fsm.state

    def transition(self, target: StrategyStatus, reason: str) -> None:
        """Move along the table, publish and log; an invalid move is logged and raised."""
        try:
            previous = self.fsm.move(target, reason)
        except InvalidStrategyTransition as exc:
            self.log.error(f"{self.id} {exc}")
            raise
        self.reason = reason
        if target in (_S.SCANNING, _S.DISABLED):
            self.levels = Levels()
        self.transitions.append((previous.value, target.value, reason))
        self._publish(previous, target, reason)

    def _publish(self, previous: StrategyStatus, state: StrategyStatus, reason: str) -> None:
        now = self.clock.timestamp_ns()
        flat = self.executor.is_flat() if self.executor is not None else True
        self._published_flat = flat
        report = new_strategy_state(
            strategy_id=self.id.value,
            instrument_id=self.instrument_id,
            previous=previous,
            state=state,
            reason=reason,
            flat=flat,
            ts_event=now,
            ts_init=now,
            entry_price=self.levels.entry,
            stop_price=self.levels.stop,
            target_price=self.levels.target,
        )
        levels = ""
        if not math.isnan(self.levels.stop):
            levels = (
                f" entry={self.levels.entry:.6g} stop={self.levels.stop:.6g} "
                f"target={self.levels.target:.6g}"
            )
        self.log.info(
            f"{self.id} {self.instrument_id.symbol} {previous.value}->{state.value}: {reason}"
            f"{levels} flat={flat}"
        )
        self.publish_data(STRATEGY_STATE_DATA_TYPE, report)

    def disable(self, reason: str) -> None:
        """-> DISABLED: ARMED cancels its entry; ENTERED closes at market first."""
        state = self.state
        if state == _S.DISABLED:
            return
        assert self.executor is not None
        if self.executor.position_qty() != 0:
            if self._disable_reason is None:
                self._disable_reason = reason
                if self.executor.phase != ExecutorPhase.EXITING:
                    # An invalidation's close already running is joined, not sent again: a
                    # second reduce-only close would be a double order on one position.
                    self.executor.emergency_exit(f"disabling: {reason}")
            return
        if self.executor.phase == ExecutorPhase.ENTERING:
            # The entry is in flight: cancel it and decide on its outcome (a fill is closed
            # at market first, a rejection disables at once).
            self._disable_reason = reason
            self.executor.cancel_entry()
            return
        self.executor.cancel_own_orders()
        self._disable_reason = None
        self.transition(_S.DISABLED, reason)

    def force_reset(self, reason: str) -> None:
        """Operator or controller reset: DISABLED with no position and no open order."""
        if self.state == _S.DISABLED and self.executor is not None and self.executor.is_flat():
            self.transition(_S.DISABLED, f"forced reset: {reason}")
            return
        self.disable(f"forced reset: {reason}")

    # -- inputs -----------------------------------------------------------------------------------

    def _guarded(self, handler: Any, data: Any) -> None:
        """A strategy exception disables the strategy (closing first), never the node."""
        try:
            handler(data)
        except InvalidStrategyTransition:
            raise
        except Exception as exc:
            self.log.exception(f"{self.id} strategy exception", exc)
            self.disable(f"strategy exception: {type(exc).__name__}: {exc}")

    def _on_gate(self, gate: StrategyGate) -> None:
        if gate.strategy_id != self.id.value:
            return
        if gate.action == "ENABLE" and self.state == _S.DISABLED:
            if self._disable_reason is None:
                self.transition(_S.SCANNING, f"enabled: {gate.reason}")
        elif gate.action == "DISABLE":
            self.disable(f"controller: {gate.reason}")
        elif gate.action == "RESET":
            self.force_reset(f"controller: {gate.reason}")

    def _on_market_state(self, state: MarketState) -> None:
        if state.instrument_id != self.instrument_id:
            return
        self._guarded(self._handle_state, state)

    def _handle_state(self, state: MarketState) -> None:
        self.last_state = state
        assert self.executor is not None
        if not math.isnan(state.mid):
            self.executor.reference_mid = state.mid
        now = state.ts_init
        age_ms = (self.clock.timestamp_ns() - state.input_ts_ns) / 1e6
        if age_ms > self.cfg.max_state_age_ms and self.state != _S.DISABLED:
            self.disable(
                f"stale state: newest input {age_ms:.0f} ms old > max_state_age_ms "
                f"{self.cfg.max_state_age_ms}"
            )
            return
        if self._exit_failed and self.executor.position_qty() != 0:
            self._exit_failed = False
            self.executor.emergency_exit(f"retry: {self._exit_reason or self._disable_reason}")
            return
        state_now = self.state
        if state_now == _S.SCANNING:
            levels = self.scan(state)
            if levels is not None:
                self._try_arm(levels, self.setup_reason(), now)
        elif state_now == _S.ARMED:
            if (
                now - self._armed_at_ns > self.cfg.arm_timeout_secs * _NS
                and self.executor.phase != ExecutorPhase.ENTERING  # triggered in time
            ):
                self.transition(
                    _S.SCANNING,
                    f"arm_timeout_secs {self.cfg.arm_timeout_secs:g} passed without an entry "
                    "trigger",
                )
                return
            self._act(self.on_armed_state(state))
        elif state_now == _S.ENTERED:
            if (
                self._exit_reason is None
                and self._disable_reason is None
                and now - self._entered_at_ns > self.cfg.max_hold_secs * _NS
            ):
                self._invalidate(f"time stop: max_hold_secs {self.cfg.max_hold_secs:g} passed")
                return
            self._act(self.on_armed_state(state))
        elif state_now == _S.COOLDOWN and now >= self._cooldown_until_ns:
            self.transition(_S.SCANNING, f"cooldown_secs {self.cfg.cooldown_secs:g} passed")

    def _on_structural_event(self, event: StructuralEvent) -> None:
        if event.instrument_id != self.instrument_id:
            return
        state = self.state
        if state in (_S.ARMED, _S.ENTERED):
            self._guarded(lambda e: self._act(self.on_armed_event(e)), event)
        elif state == _S.SCANNING:
            self._guarded(self._scan_event, event)

    def _scan_event(self, event: StructuralEvent) -> None:
        levels = self.scan_event(event)
        if levels is not None:
            self._try_arm(levels, self.setup_reason(), event.ts_init)

    def _on_regime_change(self, change: RegimeChange) -> None:
        if change.instrument_id != self.instrument_id:
            return
        if self.state in (_S.ARMED, _S.ENTERED):
            self._guarded(lambda c: self._act(self.on_regime(c)), change)

    # -- actions ----------------------------------------------------------------------------------

    def _try_arm(self, levels: Levels, reason: str, now_ns: int) -> None:
        if self.cfg.manipulator_filter.enabled:
            direction = self.setup_direction(levels)
            if direction is None:
                self.log.info(f"{self.id} setup holds but its direction is unknown: not armed")
                return
            decision = self.manipulators.allows(direction, now_ns)
            if not decision.allowed:
                self.log.info(f"{self.id} setup holds but not armed: {decision.reason}")
                return
        request = GrantRequest(strategy_id=self.id.value, instrument_id=self.instrument_id)
        self.msgbus.send(GRANT_ENDPOINT, request)
        if request.granted is not True:
            why = request.reason or "no controller answered (fail closed)"
            self.log.info(f"{self.id} setup holds but the grant was refused: {why}")
            return
        self.levels = levels
        self._armed_at_ns = now_ns
        self.transition(_S.ARMED, f"{reason}; grant: {request.reason or 'granted'}")

    def _act(self, action: Intent | str | None) -> None:
        if action is None:
            return
        if isinstance(action, Intent):
            if self.state != _S.ARMED or not self.entry_idle():
                return  # one entry at a time: a trigger repeated while it is in flight waits
            assert self.executor is not None
            self.executor.submit(action)
            return
        self._invalidate(action)

    def entry_idle(self) -> bool:
        """No intent is being executed (an entry trigger may send one)."""
        return self.executor is not None and self.executor.phase == ExecutorPhase.IDLE

    def _invalidate(self, reason: str) -> None:
        assert self.executor is not None
        if self.state == _S.ARMED:
            if self.executor.position_qty() != 0:
                # The entry filled but its report has not arrived yet: treat as ENTERED.
                self._exit_reason = f"invalidated: {reason}"
                self.executor.emergency_exit(self._exit_reason)
                return
            if self.executor.phase == ExecutorPhase.ENTERING:
                # The entry is on its way (a market order: nothing to cancel in time). As for a
                # disable, its outcome decides: a fill is closed at market at once, a rejection
                # goes back to SCANNING. Going to SCANNING now would leave that fill protected
                # but held by a strategy that has given the setup up.
                if self._exit_reason is None:
                    self._exit_reason = f"invalidated: {reason}"
                    self.log.warning(
                        f"{self.id} {self._exit_reason} while the entry is on its way: "
                        "closing whatever it fills"
                    )
                self.executor.cancel_entry()
                return
            self.executor.cancel_entry()
            self.transition(_S.SCANNING, f"invalidated: {reason}")
        elif self.state == _S.ENTERED and self._exit_reason is None:
            # Invalidation while ENTERED: close at market now, never wait for the stop (unless
            # a close is already running, e.g. the controller's DISABLE came first).
            self._exit_reason = f"invalidated: {reason}"
            if self.executor.phase != ExecutorPhase.EXITING:
                self.executor.emergency_exit(self._exit_reason)

    # -- executor outcomes ------------------------------------------------------------------------

    def on_order_event(self, event: Any) -> None:
        """Every order event of this strategy goes to the executor."""
        if self.executor is not None:
            self.executor.on_order_event(event)
            self._announce_flat()

    def on_position_event(self, event: Any) -> None:
        """Every position event goes to the executor (flat detection)."""
        if self.executor is not None:
            self.executor.on_position_event(event)
            self._announce_flat()

    def _announce_flat(self) -> None:
        """Re-announce SCANNING/DISABLED once the last cancel is confirmed: the controller
        completes a hand-over on ``DISABLED and flat`` only."""
        state = self.state
        if (
            state in (_S.DISABLED, _S.SCANNING)
            and not self._published_flat
            and self.executor is not None
            and self.executor.is_flat()
        ):
            self._publish(state, state, f"{self.reason} (now flat)")

    def _on_intent_outcome(self, outcome: IntentOutcome) -> None:
        kind = outcome.kind
        state = self.state
        if kind == _K.FILLED and state == _S.ARMED:
            self._entered_at_ns = self.clock.timestamp_ns()
            levels = self.levels
            entry = outcome.fill_price
            self.levels = Levels(entry, levels.stop, levels.target, levels.extra)
            self.transition(_S.ENTERED, f"entry filled at {entry:.6g}")
            assert self.executor is not None
            if self._disable_reason is not None:
                self.executor.emergency_exit(f"disabling: {self._disable_reason}")
            elif self._exit_reason is not None and self.executor.phase != ExecutorPhase.EXITING:
                self.executor.emergency_exit(self._exit_reason)  # invalidated while on its way
        elif kind == _K.FILLED and state != _S.ENTERED:
            # No path above leads here; if one ever does, the strategy must not hold a
            # position its state machine does not know: close it.
            assert self.executor is not None
            self.log.error(f"{self.id} entry filled while {state.value}: closing it at market")
            if self.executor.phase != ExecutorPhase.EXITING:
                self.executor.emergency_exit(f"entry filled while {state.value}")
        elif kind in (_K.REFUSED, _K.REJECTED) and state == _S.ARMED:
            if self._disable_reason is not None:
                self._finish_disable()
            else:
                why = f"entry {kind.value.lower()}: {outcome.reason}"
                if self._exit_reason is not None:  # invalidated while it was on its way
                    why, self._exit_reason = f"{self._exit_reason}; {why}", None
                self.transition(_S.SCANNING, why)
        elif kind == _K.EXITED:
            self._exit_failed = False
            exit_reason = self._exit_reason or outcome.reason
            self._exit_reason = None
            if self._disable_reason is not None:
                self._finish_disable()
            elif state == _S.ENTERED:
                self.transition(_S.EXITED, f"flat: {exit_reason}")
                self._cooldown_until_ns = self.clock.timestamp_ns() + int(
                    self.cfg.cooldown_secs * _NS
                )
                self.transition(_S.COOLDOWN, "exit recorded")
            elif state == _S.ARMED:
                self.transition(_S.SCANNING, f"flat before entry was recorded: {exit_reason}")
        elif kind == _K.EXIT_FAILED:
            self._exit_failed = True
            self.log.error(f"{self.id} {outcome.reason}; retrying on the next market state")
        elif kind == _K.PROTECTED:
            self.log.info(f"{self.id} protected: {outcome.reason}")

    def _finish_disable(self) -> None:
        reason = self._disable_reason or "disabled"
        # An invalidation of an entry still on its way is moot once it ends flat and DISABLED
        # (kept, the next trade would be closed on its fill with that old reason).
        self._disable_reason = self._exit_reason = None
        self.transition(_S.DISABLED, reason)
