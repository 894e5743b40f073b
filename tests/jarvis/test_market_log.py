"""The per-instrument market line: readable, parseable, honest about missing values."""

from __future__ import annotations

import math

from jarvis.market_log import format_market_line


def test_market_line_shows_top_of_book_spread_and_counts() -> None:
    line = format_market_line(
        "BTC-USD-PERP.HYPERLIQUID",
        bid=80000.0,
        ask=80032.0,
        bid_levels=20,
        ask_levels=19,
        quotes=7,
        book_msgs=5,
        trades=3,
        volume=0.25,
        last=80016.0,
        mark=80010.5,
        index=80011.0,
        funding=0.0000125,
        open_interest=37.5,
        gaps=2,
        decode_errors=1,
    )

    assert line == (
        "BTC-USD-PERP.HYPERLIQUID bid=80000 ask=80032 spread_bps=4.00 book=20x19 book_msgs=5 "
        "quotes=7 trades=3 volume=0.25 last=80016 mark=80010.5 index=80011 funding=1.25e-05 "
        "oi=37.5 gaps=2 decode_errors=1"
    )


def test_market_line_marks_values_not_received_yet_with_a_dash() -> None:
    nan = math.nan

    line = format_market_line(
        "ETH-USD-PERP.HYPERLIQUID",
        bid=nan,
        ask=nan,
        bid_levels=0,
        ask_levels=0,
        quotes=0,
        book_msgs=0,
        trades=0,
        volume=0.0,
        last=nan,
        mark=nan,
        index=nan,
        funding=nan,
        open_interest=nan,
    )

    assert "bid=- ask=- spread_bps=- book=0x0" in line
    assert line.endswith("last=- mark=- index=- funding=- oi=- gaps=0 decode_errors=0")
