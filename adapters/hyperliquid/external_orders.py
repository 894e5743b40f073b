"""Follow-up of orders placed outside this node (another process, the venue's UI) that fill here.

Why: NautilusTrader's cache must end in the venue's state, but the venue announces such an order
only through its fills (and, once it ends, an ``orderUpdates`` status or ``nonUserCancel``). An
order report (``HL-<oid>``, open) is sent before its first fill, its fills follow in order, and
once it ends its final status is reported after every fill the venue counted (fetched if the
stream has not delivered them), so reconciliation never has to infer fills.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Coroutine
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import Logger
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.reports import fetch_fills_by_time
from adapters.hyperliquid.reports import fill_key
from adapters.hyperliquid.reports import fill_report
from adapters.hyperliquid.reports import order_status_report
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.reports import venue_order_status
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.info import FrontendOpenOrdersRequest
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import OrderStatusRequest
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest

__all__ = ["EXTERNAL_ORDER_PREFIX", "ExternalOrders", "external_client_order_id"]

EXTERNAL_ORDER_PREFIX: Final[str] = "HL-"
"""Client order ids of venue orders this node did not place: ``HL-<oid>`` (deterministic)."""

_LOOKUP_ATTEMPTS: Final[int] = 3
_FINAL_CHECK_DELAY_SECS: Final[float] = 1.0
_FINAL_STATUSES: Final[frozenset[OrderStatus | None]] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}
)


def external_client_order_id(oid: int) -> ClientOrderId:
    """The deterministic client order id given to a venue order this node did not place."""
    return ClientOrderId(f"{EXTERNAL_ORDER_PREFIX}{oid}")


@dataclass(slots=True)
class _External:
    """An external order the node reported, followed until its final status is reported."""

    oid: int
    client_order_id: ClientOrderId
    instrument: Instrument
    filled: Decimal = Decimal(0)
    tids: set[str] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    final: FrontendOrderStatus | None = None  # the venue's final status, once known
    final_attempts: int = 0
    finished: bool = False  # the final status report was sent


class ExternalOrders:
    """Reports external orders' fills and ends (module notes); owned by the execution client.

    Parameters
    ----------
    http : HyperliquidHttpClient
        The REST client.
    user : str
        The address whose orders are queried.
    cache : Cache
        The node's cache (orders reported by reconciliation are picked up from it).
    instruments : dict[str, Instrument]
        Loaded instruments by venue coin (shared with the client, filled at connect).
    seen_tids : set[tuple[str, str]]
        The client's fill de-duplication keys (fetched fills are added).
    account_id, now_ns, venue_now_ms : Callable
        The client's account id, clock, and the venue's time (ms, fill queries end there).
    send_order_status_report, send_fill_report, create_task : Callable
        The client's report sinks and task runner (NautilusTrader's, which log failures).
    log : Logger
        The execution client's logger.
    """

    def __init__(
        self,
        *,
        http: HyperliquidHttpClient,
        user: str,
        cache: Cache,
        instruments: dict[str, Instrument],
        seen_tids: set[tuple[str, str]],
        account_id: Callable[[], AccountId],
        now_ns: Callable[[], int],
        venue_now_ms: Callable[[], int],
        send_order_status_report: Callable[[OrderStatusReport], None],
        send_fill_report: Callable[[FillReport], None],
        create_task: Callable[[Coroutine[Any, Any, None]], Any],
        log: Logger,
    ) -> None:
        self._http = http
        self._user = user
        self._cache = cache
        self._instruments = instruments
        self._seen_tids = seen_tids
        self._account_id = account_id
        self._now_ns = now_ns
        self._venue_now_ms = venue_now_ms
        self._send_status = send_order_status_report
        self._send_fill = send_fill_report
        self._create_task = create_task
        self._log = log
        self._orders: dict[int, _External] = {}
        self._lock = asyncio.Lock()  # one order report before its fills, fills in order
        self.finals = 0
        self.pending = 0  # follow-up tasks not finished yet (tests wait for 0)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.pending += 1

        async def run() -> None:
            try:
                await coro
            finally:
                self.pending -= 1

        self._create_task(run())

    def on_fill(self, fill: Fill, instrument: Instrument) -> None:
        """A fill of an order this node does not know."""
        self._spawn(self._fill(fill, instrument))

    async def _fill(self, fill: Fill, instrument: Instrument) -> None:
        async with self._lock:
            external = self._orders.get(fill.oid)
            if external is None:
                external = await self._open(fill, instrument)
                if external is None:
                    return
            if fill_key(fill)[1] in external.tids:
                return  # already reported (fetched with the order's other fills)
            if external.finished:
                self._log.error(
                    f"Fill {fill.tid} of external order {fill.oid} arrived after its final "
                    "status was reported; not applied (the next reconciliation compares positions)"
                )
                return
            self._report_fill(external, fill)
            if external.final is not None:
                await self._finish(external)

    def _adopt(self, oid: int, cached_coid: ClientOrderId, instrument: Instrument) -> _External:
        cached = self._cache.order(cached_coid)
        assert cached is not None
        external = _External(oid, cached_coid, instrument, filled=cached.filled_qty.as_decimal())
        external.tids.update(t.value for t in cached.trade_ids)
        external.finished = cached.is_closed
        self._orders[oid] = external
        return external

    async def _open(self, fill: Fill, instrument: Instrument) -> _External | None:
        """Start following an external order: an `open` report first (unless cached)."""
        coid = external_client_order_id(fill.oid)
        if self._cache.order(coid) is not None:  # reported by reconciliation
            return self._adopt(fill.oid, coid, instrument)
        answer = await self._http.info(OrderStatusRequest(user=self._user, oid=fill.oid))
        if not isinstance(answer, OrderStatusFound):
            self._log.error(f"Fill {fill.tid} of unknown order {fill.oid} not found at venue")
            return None
        entry = answer.order
        opened = msgspec.structs.replace(entry.order, sz=entry.order.origSz)
        report = order_status_report(
            _positive_quantity(opened, fill),
            "open",
            entry.order.timestamp,
            instrument,
            self._account_id(),
            self._now_ns(),
            client_order_id=coid,
        )
        self._log.warning(
            f"Fill of an order placed outside this node: oid {fill.oid} ({fill.coin} "
            f"{fill.side} {fill.sz} @ {fill.px}, {fill.dir}); reported as external {coid}"
        )
        self._send_status(report)
        external = _External(fill.oid, coid, instrument)
        if venue_order_status(entry.status, filled=False) in _FINAL_STATUSES:
            external.final = entry  # ended already (e.g. an IOC): report its end after its fills
        self._orders[fill.oid] = external
        return external

    def _report_fill(self, external: _External, fill: Fill) -> None:
        external.tids.add(fill_key(fill)[1])
        external.fills.append(fill)
        external.filled += Decimal(fill.sz)
        report = fill_report(
            fill,
            external.instrument,
            self._account_id(),
            self._now_ns(),
            client_order_id=external.client_order_id,
        )
        self._send_fill(report)

    def _follows(self, oid: int) -> bool:
        """An external order this node reported and whose end it has not reported yet."""
        external = self._orders.get(oid)
        if external is not None:
            return not external.finished
        cached = self._cache.order(external_client_order_id(oid))
        return cached is not None and cached.is_open

    def on_update(self, oid: int, status: str) -> None:
        """A status change of an order placed outside this node: once it ends, report the end."""
        if status in ("open", "triggered") or not self._follows(oid):
            return
        self._spawn(self._final(oid))

    async def _final(self, oid: int) -> None:
        """Ask the venue how an external order ended and report it (after its fills)."""
        async with self._lock:  # after the order's pending fill reports
            try:
                answer = await self._http.info(OrderStatusRequest(user=self._user, oid=oid))
            except HyperliquidError as exc:
                self._log.warning(f"Final status of external order {oid} unknown: {exc}")
                return
            if not isinstance(answer, OrderStatusFound):
                self._log.warning(f"External order {oid} not found at the venue")
                return
            entry = answer.order
            if venue_order_status(entry.status, filled=False) not in _FINAL_STATUSES:
                return
            external = self._orders.get(oid)
            if external is None:
                instrument = self._instruments.get(entry.order.coin)
                coid = external_client_order_id(oid)
                if instrument is None or self._cache.order(coid) is None:
                    return
                external = self._adopt(oid, coid, instrument)
                external.finished = False
            if external.finished:
                return
            external.final = entry
            await self._finish(external)

    async def _finish(self, external: _External) -> None:
        """Report the venue's final status once its fills are reported.

        NautilusTrader cancels an order without inferring missing fills, so the fills the
        venue counted are fetched first; if the venue still shows fewer, ask again shortly.
        """
        entry = external.final
        assert entry is not None
        orig = Decimal(entry.order.origSz)
        venue_filled = orig - Decimal(entry.order.sz) if orig > 0 else None
        if venue_filled is None or external.filled < venue_filled:
            await self._fetch_fills(external, entry.order.timestamp)
        if venue_filled is not None and external.filled < venue_filled:
            external.final_attempts += 1
            if external.final_attempts < _LOOKUP_ATTEMPTS:
                self._log.warning(
                    f"External order {external.oid} {entry.status}: venue filled {venue_filled}, "
                    f"{external.filled} in fills so far; asking again"
                )
                external.final = None
                self._spawn(self._final_later(external.oid))
                return
            self._log.error(
                f"External order {external.oid} {entry.status}: venue filled {venue_filled} but "
                f"only {external.filled} found in its fills; reporting the final status anyway"
            )
        external.finished = True
        cached = self._cache.order(external.client_order_id)
        if cached is not None and cached.is_closed:
            return
        report = order_status_report(
            entry.order,
            entry.status,
            entry.statusTimestamp,
            external.instrument,
            self._account_id(),
            self._now_ns(),
            client_order_id=external.client_order_id,
            fills=external.fills,
        )
        self.finals += 1
        reason = venue_cancel_reason(entry.status)
        self._log.warning(
            f"External order {external.oid} ({external.client_order_id}) ended at the venue: "
            f"{entry.status}, filled {report.filled_qty} of {report.quantity}"
            + (f" ({reason})" if reason else "")
        )
        self._send_status(report)

    async def _final_later(self, oid: int) -> None:
        await asyncio.sleep(_FINAL_CHECK_DELAY_SECS)
        await self._final(oid)

    async def _fetch_page(self, request: UserFillsByTimeRequest) -> list[Fill]:
        page: list[Fill] = await self._http.info(request)
        return page

    async def _fetch_fills(self, external: _External, since_ms: int) -> None:
        """Report the fills of one external order the stream has not delivered (yet)."""
        end_ms = max(self._venue_now_ms(), since_ms) + 1_000
        try:
            pager = await fetch_fills_by_time(self._fetch_page, self._user, since_ms, end_ms)
        except HyperliquidError as exc:
            self._log.warning(f"Fills of external order {external.oid} not fetched: {exc}")
            return
        for fill in pager.fills:
            if fill.oid != external.oid or fill_key(fill)[1] in external.tids:
                continue
            self._seen_tids.add(fill_key(fill))
            self._report_fill(external, fill)

    async def audit(self) -> int:
        """Report the end of external orders the venue no longer lists as open (an update
        missed while the stream was down); returns how many ends were reported."""
        oids = {oid for oid, e in self._orders.items() if not e.finished}
        own = self._account_id()
        for order in self._cache.orders_open(venue=HYPERLIQUID_VENUE):
            if order.account_id is not None and order.account_id != own:
                continue  # another account's client (one per account) follows that one
            text = order.venue_order_id.value if order.venue_order_id is not None else ""
            if order.client_order_id.value.startswith(EXTERNAL_ORDER_PREFIX) and text.isdigit():
                oids.add(int(text))
        if not oids:
            return 0
        venue_open: list[FrontendOrder] = await self._http.info(
            FrontendOpenOrdersRequest(user=self._user)
        )
        open_oids = {o.oid for o in venue_open}
        open_oids.update(child.oid for o in venue_open for child in o.children)
        before = self.finals
        for oid in sorted(oids - open_oids):
            await self._final(oid)
        return self.finals - before


def _positive_quantity(order: FrontendOrder, fill: Fill) -> FrontendOrder:
    """Market orders closing a position may report `origSz` 0: fall back to the fill size."""
    if Decimal(order.origSz) > 0:
        return order
    return msgspec.structs.replace(order, origSz=fill.sz, sz=fill.sz)
