"""Every fault kind of the admin endpoint has the client-visible effect it promises."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError
from hyperliquid.utils.error import ServerError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from jarvis.cli import main as jarvis_main
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.faults import FaultKind
from simulator.faults import FaultRequestError
from simulator.faults import FaultState


@pytest.fixture
def sim() -> Iterator[SimThread]:
    with SimThread(SimConfig(stepped=True, scenario="quiet", seed=3)) as running:
        running.step(4)
        yield running


def _admin(sim: SimThread, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        sim.base_url + path,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _subscribe(ws: ClientConnection, *subs: dict[str, Any]) -> None:
    for sub in subs:
        ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
    _frames(ws)


def _frames(ws: ClientConnection) -> list[dict[str, Any]]:
    """Everything the server queued for this socket so far (up to the pong of our ping)."""
    ws.send('{"method":"ping"}')
    out: list[dict[str, Any]] = []
    while True:
        text = str(ws.recv(timeout=10))
        if not text.startswith("{"):
            continue
        msg = json.loads(text)
        if msg["channel"] == "pong":
            return out
        out.append(msg)


def _channels(frames: list[dict[str, Any]]) -> list[str]:
    return [f["channel"] for f in frames]


def test_drop_ws_closes_every_socket_and_new_connections_work(sim: SimThread) -> None:
    with connect(sim.ws_url) as a, connect(sim.ws_url) as b:
        _subscribe(a, {"type": "allMids"})
        _subscribe(b, {"type": "allMids"})
        result = _admin(sim, "/admin/fault/drop-ws")
        assert result["dropped"] == 2
        for ws in (a, b):
            with pytest.raises(ConnectionClosed):
                while True:
                    ws.recv(timeout=5)
    with connect(sim.ws_url) as c:
        _subscribe(c, {"type": "allMids"})
        assert _frames(c) == []


def test_stall_silences_one_stream_while_the_socket_and_other_streams_stay_alive(
    sim: SimThread,
) -> None:
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "l2Book", "coin": "BTC"}, {"type": "l2Book", "coin": "ETH"})
        _admin(sim, "/admin/fault/stall", {"channel": "l2Book", "coin": "BTC"})
        sim.step(12)
        coins = [f["data"]["coin"] for f in _frames(ws) if f["channel"] == "l2Book"]
        assert "ETH" in coins
        assert "BTC" not in coins
        _admin(sim, "/admin/fault/clear")
        sim.step(12)
        coins = [f["data"]["coin"] for f in _frames(ws) if f["channel"] == "l2Book"]
        assert "BTC" in coins


def test_stall_with_secs_expires_by_itself(sim: SimThread) -> None:
    stall_secs = 3.0
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "l2Book", "coin": "BTC"})
        started = time.monotonic()
        _admin(sim, "/admin/fault/stall", {"channel": "l2Book", "secs": stall_secs})
        sim.step(12)
        assert "l2Book" not in _channels(_frames(ws))
        # Poll (step, read) until the book stream is back, against a generous deadline.
        deadline = started + stall_secs + 30.0
        back = False
        while not back and time.monotonic() < deadline:
            sim.step(2)
            back = "l2Book" in _channels(_frames(ws))
        assert back, "the stall never expired"
        assert time.monotonic() - started >= stall_secs, "the stall ended early"


def test_delay_slows_http_responses(sim: SimThread) -> None:
    info = Info(sim.base_url, skip_ws=True)
    t0 = time.monotonic()
    info.all_mids()
    fast = time.monotonic() - t0
    # A delay far above a loopback request's cost, so "fast" never races the window.
    _admin(sim, "/admin/fault/delay", {"ms": 2000, "target": "http"})
    t0 = time.monotonic()
    mids = info.all_mids()
    slow = time.monotonic() - t0
    assert "BTC" in mids
    assert slow >= 2.0 > fast


def test_delay_slows_websocket_frames(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "allMids"})
        _admin(sim, "/admin/fault/delay", {"ms": 300, "target": "ws"})
        t0 = time.monotonic()
        ws.send('{"method":"ping"}')
        assert json.loads(ws.recv(timeout=5)) == {"channel": "pong"}
        assert time.monotonic() - t0 >= 0.3


def test_http_error_answers_429_then_5xx_then_recovers(sim: SimThread) -> None:
    info = Info(sim.base_url, skip_ws=True)
    _admin(sim, "/admin/fault/http-error", {"status": 429, "count": 2, "path": "info"})
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            info.all_mids()
        assert caught.value.status_code == 429
    _admin(sim, "/admin/fault/http-error", {"status": 503})
    with pytest.raises(ServerError) as server_error:
        info.all_mids()
    assert server_error.value.status_code == 503
    assert "BTC" in info.all_mids()


def test_skip_drops_the_next_frame_of_a_stream(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "trades", "coin": "BTC"})
        sim.step(40)
        baseline = [f for f in _frames(ws) if f["channel"] == "trades"]
        assert len(baseline) >= 2
        _admin(sim, "/admin/fault/skip", {"channel": "trades", "coin": "BTC", "count": 1})
        sim.step(40)
        after = [f for f in _frames(ws) if f["channel"] == "trades"]
        assert after
        # the first frame after the fault is missing: trade ids jump over the skipped frame
        # compared with a replay of the venue's own record
        recent = Info(sim.base_url, skip_ws=True).post(
            "/info", {"type": "recentTrades", "coin": "BTC"}
        )
        seen = {t["tid"] for f in after for t in f["data"]}
        last_before = max(t["time"] for f in baseline for t in f["data"])
        missing = [t for t in recent if t["time"] > last_before and t["tid"] not in seen]
        assert missing


def test_reorder_delivers_a_frame_after_the_next_one(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "l2Book", "coin": "BTC"})
        _admin(sim, "/admin/fault/reorder", {"channel": "l2Book", "coin": "BTC"})
        sim.step(12)
        times = [f["data"]["time"] for f in _frames(ws) if f["channel"] == "l2Book"]
        assert len(times) >= 2
        assert times[0] > times[1]  # venue time goes backwards once: the swap is visible
        assert times[1:] == sorted(times[1:]) or times[2:] == sorted(times[2:])


def test_pause_market_freezes_books_and_trades_until_resumed(sim: SimThread) -> None:
    info = Info(sim.base_url, skip_ws=True)
    _admin(sim, "/admin/fault/pause-market")
    book_before = info.l2_snapshot("BTC")["levels"]
    trades_before = info.post("/info", {"type": "recentTrades", "coin": "BTC"})
    sim.step(20)
    assert info.l2_snapshot("BTC")["levels"] == book_before
    assert info.post("/info", {"type": "recentTrades", "coin": "BTC"}) == trades_before
    _admin(sim, "/admin/fault/resume-market")
    sim.step(20)
    assert info.l2_snapshot("BTC")["levels"] != book_before


def test_jump_clock_moves_venue_time_and_pays_funding_to_open_positions(sim: SimThread) -> None:
    info = Info(sim.base_url, skip_ws=True)
    before = info.l2_snapshot("BTC")["time"]
    result = _admin(sim, "/admin/fault/jump-clock", {"ms": 2 * 3_600_000})
    assert result["time"] >= before + 2 * 3_600_000
    history = info.funding_history("BTC", 0)
    assert history, "an hour boundary passed: the venue records a funding rate"
    assert info.l2_snapshot("BTC")["time"] >= before + 2 * 3_600_000


def test_admin_rejects_unknown_fault_and_missing_parameters(sim: SimThread) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/admin/fault/explode", {}),
        ("/admin/fault/stall", {}),
    ]
    for path, body in cases:
        with pytest.raises(urllib.error.HTTPError) as caught:
            _admin(sim, path, body)
        assert caught.value.code == 400


def test_sim_fault_command_line_drops_sockets(sim: SimThread, capsys: Any) -> None:
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "allMids"})
        assert jarvis_main(["sim-fault", "--url", sim.base_url, "drop-ws"]) == 0
        assert json.loads(capsys.readouterr().out)["dropped"] == 1
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=5)
    assert jarvis_main(["sim-fault", "--url", sim.base_url, "state"]) == 0
    assert json.loads(capsys.readouterr().out)["manual"] is True


def test_fault_state_counts_down_and_clears() -> None:
    state = FaultState(monotonic=lambda: 0.0)
    state.apply(FaultKind.SKIP, {"channel": "trades", "count": 2})
    assert state.take_skip("trades", "BTC")
    assert not state.take_skip("l2Book", "BTC")
    assert state.take_skip("trades", "ETH")
    assert not state.take_skip("trades", "BTC")
    state.apply(FaultKind.HTTP_ERROR, {"status": 500, "path": "exchange"})
    assert state.take_http_error("info") is None
    assert state.take_http_error("exchange") == 500
    state.apply(FaultKind.PAUSE_MARKET, {})
    state.clear()
    assert not state.market_paused
    with pytest.raises(FaultRequestError):
        state.apply(FaultKind.HTTP_ERROR, {"status": 418})
