"""The cascade scenario's stop hunter: deterministic per seed, on the tape, in the ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from simulator.app import SimConfig
from simulator.app import build_venue
from simulator.events import SimEvent
from simulator.events import TradePrint
from simulator.market import CASCADE_BUILD_END_MS
from simulator.market import CASCADE_SELLOFF_END_MS
from simulator.market import sim_address
from simulator.server import SimVenue

STEP_MS = 250


def _run(config: SimConfig, until_ms: int = CASCADE_SELLOFF_END_MS) -> list[dict[str, Any]]:
    """Run a stepped venue and return every trade print (with its users) in order."""
    venue: SimVenue = build_venue(config)
    prints: list[dict[str, Any]] = []
    forward = venue.feeds.on_events

    def tap(events: list[SimEvent], now_ms: int) -> None:
        prints.extend(e.trade for e in events if isinstance(e, TradePrint))
        forward(events, now_ms)

    venue.feeds.on_events = tap  # type: ignore[method-assign]
    venue.step(venue.clock.now_ms())
    assert venue.market is not None and venue.market.start_ms is not None
    while venue.clock.now_ms() - venue.market.start_ms < until_ms:
        venue.advance(1)
    return prints


def _config(seed: int, path: Path | None = None, hunter: bool = True) -> SimConfig:
    return SimConfig(
        stepped=True,
        scenario="cascade",
        seed=seed,
        step_ms=STEP_MS,
        coins=("BTC",),
        hunter=hunter,
        ground_truth_path=None if path is None else str(path),
    )


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_hunter_shorts_before_the_selloff_and_covers_into_it(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"

    prints = _run(_config(11, truth))

    records = _lines(truth)
    plan, orders = records[0], records[1:]
    address = sim_address(11, "hunter", 0)
    assert plan["kind"] == "hunter" and plan["address"] == address
    sells = [o for o in orders if o["side"] == "A"]
    buys = [o for o in orders if o["side"] == "B"]
    start = orders[0]["time_ms"] - orders[0]["elapsed_ms"]
    assert sells and all(o["elapsed_ms"] < CASCADE_BUILD_END_MS for o in sells)
    assert buys and all(o["elapsed_ms"] >= CASCADE_BUILD_END_MS for o in buys)
    assert orders[-1]["position_after"] == 0.0
    shorted = sum(o["filled_sz"] for o in sells)
    assert shorted * 80_000 > 0.9 * plan["target_usd"]  # BTC starts at 80,000
    on_tape_sold = sum(float(p["sz"]) for p in prints if p["users"][1] == address)
    on_tape_bought = sum(float(p["sz"]) for p in prints if p["users"][0] == address)
    assert on_tape_sold == pytest.approx(shorted, rel=1e-9)
    assert on_tape_bought == pytest.approx(sum(o["filled_sz"] for o in buys), rel=1e-9)
    assert all(p["time"] - start < CASCADE_SELLOFF_END_MS for p in prints if address in p["users"])


def test_the_hunter_is_the_same_for_the_same_seed_and_differs_between_seeds(
    tmp_path: Path,
) -> None:
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"

    _run(_config(5, a), until_ms=5_000)
    _run(_config(5, b), until_ms=5_000)
    _run(_config(6, c), until_ms=5_000)

    assert a.read_text() == b.read_text()
    assert _lines(a)[0]["target_usd"] != _lines(c)[0]["target_usd"]


def test_without_the_flag_the_cascade_has_no_hunter_and_writes_nothing(tmp_path: Path) -> None:
    prints = _run(_config(11, hunter=False), until_ms=12_000)

    address = sim_address(11, "hunter", 0)
    assert prints
    assert not any(address in p["users"] for p in prints)
    assert list(tmp_path.iterdir()) == []


def test_a_hunter_outside_the_cascade_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="hunter"):
        build_venue(SimConfig(stepped=True, scenario="quiet", hunter=True))


def test_jarvis_sim_hunter_flag_writes_the_ground_truth_file(tmp_path: Path) -> None:
    truth = tmp_path / "truth.jsonl"
    command = [sys.executable, "-m", "jarvis.cli", "sim", "--port", "0", "--coins", "BTC"]
    command += ["--scenario", "cascade", "--seed", "3", "--speed", "20"]
    command += ["--hunter", "--ground-truth", str(truth)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        kinds: list[str] = []
        while time.monotonic() < deadline and "order" not in kinds:
            assert process.poll() is None, "jarvis sim exited"
            if truth.exists():
                kinds = [json.loads(line)["kind"] for line in truth.read_text().splitlines()]
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert kinds[0] == "hunter"
    assert "order" in kinds
