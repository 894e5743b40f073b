"""One execution client per trading account, so users' positions never mix.

The venue keeps one net position per coin per account: two users trading ETH from one account
would net each other out. So each user strategy trades from its owner's account through an
execution client of that account (signed by the user's agent wallet), added to the running node
on first use with the client id ``HL_<account>``; rulebook strategies and the sidecar's
operator-account strategies keep the node's own client.

NautilusTrader routes a command by its ``client_id`` (else by the order's account, else by
venue: ``ExecutionEngine._find_client_for_command``), and the templates submit without a
client id. ``ExecRouter`` therefore sits on the ``ExecEngine.execute`` endpoint (as the risk
guard sits on ``RiskEngine.execute``) and re-issues the commands of mapped strategies with
their account's client id; every other command passes through untouched. It also refuses a
strategy that would trade a coin another running strategy already trades on the same account.

Everything here runs on the node's event loop thread (the in-process link's ``_call``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.execution.messages import BatchCancelOrders
from nautilus_trader.execution.messages import CancelAllOrders
from nautilus_trader.execution.messages import CancelOrder
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import QueryOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.factories import build_exec_client

__all__ = ["AccountClients", "AccountConflict", "ExecRouter", "account_client_id"]

EXEC_ENDPOINT: Final[str] = "ExecEngine.execute"
CONNECT_TIMEOUT_SECS: Final[float] = 30.0


class AccountConflict(Exception):
    """The strategy cannot trade on that account now; the message says why."""


def account_client_id(account: str) -> ClientId:
    """The execution client id of ``account`` (a 0x address)."""
    return ClientId(f"HL_{account.lower()}")


@dataclass(slots=True)
class _Route:
    client_id: ClientId | None  # None: the node's own client (venue routing)
    instrument_id: InstrumentId


class ExecRouter:
    """The ``ExecEngine.execute`` endpoint: strategy -> its account's execution client."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node
        self._routes: dict[str, _Route] = {}
        self._installed = False

    def install(self) -> None:
        """Take over ``ExecEngine.execute`` (once)."""
        if self._installed:
            return
        bus = self._node.kernel.msgbus
        engine = self._node.kernel.exec_engine
        bus.deregister(EXEC_ENDPOINT, engine.execute)
        bus.register(EXEC_ENDPOINT, self.execute)
        self._installed = True

    def claim(self, strategy_id: str, client_id: ClientId | None, instrument_id: str) -> None:
        """Route ``strategy_id`` to ``client_id``; refuse when a running strategy already trades
        the same instrument on the same account (its net position would mix with this one's)."""
        instrument = InstrumentId.from_str(instrument_id)
        running = {s.id.value for s in self._node.trader.strategies() if s.is_running}
        for other_id, other in self._routes.items():
            if (
                other_id != strategy_id
                and other_id in running
                and other.client_id == client_id
                and other.instrument_id == instrument
            ):
                where = "the node's account" if client_id is None else f"account {client_id}"
                raise AccountConflict(
                    f"{instrument} is already traded by running strategy {other_id} on {where}: "
                    "the venue keeps one net position per coin per account, so the two would "
                    "mix; stop the other strategy first"
                )
        if client_id is None:
            for strategy in self._node.trader.strategies():
                if strategy.id.value in self._routes or not strategy.is_running:
                    continue
                # A config holds an InstrumentId (rulebook strategies) or its text (templates);
                # InstrumentId == str raises, so compare the texts.
                if str(getattr(strategy.config, "instrument_id", None)) == instrument.value:
                    raise AccountConflict(
                        f"{instrument} is already traded by the node's strategy {strategy.id} "
                        "on the node's account: the venue keeps one net position per coin per "
                        "account, so the two would mix"
                    )
        self._routes[strategy_id] = _Route(client_id, instrument)

    def client_of(self, strategy_id: str) -> ClientId | None:
        """The client a strategy's commands go to (None: the node's own)."""
        route = self._routes.get(strategy_id)
        return None if route is None else route.client_id

    def execute(self, command: Any) -> None:
        """Forward ``command`` to the ExecutionEngine, with its strategy's client id."""
        route = (
            self._routes.get(command.strategy_id.value) if hasattr(command, "strategy_id") else None
        )
        if route is not None and route.client_id is not None and command.client_id is None:
            command = _with_client(command, route.client_id)
        self._node.kernel.exec_engine.execute(command)


def _with_client(command: Any, client_id: ClientId) -> Any:
    """The same command addressed to ``client_id`` (NautilusTrader's commands are immutable)."""
    common = {
        "trader_id": command.trader_id,
        "strategy_id": command.strategy_id,
        "command_id": command.id,
        "ts_init": command.ts_init,
        "client_id": client_id,
        "params": command.params,
    }
    if isinstance(command, SubmitOrder):
        return SubmitOrder(order=command.order, position_id=command.position_id, **common)
    if isinstance(command, SubmitOrderList):
        return SubmitOrderList(
            order_list=command.order_list, position_id=command.position_id, **common
        )
    if isinstance(command, ModifyOrder):
        return ModifyOrder(
            instrument_id=command.instrument_id,
            client_order_id=command.client_order_id,
            venue_order_id=command.venue_order_id,
            quantity=command.quantity,
            price=command.price,
            trigger_price=command.trigger_price,
            **common,
        )
    if isinstance(command, CancelOrder):
        return CancelOrder(
            instrument_id=command.instrument_id,
            client_order_id=command.client_order_id,
            venue_order_id=command.venue_order_id,
            **common,
        )
    if isinstance(command, CancelAllOrders):
        return CancelAllOrders(
            instrument_id=command.instrument_id, order_side=command.order_side, **common
        )
    if isinstance(command, BatchCancelOrders):
        return BatchCancelOrders(
            instrument_id=command.instrument_id, cancels=command.cancels, **common
        )
    if isinstance(command, QueryOrder):
        return QueryOrder(
            instrument_id=command.instrument_id,
            client_order_id=command.client_order_id,
            venue_order_id=command.venue_order_id,
            **common,
        )
    return command


class AccountClients:
    """The node's execution clients of user accounts, added on first use."""

    def __init__(self, node: TradingNode, router: ExecRouter) -> None:
        self._node = node
        self._router = router

    def _base(self) -> HyperliquidExecutionClient:
        engine = self._node.kernel.exec_engine
        for client in engine._clients.values():  # type: ignore[attr-defined]
            if isinstance(client, HyperliquidExecutionClient) and not client.id.value.startswith(
                "HL_"
            ):
                return client
        raise AccountConflict(
            "the node has no Hyperliquid execution client to model user accounts' clients on"
        )

    def venue_url(self) -> str:
        """The venue's HTTP address the node trades through (its own client's)."""
        return str(self._base()._config.http_url)  # type: ignore[attr-defined]

    def is_registered(self, account: str) -> bool:
        """Whether the node already has the client of ``account``."""
        return account_client_id(account) in self._node.kernel.exec_engine.registered_clients

    def ensure(self, account: str, agent_key: str) -> ClientId:
        """The client of ``account`` (built, registered and connecting if new)."""
        client_id = account_client_id(account)
        if client_id in self._node.kernel.exec_engine.registered_clients:
            return client_id
        client = self._register(account, agent_key)
        # What the kernel does for its own clients at start: start the component, then
        # connect (a task on this loop; ``is_connected`` once the venue answered).
        client.start()
        client.connect()
        return client_id

    def register_before_start(self, account: str, agent_key: str) -> ClientId:
        """Register the client of ``account`` before the node runs (a restarted node whose
        strategies traded from it): the kernel then starts, connects and reconciles it with its
        own clients at start-up, so the account's orders are brought to the venue's state
        before the trader runs and commands are taken."""
        client_id = account_client_id(account)
        if client_id not in self._node.kernel.exec_engine.registered_clients:
            self._register(account, agent_key)
        return client_id

    def _register(self, account: str, agent_key: str) -> HyperliquidExecutionClient:
        client_id = account_client_id(account)
        engine = self._node.kernel.exec_engine
        base = self._base()
        config = msgspec.structs.replace(
            base._config,  # type: ignore[attr-defined]
            account_address=account.lower(),
            account_address_env=None,
            vault_address=None,
        )
        kernel = self._node.kernel
        client = build_exec_client(
            self._node.get_event_loop() or asyncio.get_event_loop(),
            kernel.msgbus,
            kernel.cache,
            kernel.clock,  # type: ignore[arg-type]
            config,
            name=client_id.value,
            private_key=agent_key,
        )
        # Into the client registry only: ``register_client`` allows one client per venue in
        # its routing map, and these are reached by client id (the router sets it) or by their
        # orders' account id, whose issuer is this client id.
        engine._clients[client_id] = client  # type: ignore[attr-defined]
        return client

    def connected(self, client_id: ClientId) -> bool:
        """Whether the account's client has connected."""
        client = self._node.kernel.exec_engine._clients.get(client_id)  # type: ignore[attr-defined]
        return bool(client is not None and client.is_connected)
