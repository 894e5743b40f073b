"""NautilusTrader orders -> Hyperliquid order wires and exchange actions (pure, no I/O).

The execution client hands every order command to this module and signs what comes back; nothing
here reads a clock, a cache or the network, so each mapping is tested on its own and against the
simulator. Orders the venue cannot honour are DENIED at once with a reason that says what to use
instead: a `Denied` value is returned, never a half-built action.

Mapping (PROTOCOL.md §5.3):

* MARKET -> `Ioc` limit priced from a `MarketReference` (best opposite price, else the mid) moved
  by at most `max_slippage_bps`, rounded toward the reference so the slippage cap is never
  exceeded. No quote, no order: the builder never waits for one.
* LIMIT -> `Gtc` or `Ioc`; post-only -> `Alo`. Limit prices round PASSIVELY (a buy down, a sell
  up): the venue order is never more aggressive than the NautilusTrader order.
* STOP_MARKET / STOP_LIMIT -> trigger `sl`; MARKET_IF_TOUCHED / LIMIT_IF_TOUCHED -> trigger `tp`
  (`isMarket` true / false). The venue picks the trigger direction from (side, tpsl), which is
  exactly NautilusTrader's: a sell stop fires on a fall, a sell MIT on a rise. Trigger prices
  round passively too (a sell stop up, a buy stop down): a stop never fires later than asked and
  a take-profit never fills worse. A market trigger carries its trigger price as `p`; the venue
  executes it as a market order with its own 10 % slippage band.
* Sizes must already fit szDecimals (`instrument.make_qty` does that): a size that rounding
  would shrink is denied, because the venue order would then never fill completely in the cache.
* Lists: entry + take-profit and/or stop-loss (a NautilusTrader bracket: OTO parent, children
  naming it as parent) -> `normalTpsl`; a reduce-only OCO/OUO pair of one take-profit and one
  stop-loss -> `positionTpsl`; orders without contingencies -> `na`. Other contingent lists are
  denied: sending them as independent orders would silently drop the contingency.
* Modify -> `batchModify` (what the SDK sends; its answer carries the new oid). The new wire's
  size is the REMAINING quantity (new quantity - filled), because the venue replaces the order
  by a fresh one of that size.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from typing import NamedTuple

from nautilus_trader.cache.cache import Cache
from nautilus_trader.model.enums import ContingencyType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.enums import order_type_to_str
from nautilus_trader.model.enums import time_in_force_to_str
from nautilus_trader.model.enums import trigger_type_to_str
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.constants import ERROR_INVALID_PRICE
from adapters.hyperliquid.constants import ERROR_INVALID_SIZE
from adapters.hyperliquid.constants import ERROR_MIN_TRADE_NTL
from adapters.hyperliquid.constants import HIP3_ASSET_OFFSET
from adapters.hyperliquid.constants import MIN_ORDER_VALUE
from adapters.hyperliquid.constants import SPOT_ASSET_OFFSET
from adapters.hyperliquid.numbers import InvalidPriceError
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.numbers import normalize_cloid
from adapters.hyperliquid.numbers import round_price
from adapters.hyperliquid.numbers import round_size
from adapters.hyperliquid.numbers import slippage_price
from adapters.hyperliquid.numbers import to_wire
from adapters.hyperliquid.rejections import HyperliquidRejectReason
from adapters.hyperliquid.schemas.exchange import BatchModifyAction
from adapters.hyperliquid.schemas.exchange import CancelAction
from adapters.hyperliquid.schemas.exchange import CancelByCloidAction
from adapters.hyperliquid.schemas.exchange import CancelByCloidWire
from adapters.hyperliquid.schemas.exchange import CancelWire
from adapters.hyperliquid.schemas.exchange import Grouping
from adapters.hyperliquid.schemas.exchange import LimitOrderType
from adapters.hyperliquid.schemas.exchange import ModifyWire
from adapters.hyperliquid.schemas.exchange import OrderAction
from adapters.hyperliquid.schemas.exchange import OrderTypeWire
from adapters.hyperliquid.schemas.exchange import OrderWire
from adapters.hyperliquid.schemas.exchange import ScheduleCancelAction
from adapters.hyperliquid.schemas.exchange import Tif
from adapters.hyperliquid.schemas.exchange import Tpsl
from adapters.hyperliquid.schemas.exchange import TriggerOrderType

__all__ = [
    "DEFAULT_MAX_SLIPPAGE_BPS",
    "SCHEDULE_CANCEL_MIN_DELAY_MS",
    "Denied",
    "HyperliquidAssetSpec",
    "HyperliquidOrderBuilder",
    "MarketReference",
    "cancel_action",
    "cancel_by_cloid_action",
    "market_reference",
    "schedule_cancel_action",
]

DEFAULT_MAX_SLIPPAGE_BPS: Final[int] = 50
"""Default cap on how far a MARKET order may fill from its reference price (0.5 %)."""

SCHEDULE_CANCEL_MIN_DELAY_MS: Final[int] = 5_000
"""The venue refuses a dead-man switch time less than 5 s ahead (PROTOCOL.md §5.3)."""

_BPS: Final[Decimal] = Decimal(10_000)
_TP_TYPES: Final[frozenset[OrderType]] = frozenset(
    {OrderType.LIMIT, OrderType.MARKET_IF_TOUCHED, OrderType.LIMIT_IF_TOUCHED}
)
_SL_TYPES: Final[frozenset[OrderType]] = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})
_VENUE_TRIGGER_TYPES: Final[frozenset[TriggerType]] = frozenset(
    {TriggerType.DEFAULT, TriggerType.MARK_PRICE}
)
_TIF_ADVICE: Final[dict[TimeInForce, str]] = {
    TimeInForce.FOK: "Hyperliquid has no fill-or-kill; use IOC (fills what it can, cancels the "
    "rest) or a MARKET order",
    TimeInForce.GTD: "Hyperliquid has no good-till-date; use GTC and cancel the order from a "
    "strategy timer",
    TimeInForce.DAY: "Hyperliquid has no trading day; use GTC and cancel the order from a "
    "strategy timer",
    TimeInForce.AT_THE_OPEN: "Hyperliquid trades continuously without auctions; use GTC or IOC",
    TimeInForce.AT_THE_CLOSE: "Hyperliquid trades continuously without auctions; use GTC or IOC",
}


@dataclass(frozen=True, slots=True)
class Denied:
    """An order the venue cannot take as asked; `reason` says why and what to use instead.

    Returned instead of raising so the execution client can turn it into `OrderDenied` on the
    spot, without a request to the venue.
    """

    reason: str


@dataclass(frozen=True, slots=True)
class HyperliquidAssetSpec:
    """What the order wire needs about one instrument: coin, asset id, szDecimals, spot or perp.

    Kept small and immutable so the hot path reads three attributes, never the instrument's
    `info` dict.
    """

    coin: str
    asset: int
    sz_decimals: int
    is_spot: bool

    @classmethod
    def from_instrument(cls, instrument: Instrument) -> HyperliquidAssetSpec:
        """Read the spec from an instrument built by `providers.py` (its `info` carries it)."""
        info = instrument.info or {}
        try:
            coin = str(info["coin"])
            asset = int(info["asset"])
            sz_decimals = int(info["szDecimals"])
        except KeyError as exc:
            raise ValueError(
                f"{instrument.id} has no Hyperliquid {exc.args[0]!r} in its info; load it "
                "through HyperliquidInstrumentProvider"
            ) from None
        is_spot = SPOT_ASSET_OFFSET <= asset < HIP3_ASSET_OFFSET
        return cls(coin=coin, asset=asset, sz_decimals=sz_decimals, is_spot=is_spot)


class MarketReference(NamedTuple):
    """Prices a MARKET order is priced from: the book top and/or a mid (any may be missing)."""

    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    mid: Decimal | None = None

    def for_side(self, is_buy: bool) -> Decimal | None:
        """The best opposite price (ask for a buy, bid for a sell), else the mid, else None."""
        best = self.best_ask if is_buy else self.best_bid
        return best if best is not None else self.mid


# --- Actions that need no order ------------------------------------------------------------------


def cancel_action(cancels: Iterable[tuple[int, int]]) -> CancelAction:
    """Cancel by venue oid: `(asset, oid)` pairs, one action (a batch cancel when several)."""
    wires = [CancelWire(a=asset, o=oid) for asset, oid in cancels]
    if not wires:
        raise ValueError("a cancel action needs at least one order")
    return CancelAction(cancels=wires)


def cancel_by_cloid_action(cancels: Iterable[tuple[int, str]]) -> CancelByCloidAction:
    """Cancel by client order id: `(asset, cloid)` pairs (cloids are sent lowercase)."""
    wires = [
        CancelByCloidWire(asset=asset, cloid=normalize_cloid(cloid)) for asset, cloid in cancels
    ]
    if not wires:
        raise ValueError("a cancel action needs at least one order")
    return CancelByCloidAction(cancels=wires)


def schedule_cancel_action(
    cancel_at_ms: int | None, now_ms: int | None = None
) -> ScheduleCancelAction:
    """Dead-man switch: the venue cancels all our orders at `cancel_at_ms`; None clears it.

    With `now_ms` given, a time less than 5 s ahead is refused here rather than by the venue.
    """
    if cancel_at_ms is None:
        return ScheduleCancelAction()
    if now_ms is not None and cancel_at_ms < now_ms + SCHEDULE_CANCEL_MIN_DELAY_MS:
        raise ValueError(
            f"scheduleCancel time {cancel_at_ms} is less than "
            f"{SCHEDULE_CANCEL_MIN_DELAY_MS} ms after now ({now_ms})"
        )
    return ScheduleCancelAction(time=cancel_at_ms)


# --- The builder ---------------------------------------------------------------------------------


class HyperliquidOrderBuilder:
    """Turns NautilusTrader orders and commands into Hyperliquid exchange actions.

    Holds the per-instrument specs and the MARKET slippage cap, both set once; every method is
    a pure function of its arguments and that state.

    Parameters
    ----------
    specs : Iterable[tuple[InstrumentId, HyperliquidAssetSpec]]
        The instruments this builder may trade (more can be added with `add_instrument`).
    max_slippage_bps : int | Decimal
        How far (in basis points of the reference price) a MARKET order may fill; in (0, 10000).
    """

    def __init__(
        self,
        specs: Iterable[tuple[InstrumentId, HyperliquidAssetSpec]] = (),
        *,
        max_slippage_bps: int | Decimal = DEFAULT_MAX_SLIPPAGE_BPS,
    ) -> None:
        bps = Decimal(max_slippage_bps)
        if not 0 < bps < _BPS:
            raise ValueError(f"max_slippage_bps must be in (0, 10000), got {max_slippage_bps}")
        self._slippage: Final[Decimal] = bps / _BPS
        self._specs: dict[InstrumentId, HyperliquidAssetSpec] = dict(specs)

    def add_instrument(self, instrument: Instrument) -> HyperliquidAssetSpec:
        """Register (or refresh) an instrument loaded by the instrument provider."""
        spec = HyperliquidAssetSpec.from_instrument(instrument)
        self._specs[instrument.id] = spec
        return spec

    def spec(self, instrument_id: InstrumentId) -> HyperliquidAssetSpec | None:
        """The spec of a registered instrument, or None."""
        return self._specs.get(instrument_id)

    # --- single orders ---------------------------------------------------------------------------

    def order_wire(self, order: Order, market: MarketReference | None = None) -> OrderWire | Denied:
        """One order as a venue wire (grouping `na`), or why it cannot be sent."""
        spec = self._specs.get(order.instrument_id)
        if spec is None:
            return Denied(f"{order.instrument_id} is not a loaded Hyperliquid instrument")
        return self._standalone_wire(order, spec, market)

    def submit_action(
        self, order: Order, market: MarketReference | None = None
    ) -> OrderAction | Denied:
        """The `order` action for one order (grouping `na`), or why it cannot be sent."""
        wire = self.order_wire(order, market)
        if isinstance(wire, Denied):
            return wire
        return OrderAction(orders=[wire], grouping="na")

    # --- order lists -----------------------------------------------------------------------------

    def order_list_action(
        self,
        orders: Sequence[Order],
        markets: Mapping[InstrumentId, MarketReference] | None = None,
    ) -> OrderAction | Denied:
        """One `order` action for a list; the wires keep the list's order (status i = order i).

        A bracket becomes `normalTpsl`, a reduce-only OCO/OUO take-profit + stop-loss pair
        `positionTpsl`, a list without contingencies `na`; any other list is denied whole.
        """
        if not orders:
            return Denied("empty order list")
        markets = markets or {}
        specs: list[HyperliquidAssetSpec] = []
        for order in orders:
            spec = self._specs.get(order.instrument_id)
            if spec is None:
                return Denied(f"{order.instrument_id} is not a loaded Hyperliquid instrument")
            specs.append(spec)
        if all(o.contingency_type == ContingencyType.NO_CONTINGENCY for o in orders):
            return self._batch(orders, specs, markets, "na")
        first = orders[0]
        if first.contingency_type == ContingencyType.OTO:
            return self._bracket(orders, specs, markets)
        if len(orders) == 2 and all(
            o.contingency_type in (ContingencyType.OCO, ContingencyType.OUO) for o in orders
        ):
            return self._position_tpsl(orders, specs)
        return Denied(
            "Hyperliquid groups orders only as entry + take-profit/stop-loss (a bracket: "
            "normalTpsl) or as a reduce-only take-profit + stop-loss pair on a position "
            "(positionTpsl); submit these orders separately without contingencies, or let "
            "NautilusTrader's OrderEmulator manage them (emulation_trigger)"
        )

    def _batch(
        self,
        orders: Sequence[Order],
        specs: Sequence[HyperliquidAssetSpec],
        markets: Mapping[InstrumentId, MarketReference],
        grouping: Grouping,
    ) -> OrderAction | Denied:
        wires: list[OrderWire] = []
        for order, spec in zip(orders, specs, strict=True):
            wire = self._standalone_wire(order, spec, markets.get(order.instrument_id))
            if isinstance(wire, Denied):
                return Denied(f"{order.client_order_id}: {wire.reason}")
            wires.append(wire)
        return OrderAction(orders=wires, grouping=grouping)

    def _bracket(
        self,
        orders: Sequence[Order],
        specs: Sequence[HyperliquidAssetSpec],
        markets: Mapping[InstrumentId, MarketReference],
    ) -> OrderAction | Denied:
        entry = orders[0]
        children = orders[1:]
        if not 1 <= len(children) <= 2:
            return Denied(
                "a Hyperliquid bracket (normalTpsl) is one entry with one take-profit and/or one "
                f"stop-loss; this list has {len(children)} child orders"
            )
        if entry.order_type not in (OrderType.MARKET, OrderType.LIMIT):
            return Denied(
                "the entry of a Hyperliquid bracket (normalTpsl) must be MARKET or LIMIT, not "
                f"{order_type_to_str(entry.order_type)}; submit the entry alone and attach the "
                "take-profit/stop-loss once it fills"
            )
        entry_wire = self._standalone_wire(entry, specs[0], markets.get(entry.instrument_id))
        if isinstance(entry_wire, Denied):
            return Denied(f"{entry.client_order_id}: {entry_wire.reason}")
        wires = [entry_wire]
        kinds: set[str] = set()
        for child in children:
            problem = _bracket_child_problem(entry, child)
            if problem is not None:
                return Denied(f"{child.client_order_id}: {problem}")
            wire = self._tpsl_wire(child, specs[0])
            if isinstance(wire, Denied):
                return Denied(f"{child.client_order_id}: {wire.reason}")
            kind = _tpsl_of(wire)
            if kind in kinds:
                return Denied(
                    "a Hyperliquid bracket (normalTpsl) takes at most one take-profit and one "
                    f"stop-loss; {child.client_order_id} is a second {kind}"
                )
            kinds.add(kind)
            wires.append(wire)
        return OrderAction(orders=wires, grouping="normalTpsl")

    def _position_tpsl(
        self, orders: Sequence[Order], specs: Sequence[HyperliquidAssetSpec]
    ) -> OrderAction | Denied:
        first, second = orders
        if first.instrument_id != second.instrument_id or first.side != second.side:
            return Denied(
                "a position take-profit/stop-loss pair (positionTpsl) must be on one instrument "
                "and on one side (the side that closes the position)"
            )
        if not (first.is_reduce_only and second.is_reduce_only):
            return Denied(
                "an OCO/OUO pair maps to Hyperliquid's position take-profit/stop-loss "
                "(positionTpsl), which only reduces; set reduce_only=True on both orders, or "
                "submit them without contingency"
            )
        linked = (first.linked_order_ids or [], second.linked_order_ids or [])
        if second.client_order_id not in linked[0] or first.client_order_id not in linked[1]:
            return Denied("the two orders of an OCO/OUO pair must link to each other")
        wires: list[OrderWire] = []
        kinds: list[str] = []
        for order in orders:
            wire = self._tpsl_wire(order, specs[0])
            if isinstance(wire, Denied):
                return Denied(f"{order.client_order_id}: {wire.reason}")
            kinds.append(_tpsl_of(wire))
            wires.append(wire)
        if sorted(kinds) != ["sl", "tp"]:
            return Denied(
                "a position take-profit/stop-loss pair (positionTpsl) needs one take-profit "
                "(LIMIT, MARKET_IF_TOUCHED or LIMIT_IF_TOUCHED) and one stop-loss (STOP_MARKET "
                "or STOP_LIMIT)"
            )
        return OrderAction(orders=wires, grouping="positionTpsl")

    # --- modify ----------------------------------------------------------------------------------

    def modify_action(
        self,
        order: Order,
        *,
        venue_order_id: int | None = None,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> BatchModifyAction | Denied:
        """Replace an open order: the venue cancels it and rests a new one (new oid).

        The order is addressed by `venue_order_id` when known, else by its cloid. Unchanged
        fields keep the order's values; the new size is `quantity - order.filled_qty`.
        """
        spec = self._specs.get(order.instrument_id)
        if spec is None:
            return Denied(f"{order.instrument_id} is not a loaded Hyperliquid instrument")
        if order.order_type in (OrderType.MARKET, OrderType.MARKET_TO_LIMIT):
            return Denied("a MARKET order cannot be modified; cancel it and submit a new order")
        if order.time_in_force == TimeInForce.IOC:
            return Denied("an IOC order is never resting on Hyperliquid and cannot be modified")
        new_quantity = order.quantity if quantity is None else quantity
        remaining = new_quantity.as_decimal() - order.filled_qty.as_decimal()
        if remaining <= 0:
            return Denied(
                f"new quantity {new_quantity} is not above the filled quantity "
                f"{order.filled_qty}; cancel the order instead"
            )
        is_buy = order.side == OrderSide.BUY
        size = _size_text(remaining, spec)
        if isinstance(size, Denied):
            return size
        limit_px = price if price is not None else _price_of(order)
        trig_px = trigger_price if trigger_price is not None else _trigger_price_of(order)
        order_type = _order_type_wire(order, spec, is_buy, limit_px, trig_px)
        if isinstance(order_type, Denied):
            return order_type
        type_wire, px_text = order_type
        cloid = cloid_from_client_order_id(order.client_order_id)
        wire = OrderWire(
            a=spec.asset, b=is_buy, p=px_text, s=size, r=order.is_reduce_only, t=type_wire, c=cloid
        )
        target: int | str = venue_order_id if venue_order_id is not None else cloid
        return BatchModifyAction(modifies=[ModifyWire(oid=target, order=wire)])

    # --- wires -----------------------------------------------------------------------------------

    def _standalone_wire(
        self, order: Order, spec: HyperliquidAssetSpec, market: MarketReference | None
    ) -> OrderWire | Denied:
        problem = _unsupported(order)
        if problem is not None:
            return Denied(problem)
        is_buy = order.side == OrderSide.BUY
        size = _size_text(order.quantity.as_decimal(), spec)
        if isinstance(size, Denied):
            return size
        if order.order_type == OrderType.MARKET:
            reference = market.for_side(is_buy) if market is not None else None
            if reference is None or reference <= 0:
                return Denied(
                    f"no book or mid price for {spec.coin} yet to price a MARKET order (a "
                    "slippage-capped IOC limit); wait for market data or submit a LIMIT order"
                )
            px = slippage_price(
                reference, self._slippage, spec.sz_decimals, is_spot=spec.is_spot, is_buy=is_buy
            )
            type_wire = OrderTypeWire(limit=LimitOrderType(tif="Ioc"))
            px_text = to_wire(px)
        else:
            built = _order_type_wire(
                order, spec, is_buy, _price_of(order), _trigger_price_of(order)
            )
            if isinstance(built, Denied):
                return built
            type_wire, px_text = built
        if not order.is_reduce_only:
            trigger = type_wire.trigger
            reference_px = Decimal(
                trigger.triggerPx if isinstance(trigger, TriggerOrderType) else px_text
            )
            if reference_px * Decimal(size) < MIN_ORDER_VALUE:
                venue_text = (
                    f"Order must have minimum value of {MIN_ORDER_VALUE} (quote token)."
                    if spec.is_spot
                    else ERROR_MIN_TRADE_NTL
                )
                return Denied(
                    _venue_rule(
                        HyperliquidRejectReason.MIN_VALUE,
                        venue_text,
                        f"order value {reference_px * Decimal(size)}; increase the quantity "
                        "(reduce-only orders are exempt)",
                    )
                )
        return OrderWire(
            a=spec.asset,
            b=is_buy,
            p=px_text,
            s=size,
            r=order.is_reduce_only,
            t=type_wire,
            c=cloid_from_client_order_id(order.client_order_id),
        )

    def _tpsl_wire(self, order: Order, spec: HyperliquidAssetSpec) -> OrderWire | Denied:
        """A take-profit / stop-loss attached to an entry or a position: always a reduce-only
        trigger (a LIMIT take-profit becomes a limit trigger at its price)."""
        problem = _unsupported(order, child=True)
        if problem is not None:
            return Denied(problem)
        is_buy = order.side == OrderSide.BUY
        size = _size_text(order.quantity.as_decimal(), spec)
        if isinstance(size, Denied):
            return size
        if order.order_type == OrderType.LIMIT:
            px = _round(_price_of(order), spec, is_buy)
            if isinstance(px, Denied):
                return px
            px_text = to_wire(px)
            trigger = TriggerOrderType(isMarket=False, triggerPx=px_text, tpsl="tp")
            type_wire = OrderTypeWire(trigger=trigger)
        elif order.order_type in _TP_TYPES or order.order_type in _SL_TYPES:
            built = _order_type_wire(
                order, spec, is_buy, _price_of(order), _trigger_price_of(order)
            )
            if isinstance(built, Denied):
                return built
            type_wire, px_text = built
        else:
            return Denied(
                f"{order_type_to_str(order.order_type)} cannot be a take-profit/stop-loss; use "
                "LIMIT, MARKET_IF_TOUCHED or LIMIT_IF_TOUCHED (take-profit) or STOP_MARKET or "
                "STOP_LIMIT (stop-loss)"
            )
        return OrderWire(
            a=spec.asset,
            b=is_buy,
            p=px_text,
            s=size,
            r=True,
            t=type_wire,
            c=cloid_from_client_order_id(order.client_order_id),
        )


# --- helpers -------------------------------------------------------------------------------------


def _unsupported(order: Order, *, child: bool = False) -> str | None:
    """Why the venue cannot take this order as asked (with what to use instead), or None."""
    order_type = order.order_type
    if order_type in (OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT):
        return (
            "Hyperliquid has no trailing stops; set emulation_trigger so NautilusTrader's "
            "OrderEmulator trails it locally, or use a STOP_MARKET that the strategy modifies"
        )
    if order_type == OrderType.MARKET_TO_LIMIT:
        return (
            "Hyperliquid has no market-to-limit orders; use MARKET (a slippage-capped IOC) or LIMIT"
        )
    if order.is_quote_quantity:
        return (
            "Hyperliquid sizes orders in base units; convert the quote amount with "
            "instrument.make_qty(notional / price) and submit a base quantity"
        )
    tif = order.time_in_force
    advice = _TIF_ADVICE.get(tif)
    if advice is not None:
        return f"time in force {time_in_force_to_str(tif)} is not supported: {advice}"
    display_qty = getattr(order, "display_qty", None)
    if display_qty is not None and display_qty != order.quantity:
        return (
            "Hyperliquid has no iceberg (display quantity) orders; submit the full quantity or "
            "slice it with an execution algorithm such as TWAP"
        )
    has_trigger = order_type in _SL_TYPES or order_type in (
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
    )
    if has_trigger:
        trigger_type = order.trigger_type
        if trigger_type not in _VENUE_TRIGGER_TYPES:
            return (
                f"Hyperliquid triggers on the mark price, not {trigger_type_to_str(trigger_type)};"
                " use trigger_type MARK_PRICE (or DEFAULT), or set emulation_trigger so "
                "NautilusTrader's OrderEmulator triggers it locally"
            )
        if order.is_post_only:
            return (
                "a triggered order cannot be post-only on Hyperliquid; use a LIMIT post-only "
                "order once the trigger level is reached"
            )
        if tif == TimeInForce.IOC and order_type in (
            OrderType.STOP_LIMIT,
            OrderType.LIMIT_IF_TOUCHED,
        ):
            return (
                "a triggered limit order rests as GTC on Hyperliquid; use time_in_force GTC, "
                "or STOP_MARKET / MARKET_IF_TOUCHED to execute immediately"
            )
    if (
        not child
        and order_type == OrderType.LIMIT
        and order.is_post_only
        and tif == TimeInForce.IOC
    ):
        return "post-only orders rest on the book; use GTC with post_only, or IOC without it"
    return None


def _tpsl_of(wire: OrderWire) -> str:
    trigger = wire.t.trigger
    return trigger.tpsl if isinstance(trigger, TriggerOrderType) else ""


def _size_text(quantity: Decimal, spec: HyperliquidAssetSpec) -> str | Denied:
    size = round_size(quantity, spec.sz_decimals)
    if size <= 0:
        return Denied(
            _venue_rule(
                HyperliquidRejectReason.INVALID_SIZE,
                ERROR_INVALID_SIZE,
                f"quantity {quantity} is below one lot of {spec.coin} "
                f"({Decimal(1).scaleb(-spec.sz_decimals)})",
            )
        )
    if size != quantity:
        return Denied(
            _venue_rule(
                HyperliquidRejectReason.INVALID_SIZE,
                ERROR_INVALID_SIZE,
                f"quantity {quantity} has more than {spec.sz_decimals} decimals (szDecimals of "
                f"{spec.coin}); build it with instrument.make_qty",
            )
        )
    return to_wire(size)


def _round(px: Price | None, spec: HyperliquidAssetSpec, is_buy: bool) -> Decimal | Denied:
    if px is None:
        return Denied("the order has no price")
    try:
        return round_price(
            px.as_decimal(), spec.sz_decimals, is_spot=spec.is_spot, is_buy=is_buy, aggressive=False
        )
    except (InvalidPriceError, ValueError) as exc:
        return Denied(
            _venue_rule(
                HyperliquidRejectReason.INVALID_PRICE,
                ERROR_INVALID_PRICE,
                f"price {px} cannot be sent to Hyperliquid: {exc}",
            )
        )


def _venue_rule(code: HyperliquidRejectReason, venue_text: str, detail: str) -> str:
    """A local refusal of something the venue would refuse, worded as the venue's rejection.

    Same "<CODE>: <venue text>" form as `VenueRejection.reason`, so a trader reads one vocabulary
    whether the venue or we caught it; the detail says what to change.
    """
    return f"{code.value}: {venue_text} ({detail})"


def _price_of(order: Order) -> Price | None:
    return order.price if order.has_price else None


def _trigger_price_of(order: Order) -> Price | None:
    return order.trigger_price if order.has_trigger_price else None


def _order_type_wire(
    order: Order,
    spec: HyperliquidAssetSpec,
    is_buy: bool,
    price: Price | None,
    trigger_price: Price | None,
) -> tuple[OrderTypeWire, str] | Denied:
    """The wire `t` and `p` of a LIMIT or trigger order (MARKET is priced by the caller)."""
    order_type = order.order_type
    if order_type == OrderType.LIMIT:
        px = _round(price, spec, is_buy)
        if isinstance(px, Denied):
            return px
        tif: Tif
        if order.is_post_only:
            tif = "Alo"
        elif order.time_in_force == TimeInForce.IOC:
            tif = "Ioc"
        else:
            tif = "Gtc"
        return OrderTypeWire(limit=LimitOrderType(tif=tif)), to_wire(px)
    if order_type in _SL_TYPES or order_type in (
        OrderType.MARKET_IF_TOUCHED,
        OrderType.LIMIT_IF_TOUCHED,
    ):
        trigger = _round(trigger_price, spec, is_buy)
        if isinstance(trigger, Denied):
            return trigger
        trigger_text = to_wire(trigger)
        is_market = order_type in (OrderType.STOP_MARKET, OrderType.MARKET_IF_TOUCHED)
        if is_market:
            px_text = trigger_text
        else:
            limit = _round(price, spec, is_buy)
            if isinstance(limit, Denied):
                return limit
            px_text = to_wire(limit)
        tpsl: Tpsl = "sl" if order_type in _SL_TYPES else "tp"
        wire = TriggerOrderType(isMarket=is_market, triggerPx=trigger_text, tpsl=tpsl)
        return OrderTypeWire(trigger=wire), px_text
    return Denied(
        f"{order_type_to_str(order_type)} orders are not supported on Hyperliquid; use MARKET, "
        "LIMIT, STOP_MARKET, STOP_LIMIT, MARKET_IF_TOUCHED or LIMIT_IF_TOUCHED"
    )


def _bracket_child_problem(entry: Order, child: Order) -> str | None:
    if child.parent_order_id != entry.client_order_id:
        return (
            f"is not a child of the entry {entry.client_order_id}; a Hyperliquid bracket "
            "(normalTpsl) is the entry followed by its own take-profit/stop-loss"
        )
    if child.instrument_id != entry.instrument_id:
        return "a bracket's take-profit/stop-loss must be on the entry's instrument"
    if child.side == entry.side:
        return "a bracket's take-profit/stop-loss must be on the side opposite to the entry"
    if child.order_type not in _TP_TYPES and child.order_type not in _SL_TYPES:
        return (
            f"{order_type_to_str(child.order_type)} cannot be a bracket child; use LIMIT, "
            "MARKET_IF_TOUCHED or LIMIT_IF_TOUCHED (take-profit) or STOP_MARKET or STOP_LIMIT "
            "(stop-loss)"
        )
    return None


def market_reference(cache: Cache, instrument_id: InstrumentId) -> MarketReference:
    """The book (or, without one, the latest quote) a MARKET order is priced from."""
    bid: Decimal | None = None
    ask: Decimal | None = None
    book = cache.order_book(instrument_id)
    if book is not None:
        best_bid = book.best_bid_price()
        best_ask = book.best_ask_price()
        bid = best_bid.as_decimal() if best_bid is not None else None
        ask = best_ask.as_decimal() if best_ask is not None else None
    if bid is None or ask is None:
        quote = cache.quote_tick(instrument_id)
        if quote is not None:
            bid = bid if bid is not None else quote.bid_price.as_decimal()
            ask = ask if ask is not None else quote.ask_price.as_decimal()
    mid = (bid + ask) / 2 if bid is not None and ask is not None else None
    return MarketReference(best_bid=bid, best_ask=ask, mid=mid)
