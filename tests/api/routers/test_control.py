"""``/control``: operators only; without a node the command is refused (503), never faked; with
one (in-process and over Redis) it reaches the node and GET /control shows its mode and why."""

from __future__ import annotations

from tests.api.conftest import NodeSidecar
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


def test_an_operators_halt_and_resume_reach_the_node_and_every_caller_sees_the_mode(
    node_sidecar: NodeSidecar,
) -> None:
    sidecar, node = node_sidecar.sidecar, node_sidecar.node
    with sidecar.client("op", ("operator",)) as op, sidecar.client("alice") as alice:
        before = op.get("/control").json()
        halted = op.post("/control", json={"mode": "HALT", "reason": "venue incident"})
        seen_by_op = op.get("/control").json()
        seen_by_alice = alice.get("/control").json()
        alices_resume = alice.post("/control", json={"mode": "RESUME", "reason": "mine"})
        still_halted = alice.get("/control").json()
        resumed = op.post("/control", json={"mode": "RESUME", "reason": "incident over"})
        after = alice.get("/control").json()

    assert before == {"mode": "ACTIVE", "reason": None, "node_connected": True}
    assert halted.status_code == 200, halted.text
    halt = {"mode": "HALTED", "reason": "venue incident", "node_connected": True}
    assert halted.json() == halt
    assert seen_by_op == halt and seen_by_alice == halt
    assert alices_resume.status_code == 403
    assert still_halted == halt
    assert resumed.status_code == 200, resumed.text
    assert resumed.json() == {"mode": "ACTIVE", "reason": "incident over", "node_connected": True}
    assert after == resumed.json()
    assert node.commands == [("HALT", "venue incident"), ("RESUME", "incident over")]
    user = sidecar.state.store.user_for_subject("op", ("operator",), 0)
    audit = [a.action for a in sidecar.state.store.audit_entries(user.id)]
    assert [a for a in audit if a.startswith("control.")] == ["control.halt", "control.resume"]
