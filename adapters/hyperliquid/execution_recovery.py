"""Recovery and upkeep of the execution client: lookups after lost answers, fill checks,
reconnect resyncs, the in-flight watchdog, account refreshes and the health ticks.

A mixin of `HyperliquidExecutionClient` (these paths change the same per-order records as the
live flow), kept apart so the client module holds the live order flow: every path here ends
in a venue fact that is applied through the client's emitters (``_accept``, ``_reject``,
``_cancelled``, ``_promote``, ``_on_fill``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import Logger
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.account_freshness import AccountFreshness
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.dead_man import DeadManSwitch
from adapters.hyperliquid.dead_man import VenueClock
from adapters.hyperliquid.external_orders import ExternalOrders
from adapters.hyperliquid.health import HealthGate
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.order_tracking import TrackedOrder
from adapters.hyperliquid.order_tracking import TrackedOrders
from adapters.hyperliquid.order_tracking import TrackingState
from adapters.hyperliquid.rejections import reason_for_order_status
from adapters.hyperliquid.reports import account_state
from adapters.hyperliquid.reports import fetch_fills_by_time
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.reports import venue_order_status
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.info import ClearinghouseStateRequest
from adapters.hyperliquid.schemas.info import FrontendOpenOrdersRequest
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import OrderStatusRequest
from adapters.hyperliquid.schemas.info import SpotClearinghouseStateRequest
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Coroutine

    from nautilus_trader.common.enums import LogColor

    from adapters.hyperliquid.execution import ExecClientCounters

__all__ = ["USER_STREAM_CONDITION", "RecoveryMixin"]

USER_STREAM_CONDITION: Final[str] = "user stream"
"""The ``HealthGate`` condition held while the user stream is down or not yet resynced."""

_MS: Final[int] = 1_000_000
_SEC: Final[int] = 1_000_000_000
_LOOKUP_ATTEMPTS: Final[int] = 3
_LOOKUP_DELAY_SECS: Final[float] = 0.25
_FILL_CHECK_DELAY_SECS: Final[float] = 1.0
_HEALTH_TICK_SECS: Final[float] = 0.5


class RecoveryMixin:
    """Recovery paths and background loops of the execution client (module notes)."""

    if TYPE_CHECKING:  # provided by HyperliquidExecutionClient / LiveExecutionClient
        from nautilus_trader.model.identifiers import AccountId

        _config: HyperliquidExecClientConfig
        _http: HyperliquidHttpClient
        _user: str
        _cache: Cache
        _clock: LiveClock
        _log: Logger
        _instruments: dict[str, Instrument]
        _orders: TrackedOrders
        _externals: ExternalOrders
        _gate: HealthGate | None
        _connections: int
        _last_fill_ms: int
        _account_refresh: asyncio.Task[Any] | None
        _account_dirty: bool
        _stopping: bool
        counters: ExecClientCounters
        dead_man: DeadManSwitch
        account_freshness: AccountFreshness
        venue_clock: VenueClock

        @property
        def account_id(self) -> AccountId: ...

        def create_task(
            self,
            coro: Coroutine[Any, Any, Any],
            log_msg: str | None = None,
            actions: Callable[..., Any] | None = None,
            success_msg: str | None = None,
            success_color: LogColor = LogColor.NORMAL,
        ) -> asyncio.Task[Any]: ...

        def _send_account_state(self, account_state: Any) -> None: ...

        def _accept(self, client_order_id: ClientOrderId, oid: int, ts_event: int) -> None: ...

        def _reject(
            self,
            client_order_id: ClientOrderId,
            reason: str,
            ts_event: int,
            post_only: bool = False,
        ) -> None: ...

        def _cancelled(
            self,
            client_order_id: ClientOrderId,
            oid: int | None,
            ts_event: int,
            reason: str | None = None,
        ) -> None: ...

        def _promote(self, client_order_id: ClientOrderId, new_oid: int, ts_event: int) -> None: ...

        def _venue_filled(self, tracked: TrackedOrder) -> None: ...

        def _on_fill(self, fill: Fill) -> bool: ...

        def _venue_now_ms(self) -> int: ...

        def _set_condition(self, name: str, reason: str | None, now_ns: int) -> None: ...

    async def _resolve_unknown(self, tracked: Sequence[TrackedOrder], reason: str) -> None:
        """After a transport failure: ask the venue for each order by cloid, then decide."""
        for item in tracked:
            for attempt in range(_LOOKUP_ATTEMPTS):
                await asyncio.sleep(_LOOKUP_DELAY_SECS * (attempt + 1))
                if item.closed or item.accepted:
                    break
                try:
                    found = await self._lookup(item)
                except HyperliquidError as exc:
                    self._log.warning(f"Lookup of {item.client_order_id!r} failed: {exc}")
                    continue
                if found:
                    break
            else:
                if item.state in (TrackingState.SUBMITTED, TrackingState.UNKNOWN):
                    self._reject(
                        item.client_order_id,
                        f"TRANSPORT: the venue does not know the order after a failed request "
                        f"({reason})",
                        self._clock.timestamp_ns(),
                    )

    async def _lookup(self, tracked: TrackedOrder) -> bool:
        """Query the venue for one order (by cloid) and apply its status; False if unknown."""
        answer = await self._http.info(OrderStatusRequest(user=self._user, oid=tracked.cloid))
        if not isinstance(answer, OrderStatusFound):
            return False
        self._apply_venue_order(answer.order)
        return True

    async def _lookup_quietly(self, tracked: TrackedOrder) -> None:
        try:
            await self._lookup(tracked)
        except HyperliquidError as exc:
            self._log.warning(f"Lookup of {tracked.client_order_id!r} failed: {exc}")

    def _apply_venue_order(self, entry: FrontendOrderStatus) -> None:
        """Bring one of our orders to the venue's status (resync, lookups)."""
        order = entry.order
        coid = self._orders.resolve(order.cloid, order.oid)
        tracked = self._orders.get(coid)
        if coid is None or tracked is None:
            return
        ts = entry.statusTimestamp * _MS
        status = entry.status
        if tracked.oid is not None and order.oid != tracked.oid and order.oid in tracked.old_oids:
            return  # a replaced leg
        if status == "open":
            if tracked.accepted and tracked.oid != order.oid:
                self._promote(coid, order.oid, ts)
            self._accept(coid, order.oid, ts)
            return
        if status == "triggered":
            self._accept(coid, order.oid, ts)
            return
        if status == "filled":
            self._accept(coid, order.oid, ts)
            self._venue_filled(tracked)
            return
        code = reason_for_order_status(status)
        if code is not None:
            if tracked.accepted:
                self._cancelled(coid, order.oid, ts, f"{code.value}: {status}")
            else:
                self._reject(coid, f"{code.value}: {status}", ts)
            return
        if venue_order_status(status, filled=False) == OrderStatus.CANCELED:
            self._accept(coid, order.oid, ts)
            self._cancelled(coid, order.oid, ts, venue_cancel_reason(status))

    async def _fill_check(self, client_order_id: ClientOrderId) -> None:
        await asyncio.sleep(_FILL_CHECK_DELAY_SECS)
        tracked = self._orders.get(client_order_id)
        order = self._cache.order(client_order_id)
        if tracked is None or order is None:
            return
        if tracked.filled >= order.quantity.as_decimal():
            return
        self._log.warning(
            f"{client_order_id!r} filled at the venue but only {tracked.filled} of "
            f"{order.quantity} seen on the stream; fetching its fills"
        )
        await self._fetch_fills(tracked.submitted_ns // _MS - 1_000)

    async def _fetch_fills(self, start_ms: int) -> int:
        end_ms = max(self._venue_now_ms(), start_ms) + 1_000
        pager = await fetch_fills_by_time(self._fetch_fill_page, self._user, start_ms, end_ms)
        applied = sum(1 for fill in pager.fills if self._on_fill(fill))
        self.counters.resync_fills += applied
        return applied

    async def _fetch_fill_page(self, request: UserFillsByTimeRequest) -> list[Fill]:
        page: list[Fill] = await self._http.info(request)
        return page

    # -- reconnect resync ------------------------------------------------------------------------

    def _on_ws_disconnected(self, reason: str) -> None:
        """Order updates and fills may be missed from now on: no new risk until resynced."""
        if self._stopping:
            return
        reason = f"disconnected ({reason}); order updates and fills unseen until resynced"
        self._set_condition(USER_STREAM_CONDITION, reason, self._clock.timestamp_ns())

    def _on_ws_connected(self, conn_id: str) -> None:
        self._connections += 1
        if self._connections > 1:
            self._log.warning(f"User stream reconnected ({conn_id}); resyncing orders and fills")
            self.create_task(self._resync_until_done())
        else:
            self._set_condition(USER_STREAM_CONDITION, None, self._clock.timestamp_ns())

    async def _resync_until_done(self) -> None:
        """Resync after a reconnect, retrying with backoff; the order view is trusted (the
        ``user stream`` condition lifted) only once a resync went through."""
        for attempt in itertools.count():
            try:
                await self.resync()
            except HyperliquidError as exc:
                delay = min(2.0**attempt, 30.0)
                self._log.warning(f"Resync failed ({exc}); retrying in {delay:g} s")
                await asyncio.sleep(delay)
                continue
            self._set_condition(USER_STREAM_CONDITION, None, self._clock.timestamp_ns())
            return

    async def resync(self) -> None:
        """Emit what the streams may have missed: fills since the last one seen, and the venue
        status of every order this node believes open."""
        self.counters.resyncs += 1
        fills = await self._fetch_fills(max(self._last_fill_ms - 1, 0))
        updates = await self._audit_open_orders(force=True)
        updates += await self._externals.audit()
        self._log.warning(
            f"Resync done: {fills} missed fills and {updates} order updates emitted"
            if fills or updates
            else "Resync done: nothing was missed"
        )

    async def _audit_open_orders(self, force: bool = False) -> int:
        """Look up our accepted orders the venue no longer lists as open (plus stale ones)."""
        live = [t for t in self._orders.tracked.values() if t.accepted]
        if not live:
            return 0
        venue_open = await self._http.info(FrontendOpenOrdersRequest(user=self._user))
        open_oids = {o.oid for o in venue_open}
        open_oids.update(child.oid for o in venue_open for child in o.children)
        changed = 0
        for tracked in live:
            if tracked.oid in open_oids or tracked.closed:
                continue
            if tracked.modifying and not force:
                continue
            before = (tracked.state, tracked.oid)
            with contextlib.suppress(HyperliquidError):
                await self._lookup(tracked)
            if (tracked.state, tracked.oid) != before or tracked.closed:
                changed += 1
        return changed

    # -- background loops ------------------------------------------------------------------------

    async def _watchdog_loop(self) -> None:
        """No order stays in flight forever: stale SUBMITTED orders are looked up by cloid."""
        interval = self._config.watchdog_interval_secs
        timeout_ns = int(self._config.inflight_timeout_secs * _SEC)
        while True:
            await asyncio.sleep(interval)
            now = self._clock.timestamp_ns()
            for tracked in list(self._orders.tracked.values()):
                if tracked.state not in (TrackingState.IN_FLIGHT, TrackingState.SUBMITTED):
                    continue
                if now - tracked.submitted_ns < timeout_ns:
                    continue
                self._log.warning(f"{tracked.client_order_id!r} in flight too long; looking up")
                try:
                    found = await self._lookup(tracked)
                except HyperliquidError as exc:
                    self._log.warning(f"Watchdog lookup failed: {exc}")
                    continue
                if not found and now - tracked.submitted_ns > 2 * timeout_ns:
                    self._reject(
                        tracked.client_order_id,
                        "TIMEOUT: no venue answer and the venue does not know the order",
                        now,
                    )
            self._orders.prune(self._closed_in_cache)

    def _closed_in_cache(self, client_order_id: ClientOrderId) -> bool:
        order = self._cache.order(client_order_id)
        return order is None or order.is_closed

    async def _health_loop(self) -> None:
        """Ticks the dead-man switch and account-view checks (overdue while a request hangs)."""
        while True:
            await asyncio.sleep(_HEALTH_TICK_SECS)
            now = self._clock.timestamp_ns()
            self.dead_man.check(now)
            self.account_freshness.check(now)
            if self._gate is not None:
                self._gate.check(now)

    async def _dead_man_loop(self) -> None:
        while True:
            await asyncio.sleep(self.dead_man.retry_delay_secs())
            await self.dead_man.arm()

    async def _account_loop(self) -> None:
        interval = self._config.account_refresh_interval_secs
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            await self._refresh_account_logged()

    def _mark_account_dirty(self) -> None:
        """Refresh the account soon after fills / funding / liquidation (coalesced)."""
        self._account_dirty = True
        if self._account_refresh is None or self._account_refresh.done():
            self._account_refresh = self.create_task(self._refresh_account_soon())

    async def _refresh_account_soon(self) -> None:
        while self._account_dirty:
            self._account_dirty = False
            await asyncio.sleep(0.1)
            await self._refresh_account_logged()

    async def _refresh_account_logged(self) -> None:
        with contextlib.suppress(HyperliquidError):  # recorded by account_freshness
            await self._refresh_account()

    async def _refresh_account(self) -> None:
        """Fetch the account view; feeds its freshness and the venue clock (its ``time``)."""
        sent = self._clock.timestamp_ns()
        try:
            perp: ClearinghouseState = await self._http.info(
                ClearinghouseStateRequest(user=self._user)
            )
            spot: SpotClearinghouseState | None = None
            if "spot" in self._config.product_types:
                spot = await self._http.info(SpotClearinghouseStateRequest(user=self._user))
        except HyperliquidError as exc:
            self.account_freshness.on_failure(
                "account refresh", f"{type(exc).__name__}: {exc}", self._clock.timestamp_ns()
            )
            raise
        received = self._clock.timestamp_ns()
        if perp.time is not None:
            self.venue_clock.observe(perp.time, sent, received)
        self.account_freshness.on_success(received)
        state = account_state(perp, spot, self.account_id, received, instruments=self._instruments)
        self._send_account_state(state)
