"""The stress mode (a firehose of book frames for load tests) and what it must leave alone.

`test_a_normal_seeded_scenario_still_serves_the_same_frames` pins the SHA-256 of every frame a
client receives from a stepped, seeded `quiet` scenario (books, trades, bbo, mids, contexts),
recorded before the stress mode existed: the stress machinery must not change a normal run.
An intended change of what the simulator serves (a new field, a different market) changes
this hash; re-record it then, and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.ws import WsConnection

PINNED_QUIET_SEED7_FRAMES_SHA256 = (
    "896e647d24cdf1474e7d7717e1bf00133e5760b0bbcec47e15128f7812e9735d"
)
PIN_SUBSCRIPTIONS: list[dict[str, Any]] = [
    {"type": "l2Book", "coin": "BTC"},
    {"type": "l2Book", "coin": "ETH", "nSigFigs": 4},
    {"type": "trades", "coin": "BTC"},
    {"type": "bbo", "coin": "SOL"},
    {"type": "allMids"},
    {"type": "activeAssetCtx", "coin": "ETH"},
    {"type": "candle", "coin": "BTC", "interval": "1m"},
]


def _until_pong(ws: ClientConnection) -> list[str]:
    """Every frame queued for this socket so far (our ping's pong marks the end)."""
    ws.send('{"method":"ping"}')
    out: list[str] = []
    while True:
        text = str(ws.recv(timeout=30))
        if text == '{"channel":"pong"}':
            return out
        out.append(text)


def normal_run_frames(steps: int = 240) -> list[str]:
    """The frames one client receives from `quiet`, seed 7, stepped, over `steps` steps."""
    config = SimConfig(stepped=True, scenario="quiet", seed=7)
    with SimThread(config) as sim, connect(sim.ws_url) as ws:
        frames = [str(ws.recv(timeout=30))]
        for sub in PIN_SUBSCRIPTIONS:
            ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        frames += _until_pong(ws)
        for _ in range(steps):
            sim.step(1)
            frames += _until_pong(ws)
    return frames


def test_a_normal_seeded_scenario_still_serves_the_same_frames() -> None:
    frames = normal_run_frames()
    digest = hashlib.sha256("\n".join(frames).encode()).hexdigest()

    assert sum(1 for f in frames if f.startswith('{"channel":"l2Book"')) > 100
    assert digest == PINNED_QUIET_SEED7_FRAMES_SHA256


def _post_json(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_stress_mode_serves_the_venue_book_with_one_level_varied_per_frame() -> None:
    config = SimConfig(stepped=True, scenario="quiet", seed=7, stress_book_fps=2_000.0)
    with SimThread(config) as sim, connect(sim.ws_url) as ws:
        sim.step(4)
        truth = _post_json(sim.base_url + "/info", {"type": "l2Book", "coin": "BTC"})
        ws.recv(timeout=30)
        sub = {"type": "l2Book", "coin": "BTC"}
        ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        books: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while len(books) < 400 and time.monotonic() < deadline:
            msg = json.loads(ws.recv(timeout=30))
            if msg["channel"] == "l2Book":
                books.append(msg["data"])
        assert sim.server is not None and sim.server.stress is not None
        published = sim.server.stress.frames_published

    assert len(books) == 400
    assert published >= 399  # the snapshot plus stress frames
    venue_levels = truth["levels"]
    assert [len(side) for side in venue_levels] == [20, 20]  # 20 maker levels per side
    varied = 0
    for book in books:
        assert book["coin"] == "BTC" and book["time"] == truth["time"]
        differences = 0
        for side, venue_side in zip(book["levels"], venue_levels, strict=True):
            assert [lvl["px"] for lvl in side] == [lvl["px"] for lvl in venue_side]
            for level, venue_level in zip(side, venue_side, strict=True):
                if level["sz"] != venue_level["sz"]:
                    differences += 1
                    lot = 10**-5  # BTC szDecimals 5
                    assert float(level["sz"]) - float(venue_level["sz"]) == pytest.approx(lot)
        assert differences <= 1
        varied += differences
    assert varied > 100  # the firehose really changes the book, frame after frame


def test_stress_mode_is_off_by_default_and_refuses_a_negative_rate() -> None:
    assert SimConfig().stress_book_fps == 0.0
    with SimThread(SimConfig(stepped=True, market=False)) as sim:
        assert sim.server is not None and sim.server.stress is None
    with pytest.raises(ValueError, match="stress_book_fps"):
        SimConfig(stress_book_fps=-1.0)


class _Transport:
    """What `WsConnection.write_frames` writes to: every write kept, nothing left buffered."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def get_write_buffer_size(self) -> int:
        return 0


def _text_frames(data: bytes) -> list[str]:
    """The payloads of unmasked WebSocket text frames laid end to end (RFC 6455 5.2)."""
    out = []
    at = 0
    while at < len(data):
        assert data[at] == 0x81  # FIN, text, no RSV bits: one whole uncompressed text frame
        length = data[at + 1]
        assert length & 0x80 == 0  # a server's frames are not masked
        at += 2
        if length == 126:
            length, at = int.from_bytes(data[at : at + 2], "big"), at + 2
        elif length == 127:
            length, at = int.from_bytes(data[at : at + 8], "big"), at + 8
        out.append(data[at : at + length].decode())
        at += length
    return out


def _drain(conn: WsConnection) -> list[str]:
    """The texts queued on `conn` (ready-made frames queued as one item taken apart), emptied."""
    out: list[str] = []
    for _, _, item in conn._queue:
        out += [item] if isinstance(item, str) else _text_frames(item.data)
    conn._queue.clear()
    return out


@pytest.mark.parametrize("cycle", [True, False], ids=["whole-cycle", "frame-by-frame"])
@pytest.mark.parametrize("queued_ahead", [False, True], ids=["written", "queued-behind"])
def test_stress_batches_carry_exactly_the_frames_published_one_by_one(
    monkeypatch: pytest.MonkeyPatch, cycle: bool, queued_ahead: bool
) -> None:
    """The batched sender (frames pre-encoded per book, `time` patched in, one transport write
    per subscriber and wake-up) puts on the wire exactly the bytes of encoding and queueing each
    frame on its own, over more than one cycle of varied levels, for every book variant; the
    same when the counter period is not laid out (`MAX_CYCLE_FRAMES`) and when frames already
    wait in the socket's queue (then the batch queues behind them as one item, in order)."""
    from simulator import stress
    from simulator.app import build_venue
    from simulator.ws import parse_subscription

    if not cycle:
        monkeypatch.setattr(stress, "MAX_CYCLE_FRAMES", 0)
    venue = build_venue(SimConfig(stepped=True, scenario="quiet", seed=7))
    venue.step(venue.clock.now_ms())
    hub = venue.hub
    transport = _Transport()
    conn = hub.add(None, transport)  # type: ignore[arg-type]
    subs = ({"type": "l2Book", "coin": "BTC"}, {"type": "l2Book", "coin": "ETH", "nSigFigs": 4})
    for raw in subs:
        hub.subscribe(conn, parse_subscription(raw, venue.coins))
    batched = stress.StressBookFeed(venue, 1_000.0)
    each = stress.StressBookFeed(venue, 1_000.0)
    sent: list[str] = []
    expected: list[str] = []
    for n in (1, 60, 200, 3):
        if queued_ahead:
            conn.send("ahead", delay_s=0.0)
        assert batched.publish(n, 0.0) == 2 * n
        sent += _drain(conn)
        now_ms = venue.clock.now_ms()
        if queued_ahead:
            expected.append("ahead")
        assert each._publish_each(hub.keys_of_type("l2Book|"), n, 0.0, now_ms) == 2 * n
        expected += _drain(conn)
    sent += [text for data in transport.writes for text in _text_frames(data)]

    assert len(expected) == 2 * 264 + (4 if queued_ahead else 0)
    assert sent == expected
    assert bool(transport.writes) is not queued_ahead
    assert len(set(expected)) > 40  # many different books: each level one lot larger in turn
