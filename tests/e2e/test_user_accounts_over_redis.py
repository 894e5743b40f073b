"""End to end over Redis: users' own accounts with the sidecar and the node in separate
processes (``jarvis serve-node`` on the real Redis at 127.0.0.1:6379, the sidecar over a
``RedisNodeLink``), on the simulator.

Alice and Bob each registered an agent wallet their funded account approved; Carol has none.
The node process opens the same secret store as the sidecar from its own environment (the same
``JARVIS_SECRETS_KEY`` and secrets directory); the start command carries only the account and
its key's reference. Bob's buy fills in Bob's venue account, Carol's in the node's, Alice's
price-limit buy rests in Alice's. A second strategy on ETH for Alice's account is refused (409).

The node is then killed (SIGKILL) and Alice's resting order cancelled at the venue while it is
down. Started again, the node registers Alice's account client before it runs, so start-up
reconciliation brings that order to CANCELED (no order of hers is left in an unknown state),
restores her strategy on her account, and every order resting in her account is one her
strategy knows by client order id.

Dave's price-limit buy rests in his account too, and while the node is down he approves another
agent in place of the registered one (the venue then no longer accepts the old key). The
restarted node must still come up for everyone: it refuses Dave's account before adding its
client, saying the wallet is not approved, and tells Dave ``strategy.restore_failed``. No Redis
stream, hash, list or string of the set (nor the
node's Redis-backed cache) holds either agent key.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from cryptography.fernet import Fernet

from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.signing import address_from_private_key
from api.app import create_app
from api.events import EventHub
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.redis_link import RedisNodeLink
from api.settings import ApiSettings
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import post_signed_action
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import venue_position
from simulator.app import SimConfig
from simulator.app import SimThread
from tests.e2e.test_multinode import REDIS_URL
from tests.e2e.test_multinode import NodeProcess
from tests.e2e.test_multinode import node_file
from tests.e2e.test_multinode import serve
from tests.e2e.test_multinode import wait_until
from tests.e2e.test_user_accounts_on_simulator import _approve

NODE_KEY = "0x" + "7d" * 32
NODE = address_from_private_key(NODE_KEY).lower()
USERS = {  # subject -> (master key of the account, agent key it approves)
    "alice": ("0x" + "a3" * 32, "0x" + "a4" * 32),
    "bob": ("0x" + "b3" * 32, "0x" + "b4" * 32),
    "dave": ("0x" + "d3" * 32, "0x" + "d4" * 32),
}
DAVE_NEW_AGENT = "0x" + "d5" * 32  # approved in place of Dave's registered agent
ACCOUNT = {name: address_from_private_key(keys[0]).lower() for name, keys in USERS.items()}
SLOW = 90.0  # a node process starting on a loaded 2-core machine


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment the node process inherits: its own key, and the sidecar's secret store
    (key and directory), exactly what an operator sets on a node machine."""
    secrets_key = Fernet.generate_key().decode()
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", NODE_KEY)
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JARVIS_SECRETS_KEY", secrets_key)
    monkeypatch.setenv("JARVIS_API_SECRETS_DIR", str(tmp_path / "secrets"))
    with fresh_rate_limiter():
        yield secrets_key


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    """A unique (namespace, trader name); only their Redis keys are deleted afterwards."""
    tag = uuid.uuid4().hex[:6].upper()
    namespace, trader = f"jt-ua-{tag}", f"UA{tag}"
    yield namespace, trader
    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{namespace}:*", f"trader-{trader}-N*"):
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)


def redis_dump(client: Any, patterns: tuple[str, ...]) -> tuple[int, bytes]:
    """Every value under ``patterns``, whatever its type: (stream entries seen, the bytes)."""
    entries = 0
    chunks: list[bytes] = []
    for pattern in patterns:
        for key in client.scan_iter(match=pattern):
            kind = client.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else kind
            chunks.append(key)
            if kind == "stream":
                for _, fields in client.xrange(key):
                    entries += 1
                    chunks += [k + b"=" + v for k, v in fields.items()]
            elif kind == "hash":
                chunks += [k + b"=" + v for k, v in client.hgetall(key).items()]
            elif kind == "list":
                chunks += client.lrange(key, 0, -1)
            elif kind == "set":
                chunks += list(client.smembers(key))
            elif kind == "zset":
                chunks += client.zrange(key, 0, -1)
            elif kind == "string":
                chunks.append(client.get(key) or b"")
    return entries, b"\n".join(chunks)


def sse_events(client: httpx.Client, wanted: str, timeout: float) -> dict[str, Any]:
    """The user's events from the start of their history up to ``wanted``: type -> the last
    one's data (the reading stops at ``wanted`` or after ``timeout``)."""
    seen: dict[str, Any] = {}
    kind = ""
    deadline = time.monotonic() + timeout
    with client.stream("GET", "/events/stream", headers={"Last-Event-ID": "0"}) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen[kind] = json.loads(line.removeprefix("data: "))
                if kind == wanted:
                    break
            if time.monotonic() > deadline:
                break
    return seen


def test_user_accounts_trade_in_their_own_accounts_over_redis_and_survive_a_node_restart(
    tmp_path: Path, names: tuple[str, str], env: str
) -> None:
    namespace, trader = names
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    out: dict[str, Any] = {}

    with SimThread(SimConfig(coins=("BTC", "ETH"), seed=45)) as sim:
        fund_test_account(sim, NODE, 100_000)
        for name, (master, agent) in USERS.items():
            fund_test_account(sim, ACCOUNT[name], 10_000)
            _approve(sim.base_url, master, agent)
        payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
        snapshot = snapshot_from_meta_and_ctxs(payload, source="sim", taken_at_ms=0)
        universe = [asset["name"] for asset in payload[0]["universe"]]
        eth_mark = Decimal(payload[1][universe.index("ETH")]["markPx"])
        node = NodeProcess(node_file(tmp_path, sim.base_url, trader), 0, namespace, tmp_path)
        node.start()
        hub = EventHub()
        link = RedisNodeLink(REDIS_URL, 1, hub, namespace)
        settings = ApiSettings(
            database_url=f"sqlite:///{tmp_path}/sidecar.db",
            venue_http_url=sim.base_url,
            secrets_key=env,
            secrets_dir=tmp_path / "secrets",
        )
        app = create_app(settings, link=link, hub=hub, verifier=verifier, snapshot=lambda: snapshot)
        served = serve(app)
        url = next(served)

        def client(subject: str, roles: tuple[str, ...] = ("trader",)) -> httpx.Client:
            headers = {"Authorization": f"Bearer {keys.mint(subject, roles)}"}
            return httpx.Client(base_url=url, headers=headers, timeout=60)

        try:
            with (
                client("alice") as alice,
                client("bob") as bob,
                client("carol") as carol,
                client("dave") as dave,
                client("op", ("operator",)) as op,
            ):
                users = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
                wait_until(link.connected, SLOW, "the node ready")
                for name in ("alice", "bob", "dave"):
                    body = {"account_address": ACCOUNT[name], "agent_private_key": USERS[name][1]}
                    answer = users[name].post("/accounts", json=body)
                    assert answer.status_code == 201, answer.text
                # No new risk is taken before the RiskEngine is ACTIVE (feeds delivering).
                wait_until(
                    lambda: op.get("/status").json().get("risk_engine") == "ACTIVE",
                    SLOW,
                    "the node's RiskEngine ACTIVE",
                )
                limit = (eth_mark * Decimal("0.9")).quantize(Decimal(1))
                texts = {
                    "alice": f"buy 0.01 ETH if it drops to {limit}",
                    "bob": "buy 0.01 ETH",
                    "carol": "buy 0.01 ETH",
                    "dave": f"buy 0.01 ETH if it drops to {limit}",
                }
                sids: dict[str, str] = {}
                for name, http in users.items():
                    plan = http.post("/intents", json={"text": texts[name]})
                    assert plan.status_code == 201, plan.text
                    out[f"{name}_plan"] = plan.json()["plan_id"]
                    created = http.post("/strategies", json={"plan_id": out[f"{name}_plan"]})
                    assert created.status_code == 201, (name, created.text)
                    out[f"{name}_created"] = created.json()
                    sids[name] = created.json()["strategy_id"]
                    out[f"{name}_start"] = http.post(f"/strategies/{sids[name]}/start").json()

                def filled(name: str) -> dict[str, Any] | None:
                    detail = users[name].get(f"/strategies/{sids[name]}").json()
                    return detail if detail["position"] else None

                for name in ("bob", "carol"):
                    out[f"{name}_detail"] = wait_until(
                        functools.partial(filled, name), SLOW, f"{name}'s fill"
                    )
                resting = wait_until(
                    lambda: venue_open_orders(sim, ACCOUNT["alice"]),
                    SLOW,
                    "alice's order resting in her account",
                )
                alice_before = wait_until(
                    lambda: (
                        (d := alice.get(f"/strategies/{sids['alice']}").json())["orders"]
                        and d["orders"][0]["status"] == "ACCEPTED"
                        and d
                    ),
                    30,
                    "alice's order accepted on the node",
                )
                out["node_orders_before"] = venue_open_orders(sim, NODE)
                again = alice.post("/strategies", json={"plan_id": out["alice_plan"]})
                out["again"] = {"status": again.status_code, **again.json()}
                wait_until(
                    lambda: venue_open_orders(sim, ACCOUNT["dave"]),
                    SLOW,
                    "dave's order resting in his account",
                )
                time.sleep(1.0)  # let the node's Redis-backed cache write the accepted orders

                # -- the node is killed; alice's order is cancelled at the venue meanwhile ---
                node.kill()
                wait_until(
                    lambda: alice.get(f"/strategies/{sids['alice']}").json()["interrupted"],
                    30,
                    "alice's strategy reported interrupted",
                )
                cancel = {
                    "type": "cancel",
                    "cancels": [{"a": universe.index("ETH"), "o": resting[0]["oid"]}],
                }
                answer = post_signed_action(sim.base_url, USERS["alice"][0], cancel)
                assert answer["response"]["data"]["statuses"] == ["success"], answer
                _approve(sim.base_url, USERS["dave"][0], DAVE_NEW_AGENT)  # replaces his agent
                node.start()
                wait_until(
                    lambda: (
                        alice.get(f"/strategies/{sids['alice']}").json()["interrupted"] is None
                        and link.connected()
                    ),
                    SLOW,
                    "the node back and ready",
                )
                first_id = alice_before["orders"][0]["client_order_id"]
                alice_after = wait_until(
                    lambda: (d := alice.get(f"/strategies/{sids['alice']}").json())["orders"] and d,
                    30,
                    "alice's strategy restored",
                )
                out["alice_venue_after"] = venue_open_orders(sim, ACCOUNT["alice"])
                out["dave_events"] = sse_events(dave, "strategy.restore_failed", 30.0)
                out["dave_venue_after"] = venue_open_orders(sim, ACCOUNT["dave"])
                out["stop"] = alice.post(f"/strategies/{sids['alice']}/stop").json()
                out["alice_venue_end"] = wait_until(
                    lambda: venue_open_orders(sim, ACCOUNT["alice"]) == [] and [0],
                    30,
                    "alice's orders cancelled by her stop",
                )
                out["positions"] = {
                    "alice": venue_position(sim, ACCOUNT["alice"], "ETH"),
                    "bob": venue_position(sim, ACCOUNT["bob"], "ETH"),
                    "dave": venue_position(sim, ACCOUNT["dave"], "ETH"),
                    "node": venue_position(sim, NODE, "ETH"),
                }
                out["node_orders_end"] = venue_open_orders(sim, NODE)
                broker = redis.Redis.from_url(REDIS_URL)
                stream_entries, dump = redis_dump(broker, (f"{namespace}:*", f"trader-{trader}-N*"))
                broker.close()
        finally:
            node.stop()
            next(served, None)

    assert out["alice_created"]["account"] == ACCOUNT["alice"]
    assert out["bob_created"]["account"] == ACCOUNT["bob"]
    assert out["carol_created"]["account"] == "node"
    assert out["dave_created"]["account"] == ACCOUNT["dave"]
    for name in ("alice", "bob", "carol", "dave"):
        assert out[f"{name}_start"]["state"] == "running", out[f"{name}_start"]
    for name in ("bob", "carol"):
        assert out[f"{name}_detail"]["position"]["quantity"] == "0.0100", out[f"{name}_detail"]
    # Each buy in its owner's account only: Bob's fill in Bob's, Carol's in the node's, Alice's
    # order rested in hers and never in the node's.
    assert out["positions"] == {
        "alice": Decimal(0),
        "bob": Decimal("0.01"),
        "dave": Decimal(0),
        "node": Decimal("0.01"),
    }
    assert len(resting) == 1 and resting[0]["coin"] == "ETH"
    assert out["node_orders_before"] == [] and out["node_orders_end"] == []
    # The same coin on the same account again: refused, saying why.
    assert out["again"]["status"] == 409, out["again"]
    assert "one net position per coin per account" in out["again"]["detail"]
    # Restarted: the order cancelled while the node was down is reconciled (not left ACCEPTED),
    # and whatever rests in her account is her strategy's, known by client order id.
    statuses = {o["client_order_id"]: o["status"] for o in alice_after["orders"]}
    assert statuses[first_id] == "CANCELED", alice_after["orders"]
    known = {cloid_from_client_order_id(o["client_order_id"]) for o in alice_after["orders"]}
    assert {o.get("cloid") for o in out["alice_venue_after"]} <= known, out["alice_venue_after"]
    assert out["stop"]["state"] == "stopped", out["stop"]
    # Dave's replaced wallet kept only his strategy out (the node came back for Alice above),
    # told him why, and his resting order is still his, at the venue.
    failed = out["dave_events"].get("strategy.restore_failed")
    assert failed is not None, out["dave_events"]
    assert "not an API wallet approved for account" in failed["error"], failed
    assert ACCOUNT["dave"] in failed["error"], failed
    assert len(out["dave_venue_after"]) == 1, out["dave_venue_after"]
    # The broker never saw a key: the commands carried the account and a reference only.
    assert stream_entries > 0
    assert ACCOUNT["alice"].encode() in dump  # the scan does see the start commands
    for master, agent in USERS.values():
        for secret in (agent, master, DAVE_NEW_AGENT):
            assert secret[2:].encode() not in dump
            assert secret[2:].upper().encode() not in dump
