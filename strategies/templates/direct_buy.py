"""DirectBuy: one order now — market, limit (GTC or ALO) or IOC — with optional leverage and stop.

The order goes out on the first quote (a market order is priced from it, a notional is sized
from its mid). Leverage and margin mode ride on the order as ``params``; the execution client
sets them at the venue before the order and denies the order if the venue refuses. With a stop
price, a reduce-only stop-market for the filled size follows once the order is done filling.
Sent once: a restart (state saved, or this strategy's order found in the cache) never resends.
On stop: open orders cancelled and the position closed reduce-only when ``close_on_stop`` (the
compiler sets it when a stop protects the position); without it the position stays, and so does
its stop: position and protection go together.
"""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.orders import Order

from strategies.templates.base import TemplateConfig
from strategies.templates.base import TemplateStrategy
from strategies.templates.sizing import quantity_for_notional

__all__ = ["DirectBuy", "DirectBuyConfig"]

ORDER_KINDS = ("MARKET", "LIMIT_GTC", "LIMIT_ALO", "IOC")


class DirectBuyConfig(TemplateConfig, frozen=True):
    """
    Configuration of ``DirectBuy``.

    Parameters
    ----------
    order_side : str
        ``BUY`` or ``SELL``.
    quantity / notional_usd : Decimal, optional
        The size in coins, or in dollars (sized from the limit price or the mid).
    order_kind : str
        ``MARKET``, ``LIMIT_GTC``, ``LIMIT_ALO`` (post-only) or ``IOC``.
    limit_price : Decimal, optional
        Required for every kind but MARKET.
    reduce_only : bool
        Only reduce a position.
    leverage : int, optional
        Set at the venue before the order, with ``margin_mode`` (``cross`` or ``isolated``).
    stop_price : Decimal, optional
        Trigger of the reduce-only stop-market placed once the order has filled.
    """

    order_side: str = "BUY"
    quantity: Decimal | None = None
    notional_usd: Decimal | None = None
    order_kind: str = "MARKET"
    limit_price: Decimal | None = None
    reduce_only: bool = False
    leverage: int | None = None
    margin_mode: str | None = None
    stop_price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.order_side not in ("BUY", "SELL"):
            raise ValueError(f"order_side: must be BUY or SELL, was {self.order_side!r}")
        if self.order_kind not in ORDER_KINDS:
            raise ValueError(f"order_kind: must be one of {ORDER_KINDS}, was {self.order_kind!r}")
        if (self.quantity is None) == (self.notional_usd is None):
            raise ValueError("quantity: give quantity or notional_usd (exactly one)")
        if self.order_kind != "MARKET" and self.limit_price is None:
            raise ValueError(f"limit_price: required for a {self.order_kind} order")
        if self.margin_mode not in (None, "cross", "isolated"):
            raise ValueError(f"margin_mode: cross or isolated, was {self.margin_mode!r}")


class DirectBuy(TemplateStrategy):
    """Sends one order, then (optionally) its protective stop; see the module docstring."""

    def __init__(self, config: DirectBuyConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.sent = False
        self.entry: Order | None = None
        self.stop_order: Order | None = None

    def on_template_start(self) -> None:
        """Find an earlier entry in the cache (restart), else wait for the first quote."""
        mine = [o for o in self.cache.orders(strategy_id=self.id) if not o.is_reduce_only]
        if mine or self.sent:
            self.sent = True
            self.entry = mine[0] if mine else None
            self.log.info("entry already sent before this start: not sending again")
        self.subscribe_quote_ticks(self.cfg.instrument_id)

    def on_template_stop(self) -> None:
        self.unsubscribe_quote_ticks(self.cfg.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """The first quote sends the order (a market order needs it for its price)."""
        if self.sent:
            return
        if not self.cfg.reduce_only and not self.may_add_risk("the order"):
            return  # held back: tried again on the next quote
        self.sent = True
        self._send((tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2)

    def _send(self, mid: Decimal) -> None:
        assert self.instrument is not None
        cfg = self.cfg
        side = OrderSide.BUY if cfg.order_side == "BUY" else OrderSide.SELL
        qty = cfg.quantity
        if qty is None:
            assert cfg.notional_usd is not None
            px = cfg.limit_price if cfg.limit_price is not None else mid
            qty = quantity_for_notional(cfg.notional_usd, px, self.instrument.size_precision)
        quantity = self.instrument.make_qty(qty)
        order: Order
        if cfg.order_kind == "MARKET":
            order = self.order_factory.market(
                cfg.instrument_id, side, quantity, TimeInForce.IOC, reduce_only=cfg.reduce_only
            )
        else:
            assert cfg.limit_price is not None
            order = self.order_factory.limit(
                cfg.instrument_id,
                side,
                quantity,
                self.instrument.make_price(cfg.limit_price),
                time_in_force=TimeInForce.IOC if cfg.order_kind == "IOC" else TimeInForce.GTC,
                post_only=cfg.order_kind == "LIMIT_ALO",
                reduce_only=cfg.reduce_only,
            )
        params = None
        if cfg.leverage is not None:
            params = {"leverage": cfg.leverage, "margin_mode": cfg.margin_mode or "cross"}
        self.entry = order
        self.log.info(f"sending {order}")
        self.submit_order(order, params=params)

    def on_order_event(self, event: OrderEvent) -> None:
        """Once the entry is done filling, protect what filled with the stop."""
        entry = self.entry
        if entry is None or event.client_order_id != entry.client_order_id:
            return
        entry = self.cache.order(entry.client_order_id) or entry
        filled = entry.filled_qty
        if self.cfg.stop_price is None or self.stop_order is not None or filled.as_decimal() == 0:
            return
        if not entry.is_closed:
            return
        assert self.instrument is not None
        exit_side = OrderSide.SELL if self.cfg.order_side == "BUY" else OrderSide.BUY
        self.stop_order = self.order_factory.stop_market(
            self.cfg.instrument_id,
            exit_side,
            filled,
            self.instrument.make_price(self.cfg.stop_price),
            reduce_only=True,
        )
        self.log.info(f"protecting {filled} with a stop at {self.cfg.stop_price}")
        self.submit_order(self.stop_order)

    def on_save(self) -> dict[str, bytes]:
        return {"sent": b"1" if self.sent else b"0"}

    def on_load(self, state: dict[str, bytes]) -> None:
        self.sent = state.get("sent") == b"1"

    def on_reset(self) -> None:
        self.sent = False
        self.entry = None
        self.stop_order = None
