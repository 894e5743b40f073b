"""``jarvis ctl`` against a real sidecar: an operator's HALT / REDUCE_ONLY / RESUME reach the
node (in-process and over Redis) and are audited and logged; a wrong or trader's token and an
unreachable sidecar fail with exit 2 and a message saying which; the token is never printed."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from api.identity import LocalSigningKey
from jarvis.cli import main
from jarvis.ctl import run_ctl
from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar
from tests.api.node_double import NodeDouble


@pytest.fixture
def node(node_sidecar: NodeSidecar) -> NodeDouble:
    double: NodeDouble = node_sidecar.node
    return double


@pytest.fixture
def on_node(node_sidecar: NodeSidecar) -> Sidecar:
    return node_sidecar.sidecar


def test_halt_reduce_only_resume_and_status_through_the_cli(
    on_node: Sidecar,
    node: NodeDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = on_node.token("ops-anna", ("operator",))
    monkeypatch.setenv("JARVIS_TOKEN", token)
    url = ["--url", on_node.url]

    with caplog.at_level(logging.WARNING, logger="jarvis.api.control"):
        codes = [
            main(["ctl", "halt", "--reason", "venue incident", *url]),
            main(["ctl", "status", *url]),
            main(["ctl", "reduce-only", "--reason", "winding down", *url]),
            main(["ctl", "resume", "--reason", "incident over", *url]),
        ]
    out = capsys.readouterr()

    assert codes == [0, 0, 0, 0]
    assert out.out.splitlines() == [
        "trading mode: HALTED (venue incident)",
        "trading mode: HALTED (venue incident)",
        "trading mode: REDUCE_ONLY (winding down)",
        "trading mode: ACTIVE (incident over)",
    ]
    assert node.commands == [
        ("HALT", "venue incident"),
        ("REDUCE_ONLY", "winding down"),
        ("RESUME", "incident over"),
    ]
    user = on_node.state.store.user_for_subject("ops-anna", ("operator",), 0)
    audit = [
        (a.action, a.detail)
        for a in on_node.state.store.audit_entries(user.id)
        if a.action.startswith("control.")
    ]
    assert audit == [
        ("control.halt", {"reason": "venue incident"}),
        ("control.reduce_only", {"reason": "winding down"}),
        ("control.resume", {"reason": "incident over"}),
    ]
    logged = [r.getMessage() for r in caplog.records]
    assert any("HALT" in m and "ops-anna" in m and "venue incident" in m for m in logged)
    assert token not in out.out + out.err + "".join(logged)


def test_a_token_of_another_key_is_refused_with_401(
    on_node: Sidecar, node: NodeDouble, tmp_path: Path
) -> None:
    stranger = LocalSigningKey(tmp_path / "other-keys").mint("ops-anna", ("operator",))

    code, text = run_ctl("halt", on_node.url, stranger, "venue incident")

    assert code == 2
    assert text == (
        "jarvis ctl: the sidecar refused the token (401): the token's signature does not verify"
    )
    assert node.commands == []


def test_a_traders_token_is_refused_with_403(on_node: Sidecar, node: NodeDouble) -> None:
    code, text = run_ctl("halt", on_node.url, on_node.token("alice"), "venue incident")

    assert code == 2
    assert text == "jarvis ctl: the token is not an operator's (403): this needs the operator role"
    assert node.commands == []


def test_without_a_node_the_command_is_refused_with_503(sidecar: Sidecar) -> None:
    code, text = run_ctl("halt", sidecar.url, sidecar.token("op", ("operator",)), "testing")

    assert code == 2
    assert text.startswith("jarvis ctl: the node cannot take it now (503): node not connected")


def test_an_unreachable_sidecar_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    code = main(["ctl", "status", "--url", f"http://127.0.0.1:{port}", "--token", "t0ken"])
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith(f"jarvis ctl: cannot reach the sidecar at http://127.0.0.1:{port}: ")
    assert "t0ken" not in err


def test_missing_token_or_reason_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("JARVIS_TOKEN", raising=False)

    assert main(["ctl", "status"]) == 1
    assert "no token: pass --token or set JARVIS_TOKEN" in capsys.readouterr().err
    assert main(["ctl", "halt", "--token", "x"]) == 1
    assert "--reason is required" in capsys.readouterr().err
