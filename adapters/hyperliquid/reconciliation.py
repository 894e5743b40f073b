"""Reconciliation reports of the execution client: what NautilusTrader asks at start-up and
on demand (order status, fills, positions), built by the pure functions of `reports.py`.

A mixin of `HyperliquidExecutionClient` (it needs the client's REST client, instruments and
order index), kept apart so the client module holds the live order flow only. Orders the node
does not know get the deterministic client order id ``HL-<oid>``, so the same venue state gives
the same cache on every run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import Logger
from nautilus_trader.common.enums import LogLevel
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.external_orders import EXTERNAL_ORDER_PREFIX
from adapters.hyperliquid.external_orders import external_client_order_id
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.order_tracking import TrackedOrders
from adapters.hyperliquid.reports import fetch_fills_by_time
from adapters.hyperliquid.reports import fill_key
from adapters.hyperliquid.reports import fill_reports
from adapters.hyperliquid.reports import open_order_reports
from adapters.hyperliquid.reports import order_status_reports
from adapters.hyperliquid.reports import position_status_reports
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.info import ClearinghouseStateRequest
from adapters.hyperliquid.schemas.info import FrontendOpenOrdersRequest
from adapters.hyperliquid.schemas.info import HistoricalOrdersRequest
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import OrderStatusRequest
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest

__all__ = ["ReconciliationMixin"]

_MS: Final[int] = 1_000_000


class ReconciliationMixin:
    """The ``generate_*_report(s)`` methods of the execution client (module notes)."""

    if TYPE_CHECKING:  # provided by HyperliquidExecutionClient / LiveExecutionClient
        from nautilus_trader.model.identifiers import AccountId

        _http: HyperliquidHttpClient
        _user: str
        _instruments: dict[str, Instrument]
        _orders: TrackedOrders
        _seen_tids: set[tuple[str, str]]
        _clock: LiveClock
        _log: Logger

        @property
        def account_id(self) -> AccountId: ...

        def _log_report_error(self, e: BaseException, report_type: str) -> None: ...

        def _log_report_receipt(
            self, count: int, report_type: str, log_level: LogLevel, verb: str = "Received"
        ) -> None: ...

        async def _fetch_fill_page(self, request: UserFillsByTimeRequest) -> list[Fill]: ...

        def _venue_now_ms(self) -> int: ...

    def _client_order_ids(self) -> dict[str, ClientOrderId]:
        return dict(self._orders.by_cloid)

    def _with_external_ids(self, reports: list[OrderStatusReport]) -> list[OrderStatusReport]:
        for report in reports:
            if report.client_order_id is None:
                oid = int(report.venue_order_id.value)
                known = self._orders.by_oid.get(oid)
                report.client_order_id = known or external_client_order_id(oid)
        return reports

    async def generate_order_status_report(
        self, command: GenerateOrderStatusReport
    ) -> OrderStatusReport | None:
        """The venue status of one order (by cloid when the client order id is known)."""
        target: int | str
        if command.client_order_id is not None and not command.client_order_id.value.startswith(
            EXTERNAL_ORDER_PREFIX
        ):
            target = cloid_from_client_order_id(command.client_order_id)
        elif command.venue_order_id is not None and command.venue_order_id.value.isdigit():
            target = int(command.venue_order_id.value)
        elif command.client_order_id is not None:
            target = int(command.client_order_id.value.removeprefix(EXTERNAL_ORDER_PREFIX))
        else:
            return None
        try:
            answer = await self._http.info(OrderStatusRequest(user=self._user, oid=target))
        except HyperliquidError as exc:
            self._log_report_error(exc, "OrderStatusReport")
            return None
        if not isinstance(answer, OrderStatusFound):
            return None
        reports = order_status_reports(
            [answer.order],
            self._instruments,
            self.account_id,
            self._clock.timestamp_ns(),
            client_order_ids=self._client_order_ids(),
            on_skip=self._log.warning,
        )
        return self._with_external_ids(reports)[0] if reports else None

    async def generate_order_status_reports(
        self, command: GenerateOrderStatusReports
    ) -> list[OrderStatusReport]:
        """Open orders, plus (unless `open_only`) orders that changed inside the window."""
        ts_init = self._clock.timestamp_ns()
        try:
            open_orders: list[FrontendOrder] = await self._http.info(
                FrontendOpenOrdersRequest(user=self._user)
            )
            entries: list[FrontendOrderStatus] = []
            if not command.open_only:
                entries = await self._http.info(HistoricalOrdersRequest(user=self._user))
        except HyperliquidError as exc:
            self._log_report_error(exc, "OrderStatusReports")
            return []
        start_ms, end_ms = _window_ms(command.start, command.end)
        entries = [
            e for e in entries if start_ms <= e.statusTimestamp <= end_ms and e.status != "open"
        ]
        lookup = self._client_order_ids()
        reports = open_order_reports(
            open_orders,
            self._instruments,
            self.account_id,
            ts_init,
            client_order_ids=lookup,
            on_skip=self._log.warning,
        )
        seen = {r.venue_order_id for r in reports}
        closed = order_status_reports(
            entries,
            self._instruments,
            self.account_id,
            ts_init,
            client_order_ids=lookup,
            on_skip=self._log.warning,
        )
        reports.extend(r for r in closed if r.venue_order_id not in seen)
        reports.sort(key=lambda r: (r.ts_accepted, int(r.venue_order_id.value)))
        if command.instrument_id is not None:
            reports = [r for r in reports if r.instrument_id == command.instrument_id]
        self._log_report_receipt(len(reports), "OrderStatusReport", self._log_level())
        return self._with_external_ids(reports)

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        """Fills inside the window (paged), de-duplicated and sorted."""
        start_ms, end_ms = _window_ms(command.start, command.end)
        end_ms = max(start_ms, min(end_ms, self._venue_now_ms() + 1_000))
        try:
            pager = await fetch_fills_by_time(self._fetch_fill_page, self._user, start_ms, end_ms)
        except HyperliquidError as exc:
            self._log_report_error(exc, "FillReports")
            return []
        for fill in pager.fills:
            self._seen_tids.add(fill_key(fill))
        reports = fill_reports(
            pager.fills,
            self._instruments,
            self.account_id,
            self._clock.timestamp_ns(),
            client_order_ids=self._client_order_ids(),
            on_skip=self._log.warning,
        )
        if command.instrument_id is not None:
            reports = [r for r in reports if r.instrument_id == command.instrument_id]
        if command.venue_order_id is not None:
            reports = [r for r in reports if r.venue_order_id == command.venue_order_id]
        self._log_report_receipt(len(reports), "FillReport", self._log_level())
        return reports

    async def generate_position_status_reports(
        self, command: GeneratePositionStatusReports
    ) -> list[PositionStatusReport]:
        """Positions from `clearinghouseState` (FLAT for loaded instruments without one)."""
        try:
            state: ClearinghouseState = await self._http.info(
                ClearinghouseStateRequest(user=self._user)
            )
        except HyperliquidError as exc:
            self._log_report_error(exc, "PositionStatusReports")
            return []
        flat_for: Iterable[Instrument] = (
            [i for i in self._instruments.values() if i.id == command.instrument_id]
            if command.instrument_id is not None
            else self._instruments.values()
        )
        reports = position_status_reports(
            state,
            self._instruments,
            self.account_id,
            self._clock.timestamp_ns(),
            flat_for=flat_for,
            on_skip=self._log.warning,
        )
        if command.instrument_id is not None:
            reports = [r for r in reports if r.instrument_id == command.instrument_id]
        self._log_report_receipt(len(reports), "PositionStatusReport", self._log_level())
        return reports

    @staticmethod
    def _log_level() -> LogLevel:
        return LogLevel.INFO


def _window_ms(start: Any, end: Any) -> tuple[int, int]:
    start_ms = int(start.value // _MS) if start is not None else 0
    end_ms = int(end.value // _MS) if end is not None else 2**62
    return start_ms, end_ms
