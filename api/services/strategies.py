"""Strategies: confirm a plan, start/stop/cancel it on the node, report its status.

The lifecycle is data (``TRANSITIONS``, STYLE §13): a command not allowed from the current state
is refused naming both. The node is asked first and the row changes only when the node agreed,
so the database never says "running" for a strategy the node did not start. A stop or cancel
the link queued (its node is down, ``CommandQueued``) changes nothing yet: it is audited and
announced, and ``finish_queued`` moves the row when the node reports it ran.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from typing import Final

from api.events import EventHub
from api.node_link import CommandQueued
from api.node_link import NodeLink
from api.node_link import NodeUnavailable
from api.node_link import QueuedResult
from api.node_link import StrategyStatus
from api.node_link import TradingAccount
from api.secrets import SecretStore
from api.secrets import SecretStoreError
from api.storage.models import StrategyRow
from api.storage.store import Store

__all__ = [
    "ACTIVE_STATES",
    "NODE_ACCOUNT",
    "TRANSITIONS",
    "StrategyConflict",
    "StrategyNotFound",
    "command_strategy",
    "create_strategy",
    "finish_queued",
]

NODE_ACCOUNT: Final[str] = "node"
"""The account of the node's own execution client: strategies of users without an agent
wallet (and the node's rulebook strategies) trade from it; a user with an agent wallet trades
from their own account through an execution client of that account."""

ACTIVE_STATES: Final[tuple[str, ...]] = ("created", "running")

TRANSITIONS: Final[dict[tuple[str, str], str]] = {
    ("created", "start"): "running",
    ("stopped", "start"): "running",
    ("running", "stop"): "stopped",
    ("created", "cancel"): "cancelled",
    ("running", "cancel"): "cancelled",
    ("stopped", "cancel"): "cancelled",
}


class StrategyNotFound(Exception):
    """No such strategy or plan for this user (another user's is 'not found' too)."""


class StrategyConflict(Exception):
    """The command is not allowed now; the message says why."""


def create_strategy(
    store: Store, hub: EventHub, user_id: str, plan_id: str, now_ms: int
) -> StrategyRow:
    """Confirm the user's plan as a strategy (not started)."""
    plan = store.plan(user_id, plan_id)
    if plan is None:
        raise StrategyNotFound(f"plan {plan_id} not found")
    wallets = store.wallets(user_id)
    account = wallets[0].account_address if wallets else NODE_ACCOUNT
    holders = store.active_on(account, plan.coin, ACTIVE_STATES)
    if holders:
        # Name the holder only to its owner: another user's strategy ids stay theirs.
        own = [f"{row.id} ({row.state})" for row in holders if row.user_id == user_id]
        which = f"your strategy {', '.join(own)}" if own else "another user's strategy"
        raise StrategyConflict(
            f"{plan.coin} already has an active strategy on account {account} ({which}): the "
            "venue keeps one net position per coin per account, so a second one would mix "
            "positions; stop or cancel the other strategy first"
        )
    row = store.add_strategy(user_id, plan, account, "created", now_ms)
    hub.publish(user_id, "strategy.state", {"strategy_id": row.id, "state": "created"})
    return row


def command_strategy(
    store: Store,
    hub: EventHub,
    link: NodeLink,
    user_id: str,
    strategy_id: str,
    command: str,
    now_ms: int,
    *,
    close: bool = False,
    secrets: SecretStore | None = None,
) -> StrategyRow:
    """Run ``start``, ``stop`` or ``cancel`` on the user's strategy.

    Raises StrategyNotFound, StrategyConflict, or ``NodeUnavailable`` (from the link).
    """
    row = store.strategy(user_id, strategy_id)
    if row is None:
        raise StrategyNotFound(f"strategy {strategy_id} not found")
    target = TRANSITIONS.get((row.state, command))
    if target is None:
        raise StrategyConflict(f"cannot {command} a strategy that is {row.state}")
    node_id = row.node_strategy_id
    if command == "start":
        plan = store.plan(user_id, row.plan_id)
        assert plan is not None
        account = None if row.account == NODE_ACCOUNT else _trading_account(store, secrets, row)
        config = _node_config(plan.strategy_config, row.id)
        if account is None:  # the node's own account: the call every link has always taken
            node_id = link.start(config, user_id, node_id)
        else:
            node_id = link.start(config, user_id, node_id, account=account)
    try:
        if command == "stop":
            assert node_id is not None
            link.stop(node_id)
        elif command == "cancel" and node_id is not None and row.state == "running":
            link.cancel(node_id, close)
    except CommandQueued as queued:
        detail = {"command_id": queued.command_id, "node": queued.node, "close": close,
                  "expires_at_ms": queued.expires_at_ms, "reason": str(queued)}  # fmt: skip
        store.audit(now_ms, user_id, f"strategy.{command}.queued", strategy_id, detail)
        hub.publish(user_id, "command.queued",
                    {"strategy_id": strategy_id, "op": command, **detail})  # fmt: skip
        raise
    updated = store.set_strategy_state(
        user_id,
        strategy_id,
        target,
        now_ms,
        action=f"strategy.{command}",
        node_strategy_id=node_id,
        reason=f"user {command}" + (" (close position)" if close else ""),
    )
    assert updated is not None
    hub.publish(
        user_id,
        "strategy.state",
        {"strategy_id": strategy_id, "state": target, "node_strategy_id": node_id},
    )
    return updated


def settle_lost(store: Store, hub: EventHub, link: NodeLink, now_ms: int) -> int:
    """At start-up: stop the rows of running strategies the node no longer has (the node started
    again and will not add them back), saying why to their owners, so that the database never
    says "running" for a strategy nothing runs. Returns how many."""
    rows = {r.node_strategy_id: r for r in store.in_state("running") if r.node_strategy_id}
    try:
        lost = link.lost(list(rows))
    except NodeUnavailable:
        return 0  # nothing to tell yet: the rows stay as the node last said
    for node_strategy_id, reason in lost.items():
        row = rows[node_strategy_id]
        store.set_strategy_state(row.user_id, row.id, "stopped", now_ms, action="strategy.lost",
                                 reason=reason)  # fmt: skip
        hub.publish(row.user_id, "strategy.state", {
            "strategy_id": row.id, "state": "stopped",
            "node_strategy_id": row.node_strategy_id, "reason": reason,
        })  # fmt: skip
    return len(lost)


def finish_queued(store: Store, hub: EventHub, result: QueuedResult, now_ms: int) -> None:
    """Record what a queued stop or cancel did once its node ran it: the row moves only if it
    ran (and the move is still allowed); a refusal (expired, failed) leaves it and is audited."""
    row = next((r for r in store.strategies(result.user_id)
                if r.node_strategy_id == result.node_strategy_id), None)  # fmt: skip
    if row is None:
        return
    target = TRANSITIONS.get((row.state, result.op))
    if not result.ok or target is None:
        why = result.error if not result.ok else f"the strategy is {row.state} now"
        store.audit(now_ms, result.user_id, f"strategy.{result.op}.not_applied", row.id,
                    {"command_id": result.command_id, "reason": why})  # fmt: skip
        return
    close = " (close position)" if result.close else ""
    store.set_strategy_state(
        result.user_id,
        row.id,
        target,
        now_ms,
        action=f"strategy.{result.op}",
        reason=f"user {result.op}{close}, queued while its node was down",
    )
    hub.publish(
        result.user_id,
        "strategy.state",
        {"strategy_id": row.id, "state": target, "node_strategy_id": row.node_strategy_id},
    )


def _node_config(strategy_config: dict[str, Any], strategy_id: str) -> dict[str, Any]:
    """The plan's strategy config with an order id tag of this strategy's own: the plan's tag
    is its config hash, shared by every strategy confirmed from the same plan (or the same
    words), and NautilusTrader names a strategy by its tag (two alike would collide)."""
    config = dict(strategy_config["config"])
    config["order_id_tag"] = strategy_id.replace("-", "")[:12]
    return {**strategy_config, "config": config}


def _trading_account(store: Store, secrets: SecretStore | None, row: StrategyRow) -> TradingAccount:
    wallet = next((w for w in store.wallets(row.user_id) if w.account_address == row.account), None)
    if wallet is None:
        raise StrategyConflict(f"no agent wallet of yours for account {row.account}")
    if secrets is None:
        raise StrategyConflict(
            f"account {row.account}: the secret store is not configured (JARVIS_SECRETS_KEY), "
            "so its agent wallet cannot sign"
        )
    try:
        key = secrets.get(wallet.secret_ref)
    except SecretStoreError as exc:
        raise StrategyConflict(f"account {row.account}: agent wallet unreadable: {exc}") from None
    return TradingAccount(row.account, key, wallet.secret_ref)


def budget(plan_notional_usd: str, status: StrategyStatus | None) -> tuple[str | None, str | None]:
    """(used, left) of the plan's notional, when the node reports what was traded."""
    if status is None or status.notional_used_usd is None:
        return None, None
    used = Decimal(status.notional_used_usd)
    return str(used), str(max(Decimal(0), Decimal(plan_notional_usd) - used))
