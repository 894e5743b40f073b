"""``/control``: operators only; without a node the command is refused (503), never faked."""

from __future__ import annotations

from tests.api.conftest import Sidecar


def test_trader_cannot_post_control(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post("/control", json={"mode": "HALT", "reason": "testing"})

    assert response.status_code == 403
    assert response.json()["detail"] == "this needs the operator role"


def test_operator_control_without_a_node_is_503(sidecar: Sidecar) -> None:
    with sidecar.client("op", ("operator",)) as op:
        response = op.post("/control", json={"mode": "HALT", "reason": "testing"})
        state = op.get("/control").json()

    assert response.status_code == 503
    assert state == {"mode": "UNKNOWN", "reason": "node not connected", "node_connected": False}


def test_unknown_mode_is_422_naming_the_field(sidecar: Sidecar) -> None:
    with sidecar.client("op", ("operator",)) as op:
        response = op.post("/control", json={"mode": "PANIC", "reason": "testing"})

    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == ["body.mode"]
