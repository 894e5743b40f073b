"""End to end: two node processes (``jarvis serve-node``) behind one sidecar, joined through the
real Redis on 127.0.0.1:6379, trading one simulator account.

Two users land on different nodes (the stable hash of their ids); each starts a resting
price-limit buy. The first user's node is killed with SIGKILL while its order rests: within
seconds the sidecar reports that strategy interrupted (SSE event and ``interrupted`` in its
detail) and refuses commands for it, while the other user's node goes on answering with its order
untouched. The killed node is started again: it reconciles with the venue, restores its strategy,
which adopts its own resting order (same venue oid, no second order), and only then takes
commands (a stop cancels that order). Every venue order is known by client order id (none is
EXTERNAL or in an unknown state). HALT and RESUME reach both nodes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import uvicorn

from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.signing import address_from_private_key
from api.app import create_app
from api.events import EventHub
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.redis_link import RedisNodeLink
from api.settings import ApiSettings
from api.streams import node_for_user
from config.loading import CONFIG_DIR
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.testkit import fund_test_account
from jarvis.testkit import sim_admin
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "6e" * 32
ADDRESS = address_from_private_key(KEY).lower()
REDIS_URL = "redis://127.0.0.1:6379/0"
REGIME_CONTROLLER = """
[node.controller]
controller_path = "controllers.regime:RegimeController"
config_path = "controllers.regime:RegimeControllerConfig"
[node.controller.config]
"""
KNOWN_STATUSES = {"ACCEPTED", "CANCELED", "FILLED", "PARTIALLY_FILLED", "REJECTED", "EXPIRED"}


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A unique (namespace, trader name); only their Redis keys are deleted afterwards."""
    tag = uuid.uuid4().hex[:6].upper()
    namespace, trader = f"jt-mn-{tag}", f"MN{tag}"
    yield namespace, trader
    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{namespace}:*", f"trader-{trader}-N*"):
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)


def node_file(tmp_path: Path, base_url: str, trader: str) -> Path:
    text = (CONFIG_DIR / "sim_trading.toml").read_text().replace("http://127.0.0.1:3001", base_url)
    text = text.replace('trader_id = "JARVIS-SIM"', f'trader_id = "{trader}-SIM"')
    text = text.replace('coins = ["BTC", "ETH", "SOL"]', 'coins = ["BTC", "ETH"]')
    text = text.replace(
        "leverage = { BTC = 10, ETH = 5, SOL = 3 }", "leverage = { BTC = 5, ETH = 5 }"
    )
    text = text.replace('isolated_coins = ["SOL"]', "isolated_coins = []")
    text = text.replace('log_level = "INFO"', 'log_level = "ERROR"')
    # The venue's dead-man switch is tested elsewhere; on a loaded machine its first arming can
    # lag the start, and "no new risk until armed" would make this test about it.
    text = text.replace(
        "dead_man_switch_secs = 30.0",
        "dead_man_switch_secs = 0.0\ndead_man_switch_required = false",
    )
    text += REGIME_CONTROLLER
    tomllib.loads(text)
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


class NodeProcess:
    """One ``jarvis serve-node`` child, its output in a file."""

    def __init__(self, config: Path, node: int, namespace: str, log_dir: Path) -> None:
        self.args = [
            sys.executable, "-c", "import sys; from jarvis.cli import main; sys.exit(main())",
            "serve-node", "--config", str(config), "--node", str(node), "--redis", REDIS_URL,
            "--namespace", namespace,
        ]  # fmt: skip
        self.log_dir = log_dir
        self.node = node
        self.runs = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.runs += 1
        out = (self.log_dir / f"node{self.node}-run{self.runs}.log").open("wb")
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve(app: Any) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the sidecar did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def sse_types(client: httpx.Client, wanted: str, timeout: float = 10.0) -> list[str]:
    """The user's event types from the start of their history up to ``wanted``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    with client.stream("GET", "/events/stream", headers={"Last-Event-ID": "0"}) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                seen.append(line.removeprefix("event: "))
                if seen[-1] == wanted:
                    break
            if time.monotonic() > deadline:
                break
    return seen


def subjects_on_each_node(url: str, keys: LocalSigningKey, app: Any) -> tuple[str, str]:
    """A token subject whose user lands on node 0 and one on node 1 (users are made on their
    first request; their ids are the sidecar's own)."""
    found: dict[int, str] = {}
    for i in range(40):
        subject = f"trader-{i}"
        token = keys.mint(subject, ("trader",))
        httpx.get(f"{url}/strategies", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        user_id = app.state.jarvis.known_users[(subject, ("trader",))]
        found.setdefault(node_for_user(user_id, 2), subject)
        if len(found) == 2:
            return found[0], found[1]
    raise AssertionError("40 users all hashed to one node")


def test_two_nodes_one_killed_while_resting_is_interrupted_then_reconciled(
    tmp_path: Path, names: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace, trader = names
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", KEY)
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())

    with SimThread(SimConfig(coins=("BTC", "ETH"), seed=44)) as sim:
        fund_test_account(sim, ADDRESS, 100_000)
        payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
        snapshot = snapshot_from_meta_and_ctxs(payload, source="sim", taken_at_ms=0)
        marks = {
            asset["name"]: Decimal(ctx["markPx"])
            for asset, ctx in zip(payload[0]["universe"], payload[1], strict=True)
        }
        config = node_file(tmp_path, sim.base_url, trader)
        nodes = [NodeProcess(config, i, namespace, tmp_path) for i in range(2)]
        for node in nodes:
            node.start()
        hub = EventHub()
        link = RedisNodeLink(REDIS_URL, 2, hub, namespace)
        app = create_app(
            ApiSettings(database_url=f"sqlite:///{tmp_path}/sidecar.db"),
            link=link,
            hub=hub,
            verifier=verifier,
            snapshot=lambda: snapshot,
        )
        served = serve(app)
        url = next(served)
        alice_id, bob_id = subjects_on_each_node(url, keys, app)

        def client(subject: str, roles: tuple[str, ...] = ("trader",)) -> httpx.Client:
            token = keys.mint(subject, roles)
            headers = {"Authorization": f"Bearer {token}"}
            return httpx.Client(base_url=url, headers=headers, timeout=30)

        try:
            with (
                client(alice_id) as alice,
                client(bob_id) as bob,
                client("op", ("operator",)) as op,
            ):
                wait_until(link.connected, 60, "both nodes ready")

                def start(user: httpx.Client, coin: str, size: str) -> str:
                    price = (marks[coin] * Decimal("0.9")).quantize(Decimal(1))
                    text = f"buy {size} {coin} if it drops to {price}"
                    plan = user.post("/intents", json={"text": text})
                    assert plan.status_code == 201, plan.text
                    assert plan.json()["template"] == "PriceLimit", plan.json()
                    created = user.post("/strategies", json={"plan_id": plan.json()["plan_id"]})
                    sid = str(created.json()["strategy_id"])
                    started = user.post(f"/strategies/{sid}/start")
                    assert started.status_code == 200, started.text
                    assert started.json()["state"] == "running"
                    return sid

                alice_sid = start(alice, "ETH", "0.01")
                bob_sid = start(bob, "BTC", "0.001")
                resting = wait_until(
                    lambda: (o := venue_open_orders(sim, ADDRESS)) and len(o) == 2 and o,
                    30,
                    "both legs resting at the venue",
                )
                oid_of = {o["coin"]: o["oid"] for o in resting}
                # Let the node's Redis-backed cache write the accepted order down.
                wait_until(
                    lambda: [o["status"] for o in alice.get(f"/strategies/{alice_sid}").json()[
                        "orders"]] == ["ACCEPTED"],
                    10,
                    "alice's order accepted on her node",
                )  # fmt: skip
                time.sleep(1.0)
                registry = redis.Redis.from_url(REDIS_URL, decode_responses=True)
                on_node = [
                    {str(k) for k in registry.hkeys(f"{namespace}:node:{i}:strategies")}
                    for i in range(2)
                ]
                alice_node_sid = alice.get(f"/strategies/{alice_sid}").json()["node_strategy_id"]
                bob_node_sid = bob.get(f"/strategies/{bob_sid}").json()["node_strategy_id"]
                overview = op.get("/status").json()  # the operator's page: both nodes merged

                # -- node 0 (alice's) is killed with its order resting ----------------------
                nodes[0].kill()
                killed_at = time.monotonic()
                interrupted = wait_until(
                    lambda: alice.get(f"/strategies/{alice_sid}").json()["interrupted"],
                    15,
                    "alice's strategy reported interrupted",
                )
                noticed_after = time.monotonic() - killed_at
                alice_types = sse_types(alice, "strategy.interrupted")
                refused = alice.post(f"/strategies/{alice_sid}/stop")
                bob_during = bob.get(f"/strategies/{bob_sid}").json()
                health_during = httpx.get(f"{url}/health", timeout=30).json()
                venue_during = {o["coin"]: o["oid"] for o in venue_open_orders(sim, ADDRESS)}

                # -- node 0 comes back ------------------------------------------------------
                nodes[0].start()
                wait_until(
                    lambda: (
                        alice.get(f"/strategies/{alice_sid}").json()["interrupted"] is None
                        and link.connected()
                    ),
                    60,
                    "node 0 back and ready",
                )
                alice_after = alice.get(f"/strategies/{alice_sid}").json()
                bob_after = bob.get(f"/strategies/{bob_sid}").json()
                time.sleep(1.5)  # a restored strategy that would place a second order has by now
                venue_after = venue_open_orders(sim, ADDRESS)
                resumed_types = sse_types(alice, "strategy.resumed")

                halt = op.post("/control", json={"mode": "HALT", "reason": "two-node check"})
                halted = wait_until(
                    lambda: (c := alice.get("/control").json())["mode"] == "HALTED" and c,
                    5,
                    "both nodes report HALTED",
                )
                resume = op.post("/control", json={"mode": "RESUME", "reason": "done"})
                stopped = alice.post(f"/strategies/{alice_sid}/stop")
                venue_end = wait_until(
                    lambda: (o := venue_open_orders(sim, ADDRESS)) and len(o) == 1 and o,
                    15,
                    "alice's order cancelled by her stop",
                )
                # The rest of the single-process sidecar's behaviour, over Redis: a fill on the
                # user's SSE stream and in the status; a stalled stream makes /health not ready.
                bob.post(f"/strategies/{bob_sid}/stop")
                buy = bob.post("/intents", json={"text": "buy 0.001 BTC"}).json()
                market_sid = bob.post("/strategies", json={"plan_id": buy["plan_id"]}).json()[
                    "strategy_id"
                ]
                bob.post(f"/strategies/{market_sid}/start")
                bob_types = sse_types(bob, "fill", timeout=20)
                bob_filled = wait_until(
                    lambda: (d := bob.get(f"/strategies/{market_sid}").json())["position"] and d,
                    10,
                    "bob's position",
                )
                sim_admin(sim.base_url, "fault/stall", {"channel": "l2Book", "coin": "ETH"})
                stalled = wait_until(
                    lambda: (
                        (h := httpx.get(f"{url}/health", timeout=30)).status_code == 503
                        and h.json()
                    ),
                    20,
                    "/health not ready on a stalled stream",
                )
                sim_admin(sim.base_url, "fault/clear")
        finally:
            for node in nodes:
                node.stop()
            next(served, None)

    # Spread: each user's strategy runs on their own node.
    assert alice_node_sid in on_node[0] and alice_node_sid not in on_node[1]
    assert bob_node_sid in on_node[1] and bob_node_sid not in on_node[0]
    running = {s["node_strategy_id"]: s["component_state"] for s in overview["strategies"]}
    assert running == {alice_node_sid: "RUNNING", bob_node_sid: "RUNNING"}, running
    assert {i["coin"] for i in overview["instruments"]} == {"BTC", "ETH"}
    # The kill is noticed within the heartbeat limit (5 s) plus polling, and said.
    assert noticed_after < 12, noticed_after
    assert "node 0" in interrupted and "no heartbeat" in interrupted
    assert "strategy.interrupted" in alice_types
    assert refused.status_code == 503, refused.text
    assert "node 0" in refused.json()["detail"]
    # The survivor is unaffected.
    assert bob_during["interrupted"] is None
    assert [o["status"] for o in bob_during["orders"]] == ["ACCEPTED"]
    assert health_during["node_connected"] is False
    assert venue_during == oid_of  # a killed node's order stays at the venue
    # Back: the same order, adopted, no second one; every venue order known by client id.
    assert "strategy.resumed" in resumed_types
    assert [o["status"] for o in alice_after["orders"]] == ["ACCEPTED"], alice_after["orders"]
    assert [o["status"] for o in bob_after["orders"]] == ["ACCEPTED"]
    assert {o["coin"]: o["oid"] for o in venue_after} == oid_of
    known = {
        cloid_from_client_order_id(o["client_order_id"])
        for o in alice_after["orders"] + bob_after["orders"]
    }
    assert {o.get("cloid") for o in venue_after} <= known
    assert not any(o["client_order_id"].startswith("HL-") for o in alice_after["orders"])
    assert all(o["status"] in KNOWN_STATUSES for o in alice_after["orders"] + bob_after["orders"])
    # Commands again after reconciliation; control reaches both nodes.
    assert halt.status_code == 200 and halt.json()["mode"] == "HALTED", halt.text
    assert halted["mode"] == "HALTED"
    assert resume.json()["mode"] == "ACTIVE", resume.text
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped", stopped.text
    assert [o["oid"] for o in venue_end] == [oid_of["BTC"]]
    assert "fill" in bob_types
    assert bob_filled["position"]["quantity"] == "0.00100"
    assert stalled["feed_healthy"] is False and stalled["node_connected"] is True
