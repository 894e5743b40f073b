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
from typing import Any

from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread

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
