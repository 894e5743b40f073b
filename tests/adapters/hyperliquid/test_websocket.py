"""WebSocket feed client against the real simulator (and a mute aiohttp server for dead peers).

What must hold: every frame reaches the handler raw, in order, with a sequence number that grows
by one and never resets, the connection id and a stream key; a dropped socket is reconnected with
backoff and everything tracked is subscribed again; the heartbeat keeps an otherwise silent
socket alive under the venue's idle timeout; a peer that stops answering is detected; post
answers are matched by id, and an action without an answer is an unknown outcome.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from adapters.hyperliquid.health import stream_key
from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidTransportError
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.exchange import ExchangeOk
from adapters.hyperliquid.schemas.exchange import OrderResponse
from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
from adapters.hyperliquid.schemas.info import L2BookRequest
from adapters.hyperliquid.schemas.info import Meta
from adapters.hyperliquid.schemas.ws import ActiveAssetCtxSubscription
from adapters.hyperliquid.schemas.ws import AllMidsSubscription
from adapters.hyperliquid.schemas.ws import BboSubscription
from adapters.hyperliquid.schemas.ws import CandleSubscription
from adapters.hyperliquid.schemas.ws import ClearinghouseStateSubscription
from adapters.hyperliquid.schemas.ws import L2BookSubscription
from adapters.hyperliquid.schemas.ws import Subscription
from adapters.hyperliquid.schemas.ws import TradesSubscription
from adapters.hyperliquid.schemas.ws import UserEventsSubscription
from adapters.hyperliquid.schemas.ws import UserFillsSubscription
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.websocket import GREETING
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from adapters.hyperliquid.websocket import frame_stream_key
from adapters.hyperliquid.websocket import subscription_stream_key
from jarvis.testkit import VENUE_CAPTURES
from jarvis.testkit import CapturingLogger
from simulator.app import SimConfig
from simulator.app import SimServer

FIXTURES = VENUE_CAPTURES
KEY = "0x" + "42" * 32
USER = "0x" + "1f" * 20


class Frame(msgspec.Struct, frozen=True):
    """One handler call."""

    raw: bytes
    seq: int
    recv_ns: int
    conn_id: str
    key: str


class Recorder:
    """Collects handler calls and state callbacks (with their monotonic time)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.events: list[tuple[str, Any, float]] = []

    def handler(self, raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        self.frames.append(Frame(raw, seq, recv_ns, conn_id, key))

    def note(self, name: str) -> Callable[[Any], None]:
        return lambda arg: self.events.append((name, arg, time.monotonic()))

    def stream_keys(self, conn_id: str | None = None) -> list[str]:
        return [f.key for f in self.frames if conn_id is None or f.conn_id == conn_id]

    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]


async def eventually(
    condition: Callable[[], bool],
    timeout: float = 15.0,
    what: str = "condition",
    step: Callable[[], object] | None = None,
) -> None:
    """Poll until `condition()` holds (the feed is asynchronous); fail after `timeout` (generous:
    a loaded machine is slow, and a poll costs nothing when things are fast). `step` runs before
    each poll, e.g. to move a stepped simulator's market on until the frames wanted arrive."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        if step is not None:
            step()
        await asyncio.sleep(0.01)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(SimConfig(stepped=True, seed=11, initial_usdc=100_000.0)) as server:
        server.step(4)
        yield server


def _client(url: str, recorder: Recorder, **kwargs: Any) -> HyperliquidWebSocketClient:
    return HyperliquidWebSocketClient(
        url,
        recorder.handler,
        rng=random.Random(5),
        on_connected=recorder.note("connected"),
        on_disconnected=recorder.note("disconnected"),
        on_reconnecting=recorder.note("reconnecting"),
        **kwargs,
    )


# --- frames ------------------------------------------------------------------------------------


async def test_frames_reach_the_handler_raw_in_order_with_seq_conn_id_time_and_stream_key(
    sim: SimServer,
) -> None:
    recorder = Recorder()
    client = _client(sim.ws_url, recorder)
    before = time.time_ns()
    await client.start()
    try:
        assert await client.wait_connected(5)
        book_key = await client.subscribe(L2BookSubscription(coin="BTC"))
        trades_key = await client.subscribe({"type": "trades", "coin": "ETH"})
        await eventually(
            lambda: (
                recorder.stream_keys().count(book_key) >= 3 and trades_key in recorder.stream_keys()
            ),
            what="three BTC books and an ETH trade",
            step=lambda: sim.step(4),
        )
        conn_id = client.conn_id
    finally:
        await client.stop()
    after = time.time_ns()

    frames = recorder.frames
    assert (book_key, trades_key) == ("l2Book:BTC", "trades:ETH")
    assert frames[0].raw == GREETING.encode() and frames[0].key == "greeting"
    assert [f.seq for f in frames] == list(range(1, len(frames) + 1))
    assert {f.conn_id for f in frames} == {conn_id}
    assert all(before <= f.recv_ns <= after for f in frames)
    assert [f.recv_ns for f in frames] == sorted(f.recv_ns for f in frames)
    for frame in frames[1:]:
        message = json.loads(frame.raw)  # the exact bytes, not re-encoded
        assert frame.key.split(":")[0] == message["channel"]
        if message["channel"] == "l2Book":
            assert message["data"]["coin"] == "BTC"
        if message["channel"] == "trades":
            assert {t["coin"] for t in message["data"]} == {"ETH"}
    assert recorder.stream_keys().count("subscriptionResponse") == 2
    assert recorder.names() == ["connected", "disconnected"]
    assert recorder.events[1][1] == "client stopped"


async def test_a_failing_handler_is_logged_and_the_feed_carries_on(sim: SimServer) -> None:
    log = CapturingLogger()
    seen: list[str] = []

    def handler(raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        seen.append(key)
        if key == "l2Book:SOL":
            raise RuntimeError("parser bug")

    client = HyperliquidWebSocketClient(sim.ws_url, handler, logger=log)
    await client.start()
    try:
        await client.wait_connected(5)
        await client.subscribe(L2BookSubscription(coin="SOL"))
        await eventually(
            lambda: seen.count("l2Book:SOL") >= 3,
            what="three SOL books",
            step=lambda: sim.step(4),
        )
        assert client.is_connected
    finally:
        await client.stop()

    assert client.stats.handler_errors == seen.count("l2Book:SOL")
    errors = [line for line in log.lines if line.startswith("ERROR ")]
    assert errors and all("frame handler failed on l2Book:SOL" in line for line in errors)
    assert "parser bug" in log.text


async def test_a_subscription_dict_with_a_typo_fails_loudly(sim: SimServer) -> None:
    client = HyperliquidWebSocketClient(sim.ws_url, Recorder().handler)
    with pytest.raises(msgspec.ValidationError):
        await client.subscribe({"type": "l2Book", "con": "BTC"})


# --- reconnects --------------------------------------------------------------------------------


async def test_a_dropped_socket_reconnects_with_backoff_resubscribes_and_seq_keeps_growing(
    sim: SimServer,
) -> None:
    recorder = Recorder()
    client = _client(
        sim.ws_url,
        recorder,
        reconnect_initial_backoff_secs=0.2,
        reconnect_max_backoff_secs=0.4,
    )
    await client.start()
    try:
        await client.wait_connected(5)
        await client.subscribe(L2BookSubscription(coin="BTC"))
        await client.subscribe(TradesSubscription(coin="ETH"))
        await client.subscribe(BboSubscription(coin="SOL"))
        await client.unsubscribe(BboSubscription(coin="SOL"))  # must not come back
        sim.step(8)
        await eventually(lambda: "l2Book:BTC" in recorder.stream_keys())
        first_conn = client.conn_id
        assert first_conn is not None

        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{sim.base_url}/admin/fault/drop-ws") as response,
        ):
            assert (await response.json())["dropped"] == 1
        await eventually(lambda: recorder.names().count("connected") == 2)
        second_conn = client.conn_id
        assert second_conn is not None
        await eventually(lambda: "l2Book:BTC" in recorder.stream_keys(second_conn))
        sim.step(8)
        await eventually(lambda: "trades:ETH" in recorder.stream_keys(second_conn))
        server_subs = [
            {(sub.type, sub.coin) for sub in conn.subs.values()}
            for conn in sim.venue.hub.connections.values()
        ]
    finally:
        await client.stop()

    assert second_conn != first_conn
    assert recorder.names()[:4] == ["connected", "disconnected", "reconnecting", "connected"]
    assert recorder.events[0][1] == first_conn and recorder.events[3][1] == second_conn
    assert "connection lost" in recorder.events[1][1]
    assert recorder.events[2][1] == 1
    waited = recorder.events[3][2] - recorder.events[1][2]
    assert waited >= 0.1  # attempt 1 waits 50-100 % of the initial 0.2 s
    assert server_subs == [{("l2Book", "BTC"), ("trades", "ETH")}]
    frames = recorder.frames
    assert [f.seq for f in frames] == list(range(1, len(frames) + 1))
    first_seqs = [f.seq for f in frames if f.conn_id == first_conn]
    second_seqs = [f.seq for f in frames if f.conn_id == second_conn]
    assert max(first_seqs) < min(second_seqs)
    assert recorder.stream_keys(second_conn)[0] == "greeting"
    assert client.stats.connects == 2


async def test_reconnect_attempts_back_off_exponentially_and_may_give_up() -> None:
    with_socket = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = with_socket.sockets[0].getsockname()[1]
    with_socket.close()
    await with_socket.wait_closed()  # nothing listens on `port` any more
    recorder = Recorder()
    client = _client(
        f"ws://127.0.0.1:{port}/ws",
        recorder,
        reconnect_initial_backoff_secs=0.05,
        reconnect_max_backoff_secs=0.1,
        max_reconnect_attempts=3,
    )
    await client.start()
    await eventually(lambda: not client.is_running)
    gave_up = client.gave_up
    await client.stop()

    attempts = [(arg, at) for name, arg, at in recorder.events if name == "reconnecting"]
    assert [arg for arg, _ in attempts] == [1, 2, 3]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.025  # attempt 1: 50-100 % of 0.05 s
    assert gaps[1] >= 0.05  # attempt 2: 50-100 % of 0.1 s
    assert gave_up
    assert client.stats.failed_connects == 4
    assert client.stats.connects == 0


# --- heartbeat and dead peers ------------------------------------------------------------------


async def test_pings_keep_a_silent_socket_alive_past_the_idle_timeout_and_no_pings_do_not() -> None:
    config = SimConfig(stepped=True, idle_timeout_secs=0.6)
    async with SimServer(config) as sim:
        pinging, lazy = Recorder(), Recorder()
        pinging_client = _client(sim.ws_url, pinging, ping_interval_secs=0.15)
        lazy_client = _client(sim.ws_url, lazy, ping_interval_secs=30.0)
        await pinging_client.start()
        await lazy_client.start()
        try:
            await pinging_client.wait_connected(5)
            await lazy_client.wait_connected(5)
            # The silent socket being closed shows the idle timeout has run out; pongs after
            # that show the pinging socket is still alive past it.
            await eventually(lambda: "disconnected" in lazy.names(), what="the idle cut")
            pongs_at_cut = pinging.stream_keys().count("pong")
            await eventually(
                lambda: pinging.stream_keys().count("pong") >= pongs_at_cut + 2,
                what="two pongs after the idle cut",
            )
            await eventually(lambda: lazy_client.stats.connects >= 2, what="the reconnect")
            alive_after_cut = pinging.names()
        finally:
            await pinging_client.stop()
            await lazy_client.stop()

    assert alive_after_cut == ["connected"]
    assert pinging.names() == ["connected", "disconnected"]  # the second one is the stop
    assert pinging_client.stats.connects == 1
    # Same venue, same time, no ping before the idle timeout: the venue closed it.
    assert lazy.names()[:2] == ["connected", "disconnected"]


class MuteServer:
    """Accepts WebSocket connections and never answers anything (a dead or stuck peer)."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.received: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/ws"

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self.sockets.append(ws)
        async for msg in ws:
            self.received.append(msg.data)
        return ws


@pytest.fixture
async def mute() -> AsyncIterator[MuteServer]:
    server = MuteServer()
    await server.start()
    yield server
    await server.stop()


async def test_a_peer_that_stops_answering_is_dropped_and_reconnected(mute: MuteServer) -> None:
    recorder = Recorder()
    client = _client(
        mute.url,
        recorder,
        ping_interval_secs=0.1,
        pong_timeout_secs=0.15,
        reconnect_initial_backoff_secs=0.01,
        reconnect_max_backoff_secs=0.02,
    )
    await client.start()
    try:
        await eventually(lambda: recorder.names().count("connected") >= 2, timeout=3.0)
    finally:
        await client.stop()

    assert recorder.names()[:3] == ["connected", "disconnected", "reconnecting"]
    assert "no frame (not even a pong)" in recorder.events[1][1]
    assert '{"method":"ping"}' in mute.received


# --- posts -------------------------------------------------------------------------------------


async def test_post_answers_are_matched_to_their_requests_by_the_echoed_id(sim: SimServer) -> None:
    recorder = Recorder()
    client = _client(sim.ws_url, recorder)
    await client.start()
    try:
        await client.wait_connected(5)
        btc, eth, sol, meta = await asyncio.gather(
            client.post_info(L2BookRequest(coin="BTC")),
            client.post_info({"type": "l2Book", "coin": "ETH"}),
            client.post_info(L2BookRequest(coin="SOL")),
            client.post_info({"type": "meta"}),
        )
    finally:
        await client.stop()

    assert isinstance(btc, L2Book) and btc.coin == "BTC"
    assert isinstance(eth, L2Book) and eth.coin == "ETH"
    assert isinstance(sol, L2Book) and sol.coin == "SOL"
    assert isinstance(meta, Meta)
    post_ids = sorted(json.loads(f.raw)["data"]["id"] for f in recorder.frames if f.key == "post")
    assert post_ids == [1, 2, 3, 4]  # every answer was also handed over raw, for the recorder


async def test_post_action_returns_the_venue_answer(sim: SimServer) -> None:
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    client = HyperliquidWebSocketClient(sim.ws_url, Recorder().handler)
    await client.start()
    try:
        await client.wait_connected(5)
        mids = await client.post_info({"type": "allMids"})
        price = str(int(float(mids["BTC"]) * 0.95))  # a resting bid below the market
        action = {
            "type": "order",
            "orders": [
                {
                    "a": 0,
                    "b": True,
                    "p": price,
                    "s": "0.01",
                    "r": False,
                    "t": {"limit": {"tif": "Gtc"}},
                }
            ],
            "grouping": "na",
        }
        nonce = sim.venue.clock.now_ms()
        body = {
            "action": action,
            "nonce": nonce,
            "signature": signer.sign_l1_action(action, nonce),
            "vaultAddress": None,
        }
        answer = await client.post_action(body)
    finally:
        await client.stop()

    assert isinstance(answer, ExchangeOk)
    assert isinstance(answer.response, OrderResponse)
    status = answer.response.data.statuses[0]
    assert isinstance(status, OrderStatusEntry)
    assert status.resting is not None and status.resting.oid > 0


_ACTION = {
    "action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]},
    "nonce": 1,
    "signature": {"r": "0x1", "s": "0x2", "v": 27},
    "vaultAddress": None,
}


async def test_an_unanswered_post_times_out_and_an_action_is_an_unknown_outcome(
    mute: MuteServer,
) -> None:
    client = HyperliquidWebSocketClient(mute.url, Recorder().handler, ping_interval_secs=30.0)
    await client.start()
    try:
        await client.wait_connected(5)
        with pytest.raises(HyperliquidTransportError, match=r"no answer within 0\.2 s"):
            await client.post_info({"type": "meta"}, timeout_secs=0.2)
        with pytest.raises(ExchangeTransportError) as caught:
            await client.post_action(_ACTION, timeout_secs=0.2)
    finally:
        await client.stop()

    assert caught.value.request_sent is True
    assert caught.value.request == "ws-post:exchange:cancel"
    assert sum('"method":"post"' in text for text in mute.received) == 2


async def test_a_pending_action_fails_as_unknown_outcome_when_the_socket_drops(
    mute: MuteServer,
) -> None:
    client = HyperliquidWebSocketClient(
        mute.url, Recorder().handler, ping_interval_secs=30.0, reconnect_initial_backoff_secs=5.0
    )
    await client.start()
    try:
        await client.wait_connected(5)
        pending = asyncio.create_task(client.post_action(_ACTION, timeout_secs=10.0))
        await eventually(lambda: any('"method":"post"' in text for text in mute.received))
        for ws in mute.sockets:
            await ws.close()
        with pytest.raises(ExchangeTransportError, match="connection lost") as caught:
            await asyncio.wait_for(pending, 3.0)
    finally:
        await client.stop()

    assert caught.value.request_sent is True


async def test_an_action_is_not_sent_when_the_client_is_not_running(sim: SimServer) -> None:
    client = HyperliquidWebSocketClient(sim.ws_url, Recorder().handler)
    with pytest.raises(ExchangeTransportError) as caught:
        await client.post_action(_ACTION, timeout_secs=0.2)

    assert caught.value.request_sent is False


# --- stream keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("ws_l2Book.json", ["l2Book:BTC", "l2Book:MATIC"]),
        ("ws_trades.json", ["trades:BTC", "trades:BTC"]),
        ("ws_bbo.json", ["bbo:BTC", "bbo:MATIC", "bbo:BTC", "bbo:@107", "bbo:FRIEND"]),
        ("ws_candle.json", ["candle:BTC:1m", "candle:BTC:1m", "candle:@107:1m"]),
        (
            "ws_activeAssetCtx.json",
            ["activeAssetCtx:BTC", "activeAssetCtx:MATIC", "activeAssetCtx:BTC"],
        ),
        ("ws_activeSpotAssetCtx.json", ["activeSpotAssetCtx:@107"]),
        ("ws_activeAssetData.json", ["activeAssetData:BTC"]),
        ("ws_allMids.json", ["allMids", "allMids:xyz"]),
        ("ws_clearinghouseState.json", ["clearinghouseState", "clearinghouseState:xyz"]),
        ("ws_user.json", ["user", "user", "user", "user"]),
        ("ws_userFills.json", ["userFills", "userFills", "userFills"]),
        ("ws_orderUpdates.json", ["orderUpdates"]),
        ("ws_pong.json", ["pong"]),
        ("ws_error.json", ["error"]),
        ("ws_fastAssetCtxs.json", ["fastAssetCtxs", "fastAssetCtxs"]),
        ("ws_post.json", ["unknown", "post", "post"]),  # the first element is a client request
        (
            "ws_subscriptionResponse.json",
            ["subscriptionResponse", "subscriptionResponse", "subscriptionResponse"],
        ),
    ],
)
def test_stream_keys_of_real_venue_frames(fixture: str, expected: list[str]) -> None:
    frames = json.loads((FIXTURES / fixture).read_text())

    keys = [frame_stream_key(msgspec.json.encode(frame)) for frame in frames]

    assert keys == expected


def test_non_json_frames_get_their_own_keys() -> None:
    assert frame_stream_key(b"Websocket connection established.") == "greeting"
    assert frame_stream_key(b"something else") == "text"
    assert frame_stream_key(b'{"channel":"allDexsClearinghouseState","data":[["",{}]]}') == (
        "allDexsClearinghouseState"
    )


def test_subscription_keys_name_the_stream_their_frames_carry() -> None:
    cases: list[tuple[Subscription, str]] = [
        (L2BookSubscription(coin="BTC"), "l2Book:BTC"),
        (L2BookSubscription(coin="BTC", fast=True), "l2Book:BTC:fast"),
        (L2BookSubscription(coin="BTC", nSigFigs=3), "l2Book:BTC"),
        (TradesSubscription(coin="ETH"), "trades:ETH"),
        (BboSubscription(coin="@107"), "bbo:@107"),
        (CandleSubscription(coin="SOL", interval="15m"), "candle:SOL:15m"),
        (ActiveAssetCtxSubscription(coin="BTC"), "activeAssetCtx:BTC"),
        (ActiveAssetCtxSubscription(coin="@107"), "activeSpotAssetCtx:@107"),
        (ActiveAssetCtxSubscription(coin="PURR/USDC"), "activeSpotAssetCtx:PURR/USDC"),
        (ActiveAssetCtxSubscription(coin="xyz:XYZ100"), "activeAssetCtx:xyz:XYZ100"),
        (AllMidsSubscription(), "allMids"),
        (AllMidsSubscription(dex="xyz"), "allMids:xyz"),
        (UserEventsSubscription(user=USER), "user"),
        (UserFillsSubscription(user=USER), "userFills"),
        (ClearinghouseStateSubscription(user=USER, dex="xyz"), "clearinghouseState:xyz"),
    ]
    for subscription, key in cases:
        assert subscription_stream_key(subscription) == key
    # The health layer names the same streams the same way.
    assert subscription_stream_key(L2BookSubscription(coin="BTC")) == stream_key("l2Book", "BTC")
    assert subscription_stream_key(CandleSubscription(coin="BTC", interval="1m")) == stream_key(
        "candle", "BTC", "1m"
    )
