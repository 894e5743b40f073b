"""Does the wallet tracker see the simulator's stop hunter, and what does it cost per trade?

Prints one JSON object as its last line:

- precision / recall of ``is_manipulator_active`` against the hunter's ground truth, counted
  per instrument per 250 ms step over the first 45 s of a stepped `cascade` run with
  ``--hunter`` (truth: the hunter's position, from its ground-truth file, is open), over seeds
  ``SEEDS`` that were not used while the tracker was written (development used 5, 6, 11, 101);
  plus per-run detection, direction and latency figures;
- the tracker's cost per trade (median of repeated passes over a synthetic tape with more
  addresses than the cap, so evictions are included), in microseconds;
- memory at the cap (tracemalloc), for one-trade addresses and for addresses whose whole
  notional window is filled.

The stepped simulator runs in-process (no sockets): its trade prints and open interest are fed
through the same pieces the node uses (``StructuralEventDetector`` for OI_DROP, then
``WalletTracker``), in venue time, so nothing in the figures depends on the machine's speed.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from nautilus_trader.model.identifiers import InstrumentId

from actors.structural_events import StructuralEventDetector
from actors.structural_events import StructuralEventKind
from actors.structural_events import StructuralEventThresholds
from actors.structural_events import StructuralMetrics
from actors.wallets.tracker import WalletThresholds
from actors.wallets.tracker import WalletTracker
from simulator.app import SimConfig
from simulator.app import build_venue
from simulator.events import SimEvent
from simulator.events import TradePrint

SEEDS = tuple(range(1000, 1012))
COINS = ("BTC", "ETH")
STEP_MS = 250
HORIZON_MS = 45_000
NS_PER_MS = 1_000_000
COST_TRADES = 200_000
COST_ADDRESSES = 15_000


def _instrument(coin: str) -> InstrumentId:
    return InstrumentId.from_str(f"{coin}-USD-PERP.HYPERLIQUID")


def _truth(path: Path) -> dict[str, list[tuple[int, float]]]:
    """Per coin: (venue ms, hunter position after) for every hunter order, in time order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "order":
            out.setdefault(record["coin"], []).append((record["time_ms"], record["position_after"]))
    return out


def _hunter_open(orders: list[tuple[int, float]], now_ms: int) -> bool:
    position = 0.0
    for time_ms, after in orders:
        if time_ms > now_ms:
            break
        position = after
    return position != 0.0


def run_seed(seed: int, workdir: Path) -> dict[str, Any]:
    """One stepped cascade run with the hunter; step-level confusion counts per coin."""
    truth_path = workdir / f"truth-{seed}.jsonl"
    venue = build_venue(
        SimConfig(
            stepped=True,
            scenario="cascade",
            seed=seed,
            step_ms=STEP_MS,
            coins=COINS,
            ground_truth_path=str(truth_path),
        )
    )
    pending: list[dict[str, Any]] = []
    forward = venue.feeds.on_events

    def tap(events: list[SimEvent], now_ms: int) -> None:
        pending.extend(e.trade for e in events if isinstance(e, TradePrint))
        forward(events, now_ms)

    venue.feeds.on_events = tap  # type: ignore[method-assign]
    tracker = WalletTracker(WalletThresholds())
    ids = {coin: _instrument(coin) for coin in COINS}
    detectors = {
        coin: StructuralEventDetector(ids[coin], StructuralEventThresholds()) for coin in COINS
    }
    steps: list[tuple[int, dict[str, tuple[bool, str]]]] = []
    signals: dict[str, int] = {}
    venue.step(venue.clock.now_ms())
    assert venue.market is not None and venue.market.start_ms is not None
    start_ms = venue.market.start_ms
    while True:
        now_ms = venue.clock.now_ms()
        for trade in pending:
            tracker.on_trade(
                ids[trade["coin"]],
                int(trade["time"]) * NS_PER_MS,
                float(trade["px"]),
                float(trade["sz"]),
                trade["side"] == "B",
                trade["users"][0],
                trade["users"][1],
            )
        pending.clear()
        now_ns = now_ms * NS_PER_MS
        for coin in COINS:
            oi = float(venue.engine.asset_ctx(coin)["openInterest"])
            for event in detectors[coin].on_metrics(now_ns, StructuralMetrics(open_interest=oi)):
                if event.kind == StructuralEventKind.OI_DROP.value:
                    signals.setdefault(coin, now_ms - start_ms)
                    tracker.on_cascade_signal(ids[coin], now_ns)
        predicted = {}
        for coin in COINS:
            state = tracker.manipulator_state(ids[coin], now_ns)
            predicted[coin] = (state.is_manipulator_active, state.manipulator_direction)
        steps.append((now_ms, predicted))
        if now_ms - start_ms >= HORIZON_MS:
            break
        venue.advance(1)

    truth = _truth(truth_path)
    per_coin = {}
    for coin in COINS:
        tp = fp = fn = tn = 0
        wrong_direction = 0
        first_detect = None
        for now_ms, predicted in steps:
            active, direction = predicted[coin]
            real = _hunter_open(truth.get(coin, []), now_ms)
            if active and real:
                tp += 1
                wrong_direction += direction != "SHORT"
                if first_detect is None:
                    first_detect = now_ms - start_ms
            elif active:
                fp += 1
            elif real:
                fn += 1
            else:
                tn += 1
        orders = truth.get(coin, [])
        per_coin[coin] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "wrong_direction": wrong_direction,
            "hunter_first_order_ms": orders[0][0] - start_ms if orders else None,
            "hunter_flat_ms": orders[-1][0] - start_ms if orders else None,
            "oi_drop_ms": signals.get(coin),
            "first_detection_ms": first_detect,
        }
    return per_coin


def _tape(rng: random.Random, skewed: bool) -> list[tuple[int, float, float, bool, str, str]]:
    """Synthetic prints: uniform over more addresses than the cap (an eviction on about a third
    of the fills: the worst case), or skewed (80% of fills from 2,000 regulars, the rest from a
    long tail of 50,000: closer to a real tape, still with evictions)."""
    regulars = [f"0x{i:040x}" for i in range(2_000)]
    tail = [f"0x{i:040x}" for i in range(2_000, 52_000)]
    uniform = [f"0x{i:040x}" for i in range(COST_ADDRESSES)]

    def pick() -> str:
        if not skewed:
            return uniform[rng.randrange(COST_ADDRESSES)]
        pool = regulars if rng.random() < 0.8 else tail
        return pool[rng.randrange(len(pool))]

    tape = []
    t = 1_700_000_000 * 1_000_000_000
    for _ in range(COST_TRADES):
        t += rng.randrange(1, 5_000_000)
        px = 80_000.0 * (1 + rng.gauss(0, 0.001))
        tape.append((t, px, rng.uniform(0.001, 2.0), rng.random() < 0.5, pick(), pick()))
    return tape


class _Null:
    def on_trade(self, *args: object) -> None:
        return None


def _per_trade_us(tracker: Any, iid: InstrumentId, tape: list[Any]) -> float:
    on_trade = tracker.on_trade
    start = time.perf_counter()
    for ts, px, sz, aggr, buyer, seller in tape:
        on_trade(iid, ts, px, sz, aggr, buyer, seller)
    return (time.perf_counter() - start) / len(tape) * 1e6


def measure_cost() -> dict[str, float]:
    """Microseconds per ``on_trade`` (median of passes); an empty method call for scale."""
    rng = random.Random(1)
    iid = _instrument("BTC")
    out: dict[str, float] = {}
    for label, skewed in (("skewed", True), ("uniform_evicting", False)):
        tape = _tape(rng, skewed)
        passes = [_per_trade_us(WalletTracker(WalletThresholds()), iid, tape) for _ in range(5)]
        out[f"cost_per_trade_us_p50_{label}"] = round(statistics.median(passes), 2)
    null = [_per_trade_us(_Null(), iid, tape) for _ in range(5)]
    out["empty_call_us_p50"] = round(statistics.median(null), 3)
    return out


def measure_memory() -> dict[str, float]:
    """Bytes held by a tracker at its cap: one trade per address, and full notional windows."""
    thresholds = WalletThresholds()
    iid = _instrument("BTC")
    cap = thresholds.max_addresses
    n_buckets = round(thresholds.notional_window_secs / thresholds.notional_bucket_secs)
    bucket_ns = int(thresholds.notional_bucket_secs * 1e9)
    out: dict[str, float] = {"max_addresses": cap}
    for label, buckets in (("one_trade", 1), ("full_window", n_buckets)):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        tracker = WalletTracker(thresholds)
        t0 = 1_700_000_000 * 1_000_000_000
        for b in range(buckets):
            for i in range(cap // 2):
                tracker.on_trade(
                    iid, t0 + b * bucket_ns, 80_000.0, 0.01, True, f"0xb{i:039x}", f"0xs{i:039x}"
                )
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert tracker.n_addresses == cap
        out[f"memory_mb_at_cap_{label}"] = round((after - before) / 2**20, 1)
        out[f"bytes_per_address_{label}"] = round((after - before) / cap)
        del tracker
    return out


def main() -> None:
    """Score every seed, then time and weigh the tracker; one JSON line."""
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            runs[seed] = run_seed(seed, Path(tmp))
    rows = [row for per_coin in runs.values() for row in per_coin.values()]
    tp = sum(r["tp"] for r in rows)
    fp = sum(r["fp"] for r in rows)
    fn = sum(r["fn"] for r in rows)
    detected = [r for r in rows if r["first_detection_ms"] is not None]
    lag_after_entry = [r["first_detection_ms"] - r["hunter_first_order_ms"] for r in detected]
    before_flat = [r["hunter_flat_ms"] - r["first_detection_ms"] for r in detected]
    result: dict[str, Any] = {
        "bench": "wallets",
        "seeds": f"{SEEDS[0]}-{SEEDS[-1]}",
        "runs": len(rows),
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "step_ms": STEP_MS,
        "tp_steps": tp,
        "fp_steps": fp,
        "fn_steps": fn,
        "runs_detected": len(detected),
        "runs_with_false_alarm": sum(1 for r in rows if r["fp"] > 0),
        "wrong_direction_steps": sum(r["wrong_direction"] for r in rows),
        "detection_after_hunter_entry_s_median": (
            round(statistics.median(lag_after_entry) / 1000, 2) if lag_after_entry else None
        ),
        "detection_before_hunter_flat_s_median": (
            round(statistics.median(before_flat) / 1000, 2) if before_flat else None
        ),
    }
    result.update(measure_cost())
    result.update(measure_memory())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
