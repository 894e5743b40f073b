"""Simulator throughput and latency: WebSocket msgs/s to one client, order round trip over loopback.

The simulator runs as a separate process (`jarvis sim`, as users run it) with its market sped up;
this process is the client:

* WebSocket: one socket subscribed to every market channel of three coins (several l2Book
  aggregations, trades, bbo, candles, activeAssetCtx, allMids); messages counted for a few seconds.
* Order round trip: pre-signed ALO orders far from the market are POSTed one at a time on a
  keep-alive connection; time from sending the signed body to reading the `resting` ack.

Prints one JSON object as its last line. Targets: >= 2,000 msgs/s, order round trip p50 <= 5 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import eth_account
from hyperliquid.utils.signing import get_timestamp_ms
from hyperliquid.utils.signing import order_request_to_order_wire
from hyperliquid.utils.signing import order_wires_to_order_action
from hyperliquid.utils.signing import sign_l1_action

REPO = Path(__file__).resolve().parents[1]
KEY = "0x" + "be" * 32
COINS = ("BTC", "ETH", "SOL", "HYPE")
WS_SECONDS = 8.0
ORDERS = 400
TARGET_MSGS_PER_S = 2_000
TARGET_RTT_P50_MS = 5.0


def _start_sim() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jarvis.cli",
            "sim",
            "--port",
            "0",
            "--scenario",
            "quiet",
            "--seed",
            "7",
            "--speed",
            "40",
            "--step-ms",
            "50",
            "--activity",
            "10",
            "--coins",
            ",".join(COINS),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("jarvis sim:"):
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, line.split()[2]


def _subscriptions() -> list[dict[str, Any]]:
    subs: list[dict[str, Any]] = [{"type": "allMids"}]
    for coin in COINS:
        subs.append({"type": "l2Book", "coin": coin})
        subs.append({"type": "l2Book", "coin": coin, "fast": True})
        for n_sig in (2, 3, 4, 5):
            subs.append({"type": "l2Book", "coin": coin, "nSigFigs": n_sig})
        subs.append({"type": "trades", "coin": coin})
        subs.append({"type": "bbo", "coin": coin})
        subs.append({"type": "activeAssetCtx", "coin": coin})
        for interval in ("1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d"):
            subs.append({"type": "candle", "coin": coin, "interval": interval})
    return subs


async def _ws_rate(session: aiohttp.ClientSession, ws_url: str) -> dict[str, Any]:
    subs = _subscriptions()
    counts: dict[str, int] = {}
    async with session.ws_connect(ws_url, max_msg_size=0) as ws:
        for sub in subs:
            await ws.send_str(json.dumps({"method": "subscribe", "subscription": sub}))
        await asyncio.sleep(1.0)  # let snapshots and acks pass
        while True:  # drain what is already queued
            try:
                await asyncio.wait_for(ws.receive(), 0.01)
            except TimeoutError:
                break
        start = time.perf_counter()
        total = 0
        while (elapsed := time.perf_counter() - start) < WS_SECONDS:
            msg = await ws.receive(timeout=5)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            total += 1
            channel = msg.data[12 : msg.data.index('"', 12)]
            counts[channel] = counts.get(channel, 0) + 1
            if total % 2_000 == 0:
                await ws.send_str('{"method":"ping"}')
    return {
        "ws_msgs_per_s": round(total / elapsed),
        # Candle pushes are real venue frames but cheap and numerous (one per interval per trade);
        # this figure shows what the book/trade/quote streams alone deliver.
        "ws_msgs_per_s_excluding_candles": round((total - counts.get("candle", 0)) / elapsed),
        "ws_msgs": total,
        "ws_seconds": round(elapsed, 2),
        "ws_subscriptions": len(subs),
        "ws_by_channel": counts,
    }


def _signed_orders(n: int, px: float) -> tuple[list[bytes], list[float]]:
    wallet = eth_account.Account.from_key(KEY)
    bodies = []
    sign_ms = []
    nonce = get_timestamp_ms()
    for i in range(n):
        wire = order_request_to_order_wire(
            {
                "coin": "BTC",
                "is_buy": True,
                "sz": 0.001,
                "limit_px": px,
                "order_type": {"limit": {"tif": "Alo"}},
                "reduce_only": False,
            },
            0,
        )
        action = order_wires_to_order_action([wire])
        t0 = time.perf_counter()
        signature = sign_l1_action(wallet, action, None, nonce + i, None, False)
        sign_ms.append((time.perf_counter() - t0) * 1000)
        body = {"action": action, "nonce": nonce + i, "signature": signature, "vaultAddress": None}
        bodies.append(json.dumps(body).encode())
    return bodies, sign_ms


async def _order_rtt(session: aiohttp.ClientSession, base_url: str) -> dict[str, Any]:
    user = eth_account.Account.from_key(KEY).address.lower()
    async with session.post(base_url + "/admin/fund", json={"user": user, "usdc": 10_000_000}):
        pass
    async with session.post(base_url + "/info", json={"type": "allMids"}) as r:
        mid = float((await r.json())["BTC"])
    bodies, sign_ms = _signed_orders(ORDERS, round(mid * 0.7))
    headers = {"Content-Type": "application/json"}
    rtt_ms = []
    resting = 0
    for body in bodies:
        t0 = time.perf_counter()
        async with session.post(base_url + "/exchange", data=body, headers=headers) as r:
            reply = await r.read()
        rtt_ms.append((time.perf_counter() - t0) * 1000)
        if b'"resting"' in reply:
            resting += 1
    rtt_ms.sort()
    return {
        "order_rtt_p50_ms": round(statistics.median(rtt_ms), 3),
        "order_rtt_p99_ms": round(rtt_ms[int(len(rtt_ms) * 0.99) - 1], 3),
        "orders": len(rtt_ms),
        "orders_resting": resting,
        "sign_p50_ms": round(statistics.median(sign_ms), 3),
    }


async def _run(base_url: str) -> dict[str, Any]:
    ws_url = "ws" + base_url[len("http") :] + "/ws"
    async with aiohttp.ClientSession() as session:
        ws = await _ws_rate(session, ws_url)
        orders = await _order_rtt(session, base_url)
    return {**ws, **orders}


def main() -> None:
    """Run the simulator in a subprocess, measure, print one JSON line."""
    started = time.perf_counter()
    proc, base_url = _start_sim()
    try:
        result = asyncio.run(_run(base_url))
    finally:
        proc.terminate()
        proc.wait(10)
    result = {
        "benchmark": "sim",
        "server": "jarvis sim (subprocess), quiet, 4 coins, speed 40, step 50 ms, activity 10",
        **result,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "targets": {
            "ws_msgs_per_s_ge_2000": result["ws_msgs_per_s"] >= TARGET_MSGS_PER_S,
            "order_rtt_p50_le_5ms": result["order_rtt_p50_ms"] <= TARGET_RTT_P50_MS,
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
