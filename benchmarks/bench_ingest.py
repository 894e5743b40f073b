"""Parsing part of the ingest benchmark: 20x20 l2Book frames -> deltas -> an L2 order book.

Compares, in the same run, our path (msgspec decode, ``BookDiffer`` float path, apply the minimal
deltas) with the naive path (``Price.from_str`` per level, clear and rebuild the whole book).
The full client path (data engine, recorder) comes with the data client. Prints one JSON object.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.parsing import BookDiffer
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import L2BookFrame

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "hyperliquid" / "fixtures"
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
    print(json.dumps(result))


if __name__ == "__main__":
    main()
