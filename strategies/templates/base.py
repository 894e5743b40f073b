"""What every user template shares: its config fields, the trading state it obeys, its stop.

Why a small base instead of each template doing it: every template must (1) find its instrument
or stop with a clear log, (2) take no new risk unless the node's trading state is ACTIVE (the
RiskEngine also refuses, but a template should not keep firing orders it knows will be denied —
and under REDUCING NautilusTrader still lets a flat account open), and (3) cancel what it owns on
stop -- its own orders only, including those still on their way (``stop_sweep``) -- closing its
position reduce-only when its config says so, and otherwise keeping that position's protective
stops. The trading state arrives as
``TradingStateChanged`` on ``events.risk``; before the first one the node is ACTIVE (and the
RiskEngine still refuses what the state forbids; a refused order is never counted as done).

A template whose config names a ``regime_gate`` also takes no new risk until the regime
controller's ``StrategyGate`` enables it, and again none after a DISABLE. Templates do not
publish ``StrategyState`` (the strategy state machine is the rulebook strategies' base), so a
gated template cannot hand an instrument over cleanly: leave user templates ungated unless asked.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.common.messages import TradingStateChanged
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.trading.strategy import Strategy

from common.nautilus import custom_data_topic
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import StrategyGate
from strategies.risk_guard import node_trading_state
from strategies.templates.stop_sweep import StopSweep

__all__ = ["RISK_EVENTS_TOPIC", "TemplateConfig", "TemplateStrategy"]

RISK_EVENTS_TOPIC = "events.risk"


class TemplateConfig(StrategyConfig, frozen=True):
    """
    Fields every template has.

    Parameters
    ----------
    instrument_id : InstrumentId
        What it trades.
    dry_run : bool
        True when the plan said paper: the node running it must trade on paper.
    regime_gate : str, optional
        Read by the regime controller: run only in this regime (None: not gated).
    intent_hash : str
        The plan's config hash, logged at start so a run can be traced to its plan.
    close_on_stop : bool
        Close the position this strategy holds (reduce-only, at market) when it stops. When
        False the position stays, protected by the strategy's stop orders, which stay too.
    """

    instrument_id: InstrumentId
    dry_run: bool = True
    regime_gate: str | None = None
    intent_hash: str = ""
    close_on_stop: bool = False


class TemplateStrategy(Strategy):
    """The base of the templates: instrument, trading state, and stop behaviour."""

    def __init__(self, config: TemplateConfig) -> None:
        super().__init__(config)
        self.template_config = config
        self.instrument: Instrument | None = None
        self.trading_state = TradingState.ACTIVE
        self.held_back = 0  # orders not sent because the node was not ACTIVE (or gated off)
        self.gate_enabled = config.regime_gate is None
        self._refusal = ""
        self.stop_sweep = StopSweep(self)

    def on_start(self) -> None:
        """Instrument from the cache (stop with a clear log if missing), risk events, then the
        template's own start."""
        cfg = self.template_config
        self.stop_sweep.end()  # started again: its own handlers get the events now
        self.instrument = self.cache.instrument(cfg.instrument_id)
        if self.instrument is None:
            self.log.error(f"{cfg.instrument_id} is not in the cache: stopping")
            self.stop()
            return
        self.msgbus.subscribe(topic=RISK_EVENTS_TOPIC, handler=self._on_risk_event)
        # Started while the node is already REDUCING or HALTED (feeds still stale at start-up,
        # say): no TradingStateChanged comes, so read where the node is now.
        self.trading_state = node_trading_state(self.cache) or TradingState.ACTIVE
        if cfg.regime_gate is not None:
            self.msgbus.subscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        mode = "DRY-RUN (paper)" if cfg.dry_run else "LIVE"
        self.log.info(f"{type(self).__name__} {cfg.instrument_id} {mode} plan {cfg.intent_hash}")
        self.on_template_start()

    def on_resume(self) -> None:
        """Started again after a stop (NautilusTrader resumes a stopped strategy, it does not
        start it twice): the same start, whose templates pick up from their own orders."""
        self.on_start()

    def on_stop(self) -> None:
        """Cancel what it owns (only its own orders, and those still on their way: see
        ``stop_sweep``) but the protective stops of a position it keeps; close its position
        reduce-only when configured; unsubscribe."""
        cfg = self.template_config
        self.on_template_stop()
        self.stop_sweep.sweep(cfg.instrument_id, close_fills=cfg.close_on_stop)
        if cfg.close_on_stop:
            self.close_all_positions(cfg.instrument_id, reduce_only=True)
        if self.instrument is not None:
            self.msgbus.unsubscribe(topic=RISK_EVENTS_TOPIC, handler=self._on_risk_event)
            if cfg.regime_gate is not None:
                self.msgbus.unsubscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)

    def _on_risk_event(self, event: Any) -> None:
        if isinstance(event, TradingStateChanged):
            self.trading_state = event.state
            self.log.info(f"trading state now {event.state.name}")

    def _on_gate(self, gate: StrategyGate) -> None:
        if gate.strategy_id != self.id.value or gate.action not in ("ENABLE", "DISABLE"):
            return
        self.gate_enabled = gate.enabled
        self.log.info(f"regime gate {gate.action}: {gate.reason}")

    def may_add_risk(self, what: str) -> bool:
        """True when the node is ACTIVE (and a gated template is enabled); otherwise logs that
        ``what`` is held back, and why."""
        if not self.gate_enabled:
            why = f"regime gate {self.template_config.regime_gate} is not enabled"
        elif self.trading_state != TradingState.ACTIVE:
            why = f"trading state is {self.trading_state.name}"
        else:
            self._refusal = ""
            return True
        self.held_back += 1
        if why != self._refusal:  # one line per change of reason, not one per tick
            self._refusal = why
            self.log.warning(f"not sending {what}: {why}")
        return False

    def mid_price(self) -> Any:
        """The latest quote's mid as a Decimal, or None before the first quote."""
        quote = self.cache.quote_tick(self.template_config.instrument_id)
        if quote is None:
            return None
        return (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2

    # Hooks for the templates.
    def on_template_start(self) -> None:
        """Subscriptions and timers of the template."""

    def on_template_stop(self) -> None:
        """Timers of the template (orders and positions are handled by ``on_stop``)."""
