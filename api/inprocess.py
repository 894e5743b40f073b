"""The in-process node link: the sidecar on its own thread, the node on its loop's thread.

Every command runs on the node's event loop through ``loop.call_soon_threadsafe`` (the message
bus, cache and trader are not thread-safe: NAUTILUS_FACTS §2) and the sidecar thread waits for
its result with a timeout. Node events reach the sidecar's ``EventHub`` from a message-bus
subscription on the loop thread (order and position events carry the strategy id, which maps
to the user who started it).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from collections.abc import Collection
from decimal import Decimal
from typing import Any
from typing import TypeVar

from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.signing import address_from_private_key
from api.account_clients import CONNECT_TIMEOUT_SECS
from api.account_clients import AccountClients
from api.account_clients import AccountConflict
from api.account_clients import ExecRouter
from api.events import EventHub
from api.node_link import EMPTY_OVERVIEW
from api.node_link import ControlState
from api.node_link import NodeOverview
from api.node_link import NodeRefused
from api.node_link import NodeUnavailable
from api.node_link import QueuedResult
from api.node_link import StrategyStatus
from api.node_link import TradingAccount
from api.node_overview import read_overview
from api.services.accounts import WalletRefused
from api.services.accounts import check_agent_wallet
from common.nautilus import custom_data_topic
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from strategies.control import find_guard
from strategies.control import halt
from strategies.control import reduce_only
from strategies.control import resume

__all__ = ["InProcessNodeLink"]

T = TypeVar("T")

_COMMANDS: dict[str, Callable[[Any, str], None]] = {
    "HALT": halt,
    "REDUCE_ONLY": reduce_only,
    "RESUME": resume,
}


class InProcessNodeLink:
    """Commands handed to a running ``TradingNode`` on its own loop, thread-safely."""

    def __init__(self, node: TradingNode, hub: EventHub, timeout_secs: float = 10.0) -> None:
        self._node = node
        self._hub = hub
        self._timeout = timeout_secs
        self._loop = node.get_event_loop()
        self._owners: dict[str, str] = {}  # node strategy id -> user id
        self._owners_lock = threading.Lock()
        self._reason: str | None = None
        self._attached = False
        self._gates: dict[str, str] = {}  # node strategy id -> the controller's last gate
        self._states: dict[str, str] = {}  # node strategy id -> its rulebook's last state
        self._router = ExecRouter(node)
        self._accounts = AccountClients(node, self._router)
        self._started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, fn: Callable[[], T]) -> T:
        if self._loop is None or self._loop.is_closed() or not self._node.trader.is_running:
            raise NodeUnavailable("node not connected: the node is not running")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(run)
        try:
            return future.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError:
            raise NodeUnavailable(f"node did not answer within {self._timeout:g} s") from None

    def attach(self) -> None:
        """Subscribe to the node's order and position events (once the node runs)."""
        if self._attached:
            return

        def subscribe() -> None:
            bus = self._node.kernel.msgbus
            bus.subscribe(topic="events.order.*", handler=self._on_order_event)
            bus.subscribe(topic="events.position.*", handler=self._on_position_event)
            bus.subscribe(topic=custom_data_topic(STRATEGY_GATE_DATA_TYPE), handler=self._on_gate)
            bus.subscribe(topic=custom_data_topic(STRATEGY_STATE_DATA_TYPE), handler=self._on_state)

        self._call(subscribe)
        self._call(self._router.install)
        self._attached = True

    def _owner(self, strategy_id: Any) -> str | None:
        with self._owners_lock:
            return self._owners.get(str(strategy_id))

    def _on_gate(self, gate: Any) -> None:
        text = f"{'enabled' if gate.enabled else 'disabled'} ({gate.action}: {gate.reason})"
        self._gates[gate.strategy_id] = text
        user = self._owner(gate.strategy_id)
        if user is not None:
            self._hub.publish(
                user,
                "strategy.gate",
                {"strategy": gate.strategy_id, "enabled": gate.enabled, "action": gate.action,
                 "reason": gate.reason},
            )  # fmt: skip

    def _on_state(self, report: Any) -> None:
        self._states[report.strategy_id] = report.state
        user = self._owner(report.strategy_id)
        if user is not None:
            self._hub.publish(
                user,
                "strategy.node_state",
                {"strategy": report.strategy_id, "previous": report.previous,
                 "state": report.state, "reason": report.reason},
            )  # fmt: skip

    def _on_order_event(self, event: Any) -> None:
        user = self._owner(event.strategy_id)
        if user is None:
            return
        data: dict[str, Any] = {
            "strategy": str(event.strategy_id),
            "client_order_id": str(event.client_order_id),
            "event": type(event).__name__,
            "ts_event": event.ts_event,
        }
        if isinstance(event, OrderFilled):
            data |= {
                "side": event.order_side.name,
                "last_px": str(event.last_px),
                "last_qty": str(event.last_qty),
                "commission": str(event.commission),
                "trade_id": str(event.trade_id),
            }
            self._hub.publish(user, "fill", data)
        else:
            self._hub.publish(user, "order", data)

    def _on_position_event(self, event: Any) -> None:
        user = self._owner(event.strategy_id)
        if user is None:
            return
        self._hub.publish(
            user,
            "position",
            {
                "strategy": str(event.strategy_id),
                "event": type(event).__name__,
                "instrument_id": str(event.instrument_id),
                "side": event.side.name,
                "quantity": str(event.quantity),
                "realized_pnl": str(event.realized_pnl),
            },
        )

    def _controller(self) -> Any:
        controller = self._node.kernel._controller  # type: ignore[attr-defined]
        if controller is None:
            raise NodeUnavailable("the node has no controller to run strategies through")
        return controller

    def _gone(self) -> str:
        return (
            f"not on the node: the node started again (at {self._started_at}) since this "
            "strategy ran, and jarvis serve does not add strategies again after a restart (it "
            "keeps no order history to resume them from; --nodes does). Its orders are no "
            "longer managed and a position it held stays on the account. Create a new strategy "
            "from the plan to run it again"
        )

    def _find(self, node_strategy_id: str) -> Strategy | None:
        for strategy in self._node.trader.strategies():
            if strategy.id.value == node_strategy_id:
                return strategy
        return None

    def _strategy(self, node_strategy_id: str) -> Strategy:
        strategy = self._find(node_strategy_id)
        if strategy is None:
            raise NodeUnavailable(f"the node does not know strategy {node_strategy_id}")
        return strategy

    # -- NodeLink ------------------------------------------------------------------------------

    def connected(self) -> bool:
        """The node's trader runs and its execution clients are connected."""
        if self._loop is None or self._loop.is_closed() or not self._node.trader.is_running:
            return False
        try:
            return self._call(self._node.kernel.exec_engine.check_connected)
        except NodeUnavailable:
            return False

    def feed_healthy(self) -> bool:
        """Every data client is connected and every stream a Hyperliquid data client reports
        on is OK (its own feed-health verdict: stale, gapped or reconnecting streams are not)."""

        def check() -> bool:
            engine = self._node.kernel.data_engine
            if not engine.check_connected():
                return False
            clients = engine._clients.values()  # type: ignore[attr-defined]
            for client in clients:
                if isinstance(client, HyperliquidDataClient):
                    health = client.stream_health()
                    if not health or any(h.status != FeedHealthStatus.OK for h in health.values()):
                        return False
            return True

        try:
            return self._call(check)
        except NodeUnavailable:
            return False

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        """Add the strategy through the node's controller (or restart a stopped one), its
        commands routed to ``account``'s execution client (added and connected first)."""
        self.attach()
        client_id = None
        if account is not None:
            if not self._call(lambda: self._accounts.is_registered(account.address)):
                self._check_wallet(account)
            client_id = self._call(
                lambda: self._accounts.ensure(account.address, account.agent_key)
            )
            deadline = time.monotonic() + CONNECT_TIMEOUT_SECS
            while not self._call(lambda: self._accounts.connected(client_id)):
                if time.monotonic() > deadline:
                    raise NodeUnavailable(
                        f"the execution client of account {account.address} did not connect "
                        f"within {CONNECT_TIMEOUT_SECS:g} s"
                    )
                time.sleep(0.1)
        importable = ImportableStrategyConfig(**config)
        instrument_id = str(importable.config.get("instrument_id", ""))
        if node_strategy_id is not None:
            sid = node_strategy_id

            def restart() -> str:
                strategy = self._find(sid)
                if strategy is None:
                    raise NodeRefused(f"{sid} is {self._gone()}")
                self._router.claim(sid, client_id, instrument_id)
                if strategy.is_stopped:
                    # NautilusTrader starts a component once: a stopped one runs again through
                    # resume, whose handler (every template's) runs its start again.
                    strategy.resume()
                else:
                    self._controller().start_strategy(strategy)
                if not strategy.is_running:
                    raise RuntimeError(f"{sid} did not run again: {strategy.state.name}")
                return sid

            return self._claimed(restart)

        def add() -> str:
            controller = self._controller()
            tag = f"-{importable.config['order_id_tag']}"
            if any(s.id.value.endswith(tag) for s in self._node.trader.strategies()):
                raise AccountConflict(
                    f"the node already has a strategy with order id tag {tag[1:]}"
                )
            expected = f"{importable.strategy_path.rsplit(':', 1)[1]}{tag}"
            self._router.claim(expected, client_id, instrument_id)
            if hasattr(controller, "add_strategy_from_config"):
                strategy = controller.add_strategy_from_config(importable)
            else:
                controller.create_strategy_from_config(importable, start=True)
                strategy = next(
                    s for s in self._node.trader.strategies() if s.id.value.endswith(tag)
                )
            with self._owners_lock:
                self._owners[strategy.id.value] = owner_user_id
            return str(strategy.id.value)

        return self._claimed(add)

    def restore_account(self, account: TradingAccount) -> None:
        """Before the node runs (a restarted ``serve-node`` whose strategies traded from
        ``account``): register the account's client so that the kernel connects and reconciles
        it at start-up with its own, before the trader runs; ``start`` then finds it."""
        if self._node.trader.is_running:
            raise RuntimeError("restore_account is for a node that has not started yet")
        self._check_wallet(account)
        self._accounts.register_before_start(account.address, account.agent_key)

    def _check_wallet(self, account: TradingAccount) -> None:
        """Refuse, saying why, an account whose agent wallet the venue no longer accepts
        (revoked, replaced or expired since it was registered) before its client is added: a
        client that cannot pass its own start-up key check would otherwise fail the node's
        fail-closed start (or hang a strategy's start) for every account on it."""
        try:
            check_agent_wallet(
                self._call(self._accounts.venue_url) if self._node.trader.is_running
                else self._accounts.venue_url(),
                address_from_private_key(account.agent_key).lower(),
                account.address.lower(),
                self._node.kernel.clock.timestamp_ms(),
            )  # fmt: skip
        except (WalletRefused, AccountConflict) as exc:
            raise NodeRefused(f"account {account.address}: {exc}") from None

    def _claimed(self, fn: Callable[[], str]) -> str:
        try:
            return self._call(fn)
        except AccountConflict as exc:
            raise NodeRefused(f"the node refused the strategy: {exc}") from None
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise NodeUnavailable(f"the node refused the strategy: {exc}") from None

    def stop(self, node_strategy_id: str) -> None:
        """Stop the strategy through the controller (its on_stop cancels its orders)."""

        def stop() -> None:
            self._controller().stop_strategy(self._strategy(node_strategy_id))

        self._call(stop)

    def cancel(self, node_strategy_id: str, close: bool) -> None:
        """Cancel the strategy's orders, close its positions reduce-only if asked, stop it."""

        def cancel() -> None:
            strategy = self._strategy(node_strategy_id)
            # Order by order, not cancel_all_orders: the Hyperliquid client cancels every order
            # on the coin for that, other strategies' orders (their stops too) included. Orders
            # still on their way are the strategy's stop's to cancel (its stop sweep).
            for order in strategy.cache.orders_open(strategy_id=strategy.id):
                strategy.cancel_order(order)
            if close:
                for position in strategy.cache.positions_open(strategy_id=strategy.id):
                    strategy.close_position(position, reduce_only=True)
            self._controller().stop_strategy(strategy)

        self._call(cancel)

    def status(self, node_strategy_id: str) -> StrategyStatus | None:
        """Orders, fills, position, PnL, fees and notional traded of the strategy."""

        def read() -> StrategyStatus | None:
            cache = self._node.kernel.cache
            sid = StrategyId(node_strategy_id)
            if not any(s.id == sid for s in self._node.trader.strategies()):
                return None
            orders = cache.orders(strategy_id=sid)
            fills = [e for o in orders for e in o.events if isinstance(e, OrderFilled)]
            positions = cache.positions(strategy_id=sid)
            realized = sum(
                (p.realized_pnl.as_decimal() for p in positions if p.realized_pnl), Decimal(0)
            )
            unrealized = Decimal(0)
            position_view: dict[str, Any] | None = None
            for p in positions:
                if p.is_open:
                    price = cache.price(p.instrument_id, _last_price_type())
                    if price is not None:
                        unrealized += p.unrealized_pnl(price).as_decimal()
                    position_view = {
                        "instrument_id": str(p.instrument_id),
                        "side": p.side.name,
                        "quantity": str(p.quantity),
                        "avg_px_open": str(p.avg_px_open),
                    }
            fees = sum((f.commission.as_decimal() for f in fills), Decimal(0))
            notional = sum(
                (f.last_px.as_decimal() * f.last_qty.as_decimal() for f in fills), Decimal(0)
            )
            return StrategyStatus(
                regime_gate=self._gates.get(node_strategy_id),
                orders=[
                    {
                        "client_order_id": str(o.client_order_id),
                        "side": o.side.name,
                        "type": o.order_type.name,
                        "status": o.status.name,
                        "quantity": str(o.quantity),
                        "filled_qty": str(o.filled_qty),
                    }
                    for o in orders
                ],
                fills=[
                    {
                        "client_order_id": str(f.client_order_id),
                        "side": f.order_side.name,
                        "px": str(f.last_px),
                        "qty": str(f.last_qty),
                        "commission": str(f.commission),
                        "ts_event": f.ts_event,
                    }
                    for f in fills
                ],
                position=position_view,
                realized_pnl_usd=str(realized),
                unrealized_pnl_usd=str(unrealized),
                fees_usd=str(fees),
                notional_used_usd=str(notional),
            )

        try:
            return self._call(read)
        except NodeUnavailable:
            return None

    def interruption(self, node_strategy_id: str) -> str | None:
        """Never: the node is this process, so it cannot go away while the sidecar answers."""
        return None

    def lost(self, node_strategy_ids: Collection[str]) -> dict[str, str]:
        """Those the node does not have: the node is this process, so it started again since
        they ran (strategies are only added through this link)."""

        def present() -> set[str]:
            return {s.id.value for s in self._node.trader.strategies()}

        on_node = self._call(present)
        return {sid: self._gone() for sid in node_strategy_ids if sid not in on_node}

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        """One read on the node's loop of everything the status page shows (``NodeOverview``)."""

        def read() -> NodeOverview:
            return read_overview(self._node, self._gates, self._states, strategy_ids, recent)

        try:
            self.attach()  # gates and rulebook states arrive from then on
            return self._call(read)
        except NodeUnavailable:
            return EMPTY_OVERVIEW

    def control(self, mode: str, reason: str) -> ControlState:
        """HALT / REDUCE_ONLY / RESUME through ``strategies.control``: the node's risk guard and
        NautilusTrader's RiskEngine together."""
        command = _COMMANDS[mode]

        def apply() -> str:
            try:
                command(self._node.kernel, reason)
                return str(find_guard(self._node.kernel).mode.value)
            except RuntimeError as exc:  # no installed risk guard: refuse, never half-apply
                raise NodeUnavailable(f"control refused: {exc}") from None

        name = self._call(apply)
        self._reason = reason
        with self._owners_lock:
            users = set(self._owners.values())
        for user in users:
            self._hub.publish(user, "risk", {"mode": name, "reason": reason})
        return ControlState(name, reason)

    def control_state(self) -> ControlState:
        """The risk guard's mode now (the reason is the last operator's, if one was given)."""

        def read() -> str:
            try:
                return str(find_guard(self._node.kernel).mode.value)
            except RuntimeError:
                return "UNKNOWN"

        try:
            name = self._call(read)
        except NodeUnavailable:
            return ControlState("UNKNOWN", "node not connected")
        return ControlState(name, self._reason)

    def open(self, on_result: Callable[[QueuedResult], None]) -> None:
        """Events are published as they happen; nothing is ever queued (the node is here)."""

    def close(self) -> None:
        """Nothing to release: the node's owner stops it."""


def _last_price_type() -> Any:
    from nautilus_trader.model.enums import PriceType

    return PriceType.MID
