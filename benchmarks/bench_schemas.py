"""Decode/encode cost of the Hyperliquid wire schemas versus untyped parsing.

Measures, in one run (compare ratios, not absolute numbers, on this noisy machine): a 20x20 l2Book
frame and a trades frame through stdlib `json`, untyped msgspec, the `WsFrame` tagged union and a
single-type decoder; and the msgpack bytes of an order action via msgspec versus the SDK's
`msgpack.packb` of a dict. Prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import statistics
import timeit
from collections.abc import Callable
from typing import Any

import msgpack
import msgspec

from adapters.hyperliquid.schemas.exchange import ACTION_DECODER
from adapters.hyperliquid.schemas.exchange import action_msgpack
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import L2BookFrame
from adapters.hyperliquid.schemas.ws import TradesFrame
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES


def _median_us(func: Callable[[], Any], number: int = 2000, repeat: int = 7) -> float:
    """Median time per call in microseconds over `repeat` batches of `number` calls."""
    times = timeit.repeat(func, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def main() -> None:
    """Run the measurements and print one JSON line."""
    book = (FIXTURES / "info_l2Book.json").read_bytes().strip()
    l2book_frame = b'{"channel":"l2Book","data":' + book + b"}"
    trades_raw = msgspec.json.decode((FIXTURES / "ws_trades.json").read_bytes(), type=list[Any])
    trades = [trade for frame in trades_raw for trade in frame["data"]]
    trades_frame = json.dumps({"channel": "trades", "data": trades[:5]}).encode()
    l2book_only = msgspec.json.Decoder(L2BookFrame)
    trades_only = msgspec.json.Decoder(TradesFrame)
    vectors = json.loads((FIXTURES / "signing_vectors.json").read_bytes())
    bracket = next(v for v in vectors["l1"] if v["name"] == "order_bracket_normalTpsl_mainnet")
    action_dict = bracket["action"]
    action = ACTION_DECODER.decode(json.dumps(action_dict))

    results = {
        "l2book_20x20_bytes": len(l2book_frame),
        "l2book_stdlib_json_us": _median_us(lambda: json.loads(l2book_frame)),
        "l2book_msgspec_untyped_us": _median_us(lambda: msgspec.json.decode(l2book_frame)),
        "l2book_wsframe_union_us": _median_us(lambda: WS_FRAME_DECODER.decode(l2book_frame)),
        "l2book_single_type_us": _median_us(lambda: l2book_only.decode(l2book_frame)),
        "trades5_stdlib_json_us": _median_us(lambda: json.loads(trades_frame)),
        "trades5_wsframe_union_us": _median_us(lambda: WS_FRAME_DECODER.decode(trades_frame)),
        "trades5_single_type_us": _median_us(lambda: trades_only.decode(trades_frame)),
        "order3_msgspec_msgpack_us": _median_us(lambda: action_msgpack(action)),
        "order3_sdk_packb_dict_us": _median_us(lambda: msgpack.packb(action_dict)),
    }
    results["l2book_union_vs_stdlib_ratio"] = (
        results["l2book_wsframe_union_us"] / results["l2book_stdlib_json_us"]
    )
    results["l2book_union_vs_single_ratio"] = (
        results["l2book_wsframe_union_us"] / results["l2book_single_type_us"]
    )
    print(json.dumps({key: round(value, 3) for key, value in results.items()}))


if __name__ == "__main__":
    main()
