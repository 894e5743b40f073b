"""User A can never see or touch user B's intents, plans, strategies or events: every endpoint
that takes an id answers B's request for A's id exactly as for an id that does not exist."""

from __future__ import annotations

import pytest

from tests.api.conftest import Sidecar


@pytest.fixture
def alices(sidecar: Sidecar) -> dict[str, str]:
    """Alice's plan and strategy ids."""
    with sidecar.client("alice") as alice:
        plan_id = alice.post("/intents", json={"text": "buy 0.01 BTC at 60000"}).json()["plan_id"]
        spare_plan = alice.post("/intents", json={"text": "buy 0.5 ETH at 2000"}).json()["plan_id"]
        strategy_id = alice.post("/strategies", json={"plan_id": plan_id}).json()["strategy_id"]
    return {"plan": spare_plan, "strategy": strategy_id}


ENDPOINTS = [
    ("POST", "/strategies", "plan"),
    ("GET", "/strategies/{id}", "strategy"),
    ("POST", "/strategies/{id}/start", "strategy"),
    ("POST", "/strategies/{id}/stop", "strategy"),
    ("POST", "/strategies/{id}/cancel", "strategy"),
]


@pytest.mark.parametrize(("method", "path", "kind"), ENDPOINTS)
def test_bob_gets_404_for_alices_ids_and_alices_rows_do_not_change(
    sidecar: Sidecar, alices: dict[str, str], method: str, path: str, kind: str
) -> None:
    target = alices[kind]
    with sidecar.client("bob") as bob:
        if kind == "plan":
            response = bob.request(method, path, json={"plan_id": target})
        else:
            response = bob.request(method, path.format(id=target))

    assert response.status_code == 404, response.text
    assert target in response.json()["detail"]
    with sidecar.client("alice") as alice:
        strategy = alice.get(f"/strategies/{alices['strategy']}").json()
        strategies = alice.get("/strategies").json()
    assert strategy["state"] == "created"
    assert len(strategies) == 1


def test_bobs_list_does_not_show_alices_strategies(
    sidecar: Sidecar, alices: dict[str, str]
) -> None:
    with sidecar.client("bob") as bob:
        assert bob.get("/strategies").json() == []


def test_bobs_event_stream_replays_none_of_alices_events(
    sidecar: Sidecar, alices: dict[str, str]
) -> None:
    with sidecar.client("bob") as bob:
        bob.post("/intents", json={"text": "buy 0.5 ETH at 2000"})
        plan_id = bob.post("/intents", json={"text": "buy 0.5 ETH at 2000"}).json()["plan_id"]
        own = bob.post("/strategies", json={"plan_id": plan_id}).json()["strategy_id"]
        with bob.stream(
            "GET", "/events/stream", params={"limit": 1}, headers={"Last-Event-ID": "0"}
        ) as stream:
            text = "".join(stream.iter_text())

    assert own in text
    assert alices["strategy"] not in text


def test_bob_cannot_see_alices_intent_plans_in_the_store(
    sidecar: Sidecar, alices: dict[str, str]
) -> None:
    bob = sidecar.state.store.user_for_subject("bob", ("trader",), 0)

    assert sidecar.state.store.plan(bob.id, alices["plan"]) is None
