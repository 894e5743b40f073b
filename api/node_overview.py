"""The status page's one read of a running node (``NodeOverview``): instruments with regime,
mid and feed health, strategies with state and PnL, open positions, the newest orders and fills,
and the RiskEngine's trading state. Runs on the node's loop thread (the in-process link calls it
there): NautilusTrader's cache, trader and clients are not thread-safe.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.events import OrderFilled

from adapters.hyperliquid.data import HyperliquidDataClient
from api.node_link import NodeOverview
from controllers.classification import coin_of

__all__ = ["read_overview"]


def read_overview(
    node: TradingNode,
    gates: dict[str, str],
    states: dict[str, str],
    strategy_ids: frozenset[str] | None,
    recent: int,
) -> NodeOverview:
    """Build the ``NodeOverview`` from the cache, the controller and the data clients (on the
    node's loop thread)."""
    cache = node.kernel.cache
    mid = PriceType.MID

    def mine(strategy_id: Any) -> bool:
        return strategy_ids is None or str(strategy_id) in strategy_ids

    health: list[Any] = []
    for client in node.kernel.data_engine._clients.values():  # type: ignore[attr-defined]
        if isinstance(client, HyperliquidDataClient):
            health.extend(client.stream_health().values())
    controller = node.kernel._controller  # type: ignore[attr-defined]
    regime_of = getattr(controller, "regime", None)
    instruments = []
    for instrument in sorted(cache.instruments(), key=lambda i: str(i.id)):
        coin = coin_of(instrument.id)
        feed = [
            {"stream": h.stream, "status": h.status, "reason": h.reason}
            for h in sorted(health, key=lambda h: h.stream)
            if h.stream.partition(":")[2].split(":")[0] == coin
        ]
        price = cache.price(instrument.id, mid)
        if not feed and price is None:
            continue  # loaded from the venue's list but not traded or watched by this node
        instruments.append(
            {
                "instrument_id": str(instrument.id),
                "coin": coin,
                "regime": str(regime_of(instrument.id).value) if regime_of else None,
                "mid": str(price) if price is not None else None,
                "feed": feed,
            }
        )
    strategies = []
    for strategy in node.trader.strategies():
        sid = strategy.id.value
        if not mine(sid):
            continue
        realized = Decimal(0)
        unrealized = Decimal(0)
        for p in cache.positions(strategy_id=strategy.id):
            if p.realized_pnl is not None:
                realized += p.realized_pnl.as_decimal()
            price = cache.price(p.instrument_id, mid) if p.is_open else None
            if price is not None:
                unrealized += p.unrealized_pnl(price).as_decimal()
        strategies.append(
            {
                "node_strategy_id": sid,
                "component_state": strategy.state.name,
                "state": states.get(sid),
                "gate": gates.get(sid),
                "realized_pnl_usd": str(realized),
                "unrealized_pnl_usd": str(unrealized),
            }
        )
    positions = []
    for p in cache.positions_open():
        if not mine(p.strategy_id):
            continue
        price = cache.price(p.instrument_id, mid)
        positions.append(
            {
                "node_strategy_id": str(p.strategy_id),
                "instrument_id": str(p.instrument_id),
                "side": p.side.name,
                "quantity": str(p.quantity),
                "avg_px_open": str(p.avg_px_open),
                "unrealized_pnl_usd": (
                    str(p.unrealized_pnl(price).as_decimal()) if price is not None else None
                ),
            }
        )
    orders = sorted(
        (o for o in cache.orders() if mine(o.strategy_id)), key=lambda o: o.ts_last, reverse=True
    )
    fills = sorted(
        (e for o in orders for e in o.events if isinstance(e, OrderFilled)),
        key=lambda f: f.ts_event,
        reverse=True,
    )
    return NodeOverview(
        instruments=instruments,
        strategies=strategies,
        positions=positions,
        orders=[
            {
                "node_strategy_id": str(o.strategy_id),
                "client_order_id": str(o.client_order_id),
                "instrument_id": str(o.instrument_id),
                "side": o.side.name,
                "type": o.order_type.name,
                "status": o.status.name,
                "quantity": str(o.quantity),
                "filled_qty": str(o.filled_qty),
                "ts_last": o.ts_last,
            }
            for o in orders[:recent]
        ],
        fills=[
            {
                "node_strategy_id": str(f.strategy_id),
                "client_order_id": str(f.client_order_id),
                "instrument_id": str(f.instrument_id),
                "side": f.order_side.name,
                "px": str(f.last_px),
                "qty": str(f.last_qty),
                "commission": str(f.commission),
                "ts_event": f.ts_event,
            }
            for f in fills[:recent]
        ],
        risk_engine=node.kernel.risk_engine.trading_state.name,
    )
