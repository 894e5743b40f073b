"""EMACross: NautilusTrader's own ``EMACross`` example, with an ATR filter and an ATR stop.

Built by subclassing ``nautilus_trader.examples.strategies.ema_cross.EMACross`` (its crossing
logic and order sizing are used as shipped). What this adds, in the two places the example
leaves open (``buy``/``sell``):

* the node's trading state: no entry unless ACTIVE (``events.risk``), as every template;
* an optional ATR filter: no entry while ATR(n) is below ``atr_filter_min_pct`` % of the close;
* an optional ATR stop: after each entry fills, a reduce-only stop-market ``atr_stop_multiple``
  x ATR away from the fill, replaced on the next entry.

Its stop is not the example's: that one sends ``CancelAllOrders``, which the Hyperliquid client
and NautilusTrader's simulated exchange apply to every order on the coin, so stopping EMACross
cancelled the orders of every other strategy on it, their protective stops included. It stops
as every template does (``stop_sweep``): its own orders only, those still on their way
included, then its position closed as configured (``close_positions_on_stop``, reduce-only per
``reduce_only_on_stop``); a position it keeps keeps its ATR stop.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.common.messages import TradingStateChanged
from nautilus_trader.examples.strategies.ema_cross import EMACross
from nautilus_trader.examples.strategies.ema_cross import EMACrossConfig
from nautilus_trader.indicators import AverageTrueRange
from nautilus_trader.model.data import Bar
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.orders import Order

from strategies.templates.base import RISK_EVENTS_TOPIC
from strategies.templates.stop_sweep import StopSweep

__all__ = ["EMACrossTemplate", "EMACrossTemplateConfig"]


class EMACrossTemplateConfig(EMACrossConfig, frozen=True):
    """
    Configuration of ``EMACrossTemplate``: ``EMACrossConfig`` plus the template fields.

    Parameters
    ----------
    dry_run : bool
        True when the plan said paper.
    regime_gate : str, optional
        Read by the regime controller (None: not gated).
    intent_hash : str
        The plan's config hash.
    atr_period : int
        ATR period in bars.
    atr_filter_min_pct : Decimal, optional
        Enter only when ATR is at least this percentage of the close.
    atr_stop_multiple : Decimal, optional
        Stop distance from the entry fill, in ATRs.
    """

    dry_run: bool = True
    regime_gate: str | None = None
    intent_hash: str = ""
    atr_period: int = 14
    atr_filter_min_pct: Decimal | None = None
    atr_stop_multiple: Decimal | None = None


class EMACrossTemplate(EMACross):
    """NautilusTrader's EMACross with the trading state, an ATR filter and an ATR stop."""

    def __init__(self, config: EMACrossTemplateConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.atr = AverageTrueRange(config.atr_period)
        self.trading_state = TradingState.ACTIVE
        self.stop_order: Order | None = None
        self.last_close: Decimal | None = None
        self.stop_sweep = StopSweep(self)

    def on_start(self) -> None:
        """The example's start, plus the ATR on the same bars and the risk events."""
        self.stop_sweep.end()  # started again: its own handlers get the events now
        self.register_indicator_for_bars(self.cfg.bar_type, self.atr)
        self.msgbus.subscribe(topic=RISK_EVENTS_TOPIC, handler=self._on_risk_event)
        mode = "DRY-RUN (paper)" if self.cfg.dry_run else "LIVE"
        self.log.info(
            f"EMACrossTemplate {self.cfg.instrument_id} {mode} plan {self.cfg.intent_hash}"
        )
        super().on_start()

    def on_resume(self) -> None:
        """Started again after a stop: data and risk events again (the indicators stay
        registered, and keep their values)."""
        cfg = self.cfg
        self.stop_sweep.end()
        self.msgbus.subscribe(topic=RISK_EVENTS_TOPIC, handler=self._on_risk_event)
        if cfg.unsubscribe_data_on_stop:  # otherwise still subscribed
            self.subscribe_bars(cfg.bar_type)
            if cfg.subscribe_quote_ticks:
                self.subscribe_quote_ticks(cfg.instrument_id)
            if cfg.subscribe_trade_ticks:
                self.subscribe_trade_ticks(cfg.instrument_id)

    def on_stop(self) -> None:
        """Cancel its own orders (``stop_sweep``), close its position as configured, then the
        example's unsubscriptions and the risk events (see the module docstring)."""
        cfg = self.cfg
        close = cfg.close_positions_on_stop
        self.stop_sweep.sweep(cfg.instrument_id, close_fills=close)
        if close:
            self.close_all_positions(cfg.instrument_id, reduce_only=cfg.reduce_only_on_stop)
        if cfg.unsubscribe_data_on_stop:
            self.unsubscribe_bars(cfg.bar_type)
            if cfg.subscribe_quote_ticks:
                self.unsubscribe_quote_ticks(cfg.instrument_id)
            if cfg.subscribe_trade_ticks:
                self.unsubscribe_trade_ticks(cfg.instrument_id)
        self.msgbus.unsubscribe(topic=RISK_EVENTS_TOPIC, handler=self._on_risk_event)

    def _on_risk_event(self, event: Any) -> None:
        if isinstance(event, TradingStateChanged):
            self.trading_state = event.state

    def on_bar(self, bar: Bar) -> None:
        self.last_close = bar.close.as_decimal()
        super().on_bar(bar)

    def _entry_allowed(self, side: str) -> bool:
        if self.trading_state != TradingState.ACTIVE:
            self.log.warning(f"no {side} entry: trading state is {self.trading_state.name}")
            return False
        minimum = self.cfg.atr_filter_min_pct
        if minimum is not None and self.last_close:
            atr_pct = Decimal(str(self.atr.value)) / self.last_close * 100
            if atr_pct < minimum:
                self.log.info(f"no {side} entry: ATR {atr_pct:.4f}% < filter {minimum}%")
                return False
        self._cancel_stop()
        return True

    def buy(self) -> None:
        """The example's buy, if the trading state and the ATR filter allow it."""
        if self._entry_allowed("BUY"):
            super().buy()

    def sell(self) -> None:
        """The example's sell, if the trading state and the ATR filter allow it."""
        if self._entry_allowed("SELL"):
            super().sell()

    def _cancel_stop(self) -> None:
        if self.stop_order is not None:
            order = self.cache.order(self.stop_order.client_order_id)
            if order is not None and order.is_open:
                self.cancel_order(order)
            self.stop_order = None

    def on_order_filled(self, event: OrderFilled) -> None:
        """After an entry fill, (re)place the ATR stop for the whole position."""
        multiple = self.cfg.atr_stop_multiple
        order = self.cache.order(event.client_order_id)
        if multiple is None or order is None or order.is_reduce_only or not order.is_closed:
            return
        if self.stop_order is not None and order.client_order_id == self.stop_order.client_order_id:
            return
        position = self.cache.positions_open(
            instrument_id=self.cfg.instrument_id, strategy_id=self.id
        )
        if not position or self.instrument is None or not self.atr.initialized:
            return
        pos = position[0]
        distance = Decimal(str(self.atr.value)) * multiple
        fill = event.last_px.as_decimal()
        long = pos.is_long
        trigger = fill - distance if long else fill + distance
        if trigger <= 0:
            return
        self._cancel_stop()
        self.stop_order = self.order_factory.stop_market(
            self.cfg.instrument_id,
            OrderSide.SELL if long else OrderSide.BUY,
            pos.quantity,
            self.instrument.make_price(trigger),
            reduce_only=True,
        )
        self.log.info(f"ATR stop at {trigger} ({multiple} x ATR {self.atr.value:.4f})")
        self.submit_order(self.stop_order)
