"""The Hyperliquid live execution client for NautilusTrader.

Order-state drift is where traders lose money, so every path here ends in a venue fact:

* **Submit** (single or list): `order_builder` maps the order (a denial becomes `OrderDenied` at
  once, no request sent), the action is signed (~50 us) and posted ONCE. The answer decides:
  ``resting`` -> `OrderAccepted` with the venue oid; ``filled`` -> accepted, the fills come from
  the user stream; ``error`` -> `OrderRejected` with ``"<REASON_CODE>: <venue text>"``. A
  transport failure (outcome unknown) is never retried: the order is looked up by cloid and
  resolved from what the venue says (open, filled, rejected, not found).
* **User streams** (``orderUpdates`` and ``userEvents`` on one socket): fills -> `OrderFilled`,
  de-duplicated by (coin, tid) because a fill may arrive on the stream and again from a resync;
  venue cancels (``nonUserCancel``, ``scheduledCancel``, margin and liquidation cancels) ->
  `OrderCanceled` (the venue's reason is logged: the event carries none); fills of orders this
  node does not know become external order reports (``HL-<oid>``), and once such an order ends
  (orderUpdates status, nonUserCancel, or a resync that no longer sees it open) its final
  status is reported after its fills, so the cache ends in the venue's state; funding and
  liquidations are logged and refresh the account.
* **Modify** uses the venue's cancel-replace (new oid). The old leg's cancel is expected and
  swallowed, the new oid is bound with `OrderUpdated(venue_order_id_modified=True)`; if the venue
  cancelled the old leg but refused the new one, the order is reported cancelled after the
  modify rejection.
* **Recovery**: after every WebSocket reconnect the client resyncs (fills since the last fill
  seen, the status of every order it believes open) and emits what it missed; a watchdog looks
  up orders that stay in flight too long; a venue ``filled`` without the matching fills triggers
  a fill lookup for that order.
* **Reconciliation reports** are pure functions of venue payloads (`reports.py`); orders the node
  does not know get the deterministic client order id ``HL-<oid>``, so the same venue state gives
  the same cache on every run.
* **Dead-man switch**: ``scheduleCancel`` pushed forward while the node runs, so the venue
  cancels every order if the node dies.

The signing key is read from the environment when the client is built and lives only inside
`HyperliquidSigner` (never logged, never pickled). At start, a key that is not the account's
own must be an approved, unexpired API wallet of it (read-only `extraAgents` / `userRole`
queries; nothing is signed, so a dead-man switch already set stays set).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.enums import LogLevel
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import GenerateFillReports
from nautilus_trader.execution.messages import GenerateOrderStatusReport
from nautilus_trader.execution.messages import GenerateOrderStatusReports
from nautilus_trader.execution.messages import GeneratePositionStatusReports
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import QueryAccount
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.execution.reports import FillReport
from nautilus_trader.execution.reports import OrderStatusReport
from nautilus_trader.execution.reports import PositionStatusReport
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
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
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidRateLimitError
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.order_builder import Denied
from adapters.hyperliquid.order_builder import HyperliquidOrderBuilder
from adapters.hyperliquid.order_builder import MarketReference
from adapters.hyperliquid.order_builder import cancel_action
from adapters.hyperliquid.order_builder import cancel_by_cloid_action
from adapters.hyperliquid.order_builder import schedule_cancel_action
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.rejections import HyperliquidRejectReason
from adapters.hyperliquid.rejections import VenueRejection
from adapters.hyperliquid.rejections import classify_rejection
from adapters.hyperliquid.rejections import reason_for_order_status
from adapters.hyperliquid.reports import account_state
from adapters.hyperliquid.reports import fetch_fills_by_time
from adapters.hyperliquid.reports import fill_key
from adapters.hyperliquid.reports import fill_report
from adapters.hyperliquid.reports import fill_reports
from adapters.hyperliquid.reports import open_order_reports
from adapters.hyperliquid.reports import order_status_report
from adapters.hyperliquid.reports import order_status_reports
from adapters.hyperliquid.reports import position_status_reports
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.reports import venue_order_status
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.common import OrderUpdate
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.exchange import CancelResponse
from adapters.hyperliquid.schemas.exchange import ErrorStatus
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.exchange import OrderResponse
from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
from adapters.hyperliquid.schemas.exchange import UpdateLeverageAction
from adapters.hyperliquid.schemas.exchange import action_to_wire
from adapters.hyperliquid.schemas.info import ClearinghouseStateRequest
from adapters.hyperliquid.schemas.info import ExtraAgent
from adapters.hyperliquid.schemas.info import ExtraAgentsRequest
from adapters.hyperliquid.schemas.info import FrontendOpenOrdersRequest
from adapters.hyperliquid.schemas.info import HistoricalOrdersRequest
from adapters.hyperliquid.schemas.info import OpenOrdersRequest
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import OrderStatusRequest
from adapters.hyperliquid.schemas.info import SpotClearinghouseStateRequest
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest
from adapters.hyperliquid.schemas.info import UserRole
from adapters.hyperliquid.schemas.info import UserRoleRequest
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import OrderUpdatesFrame
from adapters.hyperliquid.schemas.ws import OrderUpdatesSubscription
from adapters.hyperliquid.schemas.ws import UserEventsFrame
from adapters.hyperliquid.schemas.ws import UserEventsSubscription
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.startup import until_reachable
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient

__all__ = [
    "EXTERNAL_ORDER_PREFIX",
    "ExecClientCounters",
    "HyperliquidExecutionClient",
    "KeyNotApprovedError",
    "external_client_order_id",
]

EXTERNAL_ORDER_PREFIX: Final[str] = "HL-"
"""Client order ids of venue orders this node did not place: ``HL-<oid>`` (deterministic)."""

_MS: Final[int] = 1_000_000
_SEC: Final[int] = 1_000_000_000
_USER_KEYS: Final[frozenset[str]] = frozenset({"orderUpdates", "user"})
_CONNECT_TIMEOUT_SECS: Final[float] = 15.0
_LOOKUP_ATTEMPTS: Final[int] = 3
_LOOKUP_DELAY_SECS: Final[float] = 0.25
_FILL_CHECK_DELAY_SECS: Final[float] = 1.0
_USDC: Final[Currency] = Currency.from_str("USDC")
_ACCEPTED_LIKE: Final[frozenset[OrderStatus]] = frozenset(
    {OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.TRIGGERED}
)
_FINAL_STATUSES: Final[frozenset[OrderStatus | None]] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}
)
_TRIGGERED_TYPES: Final[frozenset[OrderType]] = frozenset(
    {OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED}
)


class KeyNotApprovedError(RuntimeError):
    """The signing key may not trade for the configured account (names both addresses)."""


def external_client_order_id(oid: int) -> ClientOrderId:
    """The deterministic client order id given to a venue order this node did not place."""
    return ClientOrderId(f"{EXTERNAL_ORDER_PREFIX}{oid}")


@dataclass
class ExecClientCounters:
    """What the client did that an operator may want to see (logged, and read by tests)."""

    orders_sent: int = 0
    rejections: int = 0
    transport_failures: int = 0
    rate_limited: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    external_fills: int = 0
    external_finals: int = 0
    venue_cancels: int = 0
    resyncs: int = 0
    resync_fills: int = 0
    resync_order_updates: int = 0
    watchdog_lookups: int = 0
    dead_man_refreshes: int = 0


@dataclass(slots=True)
class _Tracked:
    """What the client knows about one of its own orders beyond the (asynchronous) cache."""

    client_order_id: ClientOrderId
    cloid: str
    submitted_ns: int
    oid: int | None = None
    accepted: bool = False
    terminal: bool = False
    waiting: bool = False  # a TP/SL child the venue holds until its parent fills
    in_flight: bool = False  # the submit answer (with the venue's error text) is awaited
    venue_filled: bool = False
    filled: Decimal = Decimal(0)
    modify_old_oid: int | None = None
    modify_target: tuple[Quantity, Price | None, Price | None] | None = None
    old_oids: set[int] = field(default_factory=set)
    old_leg_cancelled: bool = False


@dataclass(slots=True)
class _External:
    """An order placed outside this node that the node reported (it filled here), followed
    until its final status is reported, so the cache ends in the venue's state."""

    oid: int
    client_order_id: ClientOrderId
    instrument: Instrument
    filled: Decimal = Decimal(0)
    tids: set[str] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    final: FrontendOrderStatus | None = None  # the venue's final status, once known
    final_attempts: int = 0
    finished: bool = False  # the final status report was sent


class HyperliquidExecutionClient(LiveExecutionClient):
    """Hyperliquid orders, user streams, account and reconciliation for a NautilusTrader node.

    MARGIN account, NETTING positions (the venue keeps one position per coin). See the module
    notes for how each failure class is handled.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop.
    msgbus, cache, clock
        The node's components.
    config : HyperliquidExecClientConfig
        The client configuration.
    name : str, optional
        Client id (default ``HYPERLIQUID``).
    private_key : str, optional
        The signing key; read from ``config.private_key_env`` when ``None`` (tests and tools
        may pass it directly; it is never logged).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: HyperliquidExecClientConfig,
        name: str | None = None,
        private_key: str | None = None,
    ) -> None:
        key = private_key if private_key is not None else os.environ.get(config.private_key_env)
        if not key:
            raise ValueError(
                f"no Hyperliquid signing key: set the environment variable "
                f"{config.private_key_env} (the account key or an approved API wallet key)"
            )
        signer = HyperliquidSigner(key, is_mainnet=config.resolved_is_mainnet)
        del key
        account_address = config.resolve_account_address(os.environ)
        http = HyperliquidHttpClient(
            config.http_url, timeout_secs=config.http_timeout_secs, clock_ns=clock.timestamp_ns
        )
        provider = HyperliquidInstrumentProvider(
            http.info_raw,
            clock.timestamp_ns,
            include_perps="perp" in config.product_types,
            include_spot="spot" in config.product_types,
            coins=config.coins,
        )
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
        self._ws = HyperliquidWebSocketClient(
            config.resolved_ws_url,
            self._on_frame,
            ping_interval_secs=config.ws_ping_interval_secs,
            reconnect_initial_backoff_secs=config.reconnect_initial_backoff_secs,
            reconnect_max_backoff_secs=config.reconnect_max_backoff_secs,
            on_connected=self._on_ws_connected,
            clock_ns=clock.timestamp_ns,
            name=f"{client_id.value.lower()}-exec-ws",
        )
        self._instruments: dict[str, Instrument] = {}  # coin -> instrument
        self._tracked: dict[ClientOrderId, _Tracked] = {}
        self._by_cloid: dict[str, ClientOrderId] = {}
        self._by_oid: dict[int, ClientOrderId] = {}
        self._seen_tids: set[tuple[str, str]] = set()
        self._externals: dict[int, _External] = {}
        self._external_lock = asyncio.Lock()
        self._last_nonce = 0
        self._last_fill_ms = 0
        self._connections = 0
        self._background: list[asyncio.Task[Any]] = []
        self._stopping = False
        self._account_refresh: asyncio.Task[Any] | None = None
        self._account_dirty = False
        self._dead_man_enabled = config.dead_man_switch_secs > 0
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

    def venue_order_id_of(self, client_order_id: ClientOrderId) -> int | None:
        """The venue oid currently bound to one of this node's orders (None before the ack)."""
        tracked = self._tracked.get(client_order_id)
        return None if tracked is None else tracked.oid

    # -- connection ------------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._stopping = False
        # A venue that is down at start is waited for (startup.py), never given up on.
        with self._http.own_retries():
            await until_reachable(
                self._provider.load_all_async,
                what=f"Loading instruments from {self._config.http_url}",
                log=self._log,
                initial_backoff_secs=self._config.reconnect_initial_backoff_secs,
                max_backoff_secs=self._config.reconnect_max_backoff_secs,
                stopping=lambda: self._stopping,
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
        self._index_cached_orders()
        await self._set_leverage()
        self._last_fill_ms = self._clock.timestamp_ms()
        await self._refresh_account()
        await self._await_account_registered(log_registered=False)
        await self._ws.subscribe(OrderUpdatesSubscription(user=self._user))
        await self._ws.subscribe(UserEventsSubscription(user=self._user))
        await self._ws.start()
        if not await self._ws.wait_connected(_CONNECT_TIMEOUT_SECS):
            self._log.warning(f"User stream {self._ws.url} not connected yet; retrying")
        loop = self._loop
        self._background.append(loop.create_task(self._watchdog_loop(), name="hl-exec-watchdog"))
        if self._config.account_refresh_interval_secs > 0:
            self._background.append(loop.create_task(self._account_loop(), name="hl-account"))
        if self._dead_man_enabled:
            await self._refresh_dead_man()
            self._background.append(loop.create_task(self._dead_man_loop(), name="hl-dead-man"))

    async def _disconnect(self) -> None:
        self._stopping = True
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background.clear()
        if self._account_refresh is not None:
            self._account_refresh.cancel()
        await self._ws.stop()
        await self._http.close()
        c = self.counters
        self._log.info(
            f"Stopped: {c.orders_sent} actions sent, {c.fills} fills ({c.duplicate_fills} "
            f"duplicates dropped), {c.rejections} rejections, {c.transport_failures} transport "
            f"failures, {c.rate_limited} rate limited, {c.resyncs} resyncs"
        )

    async def _check_key_approved(self) -> None:
        """Fail at start, naming both addresses, if the key cannot trade for the account.

        Read-only: the account's named API wallets (`extraAgents`, with their expiry), else
        the key's `userRole` (the unnamed agent). A signed probe is not used: the only harmless
        candidate, a `scheduleCancel` without time, would clear a dead-man switch already set.
        """
        signer = self._signer.address
        account = self._account_address
        if signer != account:
            await self._check_agent(signer, account)
        if self._vault is not None:
            await self._check_vault(signer, account, self._vault)

    async def _check_agent(self, signer: str, account: str) -> None:
        now_ms = self._clock.timestamp_ms()
        agents: list[ExtraAgent] = await self._http.info(ExtraAgentsRequest(user=account))
        for agent in agents:
            if agent.address.lower() != signer:
                continue
            if agent.validUntil > now_ms:
                self._log.info(
                    f"Signing key {signer} is API wallet {agent.name!r} of {account}, valid "
                    f"until {_iso_ms(agent.validUntil)}"
                )
                return
            raise KeyNotApprovedError(
                f"the signing key's address {signer} is API wallet {agent.name!r} of account "
                f"{account} but it expired at {_iso_ms(agent.validUntil)}; approve a new API "
                "wallet from the account (approveAgent) and configure its key"
            )
        role: UserRole = await self._http.info(UserRoleRequest(user=signer))
        master = str((role.data or {}).get("user", "")).lower()
        if role.role == "agent" and master == account:
            self._log.info(f"Signing key {signer} is the API wallet of {account}")
            return
        agent_of = f" of {master}" if master else ""
        raise KeyNotApprovedError(
            f"the signing key's address {signer} is not an API wallet approved for account "
            f"{account} (venue role of {signer}: {role.role!r}{agent_of}); approve it from the "
            "account (approveAgent), or configure the account it belongs to as account_address "
            "(a vault or sub-account goes in vault_address)"
        )

    async def _check_vault(self, signer: str, account: str, vault: str) -> None:
        role: UserRole = await self._http.info(UserRoleRequest(user=vault))
        master = str((role.data or {}).get("master", "")).lower()
        if role.role == "vault" or (role.role == "subAccount" and master == account):
            return
        owner = f" of {master}" if master else ""
        raise KeyNotApprovedError(
            f"vault_address {vault} is not a vault or sub-account of account {account} "
            f"(venue role of {vault}: {role.role!r}{owner}; signing key {signer})"
        )

    def _index_cached_orders(self) -> None:
        """Rebuild cloid -> client order id for orders already in the cache (restart, Redis)."""
        for order in self._cache.orders(venue=HYPERLIQUID_VENUE):
            cloid = cloid_from_client_order_id(order.client_order_id)
            self._by_cloid[cloid] = order.client_order_id
            if order.is_open and order.client_order_id not in self._tracked:
                tracked = _Tracked(order.client_order_id, cloid, order.ts_init)
                if order.venue_order_id is not None and order.venue_order_id.value.isdigit():
                    tracked.oid = int(order.venue_order_id.value)
                    tracked.accepted = order.status != OrderStatus.SUBMITTED
                    self._by_oid[tracked.oid] = order.client_order_id
                tracked.filled = order.filled_qty.as_decimal()
                self._tracked[order.client_order_id] = tracked

    async def _set_leverage(self) -> None:
        isolated = set(self._config.isolated_coins)
        for coin, leverage in sorted((self._config.leverage or {}).items()):
            instrument = self._instruments.get(coin)
            if instrument is None:
                raise ValueError(f"leverage: {coin!r} is not a loaded instrument")
            spec = self._builder.spec(instrument.id)
            assert spec is not None
            action = UpdateLeverageAction(
                asset=spec.asset, isCross=coin not in isolated, leverage=leverage
            )
            response = await self._post(action)
            if isinstance(response, ExchangeErr):
                raise RuntimeError(
                    f"cannot set {coin} leverage {leverage}x "
                    f"{'isolated' if coin in isolated else 'cross'}: {response.response}"
                )
            mode = "isolated" if coin in isolated else "cross"
            self._log.info(f"{coin} leverage set to {leverage}x {mode}")

    # -- signing and posting ---------------------------------------------------------------------

    def _next_nonce(self) -> int:
        now = self._clock.timestamp_ms()
        nonce = now if now > self._last_nonce else self._last_nonce + 1
        self._last_nonce = nonce
        return nonce

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

    async def _post(self, action: Any, *, count: bool = True) -> ExchangeResponse:
        """Sign and post one action ONCE (transport errors propagate: the caller decides)."""
        body = self.signed_body(action)
        if count:
            self.counters.orders_sent += 1
        return await self._http.exchange(body)

    # -- submit ----------------------------------------------------------------------------------

    def _market_reference(self, instrument_id: InstrumentId) -> MarketReference:
        bid: Decimal | None = None
        ask: Decimal | None = None
        book = self._cache.order_book(instrument_id)
        if book is not None:
            best_bid = book.best_bid_price()
            best_ask = book.best_ask_price()
            bid = best_bid.as_decimal() if best_bid is not None else None
            ask = best_ask.as_decimal() if best_ask is not None else None
        if bid is None or ask is None:
            quote = self._cache.quote_tick(instrument_id)
            if quote is not None:
                bid = bid if bid is not None else quote.bid_price.as_decimal()
                ask = ask if ask is not None else quote.ask_price.as_decimal()
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        return MarketReference(best_bid=bid, best_ask=ask, mid=mid)

    def _track(self, order: Order, now_ns: int) -> _Tracked:
        cloid = cloid_from_client_order_id(order.client_order_id)
        tracked = _Tracked(order.client_order_id, cloid, now_ns)
        self._tracked[order.client_order_id] = tracked
        self._by_cloid[cloid] = order.client_order_id
        return tracked

    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        if order.is_closed:
            self._log.warning(f"Not submitting {order.client_order_id!r}: order is closed")
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
        tracked = [self._track(order, now) for order in orders]
        for order in orders:
            self.generate_order_submitted(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                ts_event=now,
            )
        for item in tracked:
            item.in_flight = True
        try:
            response = await self._post(action)
        except ExchangeTransportError as exc:
            for item in tracked:
                item.in_flight = False
            self.counters.transport_failures += 1
            if not exc.request_sent:
                self._reject_all(orders, f"TRANSPORT: not sent ({exc.reason})", now)
                return
            self._log.warning(
                f"Outcome of {[o.client_order_id.value for o in orders]} unknown ({exc.reason});"
                " looking the orders up by cloid (never resent)"
            )
            await self._resolve_unknown(tracked, exc.reason)
            return
        except HyperliquidRateLimitError as exc:
            for item in tracked:
                item.in_flight = False
            self.counters.rate_limited += 1
            reason = f"{HyperliquidRejectReason.RATE_LIMITED.value}: {exc}"
            self._reject_all(orders, reason, now)
            return
        except HyperliquidHttpError as exc:
            for item in tracked:
                item.in_flight = False
            self._reject_all(orders, f"{classify_rejection(exc.body).code.value}: {exc}", now)
            return
        for item in tracked:
            item.in_flight = False
        self._on_order_response(orders, response)

    def _finish(self, client_order_id: ClientOrderId) -> Order | None:
        """Mark an order terminal; its cached order the first time, None if already terminal.

        The venue's answer and the user stream can both report the same end (a reject, a
        cancel); whichever arrives first wins, so each terminal event is emitted exactly once.
        """
        tracked = self._tracked.get(client_order_id)
        if tracked is not None:
            if tracked.terminal:
                return None
            tracked.terminal = True
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
        tracked = self._tracked[coid]
        if isinstance(status, str):  # waitingForFill / waitingForTrigger: a TP/SL child
            tracked.waiting = True
            return
        if status.error is not None:
            rejection = classify_rejection(status.error)
            self._reject(coid, rejection.reason, now, rejection.due_post_only)
            return
        placed = status.resting if status.resting is not None else status.filled
        assert placed is not None
        self._accept(coid, placed.oid, now)
        if status.filled is not None:
            tracked.venue_filled = True
            self._schedule_fill_check(coid)

    def _bind(self, tracked: _Tracked, oid: int) -> None:
        tracked.oid = oid
        self._by_oid[oid] = tracked.client_order_id

    def _accept(self, client_order_id: ClientOrderId, oid: int, ts_event: int) -> None:
        """`OrderAccepted` once per order, whichever of the answer and the stream comes first."""
        tracked = self._tracked.get(client_order_id)
        if tracked is None or tracked.accepted or tracked.terminal:
            return
        order = self._cache.order(client_order_id)
        if order is None:
            return
        tracked.accepted = True
        tracked.waiting = False
        self._bind(tracked, oid)
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

    async def _resolve_unknown(self, tracked: Sequence[_Tracked], reason: str) -> None:
        """After a transport failure: ask the venue for each order by cloid, then decide."""
        for item in tracked:
            for attempt in range(_LOOKUP_ATTEMPTS):
                await asyncio.sleep(_LOOKUP_DELAY_SECS * (attempt + 1))
                if item.terminal or item.accepted:
                    break
                try:
                    found = await self._lookup(item)
                except HyperliquidError as exc:
                    self._log.warning(f"Lookup of {item.client_order_id!r} failed: {exc}")
                    continue
                if found:
                    break
            else:
                if not (item.terminal or item.accepted or item.waiting):
                    self._reject(
                        item.client_order_id,
                        f"TRANSPORT: the venue does not know the order after a failed request "
                        f"({reason})",
                        self._clock.timestamp_ns(),
                    )

    async def _lookup(self, tracked: _Tracked) -> bool:
        """Query the venue for one order (by cloid) and apply its status; False if unknown."""
        self.counters.watchdog_lookups += 1
        answer = await self._http.info(OrderStatusRequest(user=self._user, oid=tracked.cloid))
        if not isinstance(answer, OrderStatusFound):
            return False
        self._apply_venue_order(answer.order)
        return True

    def _apply_venue_order(self, entry: FrontendOrderStatus) -> None:
        """Bring one of our orders to the venue's status (resync, lookups)."""
        order = entry.order
        coid = self._resolve(order.cloid, order.oid)
        if coid is None:
            return
        tracked = self._tracked.get(coid)
        if tracked is None:
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
            tracked.venue_filled = True
            self._schedule_fill_check(coid)
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

    # -- modify ----------------------------------------------------------------------------------

    async def _modify_order(self, command: ModifyOrder) -> None:
        coid = command.client_order_id
        order = self._cache.order(coid)
        tracked = self._tracked.get(coid)
        now = self._clock.timestamp_ns()
        if order is None or tracked is None:
            self._modify_rejected(command, "UNKNOWN_ORDER: not an order of this node", now)
            return
        if tracked.terminal or order.is_closed:
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
        tracked.modify_old_oid = tracked.oid
        tracked.modify_target = (quantity, price, trigger)
        tracked.old_leg_cancelled = False
        try:
            response = await self._post(action)
        except ExchangeTransportError as exc:
            self.counters.transport_failures += 1
            self._log.warning(f"Outcome of modify {coid!r} unknown ({exc.reason}); looking up")
            with contextlib.suppress(HyperliquidError):
                await self._lookup(tracked)
            if tracked.modify_old_oid is not None:
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
                tracked.venue_filled = True
                self._schedule_fill_check(coid)
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

    def _end_modify(self, tracked: _Tracked, command: ModifyOrder, reason: str) -> None:
        """A failed modify: rejected; if the venue already cancelled the old leg, cancelled."""
        now = self._clock.timestamp_ns()
        old_oid = tracked.modify_old_oid
        tracked.modify_old_oid = None
        tracked.modify_target = None
        if tracked.terminal:
            return
        self._modify_rejected(command, reason, now)
        if tracked.old_leg_cancelled:
            self._cancelled(tracked.client_order_id, old_oid, now)
        elif reason.startswith(HyperliquidRejectReason.UNKNOWN_ORDER.value):
            # Filled or cancelled at the venue before the modify: learn which, now.
            self._create_task(self._lookup_quietly(tracked))

    async def _lookup_quietly(self, tracked: _Tracked) -> None:
        try:
            await self._lookup(tracked)
        except HyperliquidError as exc:
            self._log.warning(f"Lookup of {tracked.client_order_id!r} failed: {exc}")

    def _promote(self, client_order_id: ClientOrderId, new_oid: int, ts_event: int) -> None:
        """Bind the replacement leg of a modify: `OrderUpdated` with the new venue order id."""
        tracked = self._tracked.get(client_order_id)
        order = self._cache.order(client_order_id)
        if tracked is None or order is None or tracked.oid == new_oid or tracked.terminal:
            return
        if tracked.oid is not None:
            tracked.old_oids.add(tracked.oid)
        target = tracked.modify_target
        tracked.modify_old_oid = None
        tracked.modify_target = None
        tracked.old_leg_cancelled = False
        self._bind(tracked, new_oid)
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
        await self._cancel_orders([order])

    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        orders = [self._cache.order(c.client_order_id) for c in command.cancels]
        await self._cancel_orders([o for o in orders if o is not None])

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
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
            tracked = self._tracked.get(order.client_order_id)
            if tracked is None or tracked.terminal or (tracked.oid in on_book):
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
            await self._cancel_orders(pending, by_cloid=True)

    async def _cancel_by_oid(self, targets: Sequence[tuple[int, int]]) -> None:
        try:
            response = await self._post(cancel_action(targets))
        except HyperliquidError as exc:
            self._log.error(f"Cancel of {len(targets)} orders failed: {exc}")
            return
        statuses = self._cancel_statuses(response, len(targets))
        now = self._clock.timestamp_ns()
        for (_, oid), error in zip(targets, statuses, strict=True):
            coid = self._by_oid.get(oid)
            if coid is None:
                continue
            if error is None:
                self._cancelled(coid, oid, now)
            else:
                self._cancel_rejected(coid, error, now)

    async def _cancel_orders(self, orders: Sequence[Order], by_cloid: bool = False) -> None:
        now = self._clock.timestamp_ns()
        by_oid: list[tuple[Order, int, int]] = []
        by_cl: list[tuple[Order, int, str]] = []
        for order in orders:
            spec = self._builder.spec(order.instrument_id)
            tracked = self._tracked.get(order.client_order_id)
            if spec is None:
                self._cancel_rejected(order.client_order_id, "not a loaded instrument", now)
                continue
            if tracked is not None and tracked.terminal:
                continue
            cloid = cloid_from_client_order_id(order.client_order_id)
            oid = tracked.oid if tracked is not None else None
            if oid is None and order.venue_order_id is not None:
                text = order.venue_order_id.value
                oid = int(text) if text.isdigit() else None
            modifying = tracked is not None and tracked.modify_old_oid is not None
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
            statuses = self._cancel_statuses(response, len(batch))
            now = self._clock.timestamp_ns()
            for (order, _, _), error in zip(batch, statuses, strict=True):
                if error is None:
                    tracked = self._tracked.get(order.client_order_id)
                    oid = tracked.oid if tracked is not None else None
                    self._cancelled(order.client_order_id, oid, now)
                else:
                    self._cancel_rejected(order.client_order_id, error, now)

    @staticmethod
    def _cancel_statuses(response: ExchangeResponse, count: int) -> list[str | None]:
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
        coid = self._by_oid.get(oid)
        if coid is None:
            self._on_external_update(oid, "nonUserCancel")
            return
        tracked = self._tracked.get(coid)
        if tracked is None or (tracked.oid is not None and oid != tracked.oid):
            return  # a replaced leg of a modify, not the live order
        self._cancelled(coid, oid, now, venue_cancel_reason("nonUserCancel"))

    def _resolve(self, cloid: str | None, oid: int) -> ClientOrderId | None:
        if cloid is not None:
            found = self._by_cloid.get(cloid.lower())
            if found is not None:
                return found
        return self._by_oid.get(oid)

    def _on_order_update(self, update: OrderUpdate) -> None:
        order = update.order
        coid = self._resolve(order.cloid, order.oid)
        if coid is None:
            self._on_external_update(order.oid, update.status)  # not placed by this node
            return
        tracked = self._tracked.get(coid)
        if tracked is None:
            return
        ts = update.statusTimestamp * _MS
        status = update.status
        is_old_leg = order.oid in tracked.old_oids or (
            tracked.modify_old_oid is not None and order.oid == tracked.modify_old_oid
        )
        if status == "open":
            if tracked.modify_old_oid is not None and order.oid != tracked.modify_old_oid:
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
                tracked.venue_filled = True
                self._schedule_fill_check(coid)
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
            if is_old_leg or (tracked.in_flight and not tracked.accepted):
                return  # the submit answer carries the venue's full text
            if tracked.accepted:
                self._cancelled(coid, order.oid, ts, f"{code.value}: {status}")
            else:
                self._reject(coid, f"{code.value}: {status}", ts)
            return
        if venue_order_status(status, filled=False) == OrderStatus.CANCELED:
            if is_old_leg:
                if tracked.modify_old_oid == order.oid:
                    tracked.old_leg_cancelled = True
                return
            self._cancelled(coid, order.oid, ts, venue_cancel_reason(status))

    def _on_fill(self, fill: Fill, *, from_resync: bool = False) -> None:
        key = fill_key(fill)
        if key in self._seen_tids:
            self.counters.duplicate_fills += 1
            return
        self._seen_tids.add(key)
        if fill.time > self._last_fill_ms:
            self._last_fill_ms = fill.time
        if from_resync:
            self.counters.resync_fills += 1
        instrument = self._instruments.get(fill.coin)
        if instrument is None:
            self._log.warning(f"Fill on unknown coin {fill.coin!r} ignored")
            return
        coid = self._resolve(fill.cloid, fill.oid)
        tracked = self._tracked.get(coid) if coid is not None else None
        order = self._cache.order(coid) if coid is not None else None
        if coid is None or tracked is None or order is None:
            self.counters.external_fills += 1
            self._create_task(self._external_fill(fill, instrument))
            return
        self.counters.fills += 1
        ts_event = fill.time * _MS
        replacement = (
            tracked.modify_old_oid is not None
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
        if tracked.filled >= order.quantity.as_decimal():
            tracked.terminal = True

    async def _external_fill(self, fill: Fill, instrument: Instrument) -> None:
        """A fill of an order this node does not know: order report (open), fill, final status."""
        async with self._external_lock:  # one order report before its fills, fills in order
            await self._external_fill_locked(fill, instrument)

    async def _external_fill_locked(self, fill: Fill, instrument: Instrument) -> None:
        external = self._externals.get(fill.oid)
        if external is None:
            external = await self._open_external(fill, instrument)
            if external is None:
                return
        if fill_key(fill)[1] in external.tids:
            return  # already reported (fetched with the order's other fills)
        if external.finished:
            self._log.error(
                f"Fill {fill.tid} of external order {fill.oid} arrived after its final status "
                "was reported; not applied (the next reconciliation compares positions)"
            )
            return
        self._report_external_fill(external, fill)
        if external.final is not None:
            await self._finish_external(external)

    async def _open_external(self, fill: Fill, instrument: Instrument) -> _External | None:
        """Start following an external order: an `open` report first (unless cached)."""
        coid = external_client_order_id(fill.oid)
        cached = self._cache.order(coid)
        if cached is not None:  # reported by reconciliation
            external = _External(fill.oid, coid, instrument, filled=cached.filled_qty.as_decimal())
            external.tids.update(t.value for t in cached.trade_ids)
            external.finished = cached.is_closed
            self._externals[fill.oid] = external
            return external
        answer = await self._http.info(OrderStatusRequest(user=self._user, oid=fill.oid))
        if not isinstance(answer, OrderStatusFound):
            self._log.error(f"Fill {fill.tid} of unknown order {fill.oid} not found at venue")
            return None
        entry = answer.order
        opened = msgspec.structs.replace(entry.order, sz=entry.order.origSz)
        origin = _positive_quantity(opened, fill)
        report = order_status_report(
            origin,
            "open",
            entry.order.timestamp,
            instrument,
            self.account_id,
            self._clock.timestamp_ns(),
            client_order_id=coid,
        )
        self._log.warning(
            f"Fill of an order placed outside this node: oid {fill.oid} ({fill.coin} "
            f"{fill.side} {fill.sz} @ {fill.px}, {fill.dir}); reported as external {coid}"
        )
        self._send_order_status_report(report)
        external = _External(fill.oid, coid, instrument)
        if venue_order_status(entry.status, filled=False) in _FINAL_STATUSES:
            external.final = entry  # ended already (e.g. an IOC): report its end after its fills
        self._externals[fill.oid] = external
        return external

    def _report_external_fill(self, external: _External, fill: Fill) -> None:
        external.tids.add(fill_key(fill)[1])
        external.fills.append(fill)
        external.filled += Decimal(fill.sz)
        report = fill_report(
            fill,
            external.instrument,
            self.account_id,
            self._clock.timestamp_ns(),
            client_order_id=external.client_order_id,
        )
        self._send_fill_report(report)

    def _tracks_external(self, oid: int) -> bool:
        """An external order this node reported and whose end it has not reported yet."""
        external = self._externals.get(oid)
        if external is not None:
            return not external.finished
        cached = self._cache.order(external_client_order_id(oid))
        return cached is not None and cached.is_open

    def _on_external_update(self, oid: int, status: str) -> None:
        """A status change of an order placed outside this node: once it ends, report the end."""
        if status in ("open", "triggered") or not self._tracks_external(oid):
            return
        self._create_task(self._external_final(oid))

    async def _external_final(self, oid: int) -> None:
        """Ask the venue how an external order ended and report it (after its fills)."""
        async with self._external_lock:  # after the order's pending fill reports
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
            external = self._externals.get(oid)
            if external is None:
                instrument = self._instruments.get(entry.order.coin)
                cached = self._cache.order(external_client_order_id(oid))
                if instrument is None or cached is None:
                    return
                external = _External(
                    oid, cached.client_order_id, instrument, filled=cached.filled_qty.as_decimal()
                )
                external.tids.update(t.value for t in cached.trade_ids)
                self._externals[oid] = external
            if external.finished:
                return
            external.final = entry
            await self._finish_external(external)

    async def _finish_external(self, external: _External) -> None:
        """Report the venue's final status of an external order once its fills are reported.

        NautilusTrader cancels an order without inferring missing fills, so the fills the
        venue counted are fetched first; if the venue still shows fewer, ask again shortly.
        """
        entry = external.final
        assert entry is not None
        orig = Decimal(entry.order.origSz)
        venue_filled = orig - Decimal(entry.order.sz) if orig > 0 else None
        if venue_filled is None or external.filled < venue_filled:
            await self._fetch_external_fills(external, entry.order.timestamp)
        if venue_filled is not None and external.filled < venue_filled:
            external.final_attempts += 1
            if external.final_attempts < _LOOKUP_ATTEMPTS:
                self._log.warning(
                    f"External order {external.oid} {entry.status}: venue filled {venue_filled}, "
                    f"{external.filled} in fills so far; asking again"
                )
                external.final = None
                self._create_task(self._external_final_later(external.oid))
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
            self.account_id,
            self._clock.timestamp_ns(),
            client_order_id=external.client_order_id,
            fills=external.fills,
        )
        self.counters.external_finals += 1
        reason = venue_cancel_reason(entry.status)
        self._log.warning(
            f"External order {external.oid} ({external.client_order_id}) ended at the venue: "
            f"{entry.status}, filled {report.filled_qty} of {report.quantity}"
            + (f" ({reason})" if reason else "")
        )
        self._send_order_status_report(report)

    async def _external_final_later(self, oid: int) -> None:
        await asyncio.sleep(_FILL_CHECK_DELAY_SECS)
        await self._external_final(oid)

    async def _fetch_external_fills(self, external: _External, since_ms: int) -> None:
        """Report the fills of one external order the stream has not delivered (yet)."""
        end_ms = self._clock.timestamp_ms() + 1_000
        try:
            pager = await fetch_fills_by_time(self._fetch_fill_page, self._user, since_ms, end_ms)
        except HyperliquidError as exc:
            self._log.warning(f"Fills of external order {external.oid} not fetched: {exc}")
            return
        for fill in pager.fills:
            if fill.oid != external.oid or fill_key(fill)[1] in external.tids:
                continue
            self._seen_tids.add(fill_key(fill))
            self._report_external_fill(external, fill)

    def _schedule_fill_check(self, client_order_id: ClientOrderId) -> None:
        """The venue says filled: if the fills do not arrive shortly, fetch them."""
        self._create_task(self._fill_check(client_order_id))

    async def _fill_check(self, client_order_id: ClientOrderId) -> None:
        await asyncio.sleep(_FILL_CHECK_DELAY_SECS)
        tracked = self._tracked.get(client_order_id)
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
        end_ms = self._clock.timestamp_ms() + 1_000
        pager = await fetch_fills_by_time(self._fetch_fill_page, self._user, start_ms, end_ms)
        before = self.counters.resync_fills
        for fill in pager.fills:
            self._on_fill(fill, from_resync=True)
        return self.counters.resync_fills - before

    async def _fetch_fill_page(self, request: UserFillsByTimeRequest) -> list[Fill]:
        page: list[Fill] = await self._http.info(request)
        return page

    def _create_task(self, coro: Any) -> None:
        self.create_task(coro)

    # -- reconnect resync ------------------------------------------------------------------------

    def _on_ws_connected(self, conn_id: str) -> None:
        self._connections += 1
        if self._connections > 1:
            self._log.warning(f"User stream reconnected ({conn_id}); resyncing orders and fills")
            self._create_task(self.resync())

    async def resync(self) -> None:
        """Emit what the streams may have missed: fills since the last one seen, and the venue
        status of every order this node believes open."""
        self.counters.resyncs += 1
        fills = await self._fetch_fills(max(self._last_fill_ms - 1, 0))
        updates = await self._audit_open_orders(force=True)
        updates += await self._audit_externals()
        self._log.warning(
            f"Resync done: {fills} missed fills and {updates} order updates emitted"
            if fills or updates
            else "Resync done: nothing was missed"
        )

    async def _audit_open_orders(self, force: bool = False) -> int:
        """Look up our accepted orders the venue no longer lists as open (plus stale ones)."""
        live = [t for t in self._tracked.values() if not t.terminal and t.accepted]
        if not live:
            return 0
        venue_open = await self._http.info(FrontendOpenOrdersRequest(user=self._user))
        open_oids = {o.oid for o in venue_open}
        open_oids.update(child.oid for o in venue_open for child in o.children)
        changed = 0
        for tracked in live:
            if tracked.oid in open_oids or tracked.terminal:
                continue
            if tracked.modify_old_oid is not None and not force:
                continue
            before = (tracked.terminal, tracked.oid)
            with contextlib.suppress(HyperliquidError):
                await self._lookup(tracked)
            if (tracked.terminal, tracked.oid) != before or tracked.venue_filled:
                changed += 1
        self.counters.resync_order_updates += changed
        return changed

    async def _audit_externals(self) -> int:
        """Report the end of external orders the venue no longer lists as open (an update
        missed while the stream was down)."""
        oids = {oid for oid, e in self._externals.items() if not e.finished}
        for order in self._cache.orders_open(venue=HYPERLIQUID_VENUE):
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
        before = self.counters.external_finals
        for oid in sorted(oids - open_oids):
            await self._external_final(oid)
        return self.counters.external_finals - before

    # -- background loops ------------------------------------------------------------------------

    async def _watchdog_loop(self) -> None:
        """No order stays in flight forever: stale SUBMITTED orders are looked up by cloid."""
        interval = self._config.watchdog_interval_secs
        timeout_ns = int(self._config.inflight_timeout_secs * _SEC)
        while True:
            await asyncio.sleep(interval)
            now = self._clock.timestamp_ns()
            for tracked in list(self._tracked.values()):
                if tracked.terminal or tracked.accepted or tracked.waiting:
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
            self._prune()

    def _prune(self) -> None:
        for coid in [c for c, t in self._tracked.items() if t.terminal]:
            order = self._cache.order(coid)
            if order is None or order.is_closed:
                tracked = self._tracked.pop(coid)
                if tracked.oid is not None:
                    self._by_oid.pop(tracked.oid, None)

    async def _account_loop(self) -> None:
        interval = self._config.account_refresh_interval_secs
        while True:
            await asyncio.sleep(interval)
            try:
                await self._refresh_account()
            except HyperliquidError as exc:
                self._log.warning(f"Account refresh failed: {exc}")

    def _mark_account_dirty(self) -> None:
        """Refresh the account soon after fills / funding / liquidation (coalesced)."""
        self._account_dirty = True
        if self._account_refresh is None or self._account_refresh.done():
            self._account_refresh = self._loop.create_task(self._refresh_account_soon())

    async def _refresh_account_soon(self) -> None:
        while self._account_dirty:
            self._account_dirty = False
            await asyncio.sleep(0.1)
            try:
                await self._refresh_account()
            except HyperliquidError as exc:
                self._log.warning(f"Account refresh failed: {exc}")

    async def _refresh_account(self) -> None:
        perp: ClearinghouseState = await self._http.info(ClearinghouseStateRequest(user=self._user))
        spot: SpotClearinghouseState | None = None
        if "spot" in self._config.product_types:
            spot = await self._http.info(SpotClearinghouseStateRequest(user=self._user))
        state = account_state(
            perp, spot, self.account_id, self._clock.timestamp_ns(), instruments=self._instruments
        )
        self._send_account_state(state)

    async def _query_account(self, command: QueryAccount) -> None:
        await self._refresh_account()

    async def _dead_man_loop(self) -> None:
        while self._dead_man_enabled:
            await asyncio.sleep(self._config.dead_man_refresh_secs)
            await self._refresh_dead_man()

    async def _refresh_dead_man(self) -> None:
        """Push the venue's scheduleCancel forward; stop trying if the venue refuses it."""
        now_ms = self._clock.timestamp_ms()
        cancel_at = now_ms + int(self._config.dead_man_switch_secs * 1000)
        try:
            response = await self._post(schedule_cancel_action(cancel_at, now_ms), count=False)
        except HyperliquidError as exc:
            self._log.warning(f"Dead-man switch refresh failed (will retry): {exc}")
            return
        if isinstance(response, ExchangeErr):
            rejection: VenueRejection = classify_rejection(response.response)
            self._log.error(
                f"Dead-man switch refused by the venue, disabled: {rejection.reason}; orders "
                "will NOT be cancelled by the venue if this node dies"
            )
            self._dead_man_enabled = False
            return
        self.counters.dead_man_refreshes += 1

    # -- reconciliation reports ------------------------------------------------------------------

    def _client_order_ids(self) -> dict[str, ClientOrderId]:
        return dict(self._by_cloid)

    def _with_external_ids(self, reports: list[OrderStatusReport]) -> list[OrderStatusReport]:
        for report in reports:
            if report.client_order_id is None:
                oid = int(report.venue_order_id.value)
                known = self._by_oid.get(oid)
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
        end_ms = min(end_ms, self._clock.timestamp_ms() + 1_000)
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


def _iso_ms(millis: int) -> str:
    """A venue time (ms) as an ISO-8601 UTC string for operators."""
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).isoformat(timespec="seconds")


def _window_ms(start: Any, end: Any) -> tuple[int, int]:
    start_ms = int(start.value // _MS) if start is not None else 0
    end_ms = int(end.value // _MS) if end is not None else 2**62
    return start_ms, end_ms


def _positive_quantity(order: FrontendOrder, fill: Fill) -> FrontendOrder:
    """Market orders closing a position may report `origSz` 0: fall back to the fill size."""
    if Decimal(order.origSz) > 0:
        return order
    return msgspec.structs.replace(order, origSz=fill.sz, sz=fill.sz)
