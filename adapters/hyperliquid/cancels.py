"""Cancels for the execution client: by oid when bound, by cloid while a modify may replace the
oid or before the venue acknowledged the order, and "cancel all" including orders placed
elsewhere (the venue's open orders are asked, not the cache).

Split from the client so that one module holds how a cancel is addressed and how each of the
venue's per-cancel answers maps to `OrderCanceled` or `OrderCancelRejected`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import Logger
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.order_builder import HyperliquidOrderBuilder
from adapters.hyperliquid.order_builder import cancel_action
from adapters.hyperliquid.order_builder import cancel_by_cloid_action
from adapters.hyperliquid.order_tracking import TrackedOrders
from adapters.hyperliquid.rejections import classify_rejection
from adapters.hyperliquid.schemas.exchange import CancelResponse
from adapters.hyperliquid.schemas.exchange import ErrorStatus
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.info import OpenOrdersRequest

__all__ = ["OrderCanceller", "cancel_statuses"]


def cancel_statuses(response: ExchangeResponse, count: int) -> list[str | None]:
    """Per-cancel error reason (None = cancelled), whatever shape the answer has."""
    if isinstance(response, ExchangeErr):
        return [classify_rejection(response.response).reason] * count
    payload = response.response
    if not isinstance(payload, CancelResponse):
        return [f"UNKNOWN: unexpected answer {payload!r}"] * count
    statuses = payload.data.statuses
    out: list[str | None] = []
    for index in range(count):
        status = statuses[index] if index < len(statuses) else statuses[-1]
        if isinstance(status, ErrorStatus):
            out.append(classify_rejection(status.error).reason)
        else:
            out.append(None)
    return out


class OrderCanceller:
    """Posts cancels and reports each outcome through the client's event emitters."""

    def __init__(
        self,
        *,
        http: HyperliquidHttpClient,
        user: str,
        cache: Cache,
        builder: HyperliquidOrderBuilder,
        orders: TrackedOrders,
        post: Callable[[Any], Awaitable[ExchangeResponse]],
        now_ns: Callable[[], int],
        cancelled: Callable[[ClientOrderId, int | None, int], None],
        cancel_rejected: Callable[[ClientOrderId, str, int], None],
        log: Logger,
    ) -> None:
        self._http = http
        self._user = user
        self._cache = cache
        self._builder = builder
        self._orders = orders
        self._post = post
        self._now_ns = now_ns
        self._cancelled = cancelled
        self._cancel_rejected = cancel_rejected
        self._log = log

    async def cancel_all(self, command: CancelAllOrders) -> None:
        """Cancel every open order on the instrument, including those placed elsewhere."""
        open_orders = await self._http.info(OpenOrdersRequest(user=self._user))
        instrument = self._cache.instrument(command.instrument_id)
        coin = instrument.raw_symbol.value if instrument is not None else None
        spec = self._builder.spec(command.instrument_id)
        if coin is None or spec is None:
            self._log.error(f"Cannot cancel all: {command.instrument_id} is not loaded")
            return
        targets: list[tuple[int, int]] = []
        for item in open_orders:
            if item.coin != coin:
                continue
            side = OrderSide.BUY if item.side == "B" else OrderSide.SELL
            if command.order_side not in (OrderSide.NO_ORDER_SIDE, side):
                continue
            targets.append((spec.asset, item.oid))
        # Our orders not (yet) on the venue's book (in flight, waiting TP/SL): by cloid.
        on_book = {oid for _, oid in targets}
        pending: list[Order] = []
        for order in self._cache.orders_open(instrument_id=command.instrument_id):
            tracked = self._orders.get(order.client_order_id)
            if tracked is None or tracked.closed or (tracked.oid in on_book):
                continue
            if command.order_side not in (OrderSide.NO_ORDER_SIDE, order.side):
                continue
            pending.append(order)
        self._log.info(
            f"Cancel all {command.instrument_id}: {len(targets)} open on the venue, "
            f"{len(pending)} more of ours by cloid"
        )
        if targets:
            await self._cancel_by_oid(targets)
        if pending:
            await self.cancel_orders(pending, by_cloid=True)

    async def _cancel_by_oid(self, targets: Sequence[tuple[int, int]]) -> None:
        try:
            response = await self._post(cancel_action(targets))
        except HyperliquidError as exc:
            self._log.error(f"Cancel of {len(targets)} orders failed: {exc}")
            return
        statuses = cancel_statuses(response, len(targets))
        now = self._now_ns()
        for (_, oid), error in zip(targets, statuses, strict=True):
            coid = self._orders.by_oid.get(oid)
            if coid is None:
                continue
            if error is None:
                self._cancelled(coid, oid, now)
            else:
                self._cancel_rejected(coid, error, now)

    async def cancel_orders(self, orders: Sequence[Order], by_cloid: bool = False) -> None:
        """Cancel these orders of ours (by oid when bound and stable, else by cloid)."""
        now = self._now_ns()
        by_oid: list[tuple[Order, int, int]] = []
        by_cl: list[tuple[Order, int, str]] = []
        for order in orders:
            spec = self._builder.spec(order.instrument_id)
            tracked = self._orders.get(order.client_order_id)
            if spec is None:
                self._cancel_rejected(order.client_order_id, "not a loaded instrument", now)
                continue
            if tracked is not None and tracked.closed:
                continue
            cloid = cloid_from_client_order_id(order.client_order_id)
            oid = tracked.oid if tracked is not None else None
            if oid is None and order.venue_order_id is not None:
                text = order.venue_order_id.value
                oid = int(text) if text.isdigit() else None
            modifying = tracked is not None and tracked.modifying
            # While a modify is in flight the oid may be replaced any moment; the cloid stays.
            if oid is not None and not by_cloid and not modifying:
                by_oid.append((order, spec.asset, oid))
            else:
                by_cl.append((order, spec.asset, cloid))
        for batch, make in (
            (by_oid, lambda b: cancel_action((a, o) for _, a, o in b)),
            (by_cl, lambda b: cancel_by_cloid_action((a, c) for _, a, c in b)),
        ):
            if not batch:
                continue
            try:
                response = await self._post(make(batch))
            except HyperliquidError as exc:
                for order, _, _ in batch:
                    self._cancel_rejected(order.client_order_id, f"TRANSPORT: {exc}", now)
                continue
            statuses = cancel_statuses(response, len(batch))
            now = self._now_ns()
            for (order, _, _), error in zip(batch, statuses, strict=True):
                if error is None:
                    tracked = self._orders.get(order.client_order_id)
                    oid = tracked.oid if tracked is not None else None
                    self._cancelled(order.client_order_id, oid, now)
                else:
                    self._cancel_rejected(order.client_order_id, error, now)
