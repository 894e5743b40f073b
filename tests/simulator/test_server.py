"""Transport of the simulator: HTTP endpoints, WebSocket protocol, clock, CLI and Python API."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import post_signed_action
from jarvis.testkit import venue_position
from simulator.app import SimConfig
from simulator.app import SimServer
from simulator.app import SimThread
from simulator.clock import DEFAULT_MANUAL_START_MS
from simulator.clock import SimClock
from simulator.latency import MAINNET_LIKE
from simulator.market import valid_px

REPO = Path(__file__).resolve().parents[2]
USER = "0x" + "1f" * 20


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(SimConfig(stepped=True, seed=5)) as running:
        running.step(4)
        yield running


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _send(ws: ClientConnection, msg: dict[str, Any]) -> None:
    ws.send(json.dumps(msg))


def _frames(ws: ClientConnection) -> list[Any]:
    """Frames queued so far (a ping's pong marks the end); non-JSON texts kept as strings."""
    ws.send('{"method":"ping"}')
    out: list[Any] = []
    while True:
        text = str(ws.recv(timeout=10))
        if text == '{"channel":"pong"}':
            return out
        out.append(json.loads(text) if text.startswith("{") else text)


# --- HTTP ------------------------------------------------------------------------------------


def test_info_answers_compact_json(sim: SimThread) -> None:
    status, text = _post(sim.base_url + "/info", b'{"type": "meta"}')
    assert status == 200
    assert " " not in text
    assert [a["name"] for a in json.loads(text)["universe"]] == ["BTC", "ETH", "SOL"]


def test_malformed_bodies_get_http_422_with_plain_text(sim: SimThread) -> None:
    for path in ("/info", "/exchange"):
        status, text = _post(sim.base_url + path, b"{not json")
        assert status == 422
        assert text.startswith("Failed to deserialize")


def test_admin_fund_credits_perp_usdc(sim: SimThread) -> None:
    status, _ = _post(
        sim.base_url + "/admin/fund", json.dumps({"user": USER, "usdc": 1234.5}).encode()
    )
    assert status == 200
    _, text = _post(
        sim.base_url + "/info", json.dumps({"type": "clearinghouseState", "user": USER}).encode()
    )
    assert float(json.loads(text)["marginSummary"]["accountValue"]) == 1234.5


# --- WebSocket protocol ----------------------------------------------------------------------


def test_socket_greets_then_acks_subscriptions_with_server_defaults(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        assert ws.recv(timeout=5) == "Websocket connection established."
        _send(ws, {"method": "subscribe", "subscription": {"type": "userFills", "user": USER}})
        frames = _frames(ws)
        assert frames[0] == {
            "channel": "subscriptionResponse",
            "data": {
                "method": "subscribe",
                "subscription": {"type": "userFills", "user": USER, "aggregateByTime": False},
            },
        }
        assert frames[1]["channel"] == "userFills"
        assert frames[1]["data"]["isSnapshot"] is True
        assert frames[1]["data"]["user"] == USER


def test_unsubscribe_is_acked_and_a_second_one_is_an_error(sim: SimThread) -> None:
    sub = {"type": "trades", "coin": "ETH"}
    with connect(sim.ws_url) as ws:
        _send(ws, {"method": "subscribe", "subscription": sub})
        _frames(ws)
        _send(ws, {"method": "unsubscribe", "subscription": sub})
        _send(ws, {"method": "unsubscribe", "subscription": sub})
        frames = [f for f in _frames(ws) if isinstance(f, dict)]
        assert frames[0] == {
            "channel": "subscriptionResponse",
            "data": {"method": "unsubscribe", "subscription": sub},
        }
        assert frames[1] == {
            "channel": "error",
            "data": 'Already unsubscribed: {"type":"trades","coin":"ETH"}',
        }
        sim.step(20)
        assert not [f for f in _frames(ws) if isinstance(f, dict) and f["channel"] == "trades"]


def test_ping_is_answered_with_pong(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        ws.recv(timeout=5)
        ws.send('{"method":"ping"}')
        assert ws.recv(timeout=5) == '{"channel":"pong"}'


def test_subscribing_to_an_unknown_coin_drops_the_socket(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _send(ws, {"method": "subscribe", "subscription": {"type": "trades", "coin": "NOPE"}})
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=5)


def test_l2book_fast_has_five_levels_and_normal_books_twenty(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _send(ws, {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
        _send(
            ws,
            {
                "method": "subscribe",
                "subscription": {"type": "l2Book", "coin": "ETH", "fast": True},
            },
        )
        books = {
            f["data"]["coin"]: f["data"]
            for f in _frames(ws)
            if isinstance(f, dict) and f["channel"] == "l2Book"
        }
    assert books["ETH"]["fast"] is True
    assert all(len(side) == 5 for side in books["ETH"]["levels"])
    assert "fast" not in books["BTC"]
    assert all(10 <= len(side) <= 20 for side in books["BTC"]["levels"])


def test_l2book_pushes_are_at_least_half_a_second_of_venue_time_apart(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _send(ws, {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "BTC"}})
        _frames(ws)
        sim.step(40)  # 10 s of venue time in 250 ms steps
        times = [
            f["data"]["time"]
            for f in _frames(ws)
            if isinstance(f, dict) and f["channel"] == "l2Book"
        ]
    assert len(times) >= 5
    assert all(b - a >= 500 for a, b in itertools.pairwise(times))


def test_post_requests_echo_their_id(sim: SimThread) -> None:
    with connect(sim.ws_url) as ws:
        _send(
            ws,
            {
                "method": "post",
                "id": 41,
                "request": {"type": "info", "payload": {"type": "allMids"}},
            },
        )
        _send(
            ws,
            {
                "method": "post",
                "id": 42,
                "request": {
                    "type": "action",
                    "payload": {
                        "action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]},
                        "nonce": 1,
                        "signature": {"r": "0x1", "s": "0x1", "v": 27},
                        "vaultAddress": None,
                    },
                },
            },
        )
        posts = {
            f["data"]["id"]: f["data"]["response"]
            for f in _frames(ws)
            if isinstance(f, dict) and f["channel"] == "post"
        }
    assert posts[41]["type"] == "info"
    assert posts[41]["payload"]["type"] == "allMids"
    assert "BTC" in posts[41]["payload"]["data"]
    assert posts[42]["type"] == "action"
    assert posts[42]["payload"]["status"] == "err"


def test_silent_socket_is_closed_after_the_idle_timeout_but_a_pinging_one_stays() -> None:
    idle_secs = 1.5
    config = SimConfig(stepped=True, idle_timeout_secs=idle_secs)
    with SimThread(config) as sim:
        # Taken before the silent socket opens: its idle window starts when the server accepts
        # it, so this is a true lower bound for when it may be closed.
        started = time.monotonic()
        with connect(sim.ws_url) as silent, connect(sim.ws_url) as chatty:
            _silent_socket_is_closed_and_chatty_one_stays(silent, chatty, started, idle_secs)


def _silent_socket_is_closed_and_chatty_one_stays(
    silent: Any, chatty: Any, started: float, idle_secs: float
) -> None:
    deadline = started + idle_secs + 30.0
    silent_closed = False
    # Keep the chatty socket busy (a ping every ~0.1 s, far inside the idle window) and
    # poll the silent one until the server closes it.
    while not silent_closed and time.monotonic() < deadline:
        chatty.send('{"method":"ping"}')
        try:
            silent.recv(timeout=0.1)
        except TimeoutError:
            continue
        except ConnectionClosed:
            silent_closed = True
    assert silent_closed, "the silent socket was never closed"
    assert time.monotonic() - started >= idle_secs, "closed before the idle timeout"
    chatty.send('{"method":"ping"}')
    texts = [chatty.recv(timeout=5) for _ in range(3)]
    assert '{"channel":"pong"}' in texts


# --- clock -----------------------------------------------------------------------------------


def test_manual_clock_moves_only_when_advanced() -> None:
    clock = SimClock(manual=True)
    assert clock.now_ms() == DEFAULT_MANUAL_START_MS
    assert clock.advance(250) == DEFAULT_MANUAL_START_MS + 250
    assert clock.now_ms() == DEFAULT_MANUAL_START_MS + 250
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_accelerated_clock_runs_speed_times_faster_and_jumps() -> None:
    wall = [100.0]
    clock = SimClock(start_ms=1_000, speed=60.0, monotonic=lambda: wall[0])
    wall[0] += 2.0
    assert clock.now_ms() == 1_000 + 120_000
    assert clock.jump(3_600_000) == 1_000 + 120_000 + 3_600_000
    assert clock.wall_delay_s(600) == pytest.approx(0.01)


# --- Python API and CLI ----------------------------------------------------------------------


async def test_sim_server_is_an_async_context_manager_on_a_free_port() -> None:
    async with SimServer(SimConfig(port=0, speed=20.0)) as server:
        assert server.port != 0
        async with aiohttp.ClientSession() as session:
            async with session.post(server.base_url + "/info", json={"type": "allMids"}) as r:
                mids = await r.json()
            async with session.ws_connect(server.ws_url) as ws:
                assert (await ws.receive_str()) == "Websocket connection established."
                await ws.send_str(
                    '{"method":"subscribe","subscription":{"type":"trades","coin":"BTC"}}'
                )
                channels: set[str] = set()
                deadline = time.monotonic() + 5
                while "trades" not in channels or len(channels) < 2:
                    assert time.monotonic() < deadline
                    channels.add(json.loads(await ws.receive_str(timeout=5))["channel"])
    assert set(mids) >= {"BTC", "ETH", "SOL"}


def test_jarvis_sim_command_serves_the_venue() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jarvis.cli",
            "sim",
            "--port",
            "0",
            "--scenario",
            "trend",
            "--seed",
            "9",
            "--coins",
            "BTC,ETH",
            "--speed",
            "5",
            "--latency",
            "mainnet-like",
            "--schedule-cancel-min-volume-usd",
            "5000",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "scenario=trend" in line and "seed=9" in line
        base_url = line.split()[2]
        status, text = _post(base_url + "/info", b'{"type":"meta"}')
        assert status == 200
        assert [a["name"] for a in json.loads(text)["universe"]] == ["BTC", "ETH"]
        assert "latency=mainnet-like" in line
        with urllib.request.urlopen(base_url + "/admin/state", timeout=10) as response:
            state = json.loads(response.read())
        assert state["latency"] == dataclasses.asdict(MAINNET_LIKE)
        assert state["scheduleCancelMinVolumeUsd"] == 5000.0
    finally:
        proc.terminate()
        proc.wait(10)


def test_admin_fund_gives_volume_and_refuses_a_negative_one() -> None:
    user = "0x" + "5d" * 20
    with SimThread(SimConfig(stepped=True, market=False)) as sim:
        body = {"user": user, "usdc": 5, "volumeUsd": 2500.5}
        ok = _post(sim.base_url + "/admin/fund", json.dumps(body).encode())
        body["volumeUsd"] = -1
        refused = _post(sim.base_url + "/admin/fund", json.dumps(body).encode())
        query = {"type": "userRateLimit", "user": user}
        limits = _post(sim.base_url + "/info", json.dumps(query).encode())
    assert ok == (200, '{"status": "ok"}')
    assert refused[0] == 400
    assert json.loads(limits[1])["cumVlm"] == "2500.5"


def test_sim_config_refuses_a_negative_volume_gate_naming_the_field() -> None:
    with pytest.raises(ValueError, match="schedule_cancel_min_volume_usd"):
        SimConfig(schedule_cancel_min_volume_usd=-5.0)


# --- market shaping (tests trigger invalidations on purpose) ---------------------------------


def _admin(sim: SimThread, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    status, text = _post(f"{sim.base_url}/admin/{path}", json.dumps(body).encode())
    return status, json.loads(text)


def _ctx(sim: SimThread, coin: str) -> dict[str, Any]:
    assert sim.server is not None
    engine = sim.server.venue.engine
    return sim.call(lambda: engine.asset_ctx(coin))


def _side_usd(sim: SimThread, coin: str, side: int) -> float:
    assert sim.server is not None
    engine = sim.server.venue.engine
    levels = sim.call(lambda: engine.l2_book(coin))["levels"][side]
    return sum(float(x["px"]) * float(x["sz"]) for x in levels)


def test_book_shape_thins_one_side_and_restores_it() -> None:
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.step(4)
        bids, asks = _side_usd(sim, "BTC", 0), _side_usd(sim, "BTC", 1)
        status, answer = _admin(sim, "book-shape", {"coin": "BTC", "bidMult": 0.2})
        thin_bids, same_asks = _side_usd(sim, "BTC", 0), _side_usd(sim, "BTC", 1)
        sim.step(2)
        still_thin = _side_usd(sim, "BTC", 0)
        _admin(sim, "book-shape", {"coin": "BTC", "bidMult": 1, "askMult": 1})
        restored = _side_usd(sim, "BTC", 0)
    assert (status, answer["status"]) == (200, "ok")
    assert thin_bids < bids * 0.3 and still_thin < bids * 0.3
    assert same_asks == pytest.approx(asks, rel=0.05)
    assert restored > bids * 0.8  # takers eat into the levels step by step: not exact


def test_open_interest_moves_by_trades_inside_the_spread() -> None:
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.step(4)
        oi = float(_ctx(sim, "BTC")["openInterest"])
        mid = float(_ctx(sim, "BTC")["midPx"])
        _, up = _admin(sim, "open-interest", {"coin": "BTC", "deltaUsd": 2_000_000})
        after_up = float(_ctx(sim, "BTC")["openInterest"])
        mid_up = float(_ctx(sim, "BTC")["midPx"])
        _, down = _admin(sim, "open-interest", {"coin": "BTC", "deltaUsd": -1_000_000})
        after_down = float(_ctx(sim, "BTC")["openInterest"])
    assert float(up["openInterest"]) == after_up
    assert after_up - oi == pytest.approx(2_000_000 / mid, rel=0.01)
    assert after_down - oi == pytest.approx(1_000_000 / mid, rel=0.02)
    assert float(down["openInterest"]) == after_down
    assert mid_up == pytest.approx(mid, rel=0.001)  # no maker quote was taken


def test_funding_is_forced_then_back_to_the_premium_rule() -> None:
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.step(4)
        natural = _ctx(sim, "BTC")["funding"]
        status, _ = _admin(sim, "funding", {"coin": "BTC", "rate": 0.0001})
        forced = _ctx(sim, "BTC")["funding"]
        _admin(sim, "funding", {"coin": "BTC", "rate": None})
        cleared = _ctx(sim, "BTC")["funding"]
    assert status == 200
    assert float(forced) == 0.0001
    assert cleared == natural


def _holder_fills(sim: SimThread, coin: str) -> dict[str, list[tuple[str, bool]]]:
    """(side, crossed) of each passive holder's fills, newest first, by "long"/"short"."""
    assert sim.server is not None and sim.server.venue.market is not None
    market = sim.server.venue.market
    engine = sim.server.venue.engine
    out = {}
    for name, user in zip(("long", "short"), market.holders[coin], strict=True):
        body = {"type": "userFills", "user": user}
        fills: list[dict[str, Any]] = sim.call(functools.partial(engine.info, body, 0))
        out[name] = [(f["side"], f["crossed"]) for f in fills]
    return out


def test_open_interest_with_an_aggressor_makes_the_flow_one_sided() -> None:
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.step(4)
        oi = float(_ctx(sim, "BTC")["openInterest"])
        mid = float(_ctx(sim, "BTC")["midPx"])
        status, down = _admin(
            sim, "open-interest", {"coin": "BTC", "deltaUsd": -500_000, "aggressor": "sell"}
        )
        sold = _holder_fills(sim, "BTC")
        _admin(sim, "open-interest", {"coin": "BTC", "deltaUsd": 500_000, "aggressor": "buy"})
        bought = _holder_fills(sim, "BTC")
        _admin(sim, "open-interest", {"coin": "BTC", "deltaUsd": -500_000})
        balanced = _holder_fills(sim, "BTC")
    assert status == 200
    assert oi - float(down["openInterest"]) == pytest.approx(500_000 / mid, rel=0.02)
    # Closing with the seller aggressing: the long sells and takes both times ("A", crossed).
    assert sold["long"][:2] == [("A", True), ("A", True)]
    assert sold["short"][:2] == [("B", False), ("B", False)]
    # Opening with the buyer aggressing: the long buys and takes both times.
    assert bought["long"][:2] == [("B", True), ("B", True)]
    assert bought["short"][:2] == [("A", False), ("A", False)]
    # Without an aggressor each side takes once: no one-sided flow.
    assert sorted(balanced["long"][:2]) == [("A", False), ("A", True)]


def _px(px: float) -> str:
    """A valid BTC wire price (five significant figures, no trailing zeros)."""
    rounded = valid_px(px, 5)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)


def test_mark_moves_the_price_with_the_book_and_the_walk_carries_on_from_there() -> None:
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.step(4)
        mark = float(_ctx(sim, "BTC")["markPx"])
        status, answer = _admin(sim, "mark", {"coin": "BTC", "moveBps": 200})
        moved = _ctx(sim, "BTC")
        sim.step(2)
        later = float(_ctx(sim, "BTC")["midPx"])
        _, to_px = _admin(sim, "mark", {"coin": "BTC", "px": 70_000})
    assert (status, answer["status"], answer["book"]) == (200, "ok", True)
    assert answer["mark"] == pytest.approx(mark * 1.02, rel=2e-4)
    assert answer["mid"] == pytest.approx(mark * 1.02, rel=2e-4)  # the book moved with it
    assert float(moved["markPx"]) == answer["mark"]
    assert float(moved["midPx"]) == pytest.approx(answer["mid"], rel=1e-6)
    assert later == pytest.approx(mark * 1.02, rel=2e-3)  # not pulled back to the old price
    assert to_px["mid"] == pytest.approx(70_000, rel=2e-4)


def test_mark_alone_fires_a_resting_stop_and_leaves_the_book_where_it_was() -> None:
    key = "0x" + "3c" * 32
    user = address_from_private_key(key).lower()
    with SimThread(SimConfig(stepped=True, seed=5, coins=("BTC",))) as sim:
        sim.fund(user, 100_000)
        sim.step(4)
        mid = float(_ctx(sim, "BTC")["midPx"])
        buy = {"a": 0, "b": True, "p": _px(mid * 1.01), "s": "0.01", "r": False}
        buy["t"] = {"limit": {"tif": "Ioc"}}
        stop = {"a": 0, "b": False, "p": _px(mid * 0.95), "s": "0.01", "r": True}
        stop["t"] = {"trigger": {"isMarket": True, "triggerPx": _px(mid * 0.99), "tpsl": "sl"}}
        assert sim.server is not None
        clock = sim.server.venue.clock
        # Nonces near the manual clock's venue time, not the wall clock's.
        offset = sim.call(clock.now_ms) - time.time_ns() // 1_000_000
        for i, wire in enumerate((buy, stop)):
            answer = post_signed_action(
                sim.base_url, key, {"type": "order", "orders": [wire], "grouping": "na"}, offset + i
            )
            assert answer["status"] == "ok", answer
        held = venue_position(sim, user, "BTC")
        status, above = _admin(sim, "mark", {"coin": "BTC", "px": mid * 0.995, "book": False})
        still_held = venue_position(sim, user, "BTC")
        _, below = _admin(sim, "mark", {"coin": "BTC", "px": mid * 0.985, "book": False})
        flat = venue_position(sim, user, "BTC")
        book_mid = float(_ctx(sim, "BTC")["midPx"])
        sim.step(1)
        next_mark = float(_ctx(sim, "BTC")["markPx"])
    assert status == 200 and above["book"] is False
    assert held == still_held == Decimal("0.01")  # the mark above the stop: nothing fired
    assert below["mark"] == pytest.approx(mid * 0.985, rel=1e-4)
    assert flat == 0  # the mark through the stop fired it, on this call
    assert below["mid"] == pytest.approx(mid, rel=5e-4) and book_mid == below["mid"]
    assert next_mark == pytest.approx(mid, rel=2e-3)  # the next step takes it from the book


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("mark", {"coin": "BTC"}, "give exactly one of px and moveBps"),
        ("mark", {"coin": "BTC", "px": 1, "moveBps": 1}, "give exactly one of px and moveBps"),
        ("mark", {"coin": "BTC", "px": -5}, "px must be a number > 0"),
        ("mark", {"coin": "BTC", "moveBps": "up"}, "moveBps must be a number"),
        ("mark", {"coin": "BTC", "moveBps": 9_000}, "moveBps must be a number in"),
        ("mark", {"coin": "BTC", "px": 1, "book": "no"}, "book must be true or false"),
        ("mark", {"coin": "DOGEX", "px": 1}, "coin must be one of"),
        ("open-interest", {"coin": "BTC", "deltaUsd": -1_000, "aggressor": "up"}, "aggressor"),
        ("book-shape", {"coin": "DOGEX", "bidMult": 0.5}, "coin must be one of"),
        ("book-shape", {"coin": "BTC", "bidMult": -1}, "bidMult and askMult"),
        ("open-interest", {"coin": "BTC"}, "deltaUsd must be"),
        ("funding", {"coin": "BTC"}, "rate is required"),
        ("funding", {"coin": "BTC", "rate": "high"}, "rate must be a number"),
    ],
)
def test_market_shaping_refuses_bad_requests_naming_the_field(
    sim: SimThread, path: str, body: dict[str, Any], message: str
) -> None:
    status, answer = _admin(sim, path, body)
    assert status == 400
    assert message in answer["error"]
