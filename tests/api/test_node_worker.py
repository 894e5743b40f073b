"""The node side and the sidecar side of the Redis link, on the real Redis (127.0.0.1:6379),
with a recording stand-in for the in-process link (no TradingNode: what is tested here is the
stream protocol — re-delivery, deadlines, restore order, heartbeats and node-down reporting).
The whole chain with real nodes is tests/e2e/test_multinode.py."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from api.events import EventHub
from api.node_link import ControlState
from api.node_link import NodeOverview
from api.node_link import NodeUnavailable
from api.node_link import StrategyStatus
from api.node_worker import NodeWorker
from api.redis_link import RedisNodeLink
from api.streams import StreamNames
from api.streams import encode
from api.streams import node_for_user

REDIS_URL = "redis://127.0.0.1:6379/0"


class RecordingLink:
    """Stands in for ``InProcessNodeLink``: records calls, answers like a running node."""

    def __init__(self, connects_after_secs: float = 0.0) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.mode = "ACTIVE"
        self._hub = EventHub()
        self._connects_at = time.monotonic() + connects_after_secs
        self.picture = NodeOverview([], [], [], [], [])

    def connected(self) -> bool:
        return time.monotonic() >= self._connects_at

    def feed_healthy(self) -> bool:
        return True

    def start(self, config: dict[str, Any], owner: str, sid: str | None) -> str:
        self.calls.append(("start", (config, owner, sid)))
        return sid or f"S-{config['tag']}"

    def stop(self, sid: str) -> None:
        self.calls.append(("stop", sid))

    def cancel(self, sid: str, close: bool) -> None:
        self.calls.append(("cancel", (sid, close)))

    def status(self, sid: str) -> StrategyStatus | None:
        return None

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        self.calls.append(("overview", (strategy_ids, recent)))
        return self.picture

    def control(self, mode: str, reason: str) -> ControlState:
        self.calls.append(("control", (mode, reason)))
        self.mode = {"HALT": "HALTED", "RESUME": "ACTIVE"}.get(mode, mode)
        return ControlState(self.mode, reason)

    def control_state(self) -> ControlState:
        return ControlState(self.mode, None)


@pytest.fixture
def names() -> Iterator[StreamNames]:
    names = StreamNames(f"jt-nw-{uuid.uuid4().hex[:8]}")
    yield names
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{names.namespace}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def answer(client: redis.Redis, names: StreamNames, command_id: str) -> dict[str, Any]:
    got = client.blpop([names.reply(command_id)], timeout=5)
    assert got is not None, f"no answer to {command_id}"
    return json.loads(got[1])  # type: ignore[index]


def send(client: redis.Redis, names: StreamNames, node: int, message: dict[str, Any]) -> None:
    client.xadd(names.commands(node), encode(message))  # type: ignore[arg-type]


def test_a_command_delivered_twice_runs_once_and_is_answered_twice(
    client: redis.Redis, names: StreamNames
) -> None:
    link = RecordingLink()
    worker = NodeWorker(client, names, 0, link)  # type: ignore[arg-type]
    worker.start()
    try:
        args = {"config": {"tag": "a"}, "owner": "u1", "node_strategy_id": None}
        expires_ms = int(time.time() * 1000) + 10_000
        command = {"id": "c-1", "op": "start", "expires_ms": expires_ms, "args": args}
        send(client, names, 0, command)
        first = answer(client, names, "c-1")
        send(client, names, 0, command)
        second = answer(client, names, "c-1")
    finally:
        worker.stop()
    assert first == second == {"ok": True, "result": "S-a"}
    assert [c for c in link.calls if c[0] == "start"] == [("start", ({"tag": "a"}, "u1", None))]
    registry = json.loads(client.hget(names.strategies(0), "S-a"))  # type: ignore[arg-type]
    assert registry == {"config": {"tag": "a"}, "owner": "u1", "running": True}


def test_a_command_past_its_deadline_is_refused_not_run(
    client: redis.Redis, names: StreamNames
) -> None:
    link = RecordingLink()
    worker = NodeWorker(client, names, 0, link)  # type: ignore[arg-type]
    worker.start()
    try:
        send(client, names, 0, {"id": "old", "op": "stop", "expires_ms": 1,
                                "args": {"node_strategy_id": "S-a"}})  # fmt: skip
        reply = answer(client, names, "old")
    finally:
        worker.stop()
    assert reply == {"ok": False, "error": "the command expired before the node took it"}
    assert link.calls == []


def test_a_restarted_node_restores_its_strategies_and_control_before_taking_commands(
    client: redis.Redis, names: StreamNames
) -> None:
    client.hset(names.strategies(1), "S-a", json.dumps({"config": {"tag": "a"}, "owner": "u1",
                                                        "running": True}))  # fmt: skip
    client.hset(names.strategies(1), "S-b", json.dumps({"config": {"tag": "b"}, "owner": "u2",
                                                        "running": False}))  # fmt: skip
    client.set(names.control, json.dumps({"mode": "HALT", "reason": "incident"}))
    # A command queued while the node was down, still within its deadline.
    send(client, names, 1, {"id": "q", "op": "stop", "expires_ms": int(time.time() * 1000) + 10_000,
                            "args": {"node_strategy_id": "S-a"}})  # fmt: skip
    link = RecordingLink()
    worker = NodeWorker(client, names, 1, link)  # type: ignore[arg-type]
    worker.start()
    try:
        reply = answer(client, names, "q")
    finally:
        worker.stop()
    assert reply == {"ok": True, "result": None}
    assert link.calls == [
        ("start", ({"tag": "a"}, "u1", None)),
        ("control", ("HALT", "incident")),
        ("stop", "S-a"),
    ]


def test_the_sidecar_routes_by_user_and_reports_a_silent_node_until_it_is_back(
    client: redis.Redis, names: StreamNames
) -> None:
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 2, hub, names.namespace, timeout_secs=5, down_after_secs=1.5)
    links = [RecordingLink(), RecordingLink()]
    workers = [NodeWorker(client, names, i, links[i]) for i in range(2)]  # type: ignore[arg-type]
    for worker in workers:
        worker.start()
    users = [f"u{i}" for i in range(10)]
    owner = {node_for_user(u, 2): u for u in users}
    try:
        wait_until(link.connected, 10, "both nodes up")
        sids = [link.start({"tag": f"t{n}"}, owner[n], None) for n in range(2)]
        workers[0].stop()  # node 0 goes silent
        reason = wait_until(lambda: link.interruption(sids[0]), 5, "node 0 reported down")
        with pytest.raises(NodeUnavailable, match="node 0 is not available"):
            link.stop(sids[0])
        link.stop(sids[1])  # the other node still takes commands
        survivor = link.interruption(sids[1])
        connected_while_down = link.connected()
        workers[0] = NodeWorker(client, names, 0, links[0])  # type: ignore[arg-type]
        workers[0].start()
        wait_until(lambda: link.interruption(sids[0]) is None, 10, "node 0 back")
    finally:
        for worker in workers:
            worker.stop()
        link.close()
    assert [c[0] for c in links[0].calls] == ["start", "start"]  # restored on its return
    assert links[1].calls == [("start", ({"tag": "t1"}, owner[1], None)), ("stop", sids[1])]
    assert "node 0" in reason and "reconciled when the node returns" in reason
    assert survivor is None
    assert connected_while_down is False
    kinds = [e.type for e in hub.since(owner[0], 0)]
    assert kinds == ["strategy.interrupted", "strategy.resumed"]
    assert [e.type for e in hub.since(owner[1], 0)] == []


def test_a_node_restarted_between_two_heartbeats_is_reported_too(
    client: redis.Redis, names: StreamNames
) -> None:
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5, down_after_secs=30)
    worker = NodeWorker(client, names, 0, RecordingLink())  # type: ignore[arg-type]
    worker.start()
    try:
        wait_until(link.connected, 10, "the node up")
        sid = link.start({"tag": "a"}, "u1", None)
        worker.stop()
        # Back at once (well within the silence limit), but not ready for 1.5 s.
        worker = NodeWorker(client, names, 0, RecordingLink(1.5))  # type: ignore[arg-type]
        worker.start()
        reason = wait_until(lambda: link.interruption(sid), 5, "the restart reported")
        wait_until(lambda: link.interruption(sid) is None, 10, "the node ready again")
    finally:
        worker.stop()
        link.close()
    assert "node 0 restarted" in reason
    assert [e.type for e in hub.since("u1", 0)] == ["strategy.interrupted", "strategy.resumed"]


def test_the_overview_merges_every_node(client: redis.Redis, names: StreamNames) -> None:
    def order(sid: str, ts: int) -> dict[str, Any]:
        return {"node_strategy_id": sid, "client_order_id": f"O-{sid}-{ts}", "ts_last": ts}

    eth: dict[str, Any] = {"instrument_id": "ETH-USD-PERP.HYPERLIQUID", "coin": "ETH"}
    eth |= {"regime": None, "mid": "1", "feed": []}
    links = [RecordingLink(), RecordingLink()]
    links[0].picture = NodeOverview([eth], [{"node_strategy_id": "A"}], [],
                                    [order("A", 1), order("A", 4)], [], "ACTIVE")  # fmt: skip
    links[1].picture = NodeOverview([eth], [{"node_strategy_id": "B"}], [],
                                    [order("B", 3), order("B", 2)], [], "HALTED")  # fmt: skip
    link = RedisNodeLink(REDIS_URL, 2, EventHub(), names.namespace, timeout_secs=5)
    workers = [NodeWorker(client, names, i, links[i]) for i in range(2)]  # type: ignore[arg-type]
    for worker in workers:
        worker.start()
    try:
        wait_until(link.connected, 10, "both nodes up")
        merged = link.overview(frozenset({"A", "B"}), 3)
    finally:
        for worker in workers:
            worker.stop()
        link.close()
    assert merged.instruments == [eth]
    assert [s["node_strategy_id"] for s in merged.strategies] == ["A", "B"]
    assert [o["ts_last"] for o in merged.orders] == [4, 3, 2]
    assert merged.risk_engine == "HALTED"
    assert links[0].calls == [("overview", (frozenset({"A", "B"}), 3))]


def test_each_node_gets_its_own_trader_id_and_a_redis_cache_kept_across_restarts() -> None:
    from api.node_worker import for_node
    from config.loading import CONFIG_DIR
    from jarvis.node import load_for_run

    loaded = load_for_run(CONFIG_DIR / "sim_trading.toml")
    node = for_node(loaded, "rediss://jarvis:pw@broker.internal:6380/0", 1)
    assert str(node.node.trader_id) == "JARVIS-N1"
    assert node.node.cache is not None and node.node.cache.database is not None
    database = node.node.cache.database
    assert (database.type, database.host, database.port) == ("redis", "broker.internal", 6380)
    assert (database.username, database.password, database.ssl) == ("jarvis", "pw", True)
    assert node.node.cache.flush_on_start is False
    assert node.node.cache.tick_capacity == loaded.node.cache.tick_capacity  # type: ignore[union-attr]
