"""Strategies: a plan confirmed becomes a strategy; the lifecycle refuses what its state forbids;
without a node, start answers 503 and nothing changes; one coin per account."""

from __future__ import annotations

import httpx

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

    assert first.status_code == 201
    assert second.status_code == 409
    assert "BTC already has an active strategy on account node" in second.json()["detail"]
    assert "one net position per coin per account" in second.json()["detail"]
    assert other_coin.status_code == 201, other_coin.text


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
