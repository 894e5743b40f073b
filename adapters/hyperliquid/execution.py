"""The Hyperliquid live execution client for NautilusTrader.

Order-state drift is where traders lose money, so every path here ends in a venue fact:

* **Submit** (single or list): `order_builder` maps the order (a denial becomes `OrderDenied` at
  once, no request sent), the action is signed (~50 us) and posted ONCE. The answer decides:
  ``resting`` -> `OrderAccepted` with the venue oid; ``filled`` -> accepted, the fills come from
  the user stream; ``error`` -> `OrderRejected` with ``"<REASON_CODE>: <venue text>"``. A
  transport failure (outcome unknown) is never retried: the order is looked up by cloid and
  resolved from what the venue says (open, filled, rejected, not found).
* **One state per order** (`order_tracking`): a transition table run by NautilusTrader's
  ``FiniteStateMachine``, so each event is emitted once whichever of the answer and the two
  user streams arrives first.
* **User streams** (``orderUpdates`` and ``userEvents`` on one socket): fills -> `OrderFilled`,
  de-duplicated by (coin, tid) because a fill may arrive on the stream and again from a resync;
  venue cancels (``nonUserCancel``, ``scheduledCancel``, margin and liquidation cancels) ->
  `OrderCanceled` (the venue's reason is logged: the event carries none); orders this node did
  not place are followed by `external_orders`; funding and liquidations are logged and refresh
  the account.
* **Modify** uses the venue's cancel-replace (new oid). The old leg's cancel is expected and
  swallowed, the new oid is bound with `OrderUpdated(venue_order_id_modified=True)`; if the venue
  cancelled the old leg but refused the new one, the order is reported cancelled after the
  modify rejection.
* **Recovery** (`execution_recovery`): resyncs after reconnects, lookups of orders in flight
  too long or filled without fills, and the open orders of a restarted cache tracked again.
* **Fail closed**: the dead-man switch (`dead_man`) and the account view's age
  (`account_freshness`) hold the node in REDUCING while orders are unprotected or the view old.
* **Reconciliation reports** (`reconciliation`) are pure functions of venue payloads.

The transports, the instrument provider and the signer are built by the factory and handed in
(`factories.build_exec_client`): the key lives only inside `HyperliquidSigner` (never logged,
never pickled). At start, a key that is not the account's own must be an approved, unexpired API
wallet of it (read-only queries; nothing is signed, so a dead-man switch already set stays set).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import QueryAccount
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.account_freshness import AccountFreshness
from adapters.hyperliquid.cancels import OrderCanceller
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.dead_man import DeadManSwitch
from adapters.hyperliquid.dead_man import VenueClock
from adapters.hyperliquid.execution_recovery import RecoveryMixin
from adapters.hyperliquid.external_orders import EXTERNAL_ORDER_PREFIX
from adapters.hyperliquid.external_orders import ExternalOrders
from adapters.hyperliquid.external_orders import external_client_order_id
from adapters.hyperliquid.health import HealthGate
from adapters.hyperliquid.health import TradingStateTarget
from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidRateLimitError
from adapters.hyperliquid.key_check import KeyNotApprovedError
from adapters.hyperliquid.key_check import check_key_approved
from adapters.hyperliquid.leverage import set_configured_leverage
from adapters.hyperliquid.leverage import set_order_leverage
from adapters.hyperliquid.nonces import NonceSource
from adapters.hyperliquid.order_builder import Denied
from adapters.hyperliquid.order_builder import HyperliquidOrderBuilder
from adapters.hyperliquid.order_builder import MarketReference
from adapters.hyperliquid.order_builder import market_reference
from adapters.hyperliquid.order_tracking import TrackedOrder
from adapters.hyperliquid.order_tracking import TrackedOrders
from adapters.hyperliquid.order_tracking import TrackingState
from adapters.hyperliquid.order_tracking import TrackingTrigger
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.reconciliation import ReconciliationMixin
from adapters.hyperliquid.rejections import HyperliquidRejectReason
from adapters.hyperliquid.rejections import classify_rejection
from adapters.hyperliquid.rejections import reason_for_order_status
from adapters.hyperliquid.reports import fill_key
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.reports import venue_order_status
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import OrderUpdate
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.exchange import OrderResponse
from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
from adapters.hyperliquid.schemas.exchange import action_to_wire
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import OrderUpdatesFrame
from adapters.hyperliquid.schemas.ws import OrderUpdatesSubscription
from adapters.hyperliquid.schemas.ws import UserEventsFrame
from adapters.hyperliquid.schemas.ws import UserEventsSubscription
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.startup import load_instruments_when_reachable
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient

__all__ = [
    "EXTERNAL_ORDER_PREFIX",
    "ExecClientCounters",
    "HyperliquidExecutionClient",
    "KeyNotApprovedError",
    "external_client_order_id",
]

_MS: Final[int] = 1_000_000
_USER_KEYS: Final[frozenset[str]] = frozenset({"orderUpdates", "user"})
_CONNECT_TIMEOUT_SECS: Final[float] = 15.0
_USDC: Final[Currency] = Currency.from_str("USDC")
_TRIGGERED_TYPES: Final[frozenset[OrderType]] = frozenset(
    {OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED}
)
_T = TrackingTrigger


@dataclass
class ExecClientCounters:
    """What the client did that an operator may want to see (the stop line, and tests)."""

    orders_sent: int = 0
    rejections: int = 0
    transport_failures: int = 0
    rate_limited: int = 0
    fills: int = 0  # OrderFilled events emitted
    external_fills: int = 0  # fills of orders placed outside this node (reported as such)
    duplicate_fills: int = 0
    venue_cancels: int = 0
    resyncs: int = 0
    resync_fills: int = 0


class HyperliquidExecutionClient(RecoveryMixin, ReconciliationMixin, LiveExecutionClient):
    """Hyperliquid orders, user streams, account and reconciliation for a NautilusTrader node.

    MARGIN account, NETTING positions (the venue keeps one position per coin). See the module
    notes for how each failure class is handled. Built by `factories.build_exec_client`.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop.
    msgbus, cache, clock
        The node's components.
    config : HyperliquidExecClientConfig
        The client configuration.
    http : HyperliquidHttpClient
        The REST client.
    provider : HyperliquidInstrumentProvider
        The instrument provider (shared with the node's data client: one load per node).
    signer : HyperliquidSigner
        Signs every action.
    account_address : str, optional
        The account the key trades for (``None``: the key's own address).
    user_stream : HyperliquidWebSocketClient
        The user-stream socket (the client binds itself to it).
    name : str, optional
        Client id (default ``HYPERLIQUID``).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: HyperliquidExecClientConfig,
        *,
        http: HyperliquidHttpClient,
        provider: HyperliquidInstrumentProvider,
        signer: HyperliquidSigner,
        account_address: str | None,
        user_stream: HyperliquidWebSocketClient,
        name: str | None = None,
    ) -> None:
        client_id = ClientId(name or HYPERLIQUID_VENUE.value)
        super().__init__(
            loop=loop,
            client_id=client_id,
            venue=HYPERLIQUID_VENUE,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=_USDC,
            instrument_provider=provider,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        self._set_account_id(AccountId(f"{client_id.value}-master"))
        self._config = config
        self._signer = signer
        self._http = http
        self._provider = provider
        self._builder = HyperliquidOrderBuilder(max_slippage_bps=config.max_slippage_bps)
        self._account_address = (account_address or signer.address).lower()
        self._vault = config.vault_address.lower() if config.vault_address else None
        self._user = self._vault or self._account_address
        self._ws = user_stream
        self._ws.bind(
            self._on_frame,
            on_connected=self._on_ws_connected,
            on_disconnected=self._on_ws_disconnected,
        )
        self._instruments: dict[str, Instrument] = {}  # coin -> instrument
        self._orders = TrackedOrders()
        self._seen_tids: set[tuple[str, str]] = set()
        self._externals = ExternalOrders(
            http=http,
            user=self._user,
            cache=cache,
            instruments=self._instruments,
            seen_tids=self._seen_tids,
            account_id=lambda: self.account_id,
            now_ns=clock.timestamp_ns,
            venue_now_ms=self._venue_now_ms,
            send_order_status_report=self._send_order_status_report,
            send_fill_report=self._send_fill_report,
            create_task=self.create_task,
            log=self._log,
        )
        self._cancels = OrderCanceller(
            http=http,
            user=self._user,
            cache=cache,
            builder=self._builder,
            orders=self._orders,
            post=self._post,
            now_ns=clock.timestamp_ns,
            cancelled=self._cancelled,
            cancel_rejected=self._cancel_rejected,
            log=self._log,
        )
        self._nonces = NonceSource(config.nonce_lanes, config.nonce_lane)
        self._last_fill_ms = 0
        self._connections = 0
        self._background: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._account_refresh: asyncio.Task[Any] | None = None
        self._account_dirty = False
        self._gate: HealthGate | None = None
        self._stopping = False
        self.venue_clock = VenueClock()
        self.dead_man = DeadManSwitch(
            window_secs=config.dead_man_switch_secs,
            refresh_secs=config.dead_man_refresh_secs,
            required=config.dead_man_switch_required,
            post=self._post_uncounted,
            sample_venue_time=self._refresh_account,
            clock=self.venue_clock,
            now_ns=clock.timestamp_ns,
            set_condition=self._set_condition,
            log=self._log,
        )
        refreshing = config.account_refresh_interval_secs > 0
        self.account_freshness = AccountFreshness(
            config.account_max_age_secs if refreshing else 0.0, self._set_condition, self._log
        )
        self.counters = ExecClientCounters()

    # -- accessors (tests, tools) --------------------------------------------------------------

    @property
    def user(self) -> str:
        """The address whose orders, fills and positions this client trades and queries."""
        return self._user

    @property
    def signer_address(self) -> str:
        """The address of the signing key (the account itself or its API wallet)."""
        return self._signer.address

    @property
    def ws_client(self) -> HyperliquidWebSocketClient:
        """The user-stream socket."""
        return self._ws

    @property
    def http_client(self) -> HyperliquidHttpClient:
        """The REST client."""
        return self._http

    @property
    def instrument_provider(self) -> HyperliquidInstrumentProvider:
        """The instrument provider (shared with the node's data client)."""
        return self._provider

    @property
    def health_gate(self) -> HealthGate | None:
        """The gate holding this client's conditions, once attached."""
        return self._gate

    @property
    def external_orders(self) -> ExternalOrders:
        """The follow-up of orders placed outside this node."""
        return self._externals

    @property
    def tracked_orders(self) -> TrackedOrders:
        """This node's orders as the client tracks them."""
        return self._orders

    # -- trading-state gate ------------------------------------------------------------------

    def attach_health_gate(self, risk_engine: TradingStateTarget, gate: HealthGate | None) -> None:
        """Hold the node's RiskEngine in REDUCING while orders are unprotected or the account
        view is stale: through the data client's gate when there is one (one owner of the
        trading state), else through a gate of its own."""
        self._gate = gate if gate is not None else HealthGate(risk_engine, 0, self._log)
        now = self._clock.timestamp_ns()
        self.dead_man.check(now)  # not armed yet: REDUCING until it is (when required)
        self.account_freshness.check(now)

    def _venue_now_ms(self) -> int:
        return self.venue_clock.venue_ms(self._clock.timestamp_ns())

    def _set_condition(self, name: str, reason: str | None, now_ns: int) -> None:
        if self._gate is not None:
            self._gate.set_condition(name, reason, now_ns)

    # -- connection ------------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._stopping = False
        # A venue that is down at start is waited for (startup.py), never given up on.
        await load_instruments_when_reachable(
            self._provider, self._http, self._config, self._log, lambda: self._stopping
        )
        for instrument in self._provider.list_all():
            self._builder.add_instrument(instrument)
            self._instruments[instrument.raw_symbol.value] = instrument
            if self._cache.instrument(instrument.id) is None:
                self._cache.add_instrument(instrument)
        self._log.info(
            f"Trading for {self._user} (signer {self._signer.address}) on {self._config.http_url}"
            f" with {len(self._instruments)} instruments"
        )
        await self._check_key_approved()
        # This account's orders only: a node may run one client per account (sidecar users).
        ours = (self.account_id, None)
        orders = [o for o in self._cache.orders(venue=HYPERLIQUID_VENUE) if o.account_id in ours]
        rebuilt = self._orders.rebuild(orders)
        if rebuilt:
            self._log.info(f"Tracking {rebuilt} open orders of the cache again")
        await self._set_leverage()
        self._last_fill_ms = self._clock.timestamp_ms()
        await self._refresh_account()
        await self._ws.subscribe(OrderUpdatesSubscription(user=self._user))
        await self._ws.subscribe(UserEventsSubscription(user=self._user))
        await self._ws.start()
        if not await self._ws.wait_connected(_CONNECT_TIMEOUT_SECS):
            self._log.warning(f"User stream {self._ws.url} not connected yet; retrying")
            self._on_ws_disconnected(f"not connected after {_CONNECT_TIMEOUT_SECS:g} s")
        await self.dead_man.arm()
        for coro, name in (
            (self._watchdog_loop(), "watchdog"),
            (self._account_loop(), "account"),
            (self._health_loop(), "health"),
            (self._dead_man_loop(), "dead-man"),
        ):
            task = self._loop.create_task(coro, name=f"hl-exec-{name}")
            task.add_done_callback(self._on_background_done)
            self._background.append(task)

    def _on_background_done(self, task: asyncio.Task[Any]) -> None:
        """A background loop ended: cancelled at stop is normal, anything else is logged with
        its cause (the loops run until stopped; NautilusTrader's ``create_task`` would warn
        about every cancellation at stop)."""
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._log.error(f"Background task {task.get_name()} failed: {exc!r}")

    async def _disconnect(self) -> None:
        self._stopping = True
        for task in self._background:
            task.cancel()
        if self._background:  # failures were logged by _on_background_done
            await asyncio.wait(self._background)
        self._background.clear()
        if self._account_refresh is not None:
            self._account_refresh.cancel()
        self._stopping = True  # the socket's close is not a lost stream
        await self._ws.stop()
        await self._http.close()
        c = self.counters
        self._log.info(
            f"Stopped: {c.orders_sent} actions sent, {c.fills} fills ({c.duplicate_fills} "
            f"duplicates dropped), {c.rejections} rejections, {c.transport_failures} transport "
            f"failures, {c.rate_limited} rate limited, {c.resyncs} resyncs"
        )

    async def _check_key_approved(self) -> None:
        await check_key_approved(
            self._http,
            self._signer.address,
            self._account_address,
            self._vault,
            self._clock.timestamp_ms(),
            self._log,
        )

    async def _set_leverage(self) -> None:
        await set_configured_leverage(
            self._config, self._instruments, self._builder, self._post, self._log
        )

    # -- signing and posting ---------------------------------------------------------------------

    def _next_nonce(self) -> int:
        return self._nonces.next(self._clock.timestamp_ms())

    def signed_body(self, action: Any) -> dict[str, Any]:
        """The `/exchange` body for an action Struct: signed with a fresh nonce."""
        wire = action_to_wire(action)
        nonce = self._next_nonce()
        signature = self._signer.sign_l1_action(wire, nonce, self._vault)
        return {
            "action": wire,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": self._vault,
            "expiresAfter": None,
        }

    async def _post(self, action: Any) -> ExchangeResponse:
        """Sign and post one action ONCE (transport errors propagate: the caller decides)."""
        self.counters.orders_sent += 1
        return await self._post_uncounted(action)

    async def _post_uncounted(self, action: Any) -> ExchangeResponse:
        return await self._http.exchange(self.signed_body(action))

    # -- submit ----------------------------------------------------------------------------------

    def _market_reference(self, instrument_id: InstrumentId) -> MarketReference:
        return market_reference(self._cache, instrument_id)

    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        if order.is_closed:
            self._log.warning(f"Not submitting {order.client_order_id!r}: order is closed")
            return
        if command.params.get("leverage") is not None:
            denied = await set_order_leverage(command, self._builder, self._post, self._log)
            if denied is not None:
                self._deny([order], denied, self._clock.timestamp_ns())
                return
        market = (
            self._market_reference(order.instrument_id)
            if order.order_type == OrderType.MARKET
            else None
        )
        action = self._builder.submit_action(order, market)
        now = self._clock.timestamp_ns()
        if isinstance(action, Denied):
            self._deny([order], action.reason, now)
            return
        await self._send_orders([order], action, now)

    async def _submit_order_list(self, command: SubmitOrderList) -> None:
        orders = list(command.order_list.orders)
        markets = {
            o.instrument_id: self._market_reference(o.instrument_id)
            for o in orders
            if o.order_type == OrderType.MARKET
        }
        action = self._builder.order_list_action(orders, markets)
        now = self._clock.timestamp_ns()
        if isinstance(action, Denied):
            self._deny(orders, action.reason, now)
            return
        await self._send_orders(orders, action, now)

    def _deny(self, orders: Sequence[Order], reason: str, now: int) -> None:
        self._log.warning(f"Denied {[o.client_order_id.value for o in orders]}: {reason}")
        for order in orders:
            self.generate_order_denied(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                reason=reason,
                ts_event=now,
            )

    async def _send_orders(self, orders: Sequence[Order], action: Any, now: int) -> None:
        tracked = [self._orders.track(order, now) for order in orders]
        for order in orders:
            self.generate_order_submitted(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                ts_event=now,
            )
        try:
            response = await self._post(action)
        except ExchangeTransportError as exc:
            self.counters.transport_failures += 1
            if not exc.request_sent:
                _answered(tracked)
                self._reject_all(orders, f"TRANSPORT: not sent ({exc.reason})", now)
                return
            _answered(tracked, _T.ANSWER_LOST)
            self._log.warning(
                f"Outcome of {[o.client_order_id.value for o in orders]} unknown ({exc.reason});"
                " looking the orders up by cloid (never resent)"
            )
            await self._resolve_unknown(tracked, exc.reason)
            return
        except HyperliquidRateLimitError as exc:
            _answered(tracked)
            self.counters.rate_limited += 1
            reason = f"{HyperliquidRejectReason.RATE_LIMITED.value}: {exc}"
            self._reject_all(orders, reason, now)
            return
        except HyperliquidHttpError as exc:
            _answered(tracked)
            self._reject_all(orders, f"{classify_rejection(exc.body).code.value}: {exc}", now)
            return
        _answered(tracked)
        self._on_order_response(orders, response)

    def _finish(self, client_order_id: ClientOrderId) -> Order | None:
        """Close an order; its cached order the first time, None if already closed.

        The venue's answer and the user stream can both report the same end (a reject, a
        cancel); whichever arrives first wins, so each terminal event is emitted exactly once.
        """
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            if tracked.closed:
                return None
            tracked.trigger(_T.CLOSE)
        return self._cache.order(client_order_id)

    def _reject_all(self, orders: Sequence[Order], reason: str, ts_event: int) -> None:
        for order in orders:
            self._reject(order.client_order_id, reason, ts_event)

    def _reject(
        self, client_order_id: ClientOrderId, reason: str, ts_event: int, post_only: bool = False
    ) -> None:
        order = self._finish(client_order_id)
        if order is None:
            return
        self.counters.rejections += 1
        self._log.warning(f"Rejected {client_order_id!r}: {reason}")
        self.generate_order_rejected(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            reason=reason,
            ts_event=ts_event,
            due_post_only=post_only,
        )

    def _on_order_response(self, orders: Sequence[Order], response: ExchangeResponse) -> None:
        now = self._clock.timestamp_ns()
        if isinstance(response, ExchangeErr):
            rejection = classify_rejection(response.response)
            self._reject_all(orders, rejection.reason, now)
            return
        payload = response.response
        if not isinstance(payload, OrderResponse):
            self._reject_all(orders, f"UNKNOWN: unexpected answer {payload!r}", now)
            return
        statuses = payload.data.statuses
        if len(statuses) != len(orders):
            # Pre-validation: one error for the whole batch.
            first = statuses[0] if statuses else None
            if isinstance(first, OrderStatusEntry) and first.error is not None:
                rejection = classify_rejection(first.error)
                self._reject_all(orders, rejection.reason, now)
                return
            self._log.error(f"{len(statuses)} statuses for {len(orders)} orders: {statuses}")
        for order, status in zip(orders, statuses, strict=False):
            self._apply_status(order, status, now)

    def _apply_status(self, order: Order, status: Any, now: int) -> None:
        coid = order.client_order_id
        tracked = self._orders.tracked[coid]
        if isinstance(status, str):  # waitingForFill / waitingForTrigger: a TP/SL child
            if tracked.can(_T.WAIT):
                tracked.trigger(_T.WAIT)
            return
        if status.error is not None:
            rejection = classify_rejection(status.error)
            self._reject(coid, rejection.reason, now, rejection.due_post_only)
            return
        placed = status.resting if status.resting is not None else status.filled
        assert placed is not None
        self._accept(coid, placed.oid, now)
        if status.filled is not None:
            self._venue_filled(tracked)

    def _venue_filled(self, tracked: TrackedOrder) -> None:
        """The venue says filled: if the fills do not arrive shortly, fetch them."""
        if tracked.can(_T.VENUE_FILL):
            tracked.trigger(_T.VENUE_FILL)
        self.create_task(self._fill_check(tracked.client_order_id))

    def _accept(self, client_order_id: ClientOrderId, oid: int, ts_event: int) -> None:
        """`OrderAccepted` once per order, whichever of the answer and the stream comes first."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or not tracked.can(_T.ACCEPT):
            return
        order = self._cache.order(client_order_id)
        if order is None:
            return
        tracked.trigger(_T.ACCEPT)
        self._orders.bind(tracked, oid)
        self.generate_order_accepted(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            venue_order_id=VenueOrderId(str(oid)),
            ts_event=ts_event,
        )

    def _cancelled(
        self,
        client_order_id: ClientOrderId,
        oid: int | None,
        ts_event: int,
        reason: str | None = None,
    ) -> None:
        """`OrderCanceled` once; `reason` (a cancel by the venue) is logged with it, since the
        event itself carries none."""
        order = self._finish(client_order_id)
        if order is None:
            return
        if reason is not None:
            self.counters.venue_cancels += 1
            self._log.warning(f"Venue cancelled {client_order_id!r} (oid {oid}): {reason}")
        venue_order_id = VenueOrderId(str(oid)) if oid is not None else order.venue_order_id
        self.generate_order_canceled(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            venue_order_id=venue_order_id,
            ts_event=ts_event,
        )

    # -- modify ----------------------------------------------------------------------------------

    async def _modify_order(self, command: ModifyOrder) -> None:
        coid = command.client_order_id
        order = self._cache.order(coid)
        tracked = self._orders.get(coid)
        now = self._clock.timestamp_ns()
        if order is None or tracked is None:
            self._modify_rejected(command, "UNKNOWN_ORDER: not an order of this node", now)
            return
        if tracked.closed or order.is_closed:
            self._modify_rejected(command, "UNKNOWN_ORDER: the order is closed", now)
            return
        action = self._builder.modify_action(
            order,
            venue_order_id=tracked.oid,
            quantity=command.quantity,
            price=command.price,
            trigger_price=command.trigger_price,
        )
        if isinstance(action, Denied):
            self._modify_rejected(command, action.reason, now)
            return
        quantity = command.quantity or order.quantity
        price = command.price or (order.price if order.has_price else None)
        trigger = command.trigger_price or (
            order.trigger_price if order.has_trigger_price else None
        )
        tracked.start_modify((quantity, price, trigger))
        try:
            response = await self._post(action)
        except ExchangeTransportError as exc:
            self.counters.transport_failures += 1
            self._log.warning(f"Outcome of modify {coid!r} unknown ({exc.reason}); looking up")
            with contextlib.suppress(HyperliquidError):
                await self._lookup(tracked)
            if tracked.modifying:
                self._end_modify(tracked, command, f"TRANSPORT: {exc.reason}")
            return
        except HyperliquidHttpError as exc:
            if isinstance(exc, HyperliquidRateLimitError):
                self.counters.rate_limited += 1
            self._end_modify(tracked, command, f"{classify_rejection(exc.body).code.value}: {exc}")
            return
        now = self._clock.timestamp_ns()
        if isinstance(response, ExchangeErr):
            self._end_modify(tracked, command, classify_rejection(response.response).reason)
            return
        payload = response.response
        status = (
            payload.data.statuses[0]
            if isinstance(payload, OrderResponse) and payload.data.statuses
            else None
        )
        if isinstance(status, OrderStatusEntry) and status.error is None:
            placed = status.resting if status.resting is not None else status.filled
            assert placed is not None
            self._promote(coid, placed.oid, now)
            if status.filled is not None:
                self._venue_filled(tracked)
            return
        if isinstance(status, OrderStatusEntry) and status.error is not None:
            self._end_modify(tracked, command, classify_rejection(status.error).reason)
            return
        # `modify` (not batch) answers `default`: the new oid comes with the stream.
        self._log.debug(f"Modify of {coid!r} accepted; new oid follows on the stream")

    def _modify_rejected(self, command: ModifyOrder, reason: str, now: int) -> None:
        order = self._cache.order(command.client_order_id)
        self._log.warning(f"Modify of {command.client_order_id!r} rejected: {reason}")
        self.generate_order_modify_rejected(
            strategy_id=command.strategy_id,
            instrument_id=command.instrument_id,
            client_order_id=command.client_order_id,
            venue_order_id=order.venue_order_id if order is not None else None,
            reason=reason,
            ts_event=now,
        )

    def _end_modify(self, tracked: TrackedOrder, command: ModifyOrder, reason: str) -> None:
        """A failed modify: rejected; if the venue already cancelled the old leg, cancelled."""
        now = self._clock.timestamp_ns()
        old_oid = tracked.modify_old_oid
        old_leg_cancelled = tracked.state == TrackingState.OLD_LEG_CANCELED
        tracked.end_modify()
        if tracked.closed:
            return
        self._modify_rejected(command, reason, now)
        if old_leg_cancelled:
            self._cancelled(tracked.client_order_id, old_oid, now)
        elif reason.startswith(HyperliquidRejectReason.UNKNOWN_ORDER.value):
            # Filled or cancelled at the venue before the modify: learn which, now.
            self.create_task(self._lookup_quietly(tracked))

    def _promote(self, client_order_id: ClientOrderId, new_oid: int, ts_event: int) -> None:
        """Bind the replacement leg of a modify: `OrderUpdated` with the new venue order id."""
        tracked = self._orders.get(client_order_id)
        order = self._cache.order(client_order_id)
        if tracked is None or order is None or tracked.oid == new_oid or tracked.closed:
            return
        if not tracked.can(_T.REPLACE):
            return
        if tracked.oid is not None:
            tracked.old_oids.add(tracked.oid)
        target = tracked.modify_target
        tracked.modify_old_oid = None
        tracked.modify_target = None
        tracked.trigger(_T.REPLACE)
        self._orders.bind(tracked, new_oid)
        quantity, price, trigger = target if target is not None else (order.quantity, None, None)
        if price is None and order.has_price:
            price = order.price
        if trigger is None and order.has_trigger_price:
            trigger = order.trigger_price
        self._cache.add_venue_order_id(client_order_id, VenueOrderId(str(new_oid)), overwrite=True)
        self.generate_order_updated(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            venue_order_id=VenueOrderId(str(new_oid)),
            quantity=quantity,
            price=price,
            trigger_price=trigger,
            ts_event=ts_event,
            venue_order_id_modified=True,
        )

    # -- cancel ----------------------------------------------------------------------------------

    async def _cancel_order(self, command: CancelOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None:
            self._log.warning(f"Cannot cancel {command.client_order_id!r}: not in cache")
            return
        await self._cancels.cancel_orders([order])

    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        orders = [self._cache.order(c.client_order_id) for c in command.cancels]
        await self._cancels.cancel_orders([o for o in orders if o is not None])

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        await self._cancels.cancel_all(command)

    def _cancel_rejected(self, client_order_id: ClientOrderId, reason: str, now: int) -> None:
        order = self._cache.order(client_order_id)
        if order is None:
            return
        self._log.warning(f"Cancel of {client_order_id!r} rejected: {reason}")
        self.generate_order_cancel_rejected(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=client_order_id,
            venue_order_id=order.venue_order_id,
            reason=reason,
            ts_event=now,
        )

    # -- user streams ----------------------------------------------------------------------------

    def _on_frame(self, raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        if key not in _USER_KEYS:
            return
        try:
            frame = WS_FRAME_DECODER.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._log.error(f"Undecodable {key} frame: {exc}")
            return
        if isinstance(frame, OrderUpdatesFrame):
            for update in frame.data:
                self._on_order_update(update)
        elif isinstance(frame, UserEventsFrame):
            event = frame.data
            if event.fills:
                for fill in event.fills:
                    self._on_fill(fill)
                self._mark_account_dirty()
            if event.nonUserCancel:
                now = self._clock.timestamp_ns()
                for cancel in event.nonUserCancel:
                    self._on_non_user_cancel(cancel.oid, now)
            if event.funding is not None:
                funding = event.funding
                self._log.info(
                    f"Funding {funding.coin}: {funding.usdc} USDC on {funding.szi} at rate "
                    f"{funding.fundingRate}"
                )
                self._mark_account_dirty()
            if event.liquidation is not None:
                liq = event.liquidation
                self._log.error(
                    f"LIQUIDATED: {liq.liquidated_user} notional {liq.liquidated_ntl_pos} account "
                    f"value {liq.liquidated_account_value} (liquidation {liq.lid})"
                )
                self._mark_account_dirty()

    def _on_non_user_cancel(self, oid: int, now: int) -> None:
        """The venue cancelled an order (usually after an orderUpdates status that says why)."""
        coid = self._orders.by_oid.get(oid)
        if coid is None:
            self._externals.on_update(oid, "nonUserCancel")
            return
        tracked = self._orders.get(coid)
        if tracked is None or (tracked.oid is not None and oid != tracked.oid):
            return  # a replaced leg of a modify, not the live order
        self._cancelled(coid, oid, now, venue_cancel_reason("nonUserCancel"))

    def _on_order_update(self, update: OrderUpdate) -> None:
        order = update.order
        coid = self._orders.resolve(order.cloid, order.oid)
        if coid is None:
            self._externals.on_update(order.oid, update.status)  # not placed by this node
            return
        tracked = self._orders.get(coid)
        if tracked is None:
            return
        ts = update.statusTimestamp * _MS
        status = update.status
        is_old_leg = tracked.is_old_leg(order.oid)
        if status == "open":
            if tracked.modifying and order.oid != tracked.modify_old_oid:
                self._promote(coid, order.oid, ts)  # replacement leg seen before the answer
            elif tracked.accepted and tracked.oid is not None and order.oid != tracked.oid:
                if order.oid not in tracked.old_oids:
                    self._promote(coid, order.oid, ts)
            else:
                self._accept(coid, order.oid, ts)
            return
        if status == "filled":
            if not is_old_leg:
                self._accept(coid, order.oid, ts)
                self._venue_filled(tracked)
            return
        if status == "triggered":
            self._accept(coid, order.oid, ts)
            cached = self._cache.order(coid)
            if cached is not None and cached.order_type in _TRIGGERED_TYPES:
                self.generate_order_triggered(
                    strategy_id=cached.strategy_id,
                    instrument_id=cached.instrument_id,
                    client_order_id=coid,
                    venue_order_id=VenueOrderId(str(order.oid)),
                    ts_event=ts,
                )
            return
        code = reason_for_order_status(status)
        if code is not None:  # rejected after placement (e.g. a triggered order)
            if is_old_leg or tracked.state == TrackingState.IN_FLIGHT:
                return  # the submit answer carries the venue's full text
            if tracked.accepted:
                self._cancelled(coid, order.oid, ts, f"{code.value}: {status}")
            else:
                self._reject(coid, f"{code.value}: {status}", ts)
            return
        if venue_order_status(status, filled=False) == OrderStatus.CANCELED:
            if is_old_leg:
                if tracked.modifying and tracked.modify_old_oid == order.oid:
                    tracked.trigger(_T.OLD_LEG_CANCEL)
                return
            self._cancelled(coid, order.oid, ts, venue_cancel_reason(status))

    def _on_fill(self, fill: Fill) -> bool:
        """Apply one venue fill at most once (stream and resync may both deliver it); True if
        it was new."""
        key = fill_key(fill)
        if key in self._seen_tids:
            self.counters.duplicate_fills += 1
            return False
        self._seen_tids.add(key)
        if fill.time > self._last_fill_ms:
            self._last_fill_ms = fill.time
        instrument = self._instruments.get(fill.coin)
        if instrument is None:
            self._log.warning(f"Fill on unknown coin {fill.coin!r} ignored")
            return True
        coid = self._orders.resolve(fill.cloid, fill.oid)
        tracked = self._orders.get(coid)
        order = self._cache.order(coid) if coid is not None else None
        if coid is None or tracked is None or order is None:
            self.counters.external_fills += 1
            self._externals.on_fill(fill, instrument)
            return True
        self.counters.fills += 1
        ts_event = fill.time * _MS
        replacement = (
            tracked.modifying
            and tracked.oid is not None
            and fill.oid != tracked.oid
            and fill.oid not in tracked.old_oids
        )
        if replacement:  # a fill of the new leg before the modify answer
            self._promote(coid, fill.oid, ts_event)
        self._accept(coid, fill.oid, ts_event)
        tracked.filled += Decimal(fill.sz)
        fee_currency = Currency.from_str(fill.feeToken) if fill.feeToken else _USDC
        self.generate_order_filled(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=coid,
            venue_order_id=VenueOrderId(str(tracked.oid if tracked.oid is not None else fill.oid)),
            venue_position_id=None,
            trade_id=TradeId(key[1]),
            order_side=order.side,
            order_type=order.order_type,
            last_qty=instrument.make_qty(Decimal(fill.sz)),
            last_px=instrument.make_price(Decimal(fill.px)),
            quote_currency=instrument.quote_currency,
            commission=Money(Decimal(fill.fee), fee_currency),
            liquidity_side=LiquiditySide.TAKER if fill.crossed else LiquiditySide.MAKER,
            ts_event=ts_event,
        )
        if tracked.filled >= order.quantity.as_decimal() and not tracked.closed:
            tracked.trigger(_T.CLOSE)
        return True

    async def _query_account(self, command: QueryAccount) -> None:
        await self._refresh_account()


def _answered(tracked: Sequence[TrackedOrder], trigger: TrackingTrigger = _T.ANSWERED) -> None:
    """The submit request returned (or its answer was lost): orders still in flight wait for a
    venue fact."""
    for item in tracked:
        if item.state == TrackingState.IN_FLIGHT:
            item.trigger(trigger)
