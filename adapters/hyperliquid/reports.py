"""Pure conversions from Hyperliquid account payloads to NautilusTrader execution reports.

Reconciliation must give the same cache on every run from the same venue state, so everything
here is a pure function of its inputs: no clock reads (`ts_init` is passed in), no I/O, and
report / event ids derived from the content (`stable_uuid`) instead of random UUIDs. Building
the reports twice from the same payloads gives equal reports in the same order.

Sort keys (documented because reconciliation replays them in this order):

* order status reports: (ts_accepted, venue order id);
* fill reports: (time, tid, trade id, venue order id) after de-duplication by (coin, tid);
* position status reports: instrument id;
* account balances: USDC first, then the other spot tokens by name; margins by instrument id.

Venue facts the mapping relies on (PROTOCOL.md §4, §8):

* Frontend orders carry `origSz` and the REMAINING `sz`, so filled = origSz - sz. Market
  orders closing a whole position may report `origSz` "0.0"; their quantity then comes from the
  fills given, or the order is skipped (a report needs a positive quantity).
* Statuses: `open` -> ACCEPTED (PARTIALLY_FILLED once something filled), `triggered` ->
  TRIGGERED, `filled` -> FILLED, `canceled` / `*Canceled` / `scheduledCancel` -> CANCELED,
  `rejected` / `*Rejected` -> REJECTED; the venue status is kept as the cancel reason.
* `tif` Alo -> GTC post-only; Ioc, FrontendMarket, LiquidationMarket -> IOC; triggers -> GTC.
  Triggers fire on the mark price.
* A fill's `fee` is what the user paid in `feeToken` (negative = maker rebate), which is
  NautilusTrader's commission sign; `builderFee` is already included. Fills without `feeToken`
  (2023 captures) are charged in the instrument's settlement currency.
* `userFillsByTime` returns fills with startTime <= time <= endTime, oldest first, at most 2000
  per call (the simulator, `sim/info.py`, does the same): `FillPager` re-asks from the last
  time seen (inclusive, de-duplicating the overlap) until a short page or the end of the window.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import deque
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.events import AccountState
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import AccountBalance
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import MarginBalance
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.rejections import reason_for_order_status
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest

__all__ = [
    "USER_FILLS_BY_TIME_LIMIT",
    "ClientOrderIds",
    "FillPager",
    "Instruments",
    "SkipHandler",
    "TradeIdFilter",
    "account_state",
    "dedupe_fills",
    "fetch_fills_by_time",
    "fill_key",
    "fill_report",
    "fill_reports",
    "open_order_reports",
    "order_status_report",
    "order_status_reports",
    "position_status_reports",
    "stable_uuid",
    "venue_cancel_reason",
    "venue_order_status",
]

Instruments = Mapping[str, Instrument]
"""Venue coin string (`"BTC"`, `"@107"`, `"xyz:XYZ100"`) -> instrument."""

ClientOrderIds = Mapping[str, ClientOrderId]
"""Lowercase cloid -> the ClientOrderId it was derived from (orders of this node)."""

SkipHandler = Callable[[str], None]
"""Told why an entry produced no report (unknown coin, unknown status, no quantity)."""

USER_FILLS_BY_TIME_LIMIT: Final[int] = 2000
"""The most fills one `userFillsByTime` answer carries."""

_MS_TO_NS: Final[int] = 1_000_000
_COLLATERAL: Final[str] = "USDC"
_UNKNOWN_TOKEN_PRECISION: Final[int] = 8
_ORDER_TYPES: Final[dict[str, OrderType]] = {
    "Limit": OrderType.LIMIT,
    "Market": OrderType.MARKET,
    "Stop Market": OrderType.STOP_MARKET,
    "Stop Limit": OrderType.STOP_LIMIT,
    "Take Profit Market": OrderType.MARKET_IF_TOUCHED,
    "Take Profit Limit": OrderType.LIMIT_IF_TOUCHED,
}
_PRICED_TYPES: Final[frozenset[OrderType]] = frozenset(
    {OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED}
)
_IOC_TIFS: Final[frozenset[str]] = frozenset({"Ioc", "FrontendMarket", "LiquidationMarket"})
_TERMINAL: Final[frozenset[OrderStatus]] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}
)


def stable_uuid(*parts: object) -> UUID4:
    """A version-4-shaped UUID derived from `parts`: same content, same id, on every run."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return UUID4.from_str(str(uuid.UUID(bytes=digest[:16], version=4)))


def _ns(millis: int) -> int:
    return millis * _MS_TO_NS


def _currency(code: str) -> Currency:
    known = Currency.from_str(code, strict=True)
    if known is not None:
        return known
    return Currency(code, _UNKNOWN_TOKEN_PRECISION, 0, code, CurrencyType.CRYPTO)


def _side(side: str) -> OrderSide:
    return OrderSide.BUY if side == "B" else OrderSide.SELL


def _client_order_id(cloid: str | None, lookup: ClientOrderIds | None) -> ClientOrderId | None:
    if cloid is None or lookup is None:
        return None
    return lookup.get(cloid.lower())


# --- Order status reports ------------------------------------------------------------------------


def venue_order_status(status: str, *, filled: bool) -> OrderStatus | None:
    """The NautilusTrader status of a venue order status, None when the status is unknown."""
    if status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.ACCEPTED
    if status == "filled":
        return OrderStatus.FILLED
    if status == "triggered":
        return OrderStatus.TRIGGERED
    if status == "rejected" or status.endswith("Rejected"):
        return OrderStatus.REJECTED
    if status == "canceled" or status.endswith("Canceled") or status == "scheduledCancel":
        return OrderStatus.CANCELED
    return None


_VENUE_CANCELS: Final[dict[str, str]] = {
    "nonUserCancel": "cancelled by the venue",
    "scheduledCancel": "the dead-man switch (scheduleCancel) fired",
    "marginCanceled": "not enough margin to keep the order open",
    "reduceOnlyCanceled": "reduce-only order would have increased the position",
    "siblingFilledCanceled": "its TP/SL sibling filled",
    "liquidatedCanceled": "the account was liquidated",
    "selfTradeCanceled": "self-trade prevention (an order of the same account crossed it)",
    "openInterestCapCanceled": "the asset's open interest cap was reached",
    "vaultWithdrawalCanceled": "a vault withdrawal needed the margin",
    "delistedCanceled": "the asset was delisted",
}


def venue_cancel_reason(status: str) -> str | None:
    """Why the venue (not the user) cancelled an order: ``"<status>: <what happened>"``.

    NautilusTrader's OrderCanceled carries no reason, so the execution client logs this text and
    puts it in OrderStatusReport.cancel_reason. None for a user cancel (``canceled``) and for a
    status that is not a cancel. ``nonUserCancel`` (the userEvents kind) is accepted too.
    """
    known = _VENUE_CANCELS.get(status)
    if known is not None:
        return f"{status}: {known}"
    if status.endswith("Canceled"):
        return f"{status}: cancelled by the venue"
    return None


def _cancel_reason(status: str) -> str | None:
    if status in ("open", "filled", "triggered", "canceled"):
        return None
    code = reason_for_order_status(status)
    if code is not None:
        return f"{code.value}: {status}"
    return venue_cancel_reason(status) or status


def order_status_report(
    order: FrontendOrder,
    status: str,
    status_timestamp: int,
    instrument: Instrument,
    account_id: AccountId,
    ts_init: int,
    *,
    client_order_id: ClientOrderId | None = None,
    fills: Sequence[Fill] = (),
) -> OrderStatusReport:
    """One frontend order with its venue status as an OrderStatusReport.

    `fills` are this order's fills, if known: they give the average price (when they account for
    the whole filled quantity) and the quantity of orders the venue reports with `origSz` 0.
    Raises ValueError for an unknown status or an order without any quantity.
    """
    orig = Decimal(order.origSz)
    remaining = Decimal(order.sz)
    fill_qty = sum((Decimal(f.sz) for f in fills), Decimal(0))
    if orig > 0:
        filled = max(orig - remaining, Decimal(0))
    elif fill_qty > 0:
        orig, filled = fill_qty, fill_qty
    else:
        raise ValueError(f"order {order.oid} reports no quantity (origSz {order.origSz})")
    report_status = venue_order_status(status, filled=filled > 0)
    if report_status is None:
        raise ValueError(f"order {order.oid} has an unknown venue status {status!r}")
    avg_px: Decimal | None = None
    if fills and fill_qty == filled:
        avg_px = sum((Decimal(f.px) * Decimal(f.sz) for f in fills), Decimal(0)) / fill_qty
    order_type = _ORDER_TYPES.get(order.orderType)
    if order_type is None:
        order_type = OrderType.STOP_LIMIT if order.isTrigger else OrderType.LIMIT
    is_trigger = order.isTrigger and order_type not in (OrderType.LIMIT, OrderType.MARKET)
    tif = TimeInForce.IOC if order.tif in _IOC_TIFS else TimeInForce.GTC
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(str(order.oid)),
        order_side=_side(order.side),
        order_type=order_type,
        time_in_force=tif,
        order_status=report_status,
        quantity=instrument.make_qty(orig),
        filled_qty=instrument.make_qty(filled),
        report_id=stable_uuid("order", account_id, order.oid, status, status_timestamp, ts_init),
        ts_accepted=_ns(order.timestamp),
        ts_last=_ns(status_timestamp),
        ts_init=ts_init,
        client_order_id=client_order_id,
        price=instrument.make_price(Decimal(order.limitPx))
        if order_type in _PRICED_TYPES
        else None,
        trigger_price=instrument.make_price(Decimal(order.triggerPx)) if is_trigger else None,
        trigger_type=TriggerType.MARK_PRICE if is_trigger else TriggerType.NO_TRIGGER,
        avg_px=avg_px,
        post_only=order.tif == "Alo",
        reduce_only=order.reduceOnly,
        cancel_reason=_cancel_reason(status),
    )


def _fills_by_oid(fills: Iterable[Fill]) -> dict[int, list[Fill]]:
    grouped: dict[int, list[Fill]] = {}
    for fill in dedupe_fills(fills):
        grouped.setdefault(fill.oid, []).append(fill)
    return grouped


def _rank(entry: FrontendOrderStatus) -> tuple[int, bool, str]:
    # When the venue lists one oid twice, the newest status wins; on a tie a final status beats
    # `open`, then the status text decides, so the choice never depends on input order.
    final = venue_order_status(entry.status, filled=False) in _TERMINAL
    return entry.statusTimestamp, final, entry.status


def order_status_reports(
    entries: Iterable[FrontendOrderStatus],
    instruments: Instruments,
    account_id: AccountId,
    ts_init: int,
    *,
    client_order_ids: ClientOrderIds | None = None,
    fills: Iterable[Fill] = (),
    on_skip: SkipHandler | None = None,
) -> list[OrderStatusReport]:
    """Reports for `orderStatus` / `historicalOrders` entries.

    One report per oid, sorted by (ts_accepted, oid). Entries on coins missing from
    `instruments`, with an unknown status or without a quantity are skipped and told to
    `on_skip`.
    """
    best: dict[int, FrontendOrderStatus] = {}
    for item in entries:
        known = best.get(item.order.oid)
        if known is None or _rank(item) > _rank(known):
            best[item.order.oid] = item
    by_oid = _fills_by_oid(fills)
    reports: list[OrderStatusReport] = []
    for oid in sorted(best, key=lambda o: (best[o].order.timestamp, o)):
        item = best[oid]
        instrument = instruments.get(item.order.coin)
        if instrument is None:
            _skip(on_skip, f"order {oid}: no instrument for coin {item.order.coin!r}")
            continue
        try:
            reports.append(
                order_status_report(
                    item.order,
                    item.status,
                    item.statusTimestamp,
                    instrument,
                    account_id,
                    ts_init,
                    client_order_id=_client_order_id(item.order.cloid, client_order_ids),
                    fills=by_oid.get(oid, ()),
                )
            )
        except ValueError as exc:
            _skip(on_skip, str(exc))
    return reports


def open_order_reports(
    orders: Iterable[FrontendOrder],
    instruments: Instruments,
    account_id: AccountId,
    ts_init: int,
    *,
    client_order_ids: ClientOrderIds | None = None,
    on_skip: SkipHandler | None = None,
) -> list[OrderStatusReport]:
    """Reports for `frontendOpenOrders` and their nested TP/SL children (status `open`, last
    change = placement time)."""
    entries = [
        FrontendOrderStatus(order=item, status="open", statusTimestamp=item.timestamp)
        for order in orders
        for item in _with_children(order)
    ]
    return order_status_reports(
        entries,
        instruments,
        account_id,
        ts_init,
        client_order_ids=client_order_ids,
        on_skip=on_skip,
    )


def _with_children(order: FrontendOrder) -> Iterable[FrontendOrder]:
    # Waiting TP/SL children of an open parent come nested; the venue usually lists them
    # top-level too, hence the de-duplication by oid.
    yield order
    for child in order.children:
        yield from _with_children(child)


def _skip(on_skip: SkipHandler | None, why: str) -> None:
    if on_skip is not None:
        on_skip(why)


# --- Fills ---------------------------------------------------------------------------------------


def fill_key(fill: Fill) -> tuple[str, str]:
    """The identity of a fill: (coin, tid); fills without `tid` (2023 shape) hash their content."""
    if fill.tid is not None:
        return fill.coin, str(fill.tid)
    content = "|".join(
        (fill.hash, str(fill.oid), str(fill.time), fill.px, fill.sz, fill.startPosition, fill.side)
    )
    return fill.coin, "h" + hashlib.sha256(content.encode()).hexdigest()[:32]


def _fill_sort_key(fill: Fill) -> tuple[int, int, str, int]:
    return fill.time, fill.tid or 0, fill_key(fill)[1], fill.oid


def dedupe_fills(fills: Iterable[Fill]) -> list[Fill]:
    """Fills without repeats (same coin and tid), sorted by (time, tid, trade id, oid)."""
    unique: dict[tuple[str, str], Fill] = {}
    for fill in fills:
        unique.setdefault(fill_key(fill), fill)
    return sorted(unique.values(), key=_fill_sort_key)


def fill_report(
    fill: Fill,
    instrument: Instrument,
    account_id: AccountId,
    ts_init: int,
    *,
    client_order_id: ClientOrderId | None = None,
) -> FillReport:
    """One fill as a FillReport (taker when `crossed`; fee in `feeToken`, rebates negative)."""
    fee_currency = (
        _currency(fill.feeToken)
        if fill.feeToken is not None
        else instrument.get_settlement_currency()
    )
    trade_id = fill_key(fill)[1]
    return FillReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(str(fill.oid)),
        trade_id=TradeId(trade_id),
        order_side=_side(fill.side),
        last_qty=instrument.make_qty(Decimal(fill.sz)),
        last_px=instrument.make_price(Decimal(fill.px)),
        commission=Money(Decimal(fill.fee), fee_currency),
        liquidity_side=LiquiditySide.TAKER if fill.crossed else LiquiditySide.MAKER,
        report_id=stable_uuid("fill", account_id, fill.coin, trade_id, ts_init),
        ts_event=_ns(fill.time),
        ts_init=ts_init,
        client_order_id=client_order_id,
    )


def fill_reports(
    fills: Iterable[Fill],
    instruments: Instruments,
    account_id: AccountId,
    ts_init: int,
    *,
    client_order_ids: ClientOrderIds | None = None,
    on_skip: SkipHandler | None = None,
) -> list[FillReport]:
    """Fill reports de-duplicated by (coin, tid), sorted by (time, tid, trade id, oid).

    Fills of orders not in `client_order_ids` get no client order id: NautilusTrader treats them
    as external orders.
    """
    reports: list[FillReport] = []
    for fill in dedupe_fills(fills):
        instrument = instruments.get(fill.coin)
        if instrument is None:
            _skip(on_skip, f"fill {fill_key(fill)[1]}: no instrument for coin {fill.coin!r}")
            continue
        client_order_id = _client_order_id(fill.cloid, client_order_ids)
        reports.append(
            fill_report(fill, instrument, account_id, ts_init, client_order_id=client_order_id)
        )
    return reports


class TradeIdFilter:
    """Remembers the last `capacity` fill keys so a fill seen on REST and WebSocket (or twice on
    a reconnect snapshot) is handed on once; memory stays bounded on a long-running node.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self._capacity = capacity
        self._order: deque[tuple[str, str]] = deque()
        self._seen: set[tuple[str, str]] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def is_new(self, fill: Fill) -> bool:
        """True the first time a fill is seen (and remember it), False for repeats."""
        key = fill_key(fill)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._order.append(key)
        if len(self._order) > self._capacity:
            self._seen.discard(self._order.popleft())
        return True


class FillPager:
    """Pages `userFillsByTime` over a closed time window [start_ms, end_ms].

    Pure state machine: ask `next_request()`, post it, give the decoded answer to `add_page()`,
    repeat until `next_request()` is None. The next page starts at the last time seen
    (inclusive), so fills sharing that millisecond are not lost; the overlap is removed by
    (coin, tid). Only when one millisecond holds a whole page does the cursor move past it
    (`truncated` is then set: the venue cannot page inside one millisecond).
    """

    def __init__(
        self,
        user: str,
        start_ms: int,
        end_ms: int,
        *,
        page_limit: int = USER_FILLS_BY_TIME_LIMIT,
    ) -> None:
        if end_ms < start_ms:
            raise ValueError(f"end_ms {end_ms} is before start_ms {start_ms}")
        if page_limit <= 0:
            raise ValueError(f"page_limit must be positive, got {page_limit}")
        self._user = user
        self._cursor = start_ms
        self._start = start_ms
        self._end = end_ms
        self._limit = page_limit
        self._fills: dict[tuple[str, str], Fill] = {}
        self._done = False
        self.pages = 0
        self.truncated = False

    @property
    def done(self) -> bool:
        """True once the whole window has been read."""
        return self._done

    def next_request(self) -> UserFillsByTimeRequest | None:
        """The next request to post, or None when the window is complete."""
        if self._done:
            return None
        return UserFillsByTimeRequest(user=self._user, startTime=self._cursor, endTime=self._end)

    def add_page(self, page: Sequence[Fill]) -> None:
        """Take one answer (any order); advance the cursor or finish."""
        if self._done:
            raise RuntimeError("the fill window is already complete")
        self.pages += 1
        for fill in page:
            if self._start <= fill.time <= self._end:
                self._fills.setdefault(fill_key(fill), fill)
        if len(page) < self._limit:
            self._done = True
            return
        last = max(fill.time for fill in page)
        if last > self._cursor:
            self._cursor = last
        else:
            self._cursor = last + 1
            self.truncated = True
        if self._cursor > self._end:
            self._done = True

    @property
    def fills(self) -> list[Fill]:
        """Every fill read so far, de-duplicated, sorted by (time, tid, trade id, oid)."""
        return sorted(self._fills.values(), key=_fill_sort_key)


async def fetch_fills_by_time(
    fetch: Callable[[UserFillsByTimeRequest], Awaitable[Sequence[Fill]]],
    user: str,
    start_ms: int,
    end_ms: int,
    *,
    page_limit: int = USER_FILLS_BY_TIME_LIMIT,
) -> FillPager:
    """Drive a `FillPager` with `fetch` (which posts one request); returns the finished pager."""
    pager = FillPager(user, start_ms, end_ms, page_limit=page_limit)
    while (request := pager.next_request()) is not None:
        pager.add_page(await fetch(request))
    return pager


# --- Positions -----------------------------------------------------------------------------------


def position_status_reports(
    state: ClearinghouseState,
    instruments: Instruments,
    account_id: AccountId,
    ts_init: int,
    *,
    flat_for: Iterable[Instrument] = (),
    on_skip: SkipHandler | None = None,
) -> list[PositionStatusReport]:
    """Open positions of a `clearinghouseState`, sorted by instrument id.

    Instruments in `flat_for` without a position get a FLAT report, so a position that closed
    while the node was away is closed in the cache too.
    """
    ts_last = _ns(state.time) if state.time is not None else ts_init
    reports: dict[str, PositionStatusReport] = {}
    for asset_position in state.assetPositions:
        position = asset_position.position
        instrument = instruments.get(position.coin)
        if instrument is None:
            _skip(on_skip, f"position: no instrument for coin {position.coin!r}")
            continue
        szi = Decimal(position.szi)
        if szi == 0:
            continue
        side = PositionSide.LONG if szi > 0 else PositionSide.SHORT
        key = instrument.id.value
        reports[key] = PositionStatusReport(
            account_id=account_id,
            instrument_id=instrument.id,
            position_side=side,
            quantity=instrument.make_qty(abs(szi)),
            report_id=stable_uuid("position", account_id, key, position.szi, ts_last, ts_init),
            ts_last=ts_last,
            ts_init=ts_init,
            avg_px_open=Decimal(position.entryPx) if position.entryPx is not None else None,
        )
    for instrument in flat_for:
        key = instrument.id.value
        if key not in reports:
            reports[key] = PositionStatusReport(
                account_id=account_id,
                instrument_id=instrument.id,
                position_side=PositionSide.FLAT,
                quantity=Quantity.zero(instrument.size_precision),
                report_id=stable_uuid("position", account_id, key, "0", ts_last, ts_init),
                ts_last=ts_last,
                ts_init=ts_init,
            )
    return [reports[key] for key in sorted(reports)]


# --- Account -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Balance:
    total: Decimal
    locked: Decimal


def account_state(
    perp: ClearinghouseState,
    spot: SpotClearinghouseState | None,
    account_id: AccountId,
    ts_init: int,
    *,
    instruments: Instruments | None = None,
) -> AccountState:
    """A margin AccountState from `clearinghouseState` (+ `spotClearinghouseState`).

    USDC: total = perp account value + spot USDC; locked = perp (account value - withdrawable)
    + spot USDC on hold; free = total - locked. Perp and spot USDC are separate pools on a
    standard Hyperliquid account, so they add up. Other spot tokens: total, locked = hold. One
    margin per position on a known instrument: initial = `marginUsed`, maintenance = position
    value x the instrument's `margin_maint`. Venue totals go into `info` as strings.
    """
    usdc = _currency(_COLLATERAL)
    summary = perp.marginSummary
    perp_total = Decimal(summary.accountValue)
    perp_locked = max(perp_total - Decimal(perp.withdrawable), Decimal(0))
    balances: dict[str, _Balance] = {_COLLATERAL: _Balance(perp_total, perp_locked)}
    for item in spot.balances if spot is not None else ():
        total = Decimal(item.total)
        hold = Decimal(item.hold)
        known = balances.get(item.coin)
        if known is not None:
            balances[item.coin] = _Balance(known.total + total, known.locked + hold)
        elif total != 0:
            balances[item.coin] = _Balance(total, hold)
    ordered = [_COLLATERAL, *sorted(code for code in balances if code != _COLLATERAL)]
    account_balances: list[AccountBalance] = []
    for code in ordered:
        currency = usdc if code == _COLLATERAL else _currency(code)
        balance = balances[code]
        account_balances.append(
            AccountBalance(
                total=Money(balance.total, currency),
                locked=Money(balance.locked, currency),
                free=Money(balance.total - balance.locked, currency),
            )
        )
    margins: dict[str, MarginBalance] = {}
    for asset_position in perp.assetPositions:
        position = asset_position.position
        instrument = instruments.get(position.coin) if instruments is not None else None
        if instrument is None:
            continue
        maintenance = Decimal(position.positionValue) * Decimal(str(instrument.margin_maint))
        margins[instrument.id.value] = MarginBalance(
            initial=Money(Decimal(position.marginUsed), usdc),
            maintenance=Money(maintenance, usdc),
            instrument_id=instrument.id,
        )
    ts_event = _ns(perp.time) if perp.time is not None else ts_init
    info = {
        "accountValue": summary.accountValue,
        "totalMarginUsed": summary.totalMarginUsed,
        "totalNtlPos": summary.totalNtlPos,
        "totalRawUsd": summary.totalRawUsd,
        "crossAccountValue": perp.crossMarginSummary.accountValue,
        "crossMaintenanceMarginUsed": perp.crossMaintenanceMarginUsed,
        "withdrawable": perp.withdrawable,
    }
    event_id = stable_uuid(
        "account",
        account_id,
        ts_event,
        ts_init,
        *(f"{b.total}/{b.locked}" for b in account_balances),
        *(f"{m.instrument_id}/{m.initial}/{m.maintenance}" for m in margins.values()),
    )
    return AccountState(
        account_id=account_id,
        account_type=AccountType.MARGIN,
        base_currency=usdc,
        reported=True,
        balances=account_balances,
        margins=[margins[key] for key in sorted(margins)],
        info=info,
        event_id=event_id,
        ts_event=ts_event,
        ts_init=ts_init,
    )
