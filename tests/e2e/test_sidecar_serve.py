"""End to end: ``jarvis serve`` (node + sidecar in one process) on the simulator. Over HTTP an
intent becomes a plan, the plan a strategy started through the regime controller; it fills on
the venue; the fill arrives on the user's SSE stream; the status shows it; stop stops it; an
operator HALTs the node (risk guard and RiskEngine) and RESUMEs it; another user sees
none of it; /health turns not-ready while a stream is stalled."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.hyperliquid.signing import address_from_private_key
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.serve import run_serve
from api.settings import ApiSettings
from config.loading import CONFIG_DIR
from jarvis.node import load_for_run
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import post_signed_action
from jarvis.testkit import sim_admin
from jarvis.testkit import sim_mid
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import venue_position
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "5e" * 32
ADDRESS = address_from_private_key(KEY).lower()
REGIME_CONTROLLER = """
[node.controller]
controller_path = "controllers.regime:RegimeController"
config_path = "controllers.regime:RegimeControllerConfig"
[node.controller.config]
"""
DEADLINE_SECS = 90.0


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", KEY)
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    with fresh_rate_limiter():
        yield


def node_file(tmp_path: Path, base_url: str) -> Path:
    text = (CONFIG_DIR / "sim_trading.toml").read_text().replace("http://127.0.0.1:3001", base_url)
    text = text.replace('coins = ["BTC", "ETH", "SOL"]', 'coins = ["ETH"]')
    text = text.replace("leverage = { BTC = 10, ETH = 5, SOL = 3 }", "leverage = { ETH = 5 }")
    text = text.replace('isolated_coins = ["SOL"]', "isolated_coins = []")
    text = text.replace('log_level = "INFO"', 'log_level = "ERROR"')
    text += REGIME_CONTROLLER
    path = tmp_path / "node.toml"
    path.write_text(text)
    tomllib.loads(text)
    return path


def _manual_order(sim: SimThread, px: Decimal) -> int:
    """A resting ETH buy placed at the venue outside the node (the trader's own), its oid."""
    universe = venue_info(sim, {"type": "meta"})["universe"]
    asset = next(i for i, a in enumerate(universe) if a["name"] == "ETH")
    order = {"a": asset, "b": True, "p": str(px), "s": "0.02", "r": False,
             "t": {"limit": {"tif": "Gtc"}}}  # fmt: skip
    action = {"type": "order", "orders": [order], "grouping": "na"}
    answer = post_signed_action(sim.base_url, KEY, action, nonce_offset_ms=-3_000)
    return int(answer["response"]["data"]["statuses"][0]["resting"]["oid"])


def _until(check: Callable[[], bool], deadline: float) -> bool:
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _scenario(
    url: str, sim: SimThread, keys: LocalSigningKey, app: FastAPI, out: dict[str, Any]
) -> None:
    def client(subject: str, roles: tuple[str, ...] = ("trader",)) -> httpx.Client:
        token = keys.mint(subject, roles)
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    with client("alice") as alice, client("bob") as bob, client("op", ("operator",)) as op:
        plan = alice.post("/intents", json={"text": "buy 0.01 ETH"})
        out["plan"] = plan.json()
        created = alice.post("/strategies", json={"plan_id": plan.json()["plan_id"]}).json()
        sid = created["strategy_id"]
        out["start"] = alice.post(f"/strategies/{sid}/start").json()
        frames: list[str] = []
        deadline = time.monotonic() + DEADLINE_SECS
        with alice.stream("GET", "/events/stream", headers={"Last-Event-ID": "0"}) as stream:
            for line in stream.iter_lines():
                frames.append(line)
                if line == "event: fill" or time.monotonic() > deadline:
                    break
        out["frames"] = frames
        detail: dict[str, Any] = {}
        while time.monotonic() < deadline:
            detail = alice.get(f"/strategies/{sid}").json()
            if detail.get("position") is not None:
                break
            time.sleep(0.2)
        out["detail"] = detail
        out["bob_detail"] = bob.get(f"/strategies/{sid}").status_code
        out["bob_list"] = bob.get("/strategies").json()
        out["health"] = httpx.get(f"{url}/health", timeout=30).json()
        sim_admin(sim.base_url, "fault/stall", {"channel": "l2Book", "coin": "ETH"})
        stalled: dict[str, Any] = {}
        while time.monotonic() < deadline + 30:
            answer = httpx.get(f"{url}/health", timeout=30)
            stalled = {"status": answer.status_code, **answer.json()}
            if not stalled["feed_healthy"]:
                break
            time.sleep(0.2)
        out["stalled_health"] = stalled
        sim_admin(sim.base_url, "fault/clear")
        out["stop"] = alice.post(f"/strategies/{sid}/stop").json()
        link = app.state.jarvis.link
        node_sid = out["start"]["node_strategy_id"]

        def node_state() -> str:
            (strategy,) = [s for s in link._node.trader.strategies() if s.id.value == node_sid]
            return str(strategy.state.name)

        out["stopped_state"] = link._call(node_state)
        out["restart"] = alice.post(f"/strategies/{sid}/start").json()
        out["restarted_state"] = link._call(node_state)
        out["stop_again"] = alice.post(f"/strategies/{sid}/stop").json()
        out["stopped_again_state"] = link._call(node_state)
        # Cancelling a strategy cancels its own orders, not the trader's own on the same coin.
        mid = Decimal(str(sim_mid(sim, "ETH")))
        manual_oid = _manual_order(sim, (mid * Decimal("0.7")).quantize(Decimal(1)))
        limit = alice.post(
            "/intents", json={"text": f"buy 0.01 ETH at {(mid * Decimal('0.8')).quantize(1)}"}
        ).json()
        limit_sid = alice.post("/strategies", json={"plan_id": limit["plan_id"]}).json()[
            "strategy_id"
        ]
        alice.post(f"/strategies/{limit_sid}/start")

        def resting() -> list[int]:
            return sorted(int(o["oid"]) for o in venue_open_orders(sim, ADDRESS))

        out["both_resting"] = _until(lambda: len(resting()) == 2, deadline)
        strategy_oids = set(resting()) - {manual_oid}
        out["limit_cancel"] = alice.post(
            f"/strategies/{limit_sid}/cancel", json={"close": False}
        ).json()
        out["limit_gone"] = _until(lambda: not strategy_oids & set(resting()), deadline)
        # A cancel of every order on the coin goes out as one action with every resting oid in
        # it: had it been sent, the manual order would be gone now too.
        out["resting_after_cancel"] = resting()
        out["manual_oid"] = manual_oid
        out["halt"] = op.post("/control", json={"mode": "HALT", "reason": "e2e check"}).json()
        out["control"] = alice.get("/control").json()
        out["risk_engine"] = link._call(lambda: link._node.kernel.risk_engine.trading_state.name)
        out["trader_halt"] = alice.post(
            "/control", json={"mode": "RESUME", "reason": "not mine"}
        ).status_code
        out["resume"] = op.post("/control", json={"mode": "RESUME", "reason": "e2e done"}).json()
        out["risk_engine_after"] = link._call(
            lambda: link._node.kernel.risk_engine.trading_state.name
        )


def test_intent_to_fill_to_sse_to_stop_through_the_sidecar(tmp_path: Path) -> None:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    settings = ApiSettings(database_url=f"sqlite:///{tmp_path}/sidecar.db")
    out: dict[str, Any] = {}
    errors: list[BaseException] = []

    with SimThread(SimConfig(coins=("ETH",), seed=43)) as sim:
        fund_test_account(sim, ADDRESS, 100_000)
        loaded = load_for_run(node_file(tmp_path, sim.base_url))

        def on_ready(url: str, app: FastAPI) -> None:
            node_loop = app.state.jarvis.link._loop
            node = app.state.jarvis.link._node

            def run() -> None:
                try:
                    _scenario(url, sim, keys, app, out)
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    node_loop.call_soon_threadsafe(node.stop)

            threading.Thread(target=run, daemon=True).start()

        run_serve(loaded, settings, "127.0.0.1", 0, DEADLINE_SECS * 2, on_ready, verifier)
        position = venue_position(sim, ADDRESS, "ETH")

    assert not errors, errors
    assert out["plan"]["template"] == "DirectBuy"
    assert out["start"]["state"] == "running"
    assert out["start"]["node_strategy_id"].startswith("DirectBuy-")
    assert "event: fill" in out["frames"]
    detail = out["detail"]
    assert detail["position"]["quantity"] == "0.0100"
    assert detail["regime_gate"].startswith("enabled (ENABLE: "), detail["regime_gate"]
    assert len(detail["fills"]) >= 1
    assert Decimal(detail["fees_usd"].split()[0]) > 0
    assert Decimal(detail["budget_used_usd"]) > 0
    assert out["bob_detail"] == 404
    assert out["bob_list"] == []
    assert out["health"] == {
        "alive": True,
        "ready": True,
        "node_connected": True,
        "feed_healthy": True,
        "database_reachable": True,
    }
    assert out["stalled_health"]["status"] == 503
    assert out["stalled_health"]["feed_healthy"] is False
    assert out["stalled_health"]["ready"] is False
    assert out["stop"]["state"] == "stopped"
    assert out["stopped_state"] == "STOPPED"
    # Started again after a stop, it runs again (and, sent once, does not buy a second time).
    assert out["restart"]["state"] == "running"
    assert out["restarted_state"] == "RUNNING"
    assert out["stop_again"]["state"] == "stopped"
    assert out["stopped_again_state"] == "STOPPED"
    assert out["both_resting"], "the strategy's limit and the manual order both resting"
    assert out["limit_cancel"]["state"] == "cancelled"
    assert out["limit_gone"]
    assert out["resting_after_cancel"] == [out["manual_oid"]]
    assert out["halt"]["mode"] == "HALTED"
    assert out["control"] == {"mode": "HALTED", "reason": "e2e check", "node_connected": True}
    assert out["risk_engine"] == "HALTED"
    assert out["trader_halt"] == 403
    assert out["resume"]["mode"] == "ACTIVE"
    assert out["risk_engine_after"] == "ACTIVE"
    assert position == Decimal("0.01")


def _serve_session(
    loaded: Any, settings: ApiSettings, keys: LocalSigningKey, body: Callable[[httpx.Client], None]
) -> list[BaseException]:
    """One ``jarvis serve`` run: ``body`` with alice's client, then the node stops gracefully."""
    errors: list[BaseException] = []
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())

    def on_ready(url: str, app: FastAPI) -> None:
        node_loop = app.state.jarvis.link._loop
        node = app.state.jarvis.link._node

        def run() -> None:
            token = keys.mint("alice", ("trader",))
            try:
                with httpx.Client(
                    base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
                ) as alice:
                    body(alice)
            except BaseException as exc:
                errors.append(exc)
            finally:
                node_loop.call_soon_threadsafe(node.stop)

        threading.Thread(target=run, daemon=True).start()

    with fresh_rate_limiter():
        run_serve(loaded, settings, "127.0.0.1", 0, DEADLINE_SECS, on_ready, verifier)
    return errors


def test_a_restarted_serve_stops_the_strategies_it_no_longer_runs_and_says_why(
    tmp_path: Path,
) -> None:
    """The node is in this process and adds no strategy again after a restart, so a strategy
    that was running is stopped at start-up with the reason, and starting it again is refused
    (its node strategy is gone) rather than answered "running" while nothing runs."""
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    settings = ApiSettings(database_url=f"sqlite:///{tmp_path}/sidecar.db")
    out: dict[str, Any] = {}

    with SimThread(SimConfig(coins=("ETH",), seed=44)) as sim:
        fund_test_account(sim, ADDRESS, 100_000)
        loaded = load_for_run(node_file(tmp_path, sim.base_url))
        price = (Decimal(str(sim_mid(sim, "ETH"))) * Decimal("0.8")).quantize(Decimal(1))

        def first(alice: httpx.Client) -> None:
            plan = alice.post("/intents", json={"text": f"buy 0.01 ETH at {price}"}).json()
            sid = alice.post("/strategies", json={"plan_id": plan["plan_id"]}).json()["strategy_id"]
            out["sid"] = sid
            out["start"] = alice.post(f"/strategies/{sid}/start").json()
            out["resting"] = _until(
                lambda: bool(venue_open_orders(sim, ADDRESS)), time.monotonic() + 30
            )

        out["first_errors"] = _serve_session(loaded, settings, keys, first)
        out["venue_after_first"] = venue_open_orders(sim, ADDRESS)

        def second(alice: httpx.Client) -> None:
            sid = out["sid"]
            out["detail"] = alice.get(f"/strategies/{sid}").json()
            started = alice.post(f"/strategies/{sid}/start")
            out["start_again"] = (started.status_code, started.json())
            reasons: list[str] = []
            deadline = time.monotonic() + 10
            with alice.stream("GET", "/events/stream", headers={"Last-Event-ID": "0"}) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:") and "started again" in line:
                        reasons.append(line)
                        break
                    if time.monotonic() > deadline:
                        break
            out["events"] = reasons
            out["venue_after_start_again"] = venue_open_orders(sim, ADDRESS)

        out["second_errors"] = _serve_session(loaded, settings, keys, second)

    assert out["first_errors"] == [] and out["second_errors"] == []
    assert out["start"]["state"] == "running"
    assert out["resting"]  # the limit buy rested at the venue
    assert out["venue_after_first"] == []  # the graceful stop cancelled it
    assert out["detail"]["state"] == "stopped"
    assert out["detail"]["orders"] == []  # nothing of it on the new node
    status, body = out["start_again"]
    assert status == 409
    assert "the node started again" in body["detail"]
    assert "Create a new strategy from the plan" in body["detail"]
    assert len(out["events"]) == 1  # the owner was told, with the reason
    assert out["venue_after_start_again"] == []  # and nothing was placed again
