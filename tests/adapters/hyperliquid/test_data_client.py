"""The data client's frame handler on real venue frames: decode -> continuity -> parse -> emit.

The end-to-end behaviour with a TradingNode lives in tests/e2e/test_data_node.py; these tests pin
the handler's rules (snapshots after reconnects, dropped reordered books, bar closing, outputs)
on the recorded payloads in tests/resources/hyperliquid, with hand-written expected values.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.data import Data
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import TraderId

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data_types import FeedCounters
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import HyperliquidTrade
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.websocket import subscription_stream_key
from jarvis.testkit import VENUE_CAPTURES
from jarvis.testkit import CapturingLogger
from simulator.app import SimConfig
from simulator.app import SimServer

FIXTURES = VENUE_CAPTURES
MS = 1_000_000
GRACE_NS = 250 * MS


def _frames(name: str) -> list[bytes]:
    return [
        json.dumps(f, separators=(",", ":")).encode()
        for f in json.loads((FIXTURES / name).read_text())
    ]


def _frame(channel: str, data: Any) -> bytes:
    return json.dumps({"channel": channel, "data": data}, separators=(",", ":")).encode()


class Harness:
    """A handler for BTC with every output enabled, collecting what it emits."""

    def __init__(self, outputs: tuple[str, ...] | None = None) -> None:
        meta = decode_info_response("meta", (FIXTURES / "info_meta.json").read_bytes())
        (self.btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
        self.data: list[Data] = []
        self.health: list[FeedHealth] = []
        self.monitor = StreamMonitor({"l2Book": 10**12})
        self.handler = HyperliquidFrameHandler(
            self.data.append, self.health.append, self.monitor, bar_close_grace_ns=GRACE_NS
        )
        self.handler.add_instrument(self.btc)
        wanted = outputs or (
            "deltas",
            "quotes",
            "trades",
            "hl_trades",
            "mark",
            "index",
            "funding",
            "open_interest",
            "bar:1m",
        )
        for output in wanted:
            self.handler.set_output("BTC", output, True)
        for key in ("l2Book:BTC", "bbo:BTC", "trades:BTC", "activeAssetCtx:BTC", "candle:BTC:1m"):
            self.monitor.register(key, 0)
        self.seq = 0

    def feed(self, raw: bytes, key: str, recv_ns: int, conn: str = "c1") -> list[Data]:
        before = len(self.data)
        self.seq += 1
        self.handler.handle(raw, self.seq, recv_ns, conn, key)
        return self.data[before:]


BOOK = _frames("ws_l2Book.json")[0]  # BTC, 2 bids / 2 asks, time 1791278882097


def test_first_book_is_a_full_snapshot_with_the_venue_levels() -> None:
    h = Harness()

    (deltas,) = h.feed(BOOK, "l2Book:BTC", 5 * MS)

    assert isinstance(deltas, OrderBookDeltas)
    actions = [d.action for d in deltas.deltas]
    assert actions == [BookAction.CLEAR] + [BookAction.ADD] * 4
    prices = [(str(d.order.price), str(d.order.size)) for d in deltas.deltas[1:]]
    assert prices == [
        ("85821.0", "0.96592"),
        ("85818.0", "0.80629"),
        ("85822.0", "26.98831"),
        ("85823.0", "4.42262"),
    ]
    assert deltas.deltas[0].ts_event == 1791278882097 * MS
    assert deltas.deltas[0].ts_init == 5 * MS
    assert deltas.deltas[0].sequence == 1


def test_identical_book_emits_nothing_but_a_new_connection_emits_a_full_snapshot() -> None:
    h = Harness()
    h.feed(BOOK, "l2Book:BTC", 5 * MS)

    same = h.feed(BOOK, "l2Book:BTC", 6 * MS)
    after_reconnect = h.feed(BOOK, "l2Book:BTC", 7 * MS, conn="c2")

    assert same == []
    (snapshot,) = after_reconnect
    assert snapshot.deltas[0].action == BookAction.CLEAR
    assert len(snapshot.deltas) == 5


def test_older_book_after_a_newer_one_is_a_gap_and_is_dropped() -> None:
    h = Harness()
    older = json.loads(BOOK)
    newer = json.loads(BOOK)
    newer["data"]["time"] += 500
    newer["data"]["levels"][0][0]["sz"] = "1.0"
    h.feed(json.dumps(newer).encode(), "l2Book:BTC", 5 * MS)

    emitted = h.feed(json.dumps(older).encode(), "l2Book:BTC", 6 * MS)

    assert emitted == []
    assert h.health[-1].status == "GAP"
    assert h.health[-1].stream == "l2Book:BTC"


def test_bbo_becomes_a_quote_tick() -> None:
    h = Harness()

    (quote,) = h.feed(_frames("ws_bbo.json")[0], "bbo:BTC", 9 * MS)

    assert isinstance(quote, QuoteTick)
    assert (str(quote.bid_price), str(quote.ask_price)) == ("80639.0", "80640.0")
    assert (str(quote.bid_size), str(quote.ask_size)) == ("0.00186", "13.74589")
    assert quote.ts_event == 1788490065008 * MS


def test_trades_become_ticks_and_address_prints_and_a_repeated_frame_is_dropped() -> None:
    h = Harness()
    raw = _frames("ws_trades.json")[0]
    first = json.loads(raw)["data"][0]

    emitted = h.feed(raw, "trades:BTC", 9 * MS)
    again = h.feed(raw, "trades:BTC", 10 * MS)

    ticks = [d for d in emitted if isinstance(d, TradeTick)]
    prints = [d.data for d in emitted if isinstance(d, CustomData)]
    assert len(ticks) == len(prints) == len(json.loads(raw)["data"])
    assert str(ticks[0].price) == "80639.0"
    assert str(ticks[0].size) == "0.00022"
    assert ticks[0].trade_id.value == "1095884267920331"
    assert isinstance(prints[0], HyperliquidTrade)
    assert (prints[0].buyer, prints[0].seller) == tuple(first["users"])
    assert again == []


def test_asset_context_gives_mark_index_funding_and_open_interest() -> None:
    h = Harness()

    emitted = h.feed(_frames("ws_activeAssetCtx.json")[0], "activeAssetCtx:BTC", 9 * MS)

    mark, index, funding, oi = emitted
    assert isinstance(mark, MarkPriceUpdate) and str(mark.value) == "80640.0"
    assert isinstance(index, IndexPriceUpdate) and str(index.value) == "80684.7"
    assert isinstance(funding, FundingRateUpdate) and funding.rate == Decimal("0.0000052974")
    assert isinstance(oi, CustomData) and isinstance(oi.data, OpenInterestUpdate)
    assert oi.data.value == 36295.80812


def test_disabled_outputs_emit_nothing() -> None:
    h = Harness(outputs=("mark",))

    book = h.feed(BOOK, "l2Book:BTC", 5 * MS)
    ctx = h.feed(_frames("ws_activeAssetCtx.json")[0], "activeAssetCtx:BTC", 6 * MS)

    assert book == []
    assert [type(d) for d in ctx] == [MarkPriceUpdate]


CANDLE = {
    "t": 1791278880000,
    "T": 1791278939999,
    "s": "BTC",
    "i": "1m",
    "o": "85827.0",
    "c": "85812.0",
    "h": "85827.0",
    "l": "85801.0",
    "v": "0.73617",
    "n": 20,
}
CLOSE_MS = 1791278940000


def _bbo_at(ms: int) -> bytes:
    level = {"px": "85811.0", "sz": "1.0", "n": 1}
    ask = {"px": "85812.0", "sz": "1.0", "n": 1}
    return _frame("bbo", {"coin": "BTC", "time": ms, "bbo": [level, ask]})


def test_candle_is_emitted_when_a_frame_stamped_after_its_close_arrives() -> None:
    h = Harness(outputs=("bar:1m",))
    h.feed(_frame("candle", CANDLE), "candle:BTC:1m", 100 * MS)

    before = h.feed(_bbo_at(CLOSE_MS - 1), "bbo:BTC", 200 * MS)
    (bar,) = h.feed(_bbo_at(CLOSE_MS), "bbo:BTC", 300 * MS)
    late_update = h.feed(_frame("candle", CANDLE), "candle:BTC:1m", 400 * MS)

    assert before == []
    assert isinstance(bar, Bar)
    assert (str(bar.open), str(bar.high), str(bar.low), str(bar.close)) == (
        "85827.0",
        "85827.0",
        "85801.0",
        "85812.0",
    )
    assert str(bar.volume) == "0.73617"
    assert bar.ts_event == CLOSE_MS * MS
    assert bar.ts_init == 300 * MS
    assert late_update == []  # a period already emitted is never emitted again


def test_quiet_candle_is_emitted_by_the_backstop_at_close_plus_offset_plus_grace() -> None:
    h = Harness(outputs=("bar:1m",))
    offset_ns = 40 * MS  # frames arrive 40 ms after their venue time
    h.feed(_bbo_at(CLOSE_MS - 30_000), "bbo:BTC", (CLOSE_MS - 30_000) * MS + offset_ns)
    h.feed(_frame("candle", CANDLE), "candle:BTC:1m", (CLOSE_MS - 20_000) * MS)
    deadline = CLOSE_MS * MS + offset_ns + GRACE_NS

    h.handler.flush_bars(deadline - 1)
    assert h.data == []
    h.handler.flush_bars(deadline + 5 * MS)

    (bar,) = h.data
    assert isinstance(bar, Bar)
    assert bar.ts_init == deadline


def test_newer_candle_closes_the_previous_one() -> None:
    h = Harness(outputs=("bar:1m",))
    nxt = dict(CANDLE, t=CLOSE_MS, T=CLOSE_MS + 59_999, o="85812.0")
    h.feed(_frame("candle", CANDLE), "candle:BTC:1m", 100 * MS)

    (bar,) = h.feed(_frame("candle", nxt), "candle:BTC:1m", 200 * MS)

    assert bar.ts_event == CLOSE_MS * MS
    assert str(bar.close) == "85812.0"


def test_config_rejects_a_negative_bar_close_grace() -> None:
    with pytest.raises(ValueError, match="bar_close_grace_ms"):
        HyperliquidDataClientConfig(bar_close_grace_ms=-1)


def _trades_at(*prints: tuple[int, int]) -> bytes:
    """A BTC trades frame with (venue ms, tid) prints."""
    data = [
        {
            "coin": "BTC",
            "side": "B",
            "px": "85812.0",
            "sz": "0.1",
            "time": ms,
            "hash": "0x" + "00" * 32,
            "tid": tid,
            "users": ["0x" + "11" * 20, "0x" + "22" * 20],
        }
        for ms, tid in prints
    ]
    return _frame("trades", data)


def _candle_at(open_ms: int, n: int) -> bytes:
    return _frame("candle", dict(CANDLE, t=open_ms, T=open_ms + 59_999, n=n))


def test_trade_check_turns_a_short_minute_into_a_trades_gap_and_publishes_no_bar() -> None:
    h = Harness(outputs=("trades", "trade_check"))
    m0 = 1791278880000  # CANDLE["t"]
    m1 = m0 + 60_000
    h.feed(_trades_at((m0 + 100, 1)), "trades:BTC", 1 * MS)
    h.feed(_candle_at(m0, 7), "candle:BTC:1m", 2 * MS)
    h.feed(_trades_at((m1 + 100, 2), (m1 + 200, 3)), "trades:BTC", 3 * MS)
    h.feed(_candle_at(m1, 2), "candle:BTC:1m", 4 * MS)
    h.feed(_candle_at(m1, 3), "candle:BTC:1m", 5 * MS)  # a print we never received

    emitted = h.feed(_candle_at(m1 + 60_000, 1), "candle:BTC:1m", 6 * MS)

    gaps = [x for x in h.health if x.status == "GAP"]
    assert emitted == []
    assert not any(isinstance(d, Bar) for d in h.data)
    assert [(g.stream, g.reason, g.since_ns) for g in gaps] == [
        ("trades:BTC", "trades: venue counted 3 in 2026-10-06 09:29 UTC, received 2", 6 * MS)
    ]


def test_trade_check_off_or_a_complete_minute_raises_no_gap() -> None:
    for outputs in (("trades",), ("trades", "trade_check")):
        h = Harness(outputs=outputs)
        m0 = 1791278880000  # CANDLE["t"]
        m1 = m0 + 60_000
        h.feed(_trades_at((m0 + 100, 1)), "trades:BTC", 1 * MS)
        h.feed(_candle_at(m0, 7), "candle:BTC:1m", 2 * MS)
        h.feed(_trades_at((m1 + 100, 2), (m1 + 200, 3)), "trades:BTC", 3 * MS)
        h.feed(_candle_at(m1, 2 if "trade_check" in outputs else 3), "candle:BTC:1m", 4 * MS)
        h.feed(_candle_at(m1 + 60_000, 1), "candle:BTC:1m", 5 * MS)

        assert [x for x in h.health if x.status == "GAP"] == []


def test_trade_count_check_is_on_by_default_and_can_be_turned_off() -> None:
    assert HyperliquidDataClientConfig().health.check_trade_counts is True
    off = HyperliquidFeedHealthConfig(check_trade_counts=False, loosen=("check_trade_counts",))
    assert HyperliquidDataClientConfig(health=off).health.check_trade_counts is False


async def test_trades_subscription_brings_and_takes_the_check_candles_without_their_health() -> (
    None
):
    h = Harness()
    clock = LiveClock()
    cache = Cache()
    cache.add_instrument(h.btc)
    client = HyperliquidDataClient(
        asyncio.get_running_loop(),
        MessageBus(TraderId("TEST-001"), clock),
        cache,
        clock,
        HyperliquidDataClientConfig(http_url="http://127.0.0.1:9"),  # never connected
    )

    def subscribed() -> list[str]:
        return sorted(subscription_stream_key(s) for s in client.ws_client.subscriptions)

    await client._enable(h.btc.id, "trades")
    with_trades = (subscribed(), sorted(client.stream_health()))
    data_outputs = client.frame_handler.outputs()
    await client._enable(h.btc.id, "bar:1m")
    with_bars = sorted(client.stream_health())
    await client._disable(h.btc.id, "bar:1m")
    bars_gone = (subscribed(), sorted(client.stream_health()))
    await client._disable(h.btc.id, "trades")

    assert with_trades == (["candle:BTC:1m", "trades:BTC"], ["trades:BTC"])
    assert data_outputs == {"BTC": frozenset({"trades"})}  # the check is no data output
    assert with_bars == ["candle:BTC:1m", "trades:BTC"]
    assert bars_gone == (["candle:BTC:1m", "trades:BTC"], ["trades:BTC"])
    assert subscribed() == []
    state = client.frame_handler.status("BTC")
    assert state is not None and state.outputs == set()


def _book_at(time_ms: int, top_ask_sz: str) -> bytes:
    """The BOOK fixture at another venue time, with only the best ask's size changed."""
    frame = json.loads(BOOK)
    frame["data"]["time"] = time_ms
    frame["data"]["levels"][1][0]["sz"] = top_ask_sz
    return json.dumps(frame, separators=(",", ":")).encode()


class _BookNode:
    """A data client whose emitted deltas are applied to whatever book the cache holds now,
    the way NautilusTrader's DataEngine applies them to a managed book."""

    def __init__(self, h: Harness) -> None:
        clock = LiveClock()
        self.cache = Cache()
        self.cache.add_instrument(h.btc)
        msgbus = MessageBus(TraderId("TEST-001"), clock)
        self.emitted: list[OrderBookDeltas] = []
        msgbus.register("DataEngine.process", self._process)
        self.client = HyperliquidDataClient(
            asyncio.get_running_loop(),
            msgbus,
            self.cache,
            clock,
            HyperliquidDataClientConfig(http_url="http://127.0.0.1:9"),  # never connected
        )
        self.btc = h.btc
        self.seq = 0

    def _process(self, data: Data) -> None:
        if isinstance(data, OrderBookDeltas):
            self.emitted.append(data)
            book = self.cache.order_book(data.instrument_id)
            if book is not None:
                book.apply(data)

    def new_managed_book(self) -> None:
        """What the DataEngine does on every managed book subscription: an empty book."""
        self.cache.add_order_book(OrderBook(self.btc.id, BookType.L2_MBP))

    def feed(self, raw: bytes) -> None:
        self.seq += 1
        self.client._on_frame(raw, self.seq, self.seq * MS, "c1", "l2Book:BTC")

    def levels(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        book = self.cache.order_book(self.btc.id)
        assert book is not None
        bids = [(float(lvl.price), lvl.size()) for lvl in book.bids()]
        asks = [(float(lvl.price), lvl.size()) for lvl in book.asks()]
        return bids, asks


async def test_managed_book_replaced_by_a_later_subscriber_gets_every_venue_level() -> None:
    node = _BookNode(Harness())
    await node.client._enable(node.btc.id, "deltas")
    node.new_managed_book()
    node.feed(_book_at(1_000, "26.98831"))
    node.feed(_book_at(2_000, "1.5"))

    node.new_managed_book()  # a second actor subscribes while the stream runs
    node.feed(_book_at(3_000, "2.5"))

    bids, asks = node.levels()
    assert bids == [(85821.0, 0.96592), (85818.0, 0.80629)]
    assert asks == [(85822.0, 2.5), (85823.0, 4.42262)]
    assert node.emitted[-1].deltas[0].action == BookAction.CLEAR


async def test_repeated_book_subscription_on_a_running_stream_sends_the_next_book_whole() -> None:
    node = _BookNode(Harness())
    await node.client._enable(node.btc.id, "deltas")
    node.feed(_book_at(1_000, "26.98831"))
    node.feed(_book_at(2_000, "1.5"))
    diffed = node.emitted[-1]

    await node.client._enable(node.btc.id, "deltas")
    node.feed(_book_at(3_000, "2.5"))

    assert [d.action for d in diffed.deltas] == [BookAction.UPDATE]
    whole = node.emitted[-1]
    assert [d.action for d in whole.deltas] == [BookAction.CLEAR] + [BookAction.ADD] * 4


def test_deltas_turned_back_on_start_from_a_full_snapshot_not_a_stale_diff() -> None:
    h = Harness(outputs=("deltas", "depth10"))
    h.feed(_book_at(1_000, "26.98831"), "l2Book:BTC", 1 * MS)
    h.handler.set_output("BTC", "deltas", False)
    h.feed(_book_at(2_000, "1.5"), "l2Book:BTC", 2 * MS)  # only depth10 while deltas are off

    h.handler.set_output("BTC", "deltas", True)
    emitted = h.feed(_book_at(3_000, "2.5"), "l2Book:BTC", 3 * MS)

    (deltas,) = [d for d in emitted if isinstance(d, OrderBookDeltas)]
    assert [d.action for d in deltas.deltas] == [BookAction.CLEAR] + [BookAction.ADD] * 4


def _undecodable(channel: str) -> bytes:
    """A frame of a known channel whose data does not match its schema."""
    return _frame(channel, {"coin": "BTC", "time": "not a number", "levels": 7})


def test_first_undecodable_frame_of_each_stream_is_logged_with_its_channel_and_all_counted() -> (
    None
):
    h = Harness()
    log = CapturingLogger()
    h.handler = HyperliquidFrameHandler(h.data.append, h.health.append, h.monitor, logger=log)
    h.handler.add_instrument(h.btc)

    h.feed(_undecodable("l2Book"), "l2Book:BTC", 1 * MS)
    h.feed(_undecodable("l2Book"), "l2Book:BTC", 2 * MS)
    h.feed(_undecodable("bbo"), "bbo:BTC", 3 * MS)

    assert h.handler.decode_errors_by_stream == {"l2Book:BTC": 2, "bbo:BTC": 1}
    assert len(log.lines) == 2
    book_line, bbo_line = log.lines
    assert book_line.startswith("ERROR Undecodable l2Book frame on stream l2Book:BTC")
    assert bbo_line.startswith("ERROR Undecodable bbo frame on stream bbo:BTC")


async def test_gaps_and_decode_errors_are_published_as_feed_counters_when_they_grow() -> None:
    node = _BookNode(Harness())
    published: list[FeedCounters] = []
    node.client._msgbus.deregister("DataEngine.process", node._process)
    node.client._msgbus.register(
        "DataEngine.process",
        lambda d: published.append(d.data) if isinstance(d, CustomData) else node._process(d),
    )
    await node.client._enable(node.btc.id, "deltas")
    node.feed(_book_at(2_000, "1.5"))
    node.feed(_book_at(1_000, "1.5"))  # older venue time: a GAP
    node.feed(_undecodable("l2Book"))
    node.feed(_undecodable("l2Book"))

    node.client._check_health(node.seq * MS)
    node.client._check_health(node.seq * MS)  # nothing grew: nothing more published

    counters = [c for c in published if isinstance(c, FeedCounters)]
    assert [(c.instrument, c.gaps, c.decode_errors) for c in counters] == [
        ("BTC-USD-PERP.HYPERLIQUID", 1, 2)
    ]


async def test_a_configured_coin_the_venue_does_not_list_fails_the_connect_naming_it() -> None:
    async with SimServer(SimConfig(stepped=True, seed=4, coins=("BTC", "ETH"))) as sim:
        clock = LiveClock()
        client = HyperliquidDataClient(
            asyncio.get_running_loop(),
            MessageBus(TraderId("TEST-001"), clock),
            Cache(),
            clock,
            HyperliquidDataClientConfig(http_url=sim.base_url, coins=("BTC", "NOPE")),
        )
        try:
            with pytest.raises(ValueError, match=r"coins: \['NOPE'\] not listed by the venue"):
                await client._connect()
            assert not client.ws_client.is_running  # never went on to subscribe
        finally:
            await client._disconnect()


class _EngineNode:
    """A data client next to a real NautilusTrader DataEngine; the bus endpoint only counts."""

    def __init__(self, h: Harness, direct: bool) -> None:
        from nautilus_trader.data.engine import DataEngine

        clock = LiveClock()
        self.cache = Cache()
        self.cache.add_instrument(h.btc)
        self.btc = h.btc
        msgbus = MessageBus(TraderId("TEST-001"), clock)
        self.engine = DataEngine(msgbus, self.cache, clock)
        self.bus_sent: list[Data] = []
        msgbus.deregister("DataEngine.process", self.engine.process)
        msgbus.register("DataEngine.process", self.bus_sent.append)
        self.client = HyperliquidDataClient(
            asyncio.get_running_loop(),
            msgbus,
            self.cache,
            clock,
            HyperliquidDataClientConfig(
                http_url="http://127.0.0.1:9", direct_to_data_engine=direct
            ),  # never connected
        )


async def test_direct_delivery_hands_data_to_the_engine_itself() -> None:
    node = _EngineNode(Harness(), direct=True)
    published: list[Data] = []
    node.engine._msgbus.subscribe(topic="data.book.deltas.*", handler=published.append)
    assert node.client.attach_data_engine(node.engine) is True
    await node.client._enable(node.btc.id, "deltas")
    before = node.engine.data_count

    node.client._on_frame(BOOK, 1, MS, "c1", "l2Book:BTC")

    assert node.bus_sent == []  # not through the bus endpoint (nor the live engine's queue)
    assert node.engine.data_count > before
    assert [type(d) for d in published] == [OrderBookDeltas]  # processed, at once, in order


async def test_direct_delivery_off_or_without_a_data_engine_keeps_the_bus_path() -> None:
    node = _EngineNode(Harness(), direct=False)
    assert node.client.attach_data_engine(node.engine) is False
    on = _EngineNode(Harness(), direct=True)
    assert on.client.attach_data_engine(object()) is False
    for n in (node, on):
        await n.client._enable(n.btc.id, "deltas")
        n.client._on_frame(BOOK, 1, MS, "c1", "l2Book:BTC")
        assert any(isinstance(d, OrderBookDeltas) for d in n.bus_sent)
