"""DCA: a fixed notional at market every interval until the count is spent.

Resumable without buying twice: progress (orders done, the order in flight, the next due time)
is saved with ``on_save`` and, because a crash skips ``on_save``, also rebuilt at start from this
strategy's own orders in the cache (Redis-backed in a real node): every order of this strategy
that filled counts, one still open or in flight is waited for, never resent. The next turn is due
one interval after the last order was created. A turn is skipped (retried at the next interval,
not counted) when the price is above the ceiling, the node is not ACTIVE, or the order is denied
or rejected.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import msgspec
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.orders import Order

from strategies.templates.base import TemplateConfig
from strategies.templates.base import TemplateStrategy
from strategies.templates.sizing import quantity_for_notional

__all__ = ["DCA", "DCAConfig"]

_NS = 1_000_000_000


class DCAConfig(TemplateConfig, frozen=True):
    """
    Configuration of ``DCA``.

    Parameters
    ----------
    order_side : str
        ``BUY`` or ``SELL``.
    order_notional_usd : Decimal
        The value of each order (sized from the mid, never under the $10 minimum).
    order_count : int
        How many orders in all.
    interval_secs : int
        Time between orders.
    max_price : Decimal, optional
        Skip a buy while the mid is above this price.
    """

    order_side: str = "BUY"
    order_notional_usd: Decimal = Decimal(0)
    order_count: int = 0
    interval_secs: int = 0
    max_price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.order_side not in ("BUY", "SELL"):
            raise ValueError(f"order_side: must be BUY or SELL, was {self.order_side!r}")
        if self.order_notional_usd <= 0:
            raise ValueError(f"order_notional_usd: must be > 0, was {self.order_notional_usd}")
        if self.order_count < 1:
            raise ValueError(f"order_count: must be >= 1, was {self.order_count}")
        if self.interval_secs < 1:
            raise ValueError(f"interval_secs: must be >= 1, was {self.interval_secs}")


class _Progress(msgspec.Struct):
    """What ``on_save`` stores."""

    done: int = 0
    in_flight: str | None = None
    next_due_ns: int = 0


class DCA(TemplateStrategy):
    """Buys (or sells) a fixed notional every interval; see the module docstring."""

    def __init__(self, config: DCAConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.progress = _Progress()
        self.timer_name = f"{self.id}-dca"
        self._armed = False
        self.skipped_turns = 0  # turns passed because the price was above the ceiling

    def on_template_start(self) -> None:
        """Reconcile progress with the cache; quotes drive the first turn and arm the timer."""
        self._reconcile()
        self.log.info(
            f"DCA progress: {self.progress.done}/{self.cfg.order_count} done, "
            f"in flight {self.progress.in_flight}"
        )
        self.subscribe_quote_ticks(self.cfg.instrument_id)

    def on_template_stop(self) -> None:
        if self._armed:
            self.clock.cancel_timer(self.timer_name)
            self._armed = False
        self.unsubscribe_quote_ticks(self.cfg.instrument_id)

    # -- reconciliation ----------------------------------------------------------------------

    def _own_orders(self) -> list[Order]:
        return [o for o in self.cache.orders(strategy_id=self.id) if not o.is_reduce_only]

    def _reconcile(self) -> None:
        """Progress from this strategy's orders in the cache, never below what was saved."""
        orders = self._own_orders()
        filled = [o for o in orders if o.filled_qty.as_decimal() > 0]
        open_ = [o for o in orders if not o.is_closed]
        done = max(self.progress.done, len(filled))
        in_flight = open_[0].client_order_id.value if open_ else None
        last_ns = max((o.ts_init for o in orders), default=0)
        next_due = self.progress.next_due_ns
        if last_ns:
            next_due = max(next_due, last_ns + self.cfg.interval_secs * _NS)
        self.progress = _Progress(done=done, in_flight=in_flight, next_due_ns=next_due)

    # -- the schedule --------------------------------------------------------------------------

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """The first quote arms the timer (timers are armed on data, not in on_start).

        A finished schedule is never re-armed: before, every quote after the last order set
        the timer, took a turn and cancelled it again (a few % of a backtest's time).
        """
        if not self._armed and self.progress.done < self.cfg.order_count:
            self._armed = True
            check = min(self.cfg.interval_secs, 1)
            self.clock.set_timer(
                self.timer_name, timedelta(seconds=check), callback=lambda _e: self._turn()
            )
            self._turn()

    def _turn(self) -> None:
        now = self.clock.timestamp_ns()
        p = self.progress
        if p.done >= self.cfg.order_count or p.in_flight is not None or now < p.next_due_ns:
            if p.done >= self.cfg.order_count and self._armed:
                self.log.info(f"DCA complete: {p.done} orders")
                self.clock.cancel_timer(self.timer_name)
                self._armed = False
            return
        p.next_due_ns = now + self.cfg.interval_secs * _NS
        mid = self.mid_price()
        if mid is None:
            return
        if (
            self.cfg.max_price is not None
            and self.cfg.order_side == "BUY"
            and mid > self.cfg.max_price
        ):
            self.skipped_turns += 1
            self.log.info(f"DCA turn skipped: mid {mid} above the ceiling {self.cfg.max_price}")
            return
        if not self.may_add_risk(f"DCA order {p.done + 1}/{self.cfg.order_count}"):
            return
        assert self.instrument is not None
        qty = quantity_for_notional(
            self.cfg.order_notional_usd, mid, self.instrument.size_precision
        )
        order = self.order_factory.market(
            instrument_id=self.cfg.instrument_id,
            order_side=OrderSide.BUY if self.cfg.order_side == "BUY" else OrderSide.SELL,
            quantity=self.instrument.make_qty(qty),
            time_in_force=TimeInForce.IOC,
        )
        p.in_flight = order.client_order_id.value
        self.log.info(f"DCA order {p.done + 1}/{self.cfg.order_count}: {qty} at about {mid}")
        self.submit_order(order)

    def on_order_event(self, event: OrderEvent) -> None:
        """A closed order ends the turn; it counts only if something filled."""
        p = self.progress
        if p.in_flight is None or event.client_order_id != ClientOrderId(p.in_flight):
            return
        order = self.cache.order(event.client_order_id)
        if order is None or not order.is_closed:
            return
        p.in_flight = None
        if order.filled_qty.as_decimal() > 0:
            p.done += 1
        else:
            self.log.warning(f"DCA order {order.client_order_id} ended unfilled: turn not counted")

    # -- state ---------------------------------------------------------------------------------

    def on_save(self) -> dict[str, bytes]:
        return {"progress": msgspec.json.encode(self.progress)}

    def on_load(self, state: dict[str, bytes]) -> None:
        if "progress" in state:
            self.progress = msgspec.json.decode(state["progress"], type=_Progress)

    def on_reset(self) -> None:
        self.progress = _Progress()
        self._armed = False
