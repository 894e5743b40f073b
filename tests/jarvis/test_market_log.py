"""The per-instrument market line: readable, parseable, honest about missing values."""

from __future__ import annotations

import math

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.portfolio.portfolio import Portfolio

from adapters.hyperliquid.data_types import FEED_COUNTERS_DATA_TYPE
from adapters.hyperliquid.data_types import new_feed_counters
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from common.nautilus import custom_data_topic
from jarvis.market_log import MarketDataLogger
from jarvis.market_log import MarketDataLoggerConfig
from jarvis.market_log import format_market_line
from jarvis.testkit import VENUE_CAPTURES


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


def test_the_data_clients_feed_counters_show_in_the_instruments_line() -> None:
    clock = TestClock()
    msgbus = MessageBus(TraderId("TEST-001"), clock)
    cache = Cache()
    meta = decode_info_response("meta", (VENUE_CAPTURES / "info_meta.json").read_bytes())
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    cache.add_instrument(btc)
    config = MarketDataLoggerConfig(
        instrument_ids=[btc.id], subscribe_book=False, subscribe_derivatives=False
    )
    actor = MarketDataLogger(config)
    actor.register_base(Portfolio(msgbus, cache, clock), msgbus, cache, clock)
    actor.start()
    topic = custom_data_topic(FEED_COUNTERS_DATA_TYPE)

    msgbus.publish(topic, new_feed_counters(str(btc.id), 2, 1, 0))
    msgbus.publish(topic, new_feed_counters("ETH-USD-PERP.HYPERLIQUID", 9, 9, 0))  # not shown

    line = actor._line(btc.id, actor._tallies[btc.id])
    assert line.endswith(" gaps=2 decode_errors=1")
