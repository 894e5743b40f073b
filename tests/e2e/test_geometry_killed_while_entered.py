"""
Killing the node while Geometry is ENTERED leaves the position protected by the venue orders.

``jarvis node`` runs the strategies config (BTC, test windows) in a child process against a
simulator in this process; the market is driven until Geometry holds a position with its stop
and target resting at the venue; the child is then killed with SIGKILL (no shutdown code runs).
The venue must still hold the position, the reduce-only stop and the target, and when the
market then falls through the stop, the venue's stop closes the position with no node alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import sim_mid
from jarvis.testkit import sweep_ioc
from jarvis.testkit import venue_position
from jarvis.testkit import venue_triggers
from simulator.app import SimConfig
from simulator.app import SimThread

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"
KEY = "0x" + "4a" * 32
ADDRESS = address_from_private_key(KEY).lower()
TAKER_KEY = "0x" + "8b" * 32
TAKER = address_from_private_key(TAKER_KEY).lower()
SWEEP_USD = 120_000.0

CHILD = """
import sys
from pathlib import Path
from jarvis.node import run_node
from jarvis.testkit import geometry_sim_config
run_node(geometry_sim_config(sys.argv[1], Path(sys.argv[2])))
"""


def _poll(predicate: Callable[[], bool], timeout_secs: float, what: str) -> None:
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s waiting for {what}")
        time.sleep(0.1)


def test_killed_node_leaves_the_position_protected_by_venue_stop_and_target(
    tmp_path: Path,
) -> None:
    with SimThread(SimConfig(coins=("BTC",), scenario="quiet", seed=33)) as sim:
        sim.fund(ADDRESS, 100_000)
        sim.fund(TAKER, 5_000_000)
        env = {**os.environ, KEY_ENV: KEY}
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, sim.base_url, str(tmp_path)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            log = tmp_path / "node.log"
            _poll(lambda: log.exists() and "SCANNING" in log.read_text(), 120, "SCANNING")
            # Drive: a range whose high edge the mid sits at; then buying into the ask until
            # Geometry fades it (it arms short at the high edge) and its orders rest.
            nonce = 0
            deadline = time.monotonic() + 90
            while not venue_triggers(sim, ADDRESS):
                assert time.monotonic() < deadline, "Geometry never entered"
                sim.set_oracle("BTC", sim_mid(sim) * 1.006)
                for _ in range(4):
                    time.sleep(3.0)
                    if "SCANNING->ARMED" in log.read_text():
                        break
                armed_long = "ARMED: low edge" in log.read_text().rsplit("SCANNING->", 1)[-1]
                for _ in range(4):
                    nonce += 7
                    sweep_ioc(sim, TAKER_KEY, SWEEP_USD, not armed_long, nonce)
                    time.sleep(6.0)
                    if len(venue_triggers(sim, ADDRESS)) == 2:
                        break
            _poll(lambda: len(venue_triggers(sim, ADDRESS)) == 2, 10, "stop and target")
            position = venue_position(sim, ADDRESS, "BTC")
            assert position != 0
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        assert child.returncode == -signal.SIGKILL

        # The node is dead; the venue still protects the position.
        time.sleep(2.0)
        triggers = venue_triggers(sim, ADDRESS)
        assert sorted(o["orderType"] for o in triggers) == ["Stop Market", "Take Profit Market"]
        assert all(o["reduceOnly"] for o in triggers)
        assert {Decimal(o["sz"]) for o in triggers} == {abs(position)}
        assert venue_position(sim, ADDRESS, "BTC") == position

        # The market runs through the stop: the venue closes the position by itself.
        stop = next(o for o in triggers if o["orderType"] == "Stop Market")
        trigger_px = float(stop["triggerPx"])
        sim.set_oracle("BTC", trigger_px * (0.995 if position > 0 else 1.005))
        _poll(lambda: venue_position(sim, ADDRESS, "BTC") == 0, 20, "the venue stop to close")
