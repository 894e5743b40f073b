"""End to end: the status page of ``jarvis serve`` in a real headless Chromium (the system's,
over the DevTools protocol: ``jarvis.chromium``) on the simulator.

One run, in order: an operator opens ``/`` and enters a token; the page lists the simulator's
instruments with mids near the venue's; alice's strategy fills on the venue and the fill and
position appear on the open page without a reload; a stalled book stream turns that instrument's
feed red and shows the RiskEngine held REDUCING; the page's HALT button halts the node (risk
guard and RiskEngine) and ``jarvis ctl resume`` brings it back, both seen live on the page;
bob's ``/status`` shows none of alice's.
Screenshots of each step go to the test's temporary directory (printed).
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
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
from jarvis.chromium import Chromium
from jarvis.ctl import run_ctl
from jarvis.node import load_for_run
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import sim_admin
from jarvis.testkit import venue_info
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "5f" * 32
ADDRESS = address_from_private_key(KEY).lower()
COINS = ("BTC", "ETH")
ETH = "ETH-USD-PERP.HYPERLIQUID"
REGIME_CONTROLLER = """
[node.controller]
controller_path = "controllers.regime:RegimeController"
config_path = "controllers.regime:RegimeControllerConfig"
[node.controller.config]
"""
DEADLINE_SECS = 85.0

ROWS = """[...document.querySelectorAll('#{table} tr[data-{key}]')]
    .map(r => [...r.cells].map(c => c.textContent))"""
ETH_ROW = f"document.querySelector('#instruments tr[data-instrument=\"{ETH}\"]')"


def node_file(tmp_path: Path, base_url: str) -> Path:
    text = (CONFIG_DIR / "sim_trading.toml").read_text().replace("http://127.0.0.1:3001", base_url)
    text = text.replace('coins = ["BTC", "ETH", "SOL"]', f"coins = {json.dumps(list(COINS))}")
    text = text.replace("leverage = { BTC = 10, ETH = 5, SOL = 3 }", "leverage = { ETH = 5 }")
    text = text.replace('isolated_coins = ["SOL"]', "isolated_coins = []")
    text = text.replace('log_level = "INFO"', 'log_level = "ERROR"')
    text += REGIME_CONTROLLER
    path = tmp_path / "node.toml"
    path.write_text(text)
    tomllib.loads(text)
    return path


def _scenario(
    url: str, sim: SimThread, keys: LocalSigningKey, app: FastAPI, shots: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {"shots": {}}
    op_token = keys.mint("ops-olga", ("trader", "operator"))
    link = app.state.jarvis.link

    def client(subject: str) -> httpx.Client:
        token = keys.mint(subject, ("trader",))
        return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def shot(name: str) -> None:
        out["shots"][name] = browser.screenshot(shots / f"{name}.png")

    def risk_engine_state() -> str:
        return str(link._call(lambda: link._node.kernel.risk_engine.trading_state.name))

    with Chromium() as browser, client("alice") as alice, client("bob") as bob:
        browser.navigate(f"{url}/")
        out["login_shown"] = browser.evaluate("!document.getElementById('login').hidden")
        browser.evaluate(
            "document.getElementById('token').value = 'not-a-jwt';"
            "document.getElementById('token-form').requestSubmit(); true"
        )
        out["bad_token_error"] = browser.wait_for(
            "!document.getElementById('error').hidden && "
            "document.getElementById('error').textContent",
            timeout_secs=15,
        )
        out["bad_token_kept"] = browser.evaluate("sessionStorage.getItem('jarvis.token')")
        browser.evaluate(
            f"document.getElementById('token').value = {json.dumps(op_token)};"
            "document.getElementById('token-form').requestSubmit(); true"
        )
        browser.wait_for(
            "document.body.dataset.link === 'live' && "
            f"[...document.querySelectorAll('#instruments tr[data-instrument]')].length == "
            f"{len(COINS)} && [...document.querySelectorAll('#instruments tr[data-instrument]')]"
            ".every(r => r.cells[1].textContent !== '' && r.dataset.feedHealthy === 'true')",
            timeout_secs=30,
        )
        browser.evaluate("window.__sameDocument = true")
        out["instruments"] = browser.evaluate(ROWS.format(table="instruments", key="instrument"))
        out["venue_mids"] = venue_info(sim, {"type": "allMids"})
        out["venue_coins"] = [u["name"] for u in venue_info(sim, {"type": "meta"})["universe"]]
        out["fills_before"] = browser.evaluate(ROWS.format(table="fills", key="fill"))
        out["token_kept"] = browser.evaluate(
            f"sessionStorage.getItem('jarvis.token') === {json.dumps(op_token)}"
        )
        shot("page")

        plan = alice.post("/intents", json={"text": "buy 0.01 ETH"}).json()
        sid = alice.post("/strategies", json={"plan_id": plan["plan_id"]}).json()["strategy_id"]
        out["start"] = alice.post(f"/strategies/{sid}/start").json()
        browser.wait_for(
            "document.querySelectorAll('#fills tr[data-fill]').length > 0 && "
            "document.querySelectorAll('#positions tr td:not(.empty)').length > 0",
            timeout_secs=45,
        )
        out["fill_rows"] = browser.evaluate(ROWS.format(table="fills", key="fill"))
        out["position_rows"] = browser.evaluate(
            "[...document.querySelectorAll('#positions tr')].map(r => "
            "[...r.cells].map(c => c.textContent))"
        )
        out["same_document"] = browser.evaluate("window.__sameDocument === true")
        out["strategy_rows"] = browser.evaluate(ROWS.format(table="strategies", key="strategy"))
        out["alice_detail"] = alice.get(f"/strategies/{sid}").json()
        out["bob_status"] = bob.get("/status").json()
        shot("fill")

        sim_admin(sim.base_url, "fault/stall", {"channel": "l2Book", "coin": "ETH"})
        browser.wait_for(f"{ETH_ROW}.dataset.feedHealthy === 'false'", timeout_secs=30)
        out["stale_feed_cell"] = browser.evaluate(f"{ETH_ROW}.cells[3].textContent")
        out["stale_engine"] = browser.evaluate("document.body.dataset.riskEngine")
        shot("stale_feed")
        sim_admin(sim.base_url, "fault/clear")
        browser.wait_for(f"{ETH_ROW}.dataset.feedHealthy === 'true'", timeout_secs=30)

        browser.evaluate(
            "document.getElementById('reason').value = 'page e2e';"
            "document.getElementById('halt').click(); true"
        )
        browser.wait_for("document.body.dataset.trading === 'HALTED'", timeout_secs=15)
        out["risk_engine_halted"] = risk_engine_state()
        out["halted_reason"] = browser.evaluate(
            "document.getElementById('trading-reason').textContent"
        )
        shot("halted")
        out["ctl"] = run_ctl("resume", url, op_token, "page e2e done")
        browser.wait_for("document.body.dataset.trading === 'ACTIVE'", timeout_secs=15)
        out["risk_engine_resumed"] = risk_engine_state()
        out["same_document_at_end"] = browser.evaluate("window.__sameDocument === true")
    return out


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    tmp_path = tmp_path_factory.mktemp("status_page")
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    settings = ApiSettings(database_url=f"sqlite:///{tmp_path}/sidecar.db")
    out: dict[str, Any] = {}
    errors: list[BaseException] = []
    with pytest.MonkeyPatch.context() as mp, fresh_rate_limiter():
        mp.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", KEY)
        mp.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
        with SimThread(SimConfig(coins=COINS, seed=44)) as sim:
            fund_test_account(sim, ADDRESS, 100_000)
            loaded = load_for_run(node_file(tmp_path, sim.base_url))

            def on_ready(url: str, app: FastAPI) -> None:
                link = app.state.jarvis.link

                def scenario() -> None:
                    try:
                        out.update(_scenario(url, sim, keys, app, tmp_path / "screenshots"))
                    except BaseException as exc:
                        errors.append(exc)
                    finally:
                        link._loop.call_soon_threadsafe(link._node.stop)

                threading.Thread(target=scenario, daemon=True).start()

            started = time.monotonic()
            run_serve(loaded, settings, "127.0.0.1", 0, DEADLINE_SECS, on_ready, verifier)
            out["secs"] = time.monotonic() - started
    assert not errors, errors
    # Written past pytest's capture, so a passing run's output names the screenshots too.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    assert capture is not None
    with capture.global_and_fixture_disabled():
        for name, path in sorted(out["shots"].items()):
            print(f"\nstatus page screenshot ({name}): {path}", flush=True)
    yield out


def test_the_page_loads_and_lists_the_simulators_instruments(run: dict[str, Any]) -> None:
    assert run["login_shown"] is True
    assert run["bad_token_error"] == "token refused: the bearer token is not a JWT"
    assert run["bad_token_kept"] is None
    assert run["token_kept"] is True
    shown = {row[0]: row for row in run["instruments"]}
    assert sorted(shown) == sorted(f"{coin}-USD-PERP.HYPERLIQUID" for coin in run["venue_coins"])
    for coin in run["venue_coins"]:
        mid = Decimal(shown[f"{coin}-USD-PERP.HYPERLIQUID"][1])
        venue = Decimal(run["venue_mids"][coin])
        assert abs(mid - venue) / venue < Decimal("0.01"), (coin, mid, venue)
        assert shown[f"{coin}-USD-PERP.HYPERLIQUID"][3] == "OK"
    assert run["fills_before"] == []
    assert run["shots"]["page"].stat().st_size > 10_000


def test_a_fill_appears_on_the_open_page_without_a_reload(run: dict[str, Any]) -> None:
    node_id = run["start"]["node_strategy_id"]
    fills = run["alice_detail"]["fills"]
    assert fills, run["alice_detail"]
    shown = {(row[1], row[3], row[4], row[5], row[7]) for row in run["fill_rows"]}
    assert {(f["client_order_id"], f["side"], f["px"], f["qty"], node_id) for f in fills} <= shown
    (position,) = [row for row in run["position_rows"] if row[0] == ETH]
    assert position[1:3] == ["LONG", run["alice_detail"]["position"]["quantity"]]
    assert position[5] == node_id
    assert run["same_document"] is True
    (strategy,) = run["strategy_rows"]
    # sidecar id, owner, node id, coin, state, NautilusTrader's state
    assert strategy[:6] == [
        run["start"]["strategy_id"],
        "alice",
        node_id,
        "ETH",
        "running",
        "RUNNING",
    ]
    assert run["shots"]["fill"].exists()


def test_a_stalled_stream_shows_on_its_instrument(run: dict[str, Any]) -> None:
    assert "l2Book:ETH" in run["stale_feed_cell"]
    assert run["stale_feed_cell"].split()[0] in ("STALE", "RECONNECTING", "GAP")
    assert run["shots"]["stale_feed"].exists()
    # the feed-health gate holds NautilusTrader's RiskEngine REDUCING meanwhile, and says so
    assert run["stale_engine"] == "REDUCING"


def test_the_halt_button_halts_the_node_and_jarvis_ctl_resumes_it(run: dict[str, Any]) -> None:
    assert run["risk_engine_halted"] == "HALTED"
    assert run["halted_reason"] == "page e2e"
    assert run["ctl"] == (0, "trading mode: ACTIVE (page e2e done)")
    assert run["risk_engine_resumed"] == "ACTIVE"
    assert run["same_document_at_end"] is True
    assert run["shots"]["halted"].exists()


def test_another_trader_sees_none_of_alices_strategy(run: dict[str, Any]) -> None:
    node_id = run["start"]["node_strategy_id"]
    bob = run["bob_status"]
    assert bob["operator"] is False
    assert [bob[k] for k in ("strategies", "positions", "orders", "fills")] == [[], [], [], []]
    assert len(bob["instruments"]) == len(run["venue_coins"])
    assert node_id not in json.dumps(bob)
