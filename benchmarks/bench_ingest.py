"""Ingest benchmark: venue frames -> NautilusTrader objects -> data engine -> order book.

Two parts, measured in the same run and printed as one JSON object (last line):

* parsing only (kept from the first version): 20x20 l2Book frames, our path (msgspec decode,
  ``BookDiffer`` float path, apply the minimal deltas) vs the naive path (``json`` +
  ``Price.from_str`` per level, clear and rebuild the whole book);
* the full client path: a realistic mix (20x20 l2Book, bbo, trades, activeAssetCtx) through the
  data client's own ``HyperliquidFrameHandler`` (decode, continuity checks, parse) into a
  NautilusTrader ``DataEngine`` that maintains the managed L2 book, with the raw-frame recorder
  off and on (its writer thread running, so its GIL share is counted; the on-run's clock stops
  only when the recorder has written every frame, which is checked by reading the files back).

Targets: <= 50 us per 20x20 book message end to end, >= 3x faster than naive, recording on
costs <= 10 % more than off.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.data_client import BacktestMarketDataClient
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.data.engine import DataEngine
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.parsing import BookDiffer
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import L2BookFrame
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
FRAMES = 3_000


def make_frames(count: int) -> list[bytes]:
    """Realistic 20x20 BTC book frames: the mid drifts and a few level sizes change per push."""
    rng = random.Random(7)
    mid = 80_000
    sizes: dict[int, str] = {}
    frames = []
    for i in range(count):
        mid += rng.choice((-1, 0, 0, 0, 1))
        prices = [mid - 1 - k for k in range(20)] + [mid + 1 + k for k in range(20)]
        for px in prices:
            sizes.setdefault(px, f"{rng.uniform(0.01, 5):.5f}")
        for px in rng.sample(prices, 4):
            sizes[px] = f"{rng.uniform(0.01, 5):.5f}"
        bids = [{"px": f"{px}.0", "sz": sizes[px], "n": 3} for px in prices[:20]]
        asks = [{"px": f"{px}.0", "sz": sizes[px], "n": 3} for px in prices[20:]]
        data = {"coin": "BTC", "time": 1_700_000_000_000 + i, "levels": [bids, asks]}
        frames.append(json.dumps({"channel": "l2Book", "data": data}).encode())
    return frames


def naive(frames: list[bytes], instrument_id: object) -> float:
    """Decode with json, from_str every level, clear and rebuild the book."""
    book = OrderBook(instrument_id, BookType.L2_MBP)  # type: ignore[arg-type]
    start = time.perf_counter()
    for raw in frames:
        data = json.loads(raw)["data"]
        ts = data["time"] * 1_000_000
        deltas = [OrderBookDelta.clear(instrument_id, 0, ts, ts)]  # type: ignore[arg-type]
        for side, levels in (
            (OrderSide.BUY, data["levels"][0]),
            (OrderSide.SELL, data["levels"][1]),
        ):
            for lvl in levels:
                order = BookOrder(side, Price.from_str(lvl["px"]), Quantity.from_str(lvl["sz"]), 0)
                deltas.append(OrderBookDelta(instrument_id, BookAction.ADD, order, 0, 0, ts, ts))  # type: ignore[arg-type]
        book.apply_deltas(OrderBookDeltas(instrument_id, deltas))  # type: ignore[arg-type]
    return time.perf_counter() - start


def ours(frames: list[bytes], differ: BookDiffer, instrument_id: object) -> float:
    """Decode with msgspec, diff on the float path, apply the minimal deltas."""
    book = OrderBook(instrument_id, BookType.L2_MBP)  # type: ignore[arg-type]
    decode = WS_FRAME_DECODER.decode
    start = time.perf_counter()
    for raw in frames:
        frame = decode(raw)
        assert isinstance(frame, L2BookFrame)
        deltas = differ.diff(frame.data, 0)
        if deltas is not None:
            book.apply_deltas(deltas)
    return time.perf_counter() - start


def make_mix(books: list[bytes]) -> list[tuple[bytes, str]]:
    """The realistic mix: every book, a bbo per book, trades every other book, ctx every 10th."""
    rng = random.Random(11)
    mix: list[tuple[bytes, str]] = []
    tid = 1_000
    for i, raw in enumerate(books):
        data = json.loads(raw)["data"]
        mix.append((raw, "l2Book:BTC"))
        bid, ask = data["levels"][0][0], data["levels"][1][0]
        bbo = {"coin": "BTC", "time": data["time"], "bbo": [bid, ask]}
        mix.append((json.dumps({"channel": "bbo", "data": bbo}).encode(), "bbo:BTC"))
        if i % 2 == 0:
            trades = []
            for _ in range(2):
                tid += 1
                side = rng.choice(("A", "B"))
                px = (ask if side == "B" else bid)["px"]
                trades.append(
                    {
                        "coin": "BTC",
                        "side": side,
                        "px": px,
                        "sz": f"{rng.uniform(0.001, 0.5):.5f}",
                        "time": data["time"],
                        "hash": "0x" + "ab" * 32,
                        "tid": tid,
                        "users": ["0x" + "11" * 20, "0x" + "22" * 20],
                    }
                )
            mix.append((json.dumps({"channel": "trades", "data": trades}).encode(), "trades:BTC"))
        if i % 10 == 0:
            ctx = {
                "funding": "0.0000125",
                "openInterest": "36295.80812",
                "prevDayPx": "79000.0",
                "dayNtlVlm": "4490636699.32",
                "premium": "0.0001",
                "oraclePx": bid["px"],
                "markPx": ask["px"],
                "midPx": bid["px"],
                "impactPxs": [bid["px"], ask["px"]],
                "dayBaseVlm": "56265.69068",
            }
            frame = {"channel": "activeAssetCtx", "data": {"coin": "BTC", "ctx": ctx}}
            mix.append((json.dumps(frame).encode(), "activeAssetCtx:BTC"))
    return mix


def full_path(
    mix: list[tuple[bytes, str]], instrument: Any, recorder_dir: Path | None
) -> tuple[float, int]:
    """Frames through the client's handler into a DataEngine with a managed book.

    Returns the seconds taken and the frames the recorder wrote (0 when off). With recording on,
    the clock stops only once the recorder has stopped, i.e. every frame is written and the
    file closed: the writer's whole cost is charged to the run, none is left for after it.
    """
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
            instrument.id,
            OrderBookDelta,
            BookType.L2_MBP,
            ClientId("HYPERLIQUID"),
            None,
            UUID4(),
            0,
            managed=True,
        )
    )
    monitor = StreamMonitor({})
    for key in ("l2Book:BTC", "bbo:BTC", "trades:BTC", "activeAssetCtx:BTC"):
        monitor.register(key, 0)
    handler = HyperliquidFrameHandler(engine.process, lambda _h: None, monitor)
    handler.add_instrument(instrument)
    for output in ("deltas", "quotes", "trades", "hl_trades", "mark", "index", "funding"):
        handler.set_output("BTC", output, True)
    recorder = None
    if recorder_dir is not None:
        recorder = FrameRecorder(recorder_dir, compression="none")
        recorder.start()
    handle = handler.handle
    start = time.perf_counter()
    recv_ns = 1_700_000_000_000_000_000
    for seq, (raw, key) in enumerate(mix, 1):
        recv_ns += 1_000
        if recorder is not None:
            recorder.append(key, raw, recv_ns, seq, "bench-1")
        handle(raw, seq, recv_ns, "bench-1", key)
    if recorder is not None:
        recorder.stop(30)
    elapsed = time.perf_counter() - start
    written = 0
    if recorder is not None:
        stats = recorder.stats()
        assert stats.dropped == 0 and stats.write_errors == 0, stats
        assert stats.appended == stats.written == len(mix), stats
        assert recorder_dir is not None
        written = sum(1 for _ in iter_records(recorder_dir))
        assert written == len(mix), (written, len(mix))
    book = cache.order_book(instrument.id)
    assert book is not None and book.best_bid_price() is not None
    return elapsed, written


def main() -> None:
    """Run both paths on the same frames and print the JSON result."""
    meta = decode_info_response("meta", (FIXTURES / "info_meta.json").read_bytes())
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    frames = make_frames(FRAMES)
    assert int(RecordFlag.F_LAST) == 128
    naive_s = min(naive(frames, btc.id) for _ in range(3))
    ours_s = min(ours(frames, BookDiffer(btc), btc.id) for _ in range(3))
    result = {
        "benchmark": "ingest_parsing_l2book_20x20",
        "frames": FRAMES,
        "ours_us_per_book_msg": round(ours_s / FRAMES * 1e6, 2),
        "ours_msgs_per_sec": round(FRAMES / ours_s),
        "naive_us_per_book_msg": round(naive_s / FRAMES * 1e6, 2),
        "naive_msgs_per_sec": round(FRAMES / naive_s),
        "speedup": round(naive_s / ours_s, 2),
    }
    mix = make_mix(frames)
    books_in_mix = sum(1 for _, key in mix if key.startswith("l2Book"))
    with tempfile.TemporaryDirectory() as tmp:
        runs_off: list[float] = []
        runs_on: list[float] = []
        written: list[int] = []
        for i in range(5):  # interleaved so both see the same machine noise
            runs_off.append(full_path(mix, btc, None)[0])
            elapsed, frames_written = full_path(mix, btc, Path(tmp) / f"run{i}")
            runs_on.append(elapsed)
            written.append(frames_written)
    off_s = min(runs_off)
    on_s = min(runs_on)
    # Per book message: the whole mix's time divided by its books (bbo/trades/ctx ride along).
    full_us_per_book = off_s / books_in_mix * 1e6
    result.update(
        {
            "full_path_msgs": len(mix),
            "full_path_msgs_per_sec": round(len(mix) / off_s),
            "full_path_us_per_book_msg": round(full_us_per_book, 2),
            "full_path_vs_naive_parse_speedup": round(naive_s / FRAMES * 1e6 / full_us_per_book, 2),
            "recording_on_msgs_per_sec": round(len(mix) / on_s),
            "recording_overhead_pct": round((on_s / off_s - 1) * 100, 1),
            "recording_overhead_pct_median": round(
                (statistics.median(runs_on) / statistics.median(runs_off) - 1) * 100, 1
            ),
            "recording_frames_appended": len(mix),
            "recording_frames_written_per_run": written,
            "targets": {
                "full_path_us_per_book_msg_max": 50,
                "speedup_min": 3,
                "recording_overhead_pct_max": 10,
            },
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
