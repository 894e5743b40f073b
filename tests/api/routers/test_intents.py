"""``POST /intents``: words or JSON -> a stored plan; refusals name every problem's field."""

from __future__ import annotations

from tests.api.conftest import Sidecar


def test_text_intent_returns_a_stored_plan_and_starts_nothing(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/intents", json={"text": "buy 0.01 BTC at 60000"})

    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["template"] == "DirectBuy"
    assert plan["coin"] == "BTC"
    assert plan["live"] is False
    assert plan["notional_usd"] == "600.00"
    assert "Plan: DirectBuy on BTC-USD-PERP.HYPERLIQUID" in plan["rendered"]
    user = sidecar.state.store.user_for_subject("alice", ("trader",), 0)
    stored = sidecar.state.store.plan(user.id, plan["plan_id"])
    assert stored is not None and stored.config_hash == plan["config_hash"]
    assert sidecar.state.store.strategies(user.id) == []


def test_structured_intent_compiles_to_the_same_plan_as_its_words(sidecar: Sidecar) -> None:
    structured = {
        "template": "direct",
        "coin": "BTC",
        "side": "BUY",
        "size_coin": "0.01",
        "order_kind": "LIMIT_GTC",
        "limit_price_usd": "60000",
    }
    with sidecar.client("alice") as alice:
        words = alice.post("/intents", json={"text": "buy 0.01 BTC at 60000"}).json()
        json_plan = alice.post("/intents", json={"intent": structured}).json()

    assert json_plan["config_hash"] == words["config_hash"]
    assert json_plan["plan_id"] != words["plan_id"]


def test_refused_intent_is_422_naming_each_field(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/intents", json={"text": "buy 0.01 NOPECOIN at 60000"})

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "intent refused"
    assert [p["field"] for p in body["problems"]] == ["body.text.coin"]
    assert "NOPECOIN" in body["problems"][0]["message"]


def test_text_and_intent_together_is_422(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/intents", json={"text": "buy 0.01 BTC", "intent": {}})

    assert response.status_code == 422
    assert "exactly one of 'text' or 'intent'" in response.text


def test_unknown_field_is_422_with_its_path(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/intents", json={"txt": "buy 0.01 BTC at 60000"})

    assert response.status_code == 422
    assert "body.txt" in [p["field"] for p in response.json()["problems"]]


def test_structured_intent_with_bad_field_names_it(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post(
            "/intents", json={"intent": {"template": "direct", "coin": "BTC", "side": "UP"}}
        )

    assert response.status_code == 422
    fields = [p["field"] for p in response.json()["problems"]]
    assert any(f.startswith("body.intent") for f in fields), fields


def test_no_token_is_401(sidecar: Sidecar) -> None:
    with sidecar.client(None) as anonymous:
        response = anonymous.post("/intents", json={"text": "buy 0.01 BTC at 60000"})

    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]
