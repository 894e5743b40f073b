"""Cost of the WebSocket client's per-frame work and its loopback throughput.

Measured in one run (compare ratios, not absolute numbers, on this noisy machine):

* `frame_stream_key` (reads `channel` and a few `data` fields, skips the rest) on a 20x20 l2Book
  frame and a 5-trade frame, against a full `WS_FRAME_DECODER` decode of the same bytes: the key
  is derived before decoding, so it must cost a small fraction of the decode;
* frames per second through `HyperliquidWebSocketClient` (sequence number, receive time, stream
  key, handler call) from a loopback aiohttp server, against a bare `websockets` receive loop on
  the same server: the client's overhead ratio.

Prints one JSON object as its last line.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import timeit
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import web
from websockets.asyncio.client import connect

from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from adapters.hyperliquid.websocket import frame_stream_key
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
N_FRAMES = 40_000
ROUNDS = 3


def _median_us(func: Callable[[], Any], number: int = 5000, repeat: int = 7) -> float:
    """Median time per call in microseconds over `repeat` batches of `number` calls."""
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


class _Blaster:
    """Loopback server that answers any client message with `N_FRAMES` copies of one frame."""

    def __init__(self, frame: str) -> None:
        self.frame = frame
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"ws://127.0.0.1:{port}/ws"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        async for msg in ws:
            if "subscribe" in msg.data:
                for _ in range(N_FRAMES):
                    await ws.send_str(self.frame)
        return ws


async def _bare_rate(url: str) -> float:
    async with connect(url, compression=None, ping_interval=None, proxy=None) as ws:
        started = time.perf_counter()
        await ws.send('{"method":"subscribe","subscription":{"type":"l2Book","coin":"DYDX"}}')
        for _ in range(N_FRAMES):
            await ws.recv(decode=False)
        return N_FRAMES / (time.perf_counter() - started)


async def _client_rate(url: str) -> float:
    done = asyncio.Event()
    count = 0

    def handler(raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        nonlocal count
        count += 1
        if count == N_FRAMES:
            done.set()

    client = HyperliquidWebSocketClient(url, handler, ping_interval_secs=30.0)
    await client.start()
    await client.wait_connected(10)
    started = time.perf_counter()
    await client.subscribe({"type": "l2Book", "coin": "DYDX"})
    await done.wait()
    elapsed = time.perf_counter() - started
    await client.stop()
    return N_FRAMES / elapsed


async def _throughput(frame: str) -> tuple[float, float]:
    server = _Blaster(frame)
    await server.start()
    try:
        bare = [await _bare_rate(server.url) for _ in range(ROUNDS)]
        client = [await _client_rate(server.url) for _ in range(ROUNDS)]
    finally:
        await server.stop()
    return statistics.median(bare), statistics.median(client)


def main() -> None:
    """Run the measurements and print one JSON line."""
    book = (FIXTURES / "info_l2Book.json").read_bytes().strip()
    l2book_frame = b'{"channel":"l2Book","data":' + book + b"}"
    trades_raw = msgspec.json.decode((FIXTURES / "ws_trades.json").read_bytes(), type=list[Any])
    trades = [trade for frame in trades_raw for trade in frame["data"]]
    trades_frame = json.dumps({"channel": "trades", "data": trades[:5]}).encode()
    assert frame_stream_key(l2book_frame) == "l2Book:DYDX"

    key_us = _median_us(lambda: frame_stream_key(l2book_frame))
    decode_us = _median_us(lambda: WS_FRAME_DECODER.decode(l2book_frame))
    trades_key_us = _median_us(lambda: frame_stream_key(trades_frame))
    trades_decode_us = _median_us(lambda: WS_FRAME_DECODER.decode(trades_frame))
    bare_rate, client_rate = asyncio.run(_throughput(l2book_frame.decode()))

    results = {
        "l2book_20x20_bytes": len(l2book_frame),
        "l2book_stream_key_us": round(key_us, 3),
        "l2book_full_decode_us": round(decode_us, 3),
        "l2book_key_over_decode": round(key_us / decode_us, 3),
        "trades5_stream_key_us": round(trades_key_us, 3),
        "trades5_full_decode_us": round(trades_decode_us, 3),
        "trades5_key_over_decode": round(trades_key_us / trades_decode_us, 3),
        "loopback_frames": N_FRAMES,
        "bare_websockets_l2book_msgs_per_s": round(bare_rate),
        "client_l2book_msgs_per_s": round(client_rate),
        "client_over_bare_time_ratio": round(bare_rate / client_rate, 3),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
