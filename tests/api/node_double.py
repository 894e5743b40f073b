"""A stand-in node for sidecar tests that need a node to agree (control, starting strategies,
an overview with other users' strategies) without a TradingNode: it records what the sidecar
asked and answers with fixed data. The tests run it in both link modes (``node_sidecar`` in
tests/api/conftest.py): as the sidecar's link itself, and behind a ``NodeWorker`` over Redis.
The real in-process link is exercised end to end in tests/e2e (test_sidecar_serve.py,
test_status_page.py)."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from typing import Any

from api.node_link import ControlState
from api.node_link import NodeOverview
from api.node_link import StrategyStatus
from api.node_link import TradingAccount

_MODES = {"HALT": "HALTED", "REDUCE_ONLY": "REDUCE_ONLY", "RESUME": "ACTIVE"}


class NodeDouble:
    """Implements ``NodeLink``; ``overview`` returns everything whatever the scope (so the
    sidecar's own scoping is what a test sees) and records the scopes asked for."""

    def __init__(self) -> None:
        self.mode = "ACTIVE"
        self.reason: str | None = None
        self.commands: list[tuple[str, str]] = []  # controls: (mode, reason)
        self.calls: list[tuple[Any, ...]] = []  # start, stop, cancel as the node got them
        self.scopes: list[frozenset[str] | None] = []
        self.extra_strategies: list[str] = []  # node strategies nobody in the store owns
        self._ids = itertools.count(1)
        self._started: list[str] = []
        # Where its events go: the sidecar's hub in-process, the events stream over Redis (set
        # by the fixture; ``_hub`` as on ``InProcessNodeLink``, which ``NodeWorker`` reads too).
        self._hub: Any = None

    def publish(self, user_id: str, kind: str, data: dict[str, Any]) -> None:
        """An event of the node's for one user (as a fill or an order event is)."""
        self._hub.publish(user_id, kind, data)

    def connected(self) -> bool:
        return True

    def feed_healthy(self) -> bool:
        return True

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        sid = node_strategy_id or f"DirectBuy-{next(self._ids):03d}"
        self.calls.append(("start", owner_user_id, sid))
        if sid not in self._started:
            self._started.append(sid)
        return sid

    def stop(self, node_strategy_id: str) -> None:
        self.calls.append(("stop", node_strategy_id))
        if node_strategy_id in self._started:
            self._started.remove(node_strategy_id)

    def cancel(self, node_strategy_id: str, close: bool) -> None:
        self.calls.append(("cancel", node_strategy_id, close))
        if node_strategy_id in self._started:
            self._started.remove(node_strategy_id)

    def status(self, node_strategy_id: str) -> StrategyStatus | None:
        # A strategy it ever started, stopped or not, is known (as on a real node, whose trader
        # keeps a stopped strategy): a restart over Redis then keeps its id, as in-process.
        if not any(c[0] == "start" and c[2] == node_strategy_id for c in self.calls):
            return None
        return StrategyStatus(None, [], [], None, None, None, None, None)

    def interruption(self, node_strategy_id: str) -> str | None:
        return None

    def lost(self, node_strategy_ids: Collection[str]) -> dict[str, str]:
        return {}

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        self.scopes.append(strategy_ids)
        every = [*self._started, *self.extra_strategies]
        return NodeOverview(
            instruments=[
                {
                    "instrument_id": "ETH-USD-PERP.HYPERLIQUID",
                    "coin": "ETH",
                    "regime": "SIDEWAYS",
                    "mid": "2000.5",
                    "feed": [
                        {"stream": "l2Book:ETH", "status": "OK", "reason": ""},
                        {"stream": "trades:ETH", "status": "STALE", "reason": "no frame 12 s"},
                    ],
                }
            ],
            strategies=[
                {
                    "node_strategy_id": sid,
                    "component_state": "RUNNING",
                    "state": None,
                    "gate": None,
                    "realized_pnl_usd": "0",
                    "unrealized_pnl_usd": "1.5",
                }
                for sid in every
            ],
            positions=[
                {
                    "node_strategy_id": sid,
                    "instrument_id": "ETH-USD-PERP.HYPERLIQUID",
                    "side": "LONG",
                    "quantity": "0.01",
                    "avg_px_open": "2000",
                    "unrealized_pnl_usd": "0.005",
                }
                for sid in every
            ],
            orders=[
                {
                    "node_strategy_id": sid,
                    "client_order_id": f"O-{sid}",
                    "instrument_id": "ETH-USD-PERP.HYPERLIQUID",
                    "side": "BUY",
                    "type": "LIMIT",
                    "status": "FILLED",
                    "quantity": "0.01",
                    "filled_qty": "0.01",
                    "ts_last": 1,
                }
                for sid in every
            ],
            fills=[
                {
                    "node_strategy_id": sid,
                    "client_order_id": f"O-{sid}",
                    "instrument_id": "ETH-USD-PERP.HYPERLIQUID",
                    "side": "BUY",
                    "px": "2000",
                    "qty": "0.01",
                    "commission": "0.009 USDC",
                    "ts_event": 1,
                }
                for sid in every
            ],
            risk_engine="REDUCING",
        )

    def control(self, mode: str, reason: str) -> ControlState:
        self.commands.append((mode, reason))
        self.mode = _MODES[mode]
        self.reason = reason
        return ControlState(self.mode, reason)

    def control_state(self) -> ControlState:
        return ControlState(self.mode, self.reason)

    def open(self, on_result: Any) -> None:
        return None

    def close(self) -> None:
        return None
