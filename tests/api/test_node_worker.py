"""The node side and the sidecar side of the Redis link, on the real Redis (127.0.0.1:6379),
with a recording stand-in for the in-process link (no TradingNode: what is tested here is the
stream protocol — re-delivery, deadlines, restore order, heartbeats and node-down reporting).
The whole chain with real nodes is tests/e2e/test_multinode.py.

Also here: a stop sent while its node is down is queued (not refused), runs once when the node is
back, or is refused past its age limit, the user told either way; a start is refused; and a
restarted sidecar relays what the nodes wrote while it was down."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
import redis
from cryptography.fernet import Fernet

from api.app import create_app
from api.events import EventHub
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.node_link import CommandQueued
from api.node_link import ControlState
from api.node_link import NodeOverview
from api.node_link import NodeUnavailable
from api.node_link import QueuedResult
from api.node_link import StrategyStatus
from api.node_link import TradingAccount
from api.node_worker import NodeWorker
from api.node_worker import RedisEventPublisher
from api.redis_link import RedisNodeLink
from api.secrets import FernetFileSecretStore
from api.streams import StreamNames
from api.streams import encode
from api.streams import node_for_user
from tests.api.conftest import make_settings
from tests.api.conftest import serve

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

    def start(
        self,
        config: dict[str, Any],
        owner: str,
        sid: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        if account is None:
            self.calls.append(("start", (config, owner, sid)))
        else:
            self.calls.append(("start", (config, owner, sid, account)))
        return sid or f"S-{config['tag']}"

    def restore_account(self, account: TradingAccount) -> None:
        self.calls.append(("restore_account", account))

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


def test_the_sidecar_routes_by_user_and_queues_a_stop_for_a_silent_node_until_it_is_back(
    client: redis.Redis, names: StreamNames
) -> None:
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 2, hub, names.namespace, timeout_secs=5, down_after_secs=1.5)
    results: list[QueuedResult] = []
    link.open(results.append)
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
        with pytest.raises(CommandQueued) as queued:
            link.stop(sids[0])
        with pytest.raises(NodeUnavailable, match="node 0 is not available"):
            link.start({"tag": "new"}, owner[0], None)  # no new risk on a node that is down
        link.stop(sids[1])  # the other node still takes commands
        survivor = link.interruption(sids[1])
        connected_while_down = link.connected()
        calls_while_down = list(links[0].calls)
        workers[0] = NodeWorker(client, names, 0, links[0])  # type: ignore[arg-type]
        workers[0].start()
        wait_until(lambda: link.interruption(sids[0]) is None, 10, "node 0 back")
        wait_until(lambda: results, 10, "the queued stop's outcome")
        time.sleep(1.0)  # a second run or a second outcome would show by now
    finally:
        for worker in workers:
            worker.stop()
        link.close()
    assert calls_while_down == [("start", ({"tag": "t0"}, owner[0], None))]
    # Back: restored first, then the queued stop, once.
    assert [c[0] for c in links[0].calls] == ["start", "start", "stop"]
    assert links[0].calls[2] == ("stop", sids[0])
    assert links[1].calls == [("start", ({"tag": "t1"}, owner[1], None)), ("stop", sids[1])]
    assert "node 0" in reason and "reconciled when the node returns" in reason
    assert str(queued.value).startswith("queued: node 0 down since ")
    assert "has NOT run yet" in str(queued.value)
    assert queued.value.node == 0
    assert queued.value.expires_at_ms > time.time() * 1000 + 500_000  # the 600 s default
    assert results == [QueuedResult(queued.value.command_id, owner[0], "stop", sids[0],
                                    False, True, None)]  # fmt: skip
    assert survivor is None
    assert connected_while_down is False
    events = hub.since(owner[0], 0)
    kinds = [e.type for e in events]
    # "resumed" is said only if the sidecar read the registry before the queued stop ran.
    assert kinds in (["strategy.interrupted", "strategy.resumed", "command.result"],
                     ["strategy.interrupted", "command.result"]), kinds  # fmt: skip
    assert events[-1].data == {"command_id": queued.value.command_id, "op": "stop", "node": 0,
                              "node_strategy_id": sids[0], "ok": True, "error": None}  # fmt: skip
    assert [e.type for e in hub.since(owner[1], 0)] == []


def test_a_queued_stop_older_than_its_limit_is_refused_when_the_node_returns(
    client: redis.Redis, names: StreamNames
) -> None:
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5,
                         down_after_secs=1.0, queue_ttl_secs=0.5)  # fmt: skip
    results: list[QueuedResult] = []
    link.open(results.append)
    recording = RecordingLink()
    worker = NodeWorker(client, names, 0, recording)  # type: ignore[arg-type]
    worker.start()
    try:
        wait_until(link.connected, 10, "the node up")
        sid = link.start({"tag": "a"}, "u1", None)
        worker.stop()
        wait_until(lambda: link.interruption(sid), 5, "the node reported down")
        with pytest.raises(CommandQueued):
            link.cancel(sid, True)
        time.sleep(1.0)  # past the 0.5 s limit before the node returns
        worker = NodeWorker(client, names, 0, recording)  # type: ignore[arg-type]
        worker.start()
        wait_until(lambda: results, 10, "the expired command's outcome")
    finally:
        worker.stop()
        link.close()
    assert [c[0] for c in recording.calls] == ["start", "start"]  # restored, never cancelled
    assert len(results) == 1 and results[0].ok is False and results[0].op == "cancel"
    assert results[0].error is not None
    assert "cancel queued while node 0 was down expired at" in results[0].error
    assert "it did not run" in results[0].error
    told = [e for e in hub.since("u1", 0) if e.type == "command.result"]
    assert [e.data["error"] for e in told] == [results[0].error]


def test_a_restarted_sidecar_relays_what_the_nodes_wrote_while_it_was_down(
    client: redis.Redis, names: StreamNames
) -> None:
    publisher = RedisEventPublisher(client, names, 0)
    first = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, first, names.namespace, timeout_secs=5)
    link.open(lambda r: None)
    try:
        publisher.publish("u1", "fill", {"n": 1})
        wait_until(lambda: first.since("u1", 0), 5, "the first fill relayed")
    finally:
        link.close()
    # The sidecar is down: the node goes on writing.
    publisher.publish("u1", "fill", {"n": 2})
    publisher.publish("u2", "order", {"n": 3})
    second = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, second, names.namespace, timeout_secs=5)
    link.open(lambda r: None)
    try:
        wait_until(lambda: second.since("u2", 0), 5, "the backlog relayed")
        publisher.publish("u1", "fill", {"n": 4})
        wait_until(lambda: len(second.since("u1", 0)) == 2, 5, "a new fill relayed")
    finally:
        link.close()
    assert [e.data for e in first.since("u1", 0)] == [{"n": 1}]
    # Once each: what came while it was down, then what came after; nothing before.
    assert [(e.type, e.data) for e in second.since("u1", 0)] == [("fill", {"n": 2}),
                                                                 ("fill", {"n": 4})]  # fmt: skip
    assert [e.data for e in second.since("u2", 0)] == [{"n": 3}]


def test_a_sidecar_started_for_the_first_time_does_not_replay_old_entries(
    client: redis.Redis, names: StreamNames
) -> None:
    publisher = RedisEventPublisher(client, names, 0)
    publisher.publish("u1", "fill", {"n": 0})  # before any sidecar ever ran
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5)
    link.open(lambda r: None)
    try:
        time.sleep(0.5)
        publisher.publish("u1", "fill", {"n": 1})
        wait_until(lambda: hub.since("u1", 0), 5, "the new fill relayed")
    finally:
        link.close()
    assert [e.data for e in hub.since("u1", 0)] == [{"n": 1}]


def test_a_node_restarted_between_two_heartbeats_is_reported_too(
    client: redis.Redis, names: StreamNames
) -> None:
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5, down_after_secs=30)
    link.open(lambda r: None)
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
    link.open(lambda r: None)
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
    assert (node.node.save_state, node.node.load_state) == (True, True)
    # Every node signs for the node's account with the same key: each in its own nonce lane.
    (entry,) = node.node.exec_clients.values()
    assert (entry.config["nonce_lanes"], entry.config["nonce_lane"]) == (16, 1)  # type: ignore[union-attr]
    # Told apart by its config class, not by a key the file may leave to its default.
    ((name, original),) = loaded.node.exec_clients.items()
    without_key = {k: v for k, v in original.config.items() if k != "private_key_env"}  # type: ignore[union-attr]
    bare = msgspec.structs.replace(
        loaded.node,
        exec_clients={name: msgspec.structs.replace(original, config=without_key)},  # type: ignore[type-var]
    )
    node = for_node(dataclasses.replace(loaded, node=bare), "redis://127.0.0.1:6379/0", 2)
    (entry,) = node.node.exec_clients.values()
    assert (entry.config["nonce_lanes"], entry.config["nonce_lane"]) == (16, 2)  # type: ignore[union-attr]


AGENT_KEY = "0x" + "d4" * 32


def test_an_account_start_carries_a_reference_and_the_node_reads_the_key_from_its_own_store(
    client: redis.Redis, names: StreamNames, tmp_path: Any
) -> None:
    store = FernetFileSecretStore(tmp_path / "secrets", Fernet.generate_key().decode())
    ref = store.put(AGENT_KEY)
    account = {"address": "0xabc", "secret_ref": ref}
    link = RecordingLink()
    worker = NodeWorker(client, names, 0, link, store)  # type: ignore[arg-type]
    worker.start()
    try:
        args = {"config": {"tag": "a"}, "owner": "u1", "node_strategy_id": None,
                "account": account}  # fmt: skip
        send(client, names, 0, {"id": "c-1", "op": "start", "args": args,
                                "expires_ms": int(time.time() * 1000) + 10_000})  # fmt: skip
        reply = answer(client, names, "c-1")
    finally:
        worker.stop()
    assert reply == {"ok": True, "result": "S-a"}
    assert link.calls[0] == ("start", ({"tag": "a"}, "u1", None,
                                       TradingAccount("0xabc", AGENT_KEY, ref)))  # fmt: skip
    kept = json.loads(client.hget(names.strategies(0), "S-a"))  # type: ignore[arg-type]
    assert kept == {"config": {"tag": "a"}, "owner": "u1", "running": True, "account": account}


def test_a_node_without_the_secret_store_refuses_an_account_start_as_a_conflict(
    client: redis.Redis, names: StreamNames
) -> None:
    link = RecordingLink()
    worker = NodeWorker(client, names, 0, link)  # type: ignore[arg-type]
    worker.start()
    try:
        args = {"config": {"tag": "a"}, "owner": "u1", "node_strategy_id": None,
                "account": {"address": "0xabc", "secret_ref": "r1"}}  # fmt: skip
        send(client, names, 0, {"id": "c-1", "op": "start", "args": args,
                                "expires_ms": int(time.time() * 1000) + 10_000})  # fmt: skip
        reply = answer(client, names, "c-1")
    finally:
        worker.stop()
    assert reply["ok"] is False and reply["refused"] is True
    assert "no secret store" in reply["error"] and "JARVIS_SECRETS_KEY" in reply["error"]
    assert [c for c in link.calls if c[0] == "start"] == []


def test_a_restarted_node_registers_its_live_accounts_before_it_runs_then_restores_on_them(
    client: redis.Redis, names: StreamNames, tmp_path: Any
) -> None:
    store = FernetFileSecretStore(tmp_path / "secrets", Fernet.generate_key().decode())
    ref = store.put(AGENT_KEY)
    account = {"address": "0xabc", "secret_ref": ref}
    for tag, running in (("a", True), ("b", True), ("c", False)):
        entry = {"config": {"tag": tag}, "owner": "u1", "running": running, "account": account}
        client.hset(names.strategies(0), f"S-{tag}", json.dumps(entry))
    client.hset(names.strategies(0), "S-gone", json.dumps(
        {"config": {"tag": "gone"}, "owner": "u2", "running": True,
         "account": {"address": "0xdef", "secret_ref": "missing"}}))  # fmt: skip
    link = RecordingLink()
    worker = NodeWorker(client, names, 0, link, store)  # type: ignore[arg-type]
    failed = worker.prepare_accounts()
    registered = list(link.calls)
    worker.start()
    try:
        wait_until(worker.ready.is_set, 10, "the node ready")
    finally:
        worker.stop()
    expected = TradingAccount("0xabc", AGENT_KEY, ref)
    # Once per live account, before any strategy; the unreadable one is named.
    assert registered == [("restore_account", expected)]
    assert failed == ["0xdef"]
    starts = sorted((c for c in link.calls if c[0] == "start"), key=lambda c: str(c[1][0]))
    assert starts == [("start", ({"tag": "a"}, "u1", None, expected)),
                      ("start", ({"tag": "b"}, "u1", None, expected))]  # fmt: skip


class PlanLink(RecordingLink):
    """A recording node that starts the sidecar's compiled plans (numbered ids)."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    def start(
        self,
        config: dict[str, Any],
        owner: str,
        sid: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        self.calls.append(("start", (config, owner, sid)))
        return sid or f"P-{next(self._ids)}"


def _frames(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_over_http_a_stop_for_a_down_node_is_202_queued_then_runs_once_when_it_is_back(
    client: redis.Redis, names: StreamNames, db_url: str, tmp_path: Any
) -> None:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    hub = EventHub()
    link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5, down_after_secs=1.0)
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    app = create_app(make_settings(db_url), link=link, hub=hub, verifier=verifier)
    node = PlanLink()
    worker = NodeWorker(client, names, 0, node)  # type: ignore[arg-type]
    worker.start()
    headers = {"Authorization": f"Bearer {keys.mint('alice', ('trader',))}"}
    with contextlib.contextmanager(serve)(app) as url, httpx.Client(
        base_url=url, headers=headers, timeout=30
    ) as alice:  # fmt: skip
        try:
            wait_until(link.connected, 10, "the node up")

            def strategy(text: str) -> str:
                plan = alice.post("/intents", json={"text": text}).json()["plan_id"]
                return str(alice.post("/strategies", json={"plan_id": plan}).json()["strategy_id"])

            sid, other = strategy("buy 0.01 BTC at 60000"), strategy("buy 0.1 ETH at 2000")
            started = alice.post(f"/strategies/{sid}/start")
            worker.stop()
            wait_until(lambda: alice.get(f"/strategies/{sid}").json()["interrupted"], 5, "down")
            refused = alice.post(f"/strategies/{other}/start")
            queued = alice.post(f"/strategies/{sid}/stop")
            during = alice.get(f"/strategies/{sid}").json()
            worker = NodeWorker(client, names, 0, node)  # type: ignore[arg-type]
            worker.start()
            after = wait_until(
                lambda: (d := alice.get(f"/strategies/{sid}").json())["state"] == "stopped" and d,
                10,
                "the queued stop recorded",
            )
            time.sleep(1.0)  # a second run would show by now
            user = app.state.jarvis.store.user_for_subject("alice", ("trader",), 0)
            kept = len(hub.since(user.id, 0))  # the stream ends after this many
            with alice.stream("GET", "/events/stream", params={"limit": kept}) as stream:
                frames = _frames("".join(stream.iter_text()))
        finally:
            worker.stop()
    assert started.status_code == 200, started.text
    assert refused.status_code == 503, refused.text
    assert "node 0" in refused.json()["detail"]
    assert queued.status_code == 202, queued.text
    body = queued.json()
    assert body["detail"].startswith("queued: node 0 down since ")
    assert body["node"] == 0 and body["strategy"]["state"] == "running"
    assert during["state"] == "running"  # not run yet, and the API does not pretend it has
    assert after["state"] == "stopped"
    node_sid = after["node_strategy_id"]
    assert [c for c in node.calls if c[0] == "stop"] == [("stop", node_sid)]
    kinds = [k for k, _ in frames]
    assert "command.queued" in kinds and kinds.index("command.queued") < kinds.index(
        "command.result"
    )
    result = next(d for k, d in frames if k == "command.result")
    assert result == {"command_id": body["command_id"], "op": "stop", "node": 0,
                      "node_strategy_id": node_sid, "ok": True, "error": None}  # fmt: skip
    stopped = ("strategy.state", {"strategy_id": sid, "state": "stopped",
                                  "node_strategy_id": node_sid})  # fmt: skip
    assert stopped in frames and frames.index(stopped) > kinds.index("command.queued")


def test_over_http_a_restarted_sidecar_serves_the_fills_written_while_it_was_down(
    client: redis.Redis, names: StreamNames, db_url: str, tmp_path: Any
) -> None:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    headers = {"Authorization": f"Bearer {keys.mint('alice', ('trader',))}"}
    publisher = RedisEventPublisher(client, names, 0)

    def sidecar() -> Any:
        hub = EventHub()
        link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=5)
        verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
        app = create_app(make_settings(db_url), link=link, hub=hub, verifier=verifier)
        return app, contextlib.contextmanager(serve)(app)

    def read(url: str, limit: int, last_id: str | None) -> list[tuple[str, str, str]]:
        extra = {"Last-Event-ID": last_id} if last_id else {}
        with (
            httpx.Client(base_url=url, headers=headers | extra, timeout=30) as alice,
            alice.stream("GET", "/events/stream", params={"limit": limit}) as stream,
        ):
            text = "".join(stream.iter_text())
        frames = [dict(line.split(": ", 1) for line in b.splitlines() if ": " in line)
                  for b in text.strip().split("\n\n")]  # fmt: skip
        return [(f["id"], f["event"], f["data"]) for f in frames if "event" in f]

    app, served = sidecar()
    with served as url:
        user = app.state.jarvis.store.user_for_subject("alice", ("trader",), 0)
        time.sleep(0.5)  # the listener has taken its position
        publisher.publish(user.id, "fill", {"n": 1})
        first = read(url, 1, None)
    # The sidecar is down; the node goes on.
    publisher.publish(user.id, "fill", {"n": 2})
    publisher.publish(user.id, "position", {"n": 3})
    app, served = sidecar()
    with served as url:
        missed = read(url, 2, first[0][0])
    assert [(e, d) for _, e, d in first] == [("fill", '{"n":1}')]
    assert [(e, d) for _, e, d in missed] == [("fill", '{"n":2}'), ("position", '{"n":3}')]
    assert int(missed[0][0]) > int(first[0][0])
