"""Simulator stress mode: l2Book frames per second delivered to one WebSocket client.

The simulator runs as a separate process (`jarvis sim --stress-book-fps N`, as users run it for
load tests) and this process is one client subscribed to one l2Book stream; every l2Book frame
received in a few seconds is counted (and checked to be an l2Book of the subscribed coin).

Prints one JSON object as its last line. Target: >= 10,000 book frames/s to one client.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
STRESS_FPS = 40_000
SECONDS = 8.0
TARGET_BOOK_FRAMES_PER_S = 10_000


def _start_sim() -> tuple[subprocess.Popen[str], str]:
    args = ["--port", "0", "--scenario", "quiet", "--seed", "7", "--coins", "BTC,ETH"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jarvis.cli", "sim", *args, "--stress-book-fps", str(STRESS_FPS)],
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


async def _book_rate(ws_url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, max_msg_size=0) as ws,
    ):
        sub = {"type": "l2Book", "coin": "BTC"}
        await ws.send_str(json.dumps({"method": "subscribe", "subscription": sub}))
        await asyncio.sleep(1.0)  # the ack, the snapshot and the first second of the firehose
        while True:  # drain what is already queued
            try:
                await asyncio.wait_for(ws.receive(), 0.01)
            except TimeoutError:
                break
        frames = 0
        others = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < SECONDS:
            msg = await ws.receive(timeout=5)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            if msg.data.startswith('{"channel":"l2Book","data":{"coin":"BTC"'):
                frames += 1
            else:
                others += 1
    return {
        "book_frames_per_s": round(frames / elapsed),
        "book_frames": frames,
        "other_frames": others,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    """Run the simulator in stress mode in a subprocess, count, print one JSON line."""
    proc, base_url = _start_sim()
    try:
        result = asyncio.run(_book_rate("ws" + base_url[len("http") :] + "/ws"))
    finally:
        proc.terminate()
        proc.wait(10)
    print(
        json.dumps(
            {
                "benchmark": "sim_stress",
                "server": f"jarvis sim --stress-book-fps {STRESS_FPS} (subprocess), quiet, BTC+ETH",
                "client": "one aiohttp WebSocket, one l2Book stream (BTC)",
                **result,
                "targets": {
                    "book_frames_per_s_ge_10000": result["book_frames_per_s"]
                    >= TARGET_BOOK_FRAMES_PER_S
                },
            }
        )
    )


if __name__ == "__main__":
    main()
