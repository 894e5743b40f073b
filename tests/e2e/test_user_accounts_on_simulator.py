"""End to end: users' positions never mix. ``jarvis serve`` on the simulator with two users,
each with a funded account and an agent wallet it approved; a third user without one trades from
the node's account. Each buys ETH through the sidecar; the node adds one execution client per
user account (``HL_<account>``) and each fill lands in its owner's venue account, none in
another's. A second strategy on a coin already traded on the same account is refused with the
reason, and a plan confirmed again after its first strategy stopped starts (its strategy id
does not collide with the first's)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import address_from_private_key
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.serve import run_serve
from api.settings import ApiSettings
from jarvis.node import load_for_run
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import venue_position
from simulator.app import SimConfig
from simulator.app import SimThread
from tests.e2e.test_sidecar_serve import node_file

NODE_KEY = "0x" + "5f" * 32
NODE = address_from_private_key(NODE_KEY).lower()
USERS = {  # subject -> (master key of the account, agent key it approves)
    "alice": ("0x" + "a1" * 32, "0x" + "a2" * 32),
    "bob": ("0x" + "b1" * 32, "0x" + "b2" * 32),
}
ACCOUNT = {name: address_from_private_key(keys[0]).lower() for name, keys in USERS.items()}
DEADLINE_SECS = 60.0


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", NODE_KEY)
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    with fresh_rate_limiter():
        yield


def _approve(base_url: str, master_key: str, agent_key: str) -> None:
    signer = HyperliquidSigner(master_key, is_mainnet=False)
    nonce = time.time_ns() // 1_000_000
    agent = address_from_private_key(agent_key)
    action: dict[str, Any] = {"type": "approveAgent", "agentAddress": agent, "agentName": ""}
    action["nonce"] = nonce
    signature = signer.sign_user_signed_action(action)
    action.pop("agentName")
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    answer = httpx.post(f"{base_url}/exchange", json=body, timeout=30).json()
    assert answer["status"] == "ok", answer


def _wait_filled(client: httpx.Client, sid: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECS
    detail: dict[str, Any] = {}
    while time.monotonic() < deadline:
        detail = client.get(f"/strategies/{sid}").json()
        if detail.get("position") is not None:
            return detail
        time.sleep(0.2)
    return detail


def _wait_active(link: Any) -> None:
    """Until the node takes new risk: at start it holds REDUCING until its dead-man switch is
    armed and the feeds deliver (and a loaded machine can stall a feed for a moment); a BUY
    sent then is denied, which is not what this test is about."""
    deadline = time.monotonic() + DEADLINE_SECS
    while link._call(lambda: link._node.kernel.risk_engine.trading_state.name) != "ACTIVE":
        assert time.monotonic() < deadline, "the node never went ACTIVE"
        time.sleep(0.1)


def _scenario(url: str, keys: LocalSigningKey, app: FastAPI, out: dict[str, Any]) -> None:
    def client(subject: str) -> httpx.Client:
        token = keys.mint(subject, ("trader",))
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    link = app.state.jarvis.link
    with client("alice") as alice, client("bob") as bob, client("carol") as carol:
        users = {"alice": alice, "bob": bob}
        for name, http in users.items():
            answer = http.post(
                "/accounts",
                json={"account_address": ACCOUNT[name], "agent_private_key": USERS[name][1]},
            )
            assert answer.status_code == 201, answer.text
        sids: dict[str, str] = {}
        for name, http in [*users.items(), ("carol", carol)]:
            plan = http.post("/intents", json={"text": "buy 0.01 ETH"}).json()
            answer = http.post("/strategies", json={"plan_id": plan["plan_id"]})
            assert answer.status_code == 201, (name, answer.text)
            created = answer.json()
            out[f"{name}_created"] = created
            sids[name] = created["strategy_id"]
            out[f"{name}_plan"] = plan["plan_id"]
            _wait_active(link)
            start = http.post(f"/strategies/{created['strategy_id']}/start")
            out[f"{name}_start"] = start.json()
        for name, http in [*users.items(), ("carol", carol)]:
            out[f"{name}_detail"] = _wait_filled(http, sids[name])
        # The same coin again on alice's account while her first strategy runs: refused.
        again = alice.post("/strategies", json={"plan_id": out["alice_plan"]})
        out["again"] = {"status": again.status_code, **again.json()}
        # Stopped, the plan can be confirmed again: a new strategy with its own node id.
        out["stop"] = alice.post(f"/strategies/{sids['alice']}/stop").json()
        answer = alice.post("/strategies", json={"plan_id": out["alice_plan"]})
        assert answer.status_code == 201, (out, answer.text)
        second = answer.json()
        _wait_active(link)
        out["second_start"] = alice.post(f"/strategies/{second['strategy_id']}/start").json()
        out["second_detail"] = _wait_filled(alice, second["strategy_id"])
        out["clients"] = link._call(
            lambda: sorted(c.value for c in link._node.kernel.exec_engine.registered_clients)
        )


def test_each_users_fills_land_in_their_own_account(tmp_path: Path) -> None:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    out: dict[str, Any] = {}
    errors: list[BaseException] = []

    with SimThread(SimConfig(coins=("ETH",), seed=44)) as sim:
        fund_test_account(sim, NODE, 100_000)
        for name, (master, agent) in USERS.items():
            fund_test_account(sim, ACCOUNT[name], 10_000)
            _approve(sim.base_url, master, agent)
        settings = ApiSettings(
            database_url=f"sqlite:///{tmp_path}/sidecar.db",
            secrets_key=Fernet.generate_key().decode(),
            secrets_dir=tmp_path / "secrets",
        )
        loaded = load_for_run(node_file(tmp_path, sim.base_url))

        def on_ready(url: str, app: FastAPI) -> None:
            link = app.state.jarvis.link

            def run() -> None:
                try:
                    _scenario(url, keys, app, out)
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    link._loop.call_soon_threadsafe(link._node.stop)

            threading.Thread(target=run, daemon=True).start()

        run_serve(loaded, settings, "127.0.0.1", 0, DEADLINE_SECS * 4, on_ready, verifier)
        positions = {
            "alice": venue_position(sim, ACCOUNT["alice"], "ETH"),
            "bob": venue_position(sim, ACCOUNT["bob"], "ETH"),
            "node": venue_position(sim, NODE, "ETH"),
        }

    assert not errors, errors
    assert out["alice_created"]["account"] == ACCOUNT["alice"]
    assert out["bob_created"]["account"] == ACCOUNT["bob"]
    assert out["carol_created"]["account"] == "node"
    for name in ("alice", "bob", "carol"):
        assert out[f"{name}_start"]["state"] == "running", out[f"{name}_start"]
        assert out[f"{name}_detail"]["position"]["quantity"] == "0.0100", out[f"{name}_detail"]
    assert out["clients"] == sorted(
        ["HYPERLIQUID", f"HL_{ACCOUNT['alice']}", f"HL_{ACCOUNT['bob']}"]
    )
    assert out["again"]["status"] == 409
    assert "one net position per coin per account" in out["again"]["detail"]
    assert out["stop"]["state"] == "stopped"
    assert out["second_start"]["state"] == "running", out["second_start"]
    assert out["second_start"]["node_strategy_id"] != out["alice_start"]["node_strategy_id"]
    assert out["second_detail"]["position"]["quantity"] == "0.0100"
    # Each user's buys are in their own account and nowhere else: alice bought twice.
    assert positions == {"alice": Decimal("0.02"), "bob": Decimal("0.01"), "node": Decimal("0.01")}
