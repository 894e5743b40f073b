"""Strategies: a plan confirmed becomes a strategy; the lifecycle refuses what its state forbids;
without a node, start answers 503 and nothing changes; one coin per account. With a node (in
process and over Redis), start, stop and cancel reach it and the strategy follows."""

from __future__ import annotations

import httpx

from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar


def _plan(client: httpx.Client, text: str = "buy 0.01 BTC at 60000") -> str:
    response = client.post("/intents", json={"text": text})
    assert response.status_code == 201, response.text
    plan_id: str = response.json()["plan_id"]
    return plan_id


def test_confirming_a_plan_creates_a_strategy_that_is_not_started(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        plan_id = _plan(alice)
        created = alice.post("/strategies", json={"plan_id": plan_id})
        listed = alice.get("/strategies")
        detail = alice.get(f"/strategies/{created.json()['strategy_id']}")

    assert created.status_code == 201, created.text
    assert created.json()["state"] == "created"
    assert created.json()["coin"] == "BTC"
    assert [s["strategy_id"] for s in listed.json()] == [created.json()["strategy_id"]]
    body = detail.json()
    assert body["state"] == "created"
    assert body["budget_usd"] == "600.00"
    assert body["regime_gate"] == "not regime-gated"
    assert body["orders"] == [] and body["fills"] == [] and body["position"] is None
    assert body["node_connected"] is False


def test_start_without_a_node_is_503_and_the_strategy_stays_created(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        strategy_id = alice.post("/strategies", json={"plan_id": _plan(alice)}).json()[
            "strategy_id"
        ]
        response = alice.post(f"/strategies/{strategy_id}/start")
        after = alice.get(f"/strategies/{strategy_id}").json()

    assert response.status_code == 503
    assert "node not connected" in response.json()["detail"]
    assert after["state"] == "created"


def test_stop_of_a_strategy_that_is_not_running_is_409_naming_the_state(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        strategy_id = alice.post("/strategies", json={"plan_id": _plan(alice)}).json()[
            "strategy_id"
        ]
        response = alice.post(f"/strategies/{strategy_id}/stop")

    assert response.status_code == 409
    assert response.json()["detail"] == "cannot stop a strategy that is created"


def test_cancel_of_a_created_strategy_cancels_it_and_then_start_is_409(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        strategy_id = alice.post("/strategies", json={"plan_id": _plan(alice)}).json()[
            "strategy_id"
        ]
        cancelled = alice.post(f"/strategies/{strategy_id}/cancel", json={"close": True})
        start = alice.post(f"/strategies/{strategy_id}/start")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert start.status_code == 409


def test_second_strategy_on_the_same_coin_and_account_is_refused_with_the_reason(
    sidecar: Sidecar,
) -> None:
    with sidecar.client("alice") as alice:
        first = alice.post("/strategies", json={"plan_id": _plan(alice)})
        second = alice.post("/strategies", json={"plan_id": _plan(alice, "buy 0.02 BTC at 60000")})
        other_coin = alice.post(
            "/strategies", json={"plan_id": _plan(alice, "buy 0.5 ETH at 2000")}
        )

    with sidecar.client("bob") as bob:
        bobs = bob.post("/strategies", json={"plan_id": _plan(bob, "buy 0.03 BTC at 60000")})

    assert first.status_code == 201
    first_id = first.json()["strategy_id"]
    assert second.status_code == 409
    assert second.json()["detail"] == (
        f"BTC already has an active strategy on account node (your strategy {first_id} "
        "(created)): the venue keeps one net position per coin per account, so a second one "
        "would mix positions; stop or cancel the other strategy first"
    )
    assert other_coin.status_code == 201, other_coin.text
    # Bob trades from the node's account too: refused, without Alice's strategy id.
    assert bobs.status_code == 409
    assert "(another user's strategy)" in bobs.json()["detail"]
    assert first_id not in bobs.json()["detail"]


def test_unknown_plan_is_404(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/strategies", json={"plan_id": "no-such-plan"})

    assert response.status_code == 404
    assert response.json()["detail"] == "plan no-such-plan not found"


def test_every_change_is_in_the_audit_log_with_intent_and_config_hash(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        plan = alice.post("/intents", json={"text": "buy 0.01 BTC at 60000"}).json()
        strategy_id = alice.post("/strategies", json={"plan_id": plan["plan_id"]}).json()[
            "strategy_id"
        ]
        alice.post(f"/strategies/{strategy_id}/cancel")

    user = sidecar.state.store.user_for_subject("alice", ("trader",), 0)
    entries = sidecar.state.store.audit_entries(user.id)
    tail = [(e.action, e.intent_id, e.config_hash) for e in entries[-3:]]
    assert tail == [
        ("plan.compiled", plan["intent_id"], plan["config_hash"]),
        ("strategy.created", plan["intent_id"], plan["config_hash"]),
        ("strategy.cancel", plan["intent_id"], plan["config_hash"]),
    ]


def test_start_stop_cancel_reach_the_node_and_the_strategy_follows(
    node_sidecar: NodeSidecar,
) -> None:
    """start -> running -> stop -> stopped -> cancel -> cancelled, each step only once the node
    agreed; another user's stop and cancel of it are 404 and never reach the node."""
    sidecar, node = node_sidecar.sidecar, node_sidecar.node
    with sidecar.client("alice") as alice, sidecar.client("bob") as bob:
        strategy_id = alice.post("/strategies", json={"plan_id": _plan(alice)}).json()[
            "strategy_id"
        ]
        started = alice.post(f"/strategies/{strategy_id}/start")
        running = alice.get(f"/strategies/{strategy_id}").json()
        bobs_stop = bob.post(f"/strategies/{strategy_id}/stop")
        bobs_cancel = bob.post(f"/strategies/{strategy_id}/cancel", json={"close": True})
        bobs_list = bob.get("/strategies").json()
        still_running = alice.get(f"/strategies/{strategy_id}").json()
        stopped = alice.post(f"/strategies/{strategy_id}/stop")
        after_stop = alice.get(f"/strategies/{strategy_id}").json()
        cancelled = alice.post(f"/strategies/{strategy_id}/cancel", json={"close": True})
        start_again = alice.post(f"/strategies/{strategy_id}/start")

    alice_id = sidecar.state.store.user_for_subject("alice", ("trader",), 0).id
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "running"
    node_id = started.json()["node_strategy_id"]
    assert node_id == "DirectBuy-001"
    assert running["state"] == "running" and running["node_strategy_id"] == node_id
    assert running["node_connected"] is True
    assert running["interrupted"] is None
    assert bobs_stop.status_code == 404 and bobs_cancel.status_code == 404
    assert bobs_stop.json()["detail"] == f"strategy {strategy_id} not found"
    assert bobs_list == []
    assert still_running["state"] == "running"
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["state"] == "stopped"
    assert after_stop["state"] == "stopped" and after_stop["node_strategy_id"] == node_id
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert start_again.status_code == 409
    assert start_again.json()["detail"] == "cannot start a strategy that is cancelled"
    # A stopped strategy runs nothing, so cancelling it asks the node nothing.
    assert node.calls == [("start", alice_id, node_id), ("stop", node_id)]


def test_cancel_of_a_running_strategy_asks_the_node_to_close_and_a_restart_keeps_its_id(
    node_sidecar: NodeSidecar,
) -> None:
    sidecar, node = node_sidecar.sidecar, node_sidecar.node
    with sidecar.client("alice") as alice:
        strategy_id = alice.post("/strategies", json={"plan_id": _plan(alice)}).json()[
            "strategy_id"
        ]
        first = alice.post(f"/strategies/{strategy_id}/start").json()
        alice.post(f"/strategies/{strategy_id}/stop")
        restarted = alice.post(f"/strategies/{strategy_id}/start")
        cancelled = alice.post(f"/strategies/{strategy_id}/cancel", json={"close": True})

    node_id = first["node_strategy_id"]
    alice_id = sidecar.state.store.user_for_subject("alice", ("trader",), 0).id
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["node_strategy_id"] == node_id
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert node.calls == [
        ("start", alice_id, node_id),
        ("stop", node_id),
        ("start", alice_id, node_id),
        ("cancel", node_id, True),
    ]
