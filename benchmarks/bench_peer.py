"""Side by side: our Hyperliquid data path vs NautilusTrader's bundled (Rust) adapter.

Both run as a real ``TradingNode`` (one per process, one at a time) against our simulator in
stress mode on the same stream: books for BTC, ETH and SOL into one Actor (managed L2 books).
The bundled adapter is a benchmark peer only (never a runtime dependency of the node): its
instrument provider is subclassed to load the simulator's ``/info`` meta through our parser and
convert each perp with ``to_dict``/``from_dict`` into the pyo3 instrument type; its WebSocket
takes ``base_url_ws``; nothing else of it is changed.

Processes: this script (the conductor), one simulator (``--sender``) and, per session, one node
(``--node ours|ours_norec|bundled``). The conductor talks to both over stdin/stdout lines.

The send stamp: the simulator runs stepped (no market moves, no other pushes) and its stress
frames carry, as the venue ``time``, ``STAMP_OFFSET_US`` + the sender's CLOCK_MONOTONIC in
microseconds at publish. Both adapters turn ``time`` into ``ts_event`` (ms -> ns), so the Actor
recovers the send instant with microsecond resolution from the same clock (one machine) and
measures send -> Actor latency exactly, for either adapter, with no change to either.

Rows (one session = one node through every phase; sessions alternate between the adapters,
``ROUNDS`` rounds, medians reported, load average recorded before and after):

* latency p50/p99 at ~570 and ~1,800 frames/s (3 streams, fixed-rate sender);
* CPU seconds per 1,000 frames at ~1,800 frames/s: the node process's CPU (every thread: the
  Rust runtime's and our recorder's included, and the recorder's compression processes) over
  the frames the sender sent in the window;
* book frames/s kept up with: a ladder of rates; a step is kept up with when the sender achieved
  >= 80 % of the asked rate (it pauses a subscriber that falls 20,000 frames behind) and the
  Actor's p99 latency stayed <= ``KEPT_UP_P99_MS``; the figure is the highest sent rate kept up
  with (the ladder, 6k to 45k, stops at the first failure; it went to 30k until both adapters
  kept up with 30k, which measured neither ceiling).

Ours runs as ``jarvis node`` builds it (``wire_health_gates`` after ``node.build()``, so the
feed-health gate is on and, by default, data goes straight to the DataEngine), with the
raw-frame recorder on (the normal configuration; zstd to a temp dir) and, as a second row, off.

Variants (``--variants``, comma-separated, default ``bundled,ours,ours_norec``): ``bundled``;
``ours`` (recorder on); ``ours_norec`` (recorder off); either of ours with the suffix ``_bus``
runs with ``direct_to_data_engine=False`` (the standard message-bus + engine-queue path), e.g.
``--variants bundled,ours,ours_bus``. Ratios are always against ``bundled``.

Run: ``.venv/bin/python benchmarks/bench_peer.py`` (~3-4 minutes with the 3 default variants,
~1 minute more per extra variant; ``--rounds 1`` for a quick look). Prints one JSON line (last
line). ``BENCH_PEER_PROFILE=/tmp/x.prof`` cProfiles every node session into that file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
COINS = ("BTC", "ETH", "SOL")
STAMP_OFFSET_US = 2_000_000_000_000  # > any venue ms of the stepped sim: stress frames are newer
ROUNDS = 3
LOW_RATE = 570  # frames/s over the 3 streams
HIGH_RATE = 1_800
WINDOW_S = 2.5
SETTLE_S = 0.8
LADDER = (6_000, 9_000, 12_000, 16_000, 20_000, 24_000, 30_000, 36_000, 45_000)
LADDER_WINDOW_S = 1.2
LADDER_SETTLE_S = 0.6
KEPT_UP_P99_MS = 50.0
VARIANTS = ("bundled", "ours", "ours_norec")
KNOWN_VARIANTS = (*VARIANTS, "ours_bus", "ours_norec_bus")


# --------------------------------------------------------------------------------------------
# Sender: the simulator in stress mode, stepped, with the send stamp as the frames' time
# --------------------------------------------------------------------------------------------


class _StampClock:
    """Venue ``time`` of the stress frames: the send instant (monotonic us) + the offset."""

    def __init__(self) -> None:
        self._last = 0

    def now_ms(self) -> int:
        now = STAMP_OFFSET_US + time.monotonic_ns() // 1_000
        if now <= self._last:
            now = self._last + 1
        self._last = now
        return now


class _StampVenue:
    """The venue as the stress feed sees it, with the stamping clock."""

    def __init__(self, venue: Any) -> None:
        self.hub = venue.hub
        self.engine = venue.engine
        self.clock = _StampClock()


def run_sender() -> None:
    """Serve the simulator; stdin: ``fps N`` (per stream), ``count``, ``quit``."""
    from simulator.app import SimConfig
    from simulator.app import SimServer

    async def main() -> None:
        config = SimConfig(port=0, stepped=True, coins=COINS, stress_book_fps=1.0, seed=7)
        server = SimServer(config)
        await server.start()
        stress = server.stress
        assert stress is not None
        stress.venue = _StampVenue(server.venue)  # type: ignore[assignment]
        stress.fps = 1e-9
        print(f"READY {server.base_url} {server.ws_url}", flush=True)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := (await reader.readline()).decode().strip():
            cmd, *args = line.split()
            if cmd == "fps":
                stress.fps = max(float(args[0]), 1e-9)
                print("OK", flush=True)
            elif cmd == "count":
                print(f"COUNT {stress.frames_published} {time.monotonic()}", flush=True)
            elif cmd == "quit":
                break
        await server.stop()

    asyncio.run(main())


# --------------------------------------------------------------------------------------------
# Node: one TradingNode with one adapter and the measuring Actor
# --------------------------------------------------------------------------------------------


def _bundled_factory(http_url: str) -> Any:
    """The bundled adapter's factory with the simulator-backed instrument provider."""
    from nautilus_trader.adapters.hyperliquid.data import HyperliquidDataClient
    from nautilus_trader.adapters.hyperliquid.providers import HyperliquidInstrumentProvider
    from nautilus_trader.core import nautilus_pyo3
    from nautilus_trader.live.factories import LiveDataClientFactory
    from nautilus_trader.model.instruments import CryptoPerpetual
    from nautilus_trader.model.instruments import Instrument

    from adapters.hyperliquid.providers import parse_perp_instruments
    from adapters.hyperliquid.schemas.info import decode_info_response

    class SimInstrumentProvider(HyperliquidInstrumentProvider):
        """Loads the simulator's perps (our parser) instead of calling mainnet."""

        async def _load_instruments(self) -> list[Instrument]:
            body = json.dumps({"type": "meta"}).encode()
            request = urllib.request.Request(
                f"{http_url}/info", body, {"Content-Type": "application/json"}
            )
            raw = await asyncio.to_thread(lambda: urllib.request.urlopen(request).read())
            meta = decode_info_response("meta", raw)
            perps = parse_perp_instruments(meta, time.time_ns(), coins=COINS)
            self._instruments_pyo3 = [
                nautilus_pyo3.CryptoPerpetual.from_dict(CryptoPerpetual.to_dict(p)) for p in perps
            ]
            return list(perps)

    class Factory(LiveDataClientFactory):
        @staticmethod
        def create(loop, name, config, msgbus, cache, clock):  # type: ignore[no-untyped-def,override]
            client = nautilus_pyo3.HyperliquidHttpClient(
                environment=nautilus_pyo3.HyperliquidEnvironment.MAINNET
            )
            provider = SimInstrumentProvider(client, config.instrument_provider)
            return HyperliquidDataClient(
                loop, client, msgbus, cache, clock, provider, config, name=name
            )

    return Factory


def run_node(variant: str, http_url: str, ws_url: str) -> None:
    """One node; stdin: ``mark``, ``report``, ``quit``; prints ``BENCH <json>`` lines."""
    from nautilus_trader.common.actor import Actor
    from nautilus_trader.config import ActorConfig
    from nautilus_trader.config import InstrumentProviderConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.identifiers import InstrumentId

    from adapters.hyperliquid.config import HyperliquidDataClientConfig
    from adapters.hyperliquid.config import HyperliquidRecorderConfig
    from adapters.hyperliquid.factories import HyperliquidLiveDataClientFactory

    ids = [InstrumentId.from_str(f"{coin}-USD-PERP.HYPERLIQUID") for coin in COINS]

    class BookActor(Actor):
        def __init__(self) -> None:
            super().__init__(ActorConfig(component_id="PEER-BENCH"))
            self.lat_ns: list[int] = []
            self.messages = 0
            self.measuring = False
            self.books_ok = 0

        def on_start(self) -> None:
            for instrument_id in ids:
                self.subscribe_order_book_deltas(instrument_id, BookType.L2_MBP, managed=True)

        def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
            now = time.monotonic_ns()
            if not self.measuring:
                return
            self.messages += 1
            sent_us = deltas.ts_event // 1_000_000 - STAMP_OFFSET_US
            if sent_us > 0:
                self.lat_ns.append(now - sent_us * 1_000)

    tmp = tempfile.mkdtemp(prefix="bench-peer-")
    if variant == "bundled":
        from nautilus_trader.adapters.hyperliquid.config import (
            HyperliquidDataClientConfig as BundledConfig,
        )

        data_config: Any = BundledConfig(
            base_url_ws=ws_url, instrument_provider=InstrumentProviderConfig(load_all=True)
        )
        factory: Any = _bundled_factory(http_url)
    else:
        base = variant.removesuffix("_bus")
        recorder = HyperliquidRecorderConfig(directory=tmp) if base == "ours" else None
        data_config = HyperliquidDataClientConfig(
            http_url=http_url,
            ws_url=ws_url,
            coins=COINS,
            instrument_refresh_interval_secs=0,
            recorder=recorder,
            direct_to_data_engine=not variant.endswith("_bus"),
        )
        factory = HyperliquidLiveDataClientFactory
    config = TradingNodeConfig(
        trader_id="PEER-001",
        logging=LoggingConfig(log_level="ERROR", log_directory=tmp, log_level_file="ERROR"),
        data_clients={"HYPERLIQUID": data_config},
        timeout_connection=20.0,
        timeout_disconnection=3.0,
        timeout_post_stop=0.2,
        timeout_shutdown=2.0,
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory("HYPERLIQUID", factory)
    actor = BookActor()
    node.trader.add_actor(actor)
    node.build()
    if variant != "bundled":  # as ``jarvis node`` does: the health gate, then direct delivery
        from adapters.hyperliquid.data import wire_health_gates

        wire_health_gates(node)
    state: dict[str, Any] = {}

    def command(line: str) -> None:
        if line == "mark":
            actor.lat_ns = []
            actor.messages = 0
            actor.measuring = True
            state["cpu"] = _process_and_children_cpu_s()
            state["main_cpu"] = _main_thread_cpu_s()
            state["wall"] = time.monotonic()
            print("BENCH {}", flush=True)
        elif line == "report":
            cpu = _process_and_children_cpu_s() - state["cpu"]
            main_cpu = _main_thread_cpu_s() - state["main_cpu"]
            wall = time.monotonic() - state["wall"]
            lat = sorted(actor.lat_ns)
            actor.measuring = False
            books = []
            for instrument_id in ids:
                book = node.cache.order_book(instrument_id)
                bid = None if book is None else book.best_bid_price()
                ask = None if book is None else book.best_ask_price()
                books.append(bid is not None and ask is not None and bid < ask)
            out = {
                "cpu_s": cpu,
                "main_thread_cpu_s": main_cpu,
                "wall_s": wall,
                "messages": actor.messages,
                "samples": len(lat),
                "p50_ms": _pct(lat, 0.50) / 1e6 if lat else None,
                "p99_ms": _pct(lat, 0.99) / 1e6 if lat else None,
                "max_ms": lat[-1] / 1e6 if lat else None,
                "books_ok": all(books),
            }
            print("BENCH " + json.dumps(out), flush=True)
        elif line == "quit":
            node.stop()

    def stdin_reader() -> None:
        for raw in sys.stdin:
            loop.call_soon_threadsafe(command, raw.strip())

    async def ready() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            books = [node.cache.order_book(i) for i in ids]
            if all(b is not None and b.best_bid_price() is not None for b in books):
                print("BENCH READY", flush=True)
                threading.Thread(target=stdin_reader, daemon=True).start()
                return
            await asyncio.sleep(0.05)
        print("BENCH FAILED no books within 30 s", flush=True)
        node.stop()

    ready_task = loop.create_task(ready())
    profile_path = os.environ.get("BENCH_PEER_PROFILE")
    try:
        if profile_path:  # where the time goes: cProfile of the whole node run
            import cProfile

            cProfile.runctx("node.run()", globals(), {"node": node}, profile_path)
        else:
            node.run()
    finally:
        ready_task.cancel()
        node.dispose()


def _process_and_children_cpu_s() -> float:
    """This process's CPU plus its finished children's (the recorder compresses closed files in
    child processes: their CPU is the node's too)."""
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


def _main_thread_cpu_s() -> float:
    """CPU seconds (user + system) of this process's main thread, from /proc (Linux)."""
    try:
        with open(f"/proc/self/task/{os.getpid()}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(sorted_values: list[int], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[index])


# --------------------------------------------------------------------------------------------
# Conductor
# --------------------------------------------------------------------------------------------


class _Proc:
    """A child process spoken to by lines; only lines with ``prefix`` are answers."""

    def __init__(self, args: list[str], prefix: str) -> None:
        self.prefix = prefix
        self.name = " ".join(args[:2])
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )

    def read(self, timeout_s: float = 40.0) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"child {self.name} exited ({self.proc.poll()})")
            if line.startswith(self.prefix):
                return line[len(self.prefix) :].strip()
        raise TimeoutError(f"no answer from {self.name}")

    def ask(self, line: str, timeout_s: float = 40.0) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.read(timeout_s)

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(15)
        except Exception:
            self.proc.kill()
            self.proc.wait(5)


class _Sender:
    def __init__(self) -> None:
        self.child = _Proc(["--sender"], "")
        ready = self.child.read()
        while not ready.startswith("READY"):
            ready = self.child.read()
        _, self.http_url, self.ws_url = ready.split()

    def set_total_rate(self, frames_per_s: float) -> None:
        self.child.ask(f"fps {frames_per_s / len(COINS)}")

    def count(self) -> tuple[int, float]:
        answer = self.child.ask("count")
        while not answer.startswith("COUNT"):
            answer = self.child.read()
        _, frames, at = answer.split()
        return int(frames), float(at)


def _window(sender: _Sender, node: _Proc, rate: float, settle_s: float, window_s: float) -> dict:
    sender.set_total_rate(rate)
    time.sleep(settle_s)
    node.ask("mark")
    frames0, t0 = sender.count()
    time.sleep(window_s)
    frames1, t1 = sender.count()
    result = json.loads(node.ask("report"))
    result["sent"] = frames1 - frames0
    result["sent_per_s"] = (frames1 - frames0) / (t1 - t0)
    result["asked_per_s"] = rate
    return result


def _session(sender: _Sender, variant: str) -> dict[str, Any]:
    sender.set_total_rate(0)
    node = _Proc(["--node", variant, sender.http_url, sender.ws_url], "BENCH ")
    try:
        if node.read(60) != "READY":
            raise RuntimeError(f"{variant}: node not ready")
        low = _window(sender, node, LOW_RATE, SETTLE_S, WINDOW_S)
        high = _window(sender, node, HIGH_RATE, SETTLE_S, WINDOW_S)
        kept_up = 0.0
        ladder = []
        for rate in LADDER:
            step = _window(sender, node, rate, LADDER_SETTLE_S, LADDER_WINDOW_S)
            ok = (
                step["p99_ms"] is not None
                and step["p99_ms"] <= KEPT_UP_P99_MS
                and step["sent_per_s"] >= 0.8 * rate
            )
            ladder.append(
                {
                    "asked": rate,
                    "sent_per_s": round(step["sent_per_s"]),
                    "p99_ms": step["p99_ms"] and round(step["p99_ms"], 2),
                    "ok": ok,
                }
            )
            if not ok:
                break
            kept_up = step["sent_per_s"]
        sender.set_total_rate(0)
    finally:
        node.close()
    return {
        "p50_ms_low": low["p50_ms"],
        "p99_ms_low": low["p99_ms"],
        "p50_ms_high": high["p50_ms"],
        "p99_ms_high": high["p99_ms"],
        "cpu_s_per_1000_high": high["cpu_s"] / max(high["sent"], 1) * 1000,
        "main_thread_cpu_s_per_1000_high": high["main_thread_cpu_s"] / max(high["sent"], 1) * 1000,
        "kept_up_frames_per_s": kept_up,
        "books_ok": low["books_ok"] and high["books_ok"],
        "sent_per_s_low": low["sent_per_s"],
        "sent_per_s_high": high["sent_per_s"],
        "ladder": ladder,
    }


ROWS = (
    ("kept_up_frames_per_s", "higher"),
    ("cpu_s_per_1000_high", "lower"),
    ("p50_ms_high", "lower"),
    ("p99_ms_high", "lower"),
    ("p50_ms_low", "lower"),
    ("p99_ms_low", "lower"),
)


def _median(sessions: list[dict[str, Any]], key: str) -> float | None:
    values = [s[key] for s in sessions if s.get(key) is not None]
    return statistics.median(values) if values else None


def conduct(rounds: int, variants: tuple[str, ...]) -> dict[str, Any]:
    """Alternate sessions of every variant, ``rounds`` times; medians and ratios."""
    load_before = os.getloadavg()
    started = time.monotonic()
    steal_before = _cpu_ticks()
    sender = _Sender()
    sessions: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    try:
        for r in range(rounds):
            order = variants if r % 2 == 0 else tuple(reversed(variants))
            for variant in order:
                sessions[variant].append(_session(sender, variant))
                print(f"# round {r} {variant}: {json.dumps(sessions[variant][-1])}", flush=True)
    finally:
        sender.child.close()
    medians = {v: {k: _median(sessions[v], k) for k, _ in ROWS} for v in variants}
    ratios: dict[str, dict[str, float | None]] = {}
    bundled = medians.get("bundled", {})
    for v in variants:
        if v == "bundled":
            continue
        ratios[v] = {}
        for key, better in ROWS:
            ours, theirs = medians[v][key], bundled.get(key)
            if ours is None or not theirs:
                ratios[v][key] = None
            elif better == "higher":  # ours / bundled: >= 1 is at or beyond the peer
                ratios[v][key] = round(ours / theirs, 3)
            else:  # bundled / ours: >= 1 is at or beyond the peer (less time, less CPU)
                ratios[v][key] = round(theirs / ours, 3) if ours else None
    return {
        "benchmark": "peer_market_data",
        "stream": f"jarvis sim stepped, stress l2Book 20x20, {'+'.join(COINS)}, one Actor",
        "rates_frames_per_s": {"low": LOW_RATE, "high": HIGH_RATE, "ladder": list(LADDER)},
        "kept_up_rule": f"sent >= 80% of asked and p99 <= {KEPT_UP_P99_MS} ms",
        "rounds": rounds,
        "medians": {v: {k: _round(x) for k, x in m.items()} for v, m in medians.items()},
        # Not a target row: the share of the CPU on the interpreter's thread (the GIL), which
        # bounds the ceiling; the bundled adapter does WebSocket + JSON + deltas on Rust threads.
        "main_thread_cpu_s_per_1000_high": {
            v: _round(_median(sessions[v], "main_thread_cpu_s_per_1000_high")) for v in variants
        },
        "ratios_ge_1_is_at_or_beyond_bundled": ratios,
        "books_ok": {v: all(s["books_ok"] for s in sessions[v]) for v in variants},
        "ladders": {v: [s["ladder"] for s in sessions[v]] for v in variants},
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_steal_share": _steal_share(steal_before, _cpu_ticks()),
        "seconds": round(time.monotonic() - started, 1),
    }


def _cpu_ticks() -> tuple[int, int]:
    """(steal, total) CPU ticks of the machine so far, from /proc/stat (zeros where unreadable)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0
    return fields[7], sum(fields)


def _steal_share(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """Share of the machine's CPU time its hypervisor gave to others over the run: on a shared
    VM this, more than the load average, says how far the run's figures can be trusted."""
    total = after[1] - before[1]
    return round((after[0] - before[0]) / total, 3) if total > 0 else None


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def main() -> None:
    """Conductor by default; ``--sender`` / ``--node`` are its children."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sender", action="store_true")
    parser.add_argument("--node", nargs=3, metavar=("VARIANT", "HTTP_URL", "WS_URL"))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    if args.sender:
        run_sender()
    elif args.node:
        run_node(*args.node)
    else:
        variants = tuple(args.variants.split(","))
        unknown = [v for v in variants if v not in KNOWN_VARIANTS]
        if unknown:
            parser.error(f"unknown variants {unknown}; known: {', '.join(KNOWN_VARIANTS)}")
        print(json.dumps(conduct(args.rounds, variants)))


if __name__ == "__main__":
    main()
