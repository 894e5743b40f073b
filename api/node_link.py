"""What the sidecar asks of the node, behind one interface, so routers and services never touch
NautilusTrader objects or threads.

``DetachedNodeLink`` is the sidecar without a node: everything is stored and plans compile, but
starting, stopping and control answer 503 "node not connected" (fail closed: nothing pretends
to run). The in-process link (``jarvis serve``) implements the same methods on the node's loop.

A link whose node runs elsewhere (``api.redis_link``) may not refuse a risk-reducing command
(stop, cancel) while that node is down: it raises ``CommandQueued`` instead (the caller is told it
has not run yet), and reports the outcome later through the ``on_result`` callback given to
``open`` (a ``QueuedResult``).

``overview`` (the status page's one read) returns the node-wide picture in one call: plain dicts
with the keys documented on ``NodeOverview``, so a link over the wire can send it as JSON as is.

Protocol changes (keep every link in step):
- ``start(..., account=TradingAccount)``: a user strategy trades from its owner's account
  through that account's execution client (one per account, added by the node on first use);
  ``None`` is the node's own account. A link refuses (``NodeRefused``, 409) a strategy that
  would trade a coin another running strategy trades on the same account, naming both.
- ``TradingAccount.secret_ref``: over Redis the command carries ``{address, secret_ref}``, never
  the key; the node opens the same secret store from its own environment
  (``api.secrets.open_secret_store``) and adds the account's client the in-process way.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

__all__ = [
    "EMPTY_OVERVIEW",
    "CommandQueued",
    "ControlState",
    "DetachedNodeLink",
    "NodeLink",
    "NodeOverview",
    "NodeRefused",
    "NodeUnavailable",
    "QueuedResult",
    "StrategyStatus",
    "TradingAccount",
]


class NodeUnavailable(Exception):
    """The node cannot take the command now; the message is safe to show the caller."""


class CommandQueued(Exception):
    """The node is down: the command waits for it and has NOT run yet; the message (safe to
    show) says since when, until when it may still run, and how its result is reported."""

    def __init__(self, message: str, command_id: str, node: int, expires_at_ms: int) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.node = node
        self.expires_at_ms = expires_at_ms


@dataclass(frozen=True, slots=True)
class QueuedResult:
    """The outcome of a command that was queued while its node was down."""

    command_id: str
    user_id: str
    op: str
    node_strategy_id: str
    close: bool
    ok: bool
    error: str | None


class NodeRefused(Exception):
    """The node will not take this command in the current state (a coin already traded on the
    account, a strategy id already taken); the message is safe to show the caller (409)."""


@dataclass(frozen=True, slots=True)
class ControlState:
    """The node's trading mode (ACTIVE, HALTED, REDUCE_ONLY, UNKNOWN) and why."""

    mode: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class TradingAccount:
    """A user's venue account and the agent-wallet key that signs for it (never printed: the
    key is left out of ``repr``). ``secret_ref`` names the key in the secret store: a link to a
    node in another process sends only the address and this reference, and that node reads the
    key from the same store itself, so the key never crosses the broker."""

    address: str
    agent_key: str = field(repr=False)
    secret_ref: str | None = None


@dataclass(frozen=True, slots=True)
class StrategyStatus:
    """What the node knows of one strategy."""

    regime_gate: str | None
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    position: dict[str, Any] | None
    realized_pnl_usd: str | None
    unrealized_pnl_usd: str | None
    fees_usd: str | None
    notional_used_usd: str | None


@dataclass(frozen=True, slots=True)
class NodeOverview:
    """The node-wide picture behind ``GET /status``; every value is JSON-ready.

    - ``instruments``: ``instrument_id``, ``coin``, ``regime`` (str or None without a
      controller), ``mid`` (str or None), ``feed`` (list of ``stream``, ``status``, ``reason``)
    - ``strategies``: ``node_strategy_id``, ``component_state`` (NautilusTrader's), ``state``
      (the rulebook's last reported state or None), ``gate`` (the controller's last gate or
      None), ``realized_pnl_usd``, ``unrealized_pnl_usd``
    - ``positions`` (open): ``node_strategy_id``, ``instrument_id``, ``side``, ``quantity``,
      ``avg_px_open``, ``unrealized_pnl_usd``
    - ``orders`` / ``fills``: the newest first, at most the ``recent`` asked for; orders have
      ``node_strategy_id``, ``client_order_id``, ``instrument_id``, ``side``, ``type``,
      ``status``, ``quantity``, ``filled_qty``, ``ts_last``; fills ``node_strategy_id``,
      ``client_order_id``, ``instrument_id``, ``side``, ``px``, ``qty``, ``commission``,
      ``ts_event``
    - ``risk_engine``: NautilusTrader's RiskEngine trading state (ACTIVE, REDUCING, HALTED),
      which the feed-health gate moves too, not only operators; None when unknown
    """

    instruments: list[dict[str, Any]]
    strategies: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    risk_engine: str | None = None


EMPTY_OVERVIEW = NodeOverview([], [], [], [], [])


class NodeLink(Protocol):
    """Commands to the node and what it reports; every method is safe from any thread."""

    def connected(self) -> bool:
        """Whether the node is running and answering."""
        ...

    def feed_healthy(self) -> bool:
        """Whether market data is flowing."""
        ...

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        """Add and start a strategy from an ImportableStrategyConfig dict (or restart the one
        with ``node_strategy_id``) trading from ``account`` (None: the node's own); its node
        id."""
        ...

    def stop(self, node_strategy_id: str) -> None:
        """Stop a strategy (its on_stop cancels its orders)."""
        ...

    def cancel(self, node_strategy_id: str, close: bool) -> None:
        """Stop a strategy, cancel its orders, and close its position reduce-only if asked."""
        ...

    def status(self, node_strategy_id: str) -> StrategyStatus | None:
        """The strategy's orders, fills, position and PnL; None if the node does not know it."""
        ...

    def interruption(self, node_strategy_id: str) -> str | None:
        """Why the strategy is not watched now (its node stopped answering), or None."""

    def lost(self, node_strategy_ids: Collection[str]) -> dict[str, str]:
        """Of these node strategies, those gone from the node for good (it started again and
        will not add them back), each with why; the sidecar stops their rows at start-up."""
        ...

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        """Instruments, strategies, positions and the ``recent`` newest orders and fills; only
        of the node strategies in ``strategy_ids`` (None: all of them). Empty when the node
        does not answer."""
        ...

    def control(self, mode: str, reason: str) -> ControlState:
        """HALT, REDUCE_ONLY or RESUME the whole node."""
        ...

    def control_state(self) -> ControlState:
        """The node's trading mode now."""
        ...

    def open(self, on_result: Callable[[QueuedResult], None]) -> None:
        """Start relaying the node's events (the lifespan calls it once the event history is
        open); ``on_result`` gets the outcome of every command that was queued."""
        ...

    def close(self) -> None:
        """Release the link (the lifespan calls it at shutdown)."""
        ...


class DetachedNodeLink:
    """No node: reads answer 'not connected', commands raise NodeUnavailable."""

    _WHY = "node not connected: the sidecar runs without a node (use `jarvis serve`)"

    def connected(self) -> bool:
        """Never connected."""
        return False

    def feed_healthy(self) -> bool:
        """No feed without a node."""
        return False

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        """Refused: nothing to start it on."""
        raise NodeUnavailable(self._WHY)

    def stop(self, node_strategy_id: str) -> None:
        """Refused."""
        raise NodeUnavailable(self._WHY)

    def cancel(self, node_strategy_id: str, close: bool) -> None:
        """Refused."""
        raise NodeUnavailable(self._WHY)

    def status(self, node_strategy_id: str) -> StrategyStatus | None:
        """Unknown."""
        return None

    def interruption(self, node_strategy_id: str) -> str | None:
        """Nothing runs, so nothing is interrupted."""
        return None

    def lost(self, node_strategy_ids: Collection[str]) -> dict[str, str]:
        """Unknown: no node to ask (a node that comes back says for itself)."""
        return {}

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        """Nothing to show."""
        return EMPTY_OVERVIEW

    def control(self, mode: str, reason: str) -> ControlState:
        """Refused."""
        raise NodeUnavailable(self._WHY)

    def control_state(self) -> ControlState:
        """Unknown."""
        return ControlState("UNKNOWN", "node not connected")

    def open(self, on_result: Callable[[QueuedResult], None]) -> None:
        """Nothing to relay, nothing is ever queued."""

    def close(self) -> None:
        """Nothing to release."""
