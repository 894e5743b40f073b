"""Ops benchmark: what the node's Prometheus metrics cost on the ingest path.

The ingest path is ``bench_ingest``'s full client path (a realistic mix of 20x20 l2Book, bbo,
trades and asset-context frames through the data client's own frame handler into a DataEngine
with a managed book). It runs for a fixed number of passes over the mix, without metrics and
with a real ``NodeMetricsActor`` registered on the same bus, cache and clock (its bus
subscriptions in place) whose sampling tick and a scrape (``render``, what the HTTP thread does)
run once per second of wall time, in line (on one thread the GIL makes that the same CPU as a
scrape thread). Times are this process's CPU time (other work on the machine moves wall time
far more), and a "second" between scrapes is one CPU second: more scrapes than a wall-clock
second would give, so the figure errs high. Off and on runs are interleaved so both see the same
machine noise; the figure
is the per-frame time with metrics against without (best and median of the runs), and the
direct figure: the time one sample and scrape takes, as a share of each second.

Second half, more than one node: the node's ingest path (the real ``HyperliquidWebSocketClient``
feeding the data client's ``HyperliquidFrameHandler`` into a DataEngine with a managed BTC book,
as above, without metrics) runs in one and in two separate OS processes ("nodes"; this file run
with ``--node-worker``), fed by one simulator subprocess in stress mode (``jarvis sim
--stress-book-fps R``), every node subscribed to the BTC l2Book stream. The simulator is its own
process (the sender) and costs little: it encodes a book's frames once and writes each 1 ms
tick's frames to a subscriber in one write (``simulator.stress``), about 10 % of a core for
~85k frames/s out, so nearly both cores are left to the nodes. Per step the simulator is
started fresh at a per-node rate R (the node processes are kept); each node warms up 2 s, then
all nodes count, over the same 3 s window (started together), the book frames they handled and
sample their lag (receive time less the frame's venue time, which is wall time at speed 1). A
step is kept up when every node handled >= 90 % of R and its lag neither ended above 250 ms nor
grew by more than 100 ms (a node that falls behind builds a backlog and its lag grows). R
climbs a ladder (10k, x 1.5) to the first failed rung, then 3 bisections between the last
kept-up and the first failed rate. A step credits each node with its handled rate but never
more than R (a node draining its warm-up backlog handles more for a while); the ceiling is the
best kept-up step's credited total, and ``two_nodes_vs_one`` the 2-node ceiling over the
1-node one. Both searches use the same method and run interleaved, step by step, so both see
the same machine over time.

CPU accounting per step: each node's own CPU (``node_cpu_pct``, % of one core, and per book
frame), and over the same window from outside (/proc, user + system) the simulator and the
nodes (``cpu_pct_sim_nodes``), the rest of the machine's busy time (``other_cpu_pct``: other
sessions; /proc/stat) and what was idle (``machine_idle_pct``; 200 is two idle cores). The
machine is shared: a step that failed while other work took more than 20 % of a core is
repeated, at most twice (``disturbed_attempts_before`` keeps the voided attempts), the same
rule for both configurations; read every figure with ``load_avg_at_start`` and the per-step
``other_cpu_pct``. One node is capped by its one core (the GIL: the node at ~100 % CPU); two
nodes by the two cores shared with the simulator, so the ratio's ceiling is about
(200 - simulator - other) % over 100 %, less what sharing costs per frame.

Targets: metrics cost <= 5 % of the ingest ceiling; two nodes >= 1.7 x one node.

Measured (``.venv/bin/python benchmarks/bench_ops.py``, 2 cores shared with other sessions):
undisturbed runs (other work <= 10 % of a core around the ceilings, load average 2.2-2.4):
one node 52,070 -> two nodes 88,546 book frames/s, ``two_nodes_vs_one`` 1.70, and 49,476 ->
84,333, 1.70 (both at commit d6fd6d7); nine runs with other work on the cores (load 1-7)
gave 0.81-1.98 and are not measurements of the nodes (``ceiling_disturbed_by_other_work``). Before
the sender rework (load 0.35): 45,014 -> 31,227, 0.69. Metrics: 0.09-0.21 % of a core for one
sample and scrape a second (the A/B moves -5 to +12 % with the machine's noise).
benchmarks/README.md has the detail and the profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Generator
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.data_client import BacktestMarketDataClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.portfolio.portfolio import Portfolio

from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.websocket import HyperliquidWebSocketClient
from adapters.hyperliquid.websocket import as_subscription
from jarvis.metrics_actor import NodeMetricsActor
from jarvis.metrics_actor import NodeMetricsActorConfig
from jarvis.testkit import VENUE_CAPTURES

try:  # run as a script: its folder is on sys.path
    from bench_ingest import make_frames
    from bench_ingest import make_mix
except ImportError:  # imported as benchmarks.bench_ops
    from benchmarks.bench_ingest import make_frames
    from benchmarks.bench_ingest import make_mix

BOOKS = 3_000
PASSES = 50  # about 2 CPU seconds per run here: one or two 1 s scrapes in each
RUNS = 4
SCRAPE_EVERY_SECS = 1.0
STREAMS = ("l2Book:BTC", "bbo:BTC", "trades:BTC", "activeAssetCtx:BTC")

REPO = Path(__file__).resolve().parents[1]
LADDER_START = 10_000  # book frames/s per node: the first rung; each next one 1.5 x higher
LADDER_FACTOR = 1.5
LADDER_MAX = 200_000
BISECTIONS = 3  # then halve the gap between the last kept-up and first failed rung 3 times
WARM_SECS = 2.0
MEASURE_SECS = 3.0
KEPT_UP_SHARE = 0.9
LAG_MAX_MS = 250.0
LAG_GROWTH_MAX_MS = 100.0
DISTURBED_OTHER_CPU_PCT = 20.0  # other work's CPU (% of one core) that makes a failed step void
DISTURBED_RETRIES = 2
TWO_NODES_TARGET = 1.7


class _Feed:
    """The data-client surface the actor samples, over the bench's own monitor and a real (not
    started) WebSocket client: what a HyperliquidDataClient exposes."""

    def __init__(self, monitor: StreamMonitor) -> None:
        self._monitor = monitor
        self.ws_client = HyperliquidWebSocketClient("ws://127.0.0.1:9/ws", lambda *_: None)
        self.recorder = None

    def stream_last_received_ns(self) -> dict[str, int]:
        return self._monitor.last_received_ns()

    def stream_health(self) -> dict[str, Any]:
        return {}

    def feed_counters(self) -> dict[str, tuple[int, int]]:
        return {"BTC": (0, 0)}


def ingest(mix: list[tuple[bytes, str]], instrument: Any, with_metrics: bool) -> dict[str, float]:
    """PASSES passes over the mix; seconds taken, and the scrape count and time with metrics."""
    engine, msgbus, cache, clock = _engine_with_book(instrument)
    portfolio = Portfolio(msgbus, cache, clock)
    monitor = StreamMonitor({})
    for key in STREAMS:
        monitor.register(key, 0)
    handler = HyperliquidFrameHandler(engine.process, lambda _h: None, monitor)
    handler.add_instrument(instrument)
    for output in ("deltas", "quotes", "trades", "hl_trades", "mark", "index", "funding"):
        handler.set_output("BTC", output, True)
    actor = None
    if with_metrics:
        actor = NodeMetricsActor(NodeMetricsActorConfig())
        actor.register_base(portfolio, msgbus, cache, clock)
        feed = _Feed(monitor)
        actor.sources.data_clients = [feed]
        actor.sources.websockets = [("data", feed.ws_client)]
        actor.start()
    handle = handler.handle
    scrapes = 0
    scrape_s = 0.0
    recv_ns = 1_700_000_000_000_000_000
    seq = 0
    start = time.process_time()
    next_scrape = start + SCRAPE_EVERY_SECS
    for _ in range(PASSES):
        for raw, key in mix:
            seq += 1
            recv_ns += 1_000
            handle(raw, seq, recv_ns, "bench-1", key)
            if actor is not None and seq % 256 == 0 and time.process_time() >= next_scrape:
                began = time.process_time()
                actor.sample(recv_ns)
                actor.metrics.render()
                scrape_s += time.process_time() - began
                scrapes += 1
                next_scrape += SCRAPE_EVERY_SECS
    elapsed = time.process_time() - start
    if actor is not None:
        actor.stop()
        actor.dispose()
    return {"secs": elapsed, "frames": float(seq), "scrapes": scrapes, "scrape_s": scrape_s}


def _engine_with_book(instrument: Any) -> tuple[DataEngine, MessageBus, Cache, TestClock]:
    """A DataEngine keeping the instrument's managed L2 book, as the node's data engine does,
    with the bus, cache and clock it runs on (the metrics pass registers an actor on them)."""
    clock = TestClock()
    msgbus = MessageBus(TraderId("BENCH-001"), clock)
    cache = Cache()
    engine = DataEngine(msgbus, cache, clock)
    client = BacktestMarketDataClient(ClientId("HYPERLIQUID"), msgbus, cache, clock)
    engine.register_client(client)
    engine.start()
    cache.add_instrument(instrument)
    engine.execute(
        SubscribeOrderBook(
            instrument.id, OrderBookDelta, BookType.L2_MBP, ClientId("HYPERLIQUID"), None,
            UUID4(), 0, managed=True,
        )
    )  # fmt: skip
    return engine, msgbus, cache, clock


def _frame_time_ms(raw: bytes) -> int:
    """The venue ``time`` of an l2Book frame, read without decoding it again."""
    at = raw.find(b'"time":') + 7
    end = at
    while 48 <= raw[end] <= 57:
        end += 1
    return int(raw[at:end])


async def _node_worker(base_url: str) -> dict[str, Any]:
    """One node's ingest path on a live stress stream; frames handled, CPU and lag in a window."""
    body = json.dumps({"type": "meta"}).encode()
    request = urllib.request.Request(base_url + "/info", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        meta = decode_info_response("meta", answer.read())
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    engine, _, _, _ = _engine_with_book(btc)
    monitor = StreamMonitor({})
    monitor.register("l2Book:BTC", 0)
    handler = HyperliquidFrameHandler(engine.process, lambda _h: None, monitor)
    handler.add_instrument(btc)
    handler.set_output("BTC", "deltas", True)
    handle = handler.handle
    books = 0
    lags: list[tuple[int, float]] = []

    def on_frame(raw: bytes, seq: int, recv_ns: int, conn_id: str, key: str) -> None:
        nonlocal books
        handle(raw, seq, recv_ns, conn_id, key)
        if key == "l2Book:BTC":
            books += 1
            if books & 31 == 0:
                lags.append((recv_ns, recv_ns / 1e6 - _frame_time_ms(raw)))

    ws = HyperliquidWebSocketClient("ws" + base_url[len("http") :] + "/ws", on_frame)
    await ws.start()
    if not await ws.wait_connected(10):
        raise RuntimeError(f"node worker could not connect to {base_url}")
    await ws.subscribe(as_subscription({"type": "l2Book", "coin": "BTC"}))
    await asyncio.sleep(WARM_SECS)
    print("warm", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "go": every node's window starts together
    books0, cpu0, t0, start_ns = books, time.process_time(), time.perf_counter(), time.time_ns()
    await asyncio.sleep(MEASURE_SECS)
    books1, cpu1, secs = books, time.process_time(), time.perf_counter() - t0
    await ws.stop()
    window = [(ns, lag) for ns, lag in lags if ns >= start_ns]
    tenth = max(1, len(window) // 10)
    first = statistics.median(lag for _, lag in window[:tenth]) if window else float("inf")
    last = statistics.median(lag for _, lag in window[-tenth:]) if window else float("inf")
    return {
        "book_frames_per_s": (books1 - books0) / secs,
        "cpu_pct": (cpu1 - cpu0) / secs * 100,
        "lag_start_ms": first,
        "lag_end_ms": last,
    }


def _proc_cpu_secs(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_secs() -> float:
    """Busy CPU seconds of the whole machine so far, all cores (Linux /proc/stat: everything
    but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _start_workers(nodes: int) -> list[subprocess.Popen[str]]:
    """``nodes`` node processes, started once (importing NautilusTrader takes seconds) and given
    one simulator URL per step on stdin."""
    return [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--node-worker"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(nodes)
    ]


def _node_step(workers: list[subprocess.Popen[str]], rate: int) -> dict[str, Any]:
    """A fresh simulator at ``rate`` book frames/s with every node process on it."""
    args = ["--port", "0", "--scenario", "quiet", "--seed", "7", "--coins", "BTC"]
    sim = subprocess.Popen(
        [sys.executable, "-m", "jarvis.cli", "sim", *args, "--stress-book-fps", str(rate)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sim.stdout is not None
        line = sim.stdout.readline()
        if not line.startswith("jarvis sim:"):
            raise RuntimeError(f"simulator did not start: {line!r}")
        base_url = line.split()[2]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(base_url + "\n")
            worker.stdin.flush()
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if line.strip() != "warm":
                raise RuntimeError(f"node worker did not start: {line!r}")
        pids = [sim.pid, *(worker.pid for worker in workers)]
        cpu0 = [_proc_cpu_secs(pid) for pid in pids]
        busy0 = _machine_busy_secs()
        t0 = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            assert worker.stdout is not None
            results.append(json.loads(worker.stdout.readline()))
        secs = time.perf_counter() - t0
        cpu = [(_proc_cpu_secs(pid) - c0) / secs * 100 for pid, c0 in zip(pids, cpu0, strict=True)]
        busy1 = _machine_busy_secs()
        machine_busy_pct = (busy1 - busy0) / secs * 100  # of one core: 200 = both cores full
        sim_cpu_pct = cpu[0]
    finally:
        sim.terminate()
        sim.wait(10)
    kept_up = all(
        r["book_frames_per_s"] >= KEPT_UP_SHARE * rate
        and r["lag_end_ms"] <= LAG_MAX_MS
        and r["lag_end_ms"] - r["lag_start_ms"] <= LAG_GROWTH_MAX_MS
        for r in results
    )
    total = sum(r["book_frames_per_s"] for r in results)
    node_cpu = sum(r["cpu_pct"] for r in results)
    return {
        "nodes": len(workers),
        "rate_per_node": rate,
        "kept_up": kept_up,
        # What the ceiling counts: each node's handled rate, but never more than the rate sent
        # (a node draining a backlog from its warm-up handles more than that for a while).
        "credited_book_frames_per_s": round(
            sum(min(r["book_frames_per_s"], rate) for r in results)
        ),
        "total_book_frames_per_s": round(total),
        "per_node_book_frames_per_s": [round(r["book_frames_per_s"]) for r in results],
        "node_cpu_pct": [round(r["cpu_pct"]) for r in results],
        "node_cpu_us_per_book_frame": round(node_cpu / 100 / total * 1e6, 1) if total else None,
        "lag_ms_start_end": [[round(r["lag_start_ms"]), round(r["lag_end_ms"])] for r in results],
        "sim_cpu_pct": round(sim_cpu_pct),
        # The same window from outside (per-process /proc CPU seconds, % of one core), and what
        # the whole machine did: `other_cpu_pct` is work that was neither the simulator nor the
        # nodes (other sessions), `machine_idle_pct` what was left of the cores.
        "cpu_pct_sim_nodes": [round(c) for c in cpu],
        "other_cpu_pct": round(machine_busy_pct - sum(cpu)),
        "machine_idle_pct": round((os.cpu_count() or 1) * 100 - machine_busy_pct),
    }


def _rates() -> Generator[int, bool, None]:
    """The per-node rates to try, told after each whether it was kept up: a ladder (x 1.5)
    until one is not, then ``BISECTIONS`` halvings between the last kept-up and failed rates."""
    lo, hi, rate = 0, 0, LADDER_START
    while rate <= LADDER_MAX:
        if not (yield rate):
            hi = rate
            break
        lo, rate = rate, round(rate * LADDER_FACTOR)
    for _ in range(BISECTIONS if hi else 0):
        rate = (lo + hi) // 2
        if (yield rate):
            lo = rate
        else:
            hi = rate


def _disturbed_step(workers: list[subprocess.Popen[str]], rate: int) -> dict[str, Any]:
    """A step, repeated (up to ``DISTURBED_RETRIES`` times) when it failed while other work
    took more than ``DISTURBED_OTHER_CPU_PCT`` of a core: that failure says nothing about the
    nodes. Every attempt is kept in ``attempts``."""
    attempts: list[dict[str, Any]] = []
    while True:
        step = _node_step(workers, rate)
        attempts.append(step)
        disturbed = step["other_cpu_pct"] > DISTURBED_OTHER_CPU_PCT
        if step["kept_up"] or not disturbed or len(attempts) > DISTURBED_RETRIES:
            break
    if len(attempts) > 1:
        step = {**step, "disturbed_attempts_before": attempts[:-1]}
    return step


def bench_nodes() -> dict[str, Any]:
    """Total book frames/s one node process and two keep up with, and their ratio: the two
    searches run interleaved, step by step, so both see the same machine over time."""
    configs = {"one_node": 1, "two_nodes": 2}
    workers = {name: _start_workers(n) for name, n in configs.items()}
    searches = {name: _rates() for name in configs}
    steps: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    pending = {name: next(search) for name, search in searches.items()}
    try:
        while pending:
            for name in list(pending):
                step = _disturbed_step(workers[name], pending[name])
                steps[name].append(step)
                try:
                    pending[name] = searches[name].send(step["kept_up"])
                except StopIteration:
                    del pending[name]
    finally:
        for group in workers.values():
            for worker in group:
                assert worker.stdin is not None
                worker.stdin.close()  # end of input: the worker returns
            for worker in group:
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(10)
    best = {
        name: max(
            (s for s in config_steps if s["kept_up"]),
            key=lambda s: s["credited_book_frames_per_s"],
            default=None,
        )
        for name, config_steps in steps.items()
    }
    ceiling = {name: b["credited_book_frames_per_s"] if b else 0 for name, b in best.items()}
    # A ceiling is only a measurement of the nodes when neither its step nor the failed step
    # just above it (what bounded it) shared the cores with other work.
    disturbed = {}
    for name, config_steps in steps.items():
        kept = best[name]
        top = kept["rate_per_node"] if kept else 0
        above = [s for s in config_steps if not s["kept_up"] and s["rate_per_node"] > top]
        failed = min(above, key=lambda s: s["rate_per_node"], default=None)
        bounding = [s for s in (kept, failed) if s is not None]
        disturbed[name] = any(s["other_cpu_pct"] > DISTURBED_OTHER_CPU_PCT for s in bounding)
    ratio = ceiling["two_nodes"] / ceiling["one_node"] if ceiling["one_node"] else 0.0
    return {
        "one_node_ceiling_book_frames_per_s": ceiling["one_node"],
        "two_nodes_ceiling_book_frames_per_s": ceiling["two_nodes"],
        "two_nodes_vs_one": round(ratio, 2),
        "two_nodes_target_met": ratio >= TWO_NODES_TARGET,
        # True: other work took > 20 % of a core in the ceiling's step or the failed one above
        # it; that figure is the machine's, not the nodes' (see other_cpu_pct in node_steps).
        "ceiling_disturbed_by_other_work": disturbed,
        # The kept-up step each ceiling is: per-node rates, CPU of the simulator and of each
        # node, the CPU other work took and the machine's idle share over its window.
        "at_ceiling": {
            name: {k: v for k, v in b.items() if k not in ("nodes", "disturbed_attempts_before")}
            if b
            else None
            for name, b in best.items()
        },
        # True when the top rung was kept up: the ceiling is at least that, not measured.
        "ceiling_capped_by_ladder": {
            name: all(s["kept_up"] for s in config_steps) for name, config_steps in steps.items()
        },
        "node_steps": steps,
    }


def bench_metrics() -> dict[str, Any]:
    """Interleaved runs without and with metrics."""
    asyncio.set_event_loop(asyncio.new_event_loop())  # the actor's tick is armed on it (never run)
    meta = decode_info_response("meta", (VENUE_CAPTURES / "info_meta.json").read_bytes())
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    mix = make_mix(make_frames(BOOKS))
    off: list[dict[str, float]] = []
    on: list[dict[str, float]] = []
    for _ in range(RUNS):
        off.append(ingest(mix, btc, with_metrics=False))
        on.append(ingest(mix, btc, with_metrics=True))
    frames = off[0]["frames"]
    off_s = [r["secs"] for r in off]
    on_s = [r["secs"] for r in on]
    scrapes = sum(r["scrapes"] for r in on)
    scrape_ms = sum(r["scrape_s"] for r in on) / scrapes * 1e3 if scrapes else 0.0
    return {
        "benchmark": "ops_metrics_overhead_on_ingest",
        "frames_per_run": int(frames),
        "runs": RUNS,
        "scrape_every_secs": SCRAPE_EVERY_SECS,
        "ingest_frames_per_sec_without_metrics": round(frames / min(off_s)),
        "ingest_frames_per_sec_with_metrics": round(frames / min(on_s)),
        "us_per_frame_without_metrics": round(min(off_s) / frames * 1e6, 3),
        "us_per_frame_with_metrics": round(min(on_s) / frames * 1e6, 3),
        "metrics_overhead_pct": round((min(on_s) / min(off_s) - 1) * 100, 2),
        "metrics_overhead_pct_median": round(
            (statistics.median(on_s) / statistics.median(off_s) - 1) * 100, 2
        ),
        "scrapes": scrapes,
        "ms_per_sample_and_scrape": round(scrape_ms, 3),
        # The direct figure (the A/B above carries the machine's noise): one sample and
        # scrape per second is this share of the second the ingest path had.
        "metrics_cpu_share_pct_at_1s_scrape": round(scrape_ms / 10, 3),
    }


def main() -> None:
    """Both halves (or one with ``--part``); one JSON line. ``--node-worker`` is a node process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--part", choices=("all", "metrics", "nodes"), default="all")
    parser.add_argument("--node-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.node_worker:  # a node process: the simulator's URL on stdin, its figures on stdout
        while line := sys.stdin.readline():
            result = asyncio.run(_node_worker(line.strip()))
            print(json.dumps(result), flush=True)
        return
    load_1m, load_5m, _ = os.getloadavg()
    out: dict[str, Any] = {}
    if args.part in ("all", "metrics"):
        out.update(bench_metrics())
    if args.part in ("all", "nodes"):
        out.update(
            {
                "nodes_machine": f"{os.cpu_count()} cores shared with the simulator and with "
                "other work on the machine (see load_avg_at_start)",
                "load_avg_at_start": [round(load_1m, 2), round(load_5m, 2)],
                **bench_nodes(),
            }
        )
    out["targets"] = {"metrics_overhead_pct_max": 5, "two_nodes_vs_one_min": TWO_NODES_TARGET}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
