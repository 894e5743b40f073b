"""TWAP: one market order sliced in time by NautilusTrader's ``TWAPExecAlgorithm``.

The node must register the algorithm (``exec_algorithms`` in its config, id ``TWAP``). This
template sizes the primary so that every child is worth at least the venue's $10 (equal slices,
fewer when the total is small, re-checked at the live mid) and hands it to the algorithm, which
sends the first slice at once and one more every interval. On stop the primary is cancelled
(the algorithm then stops slicing).

Started again (a node restart, a crash, a stop then start), it resumes, never repeats: what the
algorithm had not yet sliced is the primary's quantity (each child sent reduces it), read back
from the strategy's own orders in the cache. That remainder goes out at the next quote as a new
primary, in as many slices as it held (at least one), at the same interval, so each child keeps
its size and the schedule ends later by the time it was down. A primary that was itself sent
(the algorithm sends the last slice as the primary) means the TWAP had finished. An unsliced
primary left behind by a node that never stopped is ended at the first quote, just before the
rest goes out (the algorithm cancels it in the node: it never reached the venue). Children that
were in flight are reconciled by the execution client, and a child's unfilled part is not sent
again (as without the restart).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR
from decimal import Decimal

from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import ExecAlgorithmId
from nautilus_trader.model.orders import Order

from strategies.templates.base import TemplateConfig
from strategies.templates.base import TemplateStrategy
from strategies.templates.sizing import twap_slices

__all__ = ["TWAP_ALGORITHM_ID", "TWAPTemplate", "TWAPTemplateConfig"]

TWAP_ALGORITHM_ID = ExecAlgorithmId("TWAP")


class TWAPTemplateConfig(TemplateConfig, frozen=True):
    """
    Configuration of ``TWAPTemplate``.

    Parameters
    ----------
    order_side : str
        ``BUY`` or ``SELL``.
    quantity / notional_usd : Decimal, optional
        The total in coins, or in dollars (sized from the mid at start).
    slices : int
        How many children (fewer if a child would be under the minimum at the live price).
    interval_secs : int
        Time between children.
    horizon_secs : int
        ``slices * interval_secs`` (what the algorithm is given).
    reduce_only : bool
        Every child reduce-only.
    """

    order_side: str = "BUY"
    quantity: Decimal | None = None
    notional_usd: Decimal | None = None
    slices: int = 1
    interval_secs: int = 1
    horizon_secs: int = 1
    reduce_only: bool = False

    def __post_init__(self) -> None:
        if self.order_side not in ("BUY", "SELL"):
            raise ValueError(f"order_side: must be BUY or SELL, was {self.order_side!r}")
        if (self.quantity is None) == (self.notional_usd is None):
            raise ValueError("quantity: give quantity or notional_usd (exactly one)")
        if self.slices < 1 or self.interval_secs < 1:
            raise ValueError(
                f"slices, interval_secs: must be >= 1 ({self.slices}, {self.interval_secs})"
            )


class TWAPTemplate(TemplateStrategy):
    """Hands one sized market order to the TWAP algorithm; see the module docstring."""

    def __init__(self, config: TWAPTemplateConfig) -> None:
        super().__init__(config)
        self.cfg = config
        self.sent = False
        # What a restart resumes: the quantity the algorithm had not sliced, in how many slices.
        self.pending_resume: tuple[Decimal, int] | None = None
        self.stale_primary: Order | None = None

    def on_template_start(self) -> None:
        """A first start waits for its quote; a later one resumes what was not sliced yet."""
        self.pending_resume = None
        self.stale_primary = None
        orders = self.cache.orders(strategy_id=self.id)
        primaries = [
            o
            for o in orders
            if o.exec_algorithm_id == TWAP_ALGORITHM_ID and o.exec_spawn_id == o.client_order_id
        ]
        if primaries:
            self.sent = True
            self._plan_resume(max(primaries, key=lambda o: o.ts_init), orders)
        elif self.sent:
            self.log.warning("TWAP sent before this start but none of its orders is in the "
                             "cache: not sending again")  # fmt: skip
        self.subscribe_quote_ticks(self.cfg.instrument_id)

    def _plan_resume(self, primary: Order, orders: list[Order]) -> None:
        """Resume at the next quote with what ``primary`` had not sliced (its children are
        among ``orders``, the strategy's own), if anything."""
        if any(isinstance(e, OrderSubmitted) for e in primary.events):
            self.log.info("TWAP finished before this start (its last slice was sent): "
                          "nothing to resume")  # fmt: skip
            return
        children = [
            o
            for o in orders
            if o.exec_spawn_id == primary.client_order_id
            and o.client_order_id != primary.client_order_id
        ]
        left = primary.quantity.as_decimal()
        if children:
            per = min(c.quantity.as_decimal() for c in children)
            slices = max(1, int((left / per).to_integral_value()))
        else:
            slices = self.cfg.slices
        # Left unsliced by a node that never stopped: no algorithm slices it now. Ended at the
        # first quote, with the rest sent (the algorithm may not be running yet at this start).
        self.stale_primary = primary if primary.status == OrderStatus.INITIALIZED else None
        self.pending_resume = (left, slices)
        self.sent = False
        self.log.info(
            f"TWAP resumes at the next quote: {left} not sliced yet, in {slices} slice(s) "
            f"every {self.cfg.interval_secs} s"
        )

    def on_template_stop(self) -> None:
        self.unsubscribe_quote_ticks(self.cfg.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """The first quote prices the slices and sends the primary order."""
        if self.sent:
            return
        if self.stale_primary is not None:  # ending it takes no risk: whatever the state
            self.cancel_order(self.stale_primary)
            self.stale_primary = None
        if not self.cfg.reduce_only and not self.may_add_risk("the TWAP order"):
            return  # held back: tried again on the next quote
        self.sent = True
        assert self.instrument is not None
        mid = (tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2
        decimals = self.instrument.size_precision
        total, wanted = self._total_and_slices(mid, decimals)
        slices, per = twap_slices(total, mid, wanted, decimals)
        if slices == 0:
            self.log.error(f"TWAP not sent: {total} at {mid} is under the venue minimum")
            return
        if slices != wanted:
            self.log.warning(f"TWAP in {slices} slices instead of {wanted} at mid {mid}")
        order = self.order_factory.market(
            instrument_id=self.cfg.instrument_id,
            order_side=OrderSide.BUY if self.cfg.order_side == "BUY" else OrderSide.SELL,
            quantity=self.instrument.make_qty(per * slices),
            time_in_force=TimeInForce.IOC,
            reduce_only=self.cfg.reduce_only,
            exec_algorithm_id=TWAP_ALGORITHM_ID,
            exec_algorithm_params={
                "horizon_secs": float(self.cfg.interval_secs * slices),
                "interval_secs": float(self.cfg.interval_secs),
            },
        )
        self.log.info(f"TWAP {per * slices} in {slices} x {per} every {self.cfg.interval_secs} s")
        self.submit_order(order)

    def _total_and_slices(self, mid: Decimal, decimals: int) -> tuple[Decimal, int]:
        """What to send, in how many slices: the configured TWAP, or what a restart resumes."""
        if self.pending_resume is not None:
            resume, self.pending_resume = self.pending_resume, None
            return resume
        total = self.cfg.quantity
        if total is None:
            assert self.cfg.notional_usd is not None
            lot = Decimal(1).scaleb(-decimals)
            total = (self.cfg.notional_usd / mid).quantize(lot, rounding=ROUND_FLOOR)
        return total, self.cfg.slices

    def on_save(self) -> dict[str, bytes]:
        return {"sent": b"1" if self.sent else b"0"}

    def on_load(self, state: dict[str, bytes]) -> None:
        self.sent = state.get("sent") == b"1"

    def on_reset(self) -> None:
        self.sent = False
        self.pending_resume = None
        self.stale_primary = None
