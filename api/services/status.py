"""The status page's snapshot: the node's overview scoped to the caller, joined with the caller's
strategies in the store.

Scoping is decided here, not on the page: a trader's overview is asked only for the node
strategies of their own rows (so other users' orders, fills and positions never leave the
node link), an operator's for every strategy on the node. Instruments, regimes, feed health and
the trading state concern everyone and are shown to every caller.
"""

from __future__ import annotations

from typing import Any
from typing import Final

from api.node_link import NodeLink
from api.node_link import NodeOverview
from api.schemas import ControlResponse
from api.schemas import FeedStreamView
from api.schemas import FillView
from api.schemas import InstrumentView
from api.schemas import OrderView
from api.schemas import PositionView
from api.schemas import StatusResponse
from api.schemas import StrategyStatusView
from api.storage.models import StrategyRow
from api.storage.store import Store

__all__ = ["RECENT", "status_snapshot"]

RECENT: Final[int] = 20
"""How many of the newest orders and fills the page shows."""


def status_snapshot(
    store: Store,
    link: NodeLink,
    user_id: str,
    subject: str,
    operator: bool,
    now_ms: int,
) -> StatusResponse:
    """The caller's view of the node now."""
    rows = store.strategies(user_id)
    scope = None if operator else frozenset(r.node_strategy_id for r in rows if r.node_strategy_id)
    overview = _scoped(link.overview(scope, RECENT), scope)
    control = link.control_state()
    connected = link.connected()
    on_node = {s["node_strategy_id"]: s for s in overview.strategies}
    strategies: list[StrategyStatusView] = []
    for row in rows:
        node = on_node.pop(row.node_strategy_id, None) if row.node_strategy_id else None
        strategies.append(_strategy(row, subject, row.node_strategy_id, node))
    # operators only: other users' strategies (with their owner) and the node's own (none)
    others = {r.node_strategy_id: (r, owner) for r, owner in store.on_node(list(on_node))}
    for sid, node in on_node.items():
        other, owner = others.get(sid, (None, None))
        strategies.append(_strategy(other, owner, sid, node))
    return StatusResponse(
        at_ms=now_ms,
        subject=subject,
        operator=operator,
        node_connected=connected,
        trading=ControlResponse(
            mode=control.mode,  # type: ignore[arg-type]
            reason=control.reason,
            node_connected=connected,
        ),
        risk_engine=overview.risk_engine,
        instruments=[
            InstrumentView(
                instrument_id=i["instrument_id"],
                coin=i["coin"],
                regime=i["regime"],
                mid=i["mid"],
                feed_healthy=bool(i["feed"]) and all(f["status"] == "OK" for f in i["feed"]),
                feed=[FeedStreamView(**f) for f in i["feed"]],
            )
            for i in overview.instruments
        ],
        strategies=strategies,
        positions=[PositionView(**p) for p in overview.positions],
        orders=[OrderView(**o) for o in overview.orders],
        fills=[FillView(**f) for f in overview.fills],
    )


def _scoped(overview: NodeOverview, scope: frozenset[str] | None) -> NodeOverview:
    """Drop anything outside ``scope`` again: a link that ignored it must not leak another
    user's strategies, and never more than ``RECENT`` orders or fills."""
    if scope is None:
        return NodeOverview(
            overview.instruments,
            overview.strategies,
            overview.positions,
            overview.orders[:RECENT],
            overview.fills[:RECENT],
            overview.risk_engine,
        )

    def keep(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if i.get("node_strategy_id") in scope]

    return NodeOverview(
        overview.instruments,
        keep(overview.strategies),
        keep(overview.positions),
        keep(overview.orders)[:RECENT],
        keep(overview.fills)[:RECENT],
        overview.risk_engine,
    )


def _strategy(
    row: StrategyRow | None,
    owner: str | None,
    node_strategy_id: str | None,
    node: dict[str, object] | None,
) -> StrategyStatusView:
    def field(name: str) -> str | None:
        value = node.get(name) if node is not None else None
        return None if value is None else str(value)

    return StrategyStatusView(
        strategy_id=row.id if row is not None else None,
        owner=owner,
        node_strategy_id=node_strategy_id,
        coin=row.coin if row is not None else None,
        state=row.state if row is not None else None,
        component_state=field("component_state"),
        rulebook_state=field("state"),
        gate=field("gate"),
        realized_pnl_usd=field("realized_pnl_usd"),
        unrealized_pnl_usd=field("unrealized_pnl_usd"),
    )
