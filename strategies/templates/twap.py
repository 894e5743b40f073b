"""TWAP: one market order sliced in time by NautilusTrader's ``TWAPExecAlgorithm``.

The node must register the algorithm (``exec_algorithms`` in its config, id ``TWAP``). This
template sizes the primary so that every child is worth at least the venue's $10 (equal slices,
fewer when the total is small, re-checked at the live mid) and hands it to the algorithm, which
sends the first slice at once and one more every interval. On stop the primary is cancelled
(the algorithm then stops slicing); sent once, a restart never resends it.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR
from decimal import Decimal

from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ExecAlgorithmId

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

    def on_template_start(self) -> None:
        if self.cache.orders(strategy_id=self.id):
            self.sent = True
            self.log.info("TWAP order already sent before this start: not sending again")
        self.subscribe_quote_ticks(self.cfg.instrument_id)

    def on_template_stop(self) -> None:
        self.unsubscribe_quote_ticks(self.cfg.instrument_id)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        """The first quote prices the slices and sends the primary order."""
        if self.sent:
            return
        if not self.cfg.reduce_only and not self.may_add_risk("the TWAP order"):
            return  # held back: tried again on the next quote
        self.sent = True
        assert self.instrument is not None
        mid = (tick.bid_price.as_decimal() + tick.ask_price.as_decimal()) / 2
        decimals = self.instrument.size_precision
        total = self.cfg.quantity
        if total is None:
            assert self.cfg.notional_usd is not None
            lot = Decimal(1).scaleb(-decimals)
            total = (self.cfg.notional_usd / mid).quantize(lot, rounding=ROUND_FLOOR)
        slices, per = twap_slices(total, mid, self.cfg.slices, decimals)
        if slices == 0:
            self.log.error(f"TWAP not sent: {total} at {mid} is under the venue minimum")
            return
        if slices != self.cfg.slices:
            self.log.warning(f"TWAP in {slices} slices instead of {self.cfg.slices} at mid {mid}")
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

    def on_save(self) -> dict[str, bytes]:
        return {"sent": b"1" if self.sent else b"0"}

    def on_load(self, state: dict[str, bytes]) -> None:
        self.sent = state.get("sent") == b"1"

    def on_reset(self) -> None:
        self.sent = False
