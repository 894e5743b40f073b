"""``GET /status``, ``GET /status/stream`` and the page at ``/``: a trader sees only their own
strategies, positions, orders and fills; an operator sees every strategy on the node; the
stream sends the snapshot again when it changes. With a node: in-process and over Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar
from tests.api.node_double import NodeDouble


@pytest.fixture
def node(node_sidecar: NodeSidecar) -> NodeDouble:
    double: NodeDouble = node_sidecar.node
    double.extra_strategies = ["Geometry-000"]  # the node's own, from its config
    return double


@pytest.fixture
def running(node_sidecar: NodeSidecar, node: NodeDouble) -> Iterator[Sidecar]:
    """A sidecar on the node double (in-process and over Redis): alice started a BTC strategy
    and confirmed an ETH one (not started), bob started a SOL one."""
    sidecar = node_sidecar.sidecar
    for subject, texts in (
        ("alice", ["buy 0.01 BTC at 60000", "buy 0.5 ETH at 2000"]),
        ("bob", ["buy 1 SOL at 100"]),
    ):
        with sidecar.client(subject) as client:
            for n, text in enumerate(texts):
                plan = client.post("/intents", json={"text": text})
                assert plan.status_code == 201, plan.text
                created = client.post("/strategies", json={"plan_id": plan.json()["plan_id"]})
                assert created.status_code == 201, created.text
                if n == 0:
                    sid = created.json()["strategy_id"]
                    started = client.post(f"/strategies/{sid}/start")
                    assert started.status_code == 200, started.text
    yield sidecar


def _node_id(sidecar: Sidecar, subject: str, coin: str) -> str:
    with sidecar.client(subject) as client:
        rows = [s for s in client.get("/strategies").json() if s["coin"] == coin]
    assert len(rows) == 1
    node_id: str = rows[0]["node_strategy_id"]
    return node_id


def test_a_trader_sees_only_their_own_strategies_positions_orders_and_fills(
    running: Sidecar, node: NodeDouble
) -> None:
    alice_btc = _node_id(running, "alice", "BTC")
    bob_sol = _node_id(running, "bob", "SOL")
    node.scopes.clear()
    with running.client("alice") as alice:
        status = alice.get("/status").json()

    assert node.scopes == [frozenset({alice_btc})]
    assert status["subject"] == "alice"
    assert status["operator"] is False
    assert sorted(
        (s["coin"], s["state"], s["node_strategy_id"], s["owner"]) for s in status["strategies"]
    ) == [("BTC", "running", alice_btc, "alice"), ("ETH", "created", None, "alice")]
    btc = next(s for s in status["strategies"] if s["coin"] == "BTC")
    assert btc["component_state"] == "RUNNING"
    assert btc["unrealized_pnl_usd"] == "1.5"
    for table in ("positions", "orders", "fills"):
        assert [row["node_strategy_id"] for row in status[table]] == [alice_btc], table
    text = json.dumps(status)
    assert bob_sol not in text
    assert "Geometry-000" not in text


def test_an_operator_sees_every_strategy_on_the_node(running: Sidecar, node: NodeDouble) -> None:
    alice_btc = _node_id(running, "alice", "BTC")
    bob_sol = _node_id(running, "bob", "SOL")
    node.scopes.clear()
    with running.client("op", ("operator",)) as op:
        status = op.get("/status").json()

    assert node.scopes == [None]
    assert status["operator"] is True
    on_node = {s["node_strategy_id"]: s for s in status["strategies"]}
    assert set(on_node) == {alice_btc, bob_sol, "Geometry-000"}
    seen = {sid: (s["owner"], s["coin"], s["state"]) for sid, s in on_node.items()}
    assert seen == {
        alice_btc: ("alice", "BTC", "running"),
        bob_sol: ("bob", "SOL", "running"),
        "Geometry-000": (None, None, None),  # the node's own: nobody's in the store
    }
    assert on_node["Geometry-000"]["strategy_id"] is None
    assert on_node[bob_sol]["strategy_id"] is not None
    assert {p["node_strategy_id"] for p in status["positions"]} == set(on_node)
    assert {f["node_strategy_id"] for f in status["fills"]} == set(on_node)


def test_instruments_trading_state_and_feed_health_are_shown_to_every_caller(
    running: Sidecar,
) -> None:
    with running.client("bob") as bob:
        status = bob.get("/status").json()

    assert status["node_connected"] is True
    assert status["trading"] == {"mode": "ACTIVE", "reason": None, "node_connected": True}
    assert status["risk_engine"] == "REDUCING"
    (eth,) = status["instruments"]
    assert eth["instrument_id"] == "ETH-USD-PERP.HYPERLIQUID"
    assert eth["regime"] == "SIDEWAYS"
    # one of its two streams is STALE: the instrument's feed is not healthy
    assert eth["feed_healthy"] is False
    assert [f["status"] for f in eth["feed"]] == ["OK", "STALE"]


def test_without_a_node_the_status_says_so_and_shows_nothing(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        status = alice.get("/status").json()

    assert status["node_connected"] is False
    assert status["trading"]["mode"] == "UNKNOWN"
    assert status["risk_engine"] is None
    assert [status[k] for k in ("instruments", "strategies", "positions", "orders", "fills")] == [
        [], [], [], [], []
    ]  # fmt: skip


def test_status_needs_a_token_but_the_page_does_not(sidecar: Sidecar) -> None:
    with sidecar.client(None) as anonymous:
        status = anonymous.get("/status")
        stream = anonymous.get("/status/stream")
        page = anonymous.get("/")
        script = anonymous.get("/static/status.js")

    assert status.status_code == 401
    assert stream.status_code == 401
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/static/status.js"' in page.text
    assert script.status_code == 200
    assert "/status/stream" in script.text


def _frames(stream: httpx.Response) -> Iterator[dict[str, Any]]:
    event = None
    for line in stream.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == "status":
            yield json.loads(line.removeprefix("data: "))


def test_the_stream_sends_the_snapshot_and_again_when_it_changes(
    running: Sidecar, node: NodeDouble
) -> None:
    alice_btc = _node_id(running, "alice", "BTC")
    with running.client("alice") as alice, running.client("op", ("operator",)) as op:
        expected = alice.get("/status").json()
        with alice.stream("GET", "/status/stream") as stream:
            frames = _frames(stream)
            first = next(frames)
            halted = op.post("/control", json={"mode": "HALT", "reason": "page test"})
            second = next(frames)

    assert halted.status_code == 200
    assert {k: v for k, v in first.items() if k != "at_ms"} == {
        k: v for k, v in expected.items() if k != "at_ms"
    }
    assert [s["node_strategy_id"] for s in first["strategies"] if s["node_strategy_id"]] == [
        alice_btc
    ]
    assert first["trading"]["mode"] == "ACTIVE"
    assert second["trading"] == {"mode": "HALTED", "reason": "page test", "node_connected": True}
    assert node.commands == [("HALT", "page test")]
