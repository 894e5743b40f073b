"""Parsing of real Hyperliquid payloads into NautilusTrader objects, with exact values."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.constants import CANDLE_INTERVALS
from adapters.hyperliquid.parsing import BookDiffer
from adapters.hyperliquid.parsing import bar_type_for_interval
from adapters.hyperliquid.parsing import interval_for_bar_type
from adapters.hyperliquid.parsing import parse_asset_ctx
from adapters.hyperliquid.parsing import parse_bar
from adapters.hyperliquid.parsing import parse_book_snapshot
from adapters.hyperliquid.parsing import parse_depth10
from adapters.hyperliquid.parsing import parse_funding_history
from adapters.hyperliquid.parsing import parse_hyperliquid_trade
from adapters.hyperliquid.parsing import parse_quote_tick
from adapters.hyperliquid.parsing import parse_spot_asset_ctx
from adapters.hyperliquid.parsing import parse_trade_tick
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import L2Level
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
TS_INIT = 1_800_000_000_123_456_789
F_LAST = int(RecordFlag.F_LAST)
F_SNAPSHOT = int(RecordFlag.F_SNAPSHOT)


def ws_frames(name: str) -> list[Any]:
    """Decode every frame of a ws_*.json fixture with the project's frame decoder."""
    raw = json.loads((FIXTURES / name).read_text())
    return [WS_FRAME_DECODER.decode(json.dumps(frame)) for frame in raw]


def perp(coin: str) -> CryptoPerpetual:
    """A perp instrument from the real meta fixture (BTC sz 5, DYDX/MATIC sz 1, kPEPE sz 0)."""
    meta = decode_info_response("meta", (FIXTURES / "info_meta.json").read_bytes())
    (instrument,) = parse_perp_instruments(meta, 0, coins=[coin])
    return instrument


def hype_spot() -> CurrencyPair:
    """The @107 spot pair (HYPE/USDC, HYPE szDecimals 2 -> price precision 6)."""
    return CurrencyPair(
        instrument_id=InstrumentId.from_str("HYPE-USDC-SPOT.HYPERLIQUID"),
        raw_symbol=Symbol("@107"),
        base_currency=Currency.from_str("HYPE"),
        quote_currency=Currency.from_str("USDC"),
        price_precision=6,
        size_precision=2,
        price_increment=Price.from_str("0.000001"),
        size_increment=Quantity.from_str("0.01"),
        ts_event=0,
        ts_init=0,
    )


def levels_of(book: OrderBook) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(price, size) strings per side, best first."""
    bids = [(str(level.price), str(level.size())) for level in book.bids()]
    asks = [(str(level.price), str(level.size())) for level in book.asks()]
    return bids, asks


# --- l2Book -------------------------------------------------------------------------------


def test_ws_l2book_snapshot_becomes_clear_plus_adds_with_snapshot_flags() -> None:
    frame = ws_frames("ws_l2Book.json")[0]
    btc = perp("BTC")

    deltas = parse_book_snapshot(frame.data, btc, TS_INIT)

    assert [d.action for d in deltas.deltas] == [BookAction.CLEAR] + [BookAction.ADD] * 4
    assert [d.flags for d in deltas.deltas] == [F_SNAPSHOT] * 4 + [F_SNAPSHOT | F_LAST]
    adds = [(d.order.side, str(d.order.price), str(d.order.size)) for d in deltas.deltas[1:]]
    assert adds == [
        (OrderSide.BUY, "85821.0", "0.96592"),
        (OrderSide.BUY, "85818.0", "0.80629"),
        (OrderSide.SELL, "85822.0", "26.98831"),
        (OrderSide.SELL, "85823.0", "4.42262"),
    ]
    assert {d.ts_event for d in deltas.deltas} == {1791278882097_000_000}
    assert {d.ts_init for d in deltas.deltas} == {TS_INIT}
    assert deltas.instrument_id == InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


def test_empty_ws_l2book_snapshot_is_a_single_flagged_clear() -> None:
    frame = ws_frames("ws_l2Book.json")[1]
    matic = perp("MATIC")

    deltas = parse_book_snapshot(frame.data, matic, TS_INIT)

    (only,) = deltas.deltas
    assert only.action == BookAction.CLEAR
    assert only.flags == F_SNAPSHOT | F_LAST
    assert only.ts_event == 1788490374938_000_000


def test_info_l2book_20x20_applied_to_a_book_gives_exact_levels() -> None:
    raw = (FIXTURES / "info_l2Book.json").read_bytes()
    snapshot = decode_info_response("l2Book", raw)
    expected = json.loads(raw)
    dydx = perp("DYDX")
    book = OrderBook(dydx.id, BookType.L2_MBP)

    book.apply_deltas(BookDiffer(dydx).diff(snapshot, TS_INIT))

    bids, asks = levels_of(book)
    assert len(bids) == 20
    assert len(asks) == 20
    assert [Decimal(p) for p, _ in bids] == [Decimal(lvl["px"]) for lvl in expected["levels"][0]]
    assert [Decimal(s) for _, s in bids] == [Decimal(lvl["sz"]) for lvl in expected["levels"][0]]
    assert [Decimal(p) for p, _ in asks] == [Decimal(lvl["px"]) for lvl in expected["levels"][1]]
    assert [Decimal(s) for _, s in asks] == [Decimal(lvl["sz"]) for lvl in expected["levels"][1]]
    assert bids[0] == ("2.11100", "134.4")
    assert asks[-1] == ("2.15180", "62.0")


def test_depth10_from_the_20_level_snapshot_keeps_the_best_ten_with_counts() -> None:
    snapshot = decode_info_response("l2Book", (FIXTURES / "info_l2Book.json").read_bytes())
    dydx = perp("DYDX")

    depth = parse_depth10(snapshot, dydx, TS_INIT)

    assert [str(o.price) for o in depth.bids][:3] == ["2.11100", "2.11050", "2.11040"]
    assert str(depth.bids[9].price) == "2.09610"
    assert str(depth.asks[9].size) == "1656.3"
    assert depth.bid_counts == [1, 1, 1, 1, 1, 2, 2, 1, 1, 2]
    assert depth.ask_counts == [2, 2, 2, 2, 2, 1, 1, 1, 2, 1]
    assert depth.ts_event == 1689630203930_000_000
    assert depth.ts_init == TS_INIT


def test_depth10_of_a_two_level_book_is_padded() -> None:
    frame = ws_frames("ws_l2Book.json")[0]

    depth = parse_depth10(frame.data, perp("BTC"), TS_INIT)

    assert [str(o.price) for o in depth.asks[:2]] == ["85822.0", "85823.0"]
    assert depth.asks[2].side == OrderSide.NO_ORDER_SIDE
    assert depth.ask_counts[:3] == [71, 4, 0]


def test_depth10_of_a_one_sided_book_pads_the_empty_side() -> None:
    two_sided = ws_frames("ws_l2Book.json")[0].data
    one_sided = L2Book(coin="BTC", time=two_sided.time, levels=(two_sided.levels[0], []))

    depth = parse_depth10(one_sided, perp("BTC"), TS_INIT)

    assert [str(o.price) for o in depth.bids[:2]] == [lvl.px for lvl in two_sided.levels[0]]
    assert all(o.side == OrderSide.NO_ORDER_SIDE for o in depth.asks)
    assert depth.ask_counts == [0] * 10
    assert len(depth.bids) == len(depth.asks) == 10


def _book(time_ms: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> L2Book:
    return L2Book(
        coin="BTC",
        time=time_ms,
        levels=(
            [L2Level(px=p, sz=s, n=1) for p, s in bids],
            [L2Level(px=p, sz=s, n=1) for p, s in asks],
        ),
    )


def test_diff_emits_only_changed_removed_and_added_levels() -> None:
    btc = perp("BTC")
    differ = BookDiffer(btc)
    first = _book(1, [("100.0", "1.0"), ("99.0", "2.0")], [("101.0", "1.5"), ("102.0", "3.0")])
    second = _book(2, [("100.0", "1.0"), ("99.0", "2.5")], [("101.0", "1.5"), ("103.0", "4.0")])
    differ.diff(first, TS_INIT)

    deltas = differ.diff(second, TS_INIT + 1)

    assert deltas is not None
    got = [(d.action, d.order.side, str(d.order.price), str(d.order.size)) for d in deltas.deltas]
    assert got == [
        (BookAction.DELETE, OrderSide.SELL, "102.0", "0.00000"),
        (BookAction.UPDATE, OrderSide.BUY, "99.0", "2.50000"),
        (BookAction.ADD, OrderSide.SELL, "103.0", "4.00000"),
    ]
    assert [d.flags for d in deltas.deltas] == [0, 0, F_LAST]
    assert {d.ts_event for d in deltas.deltas} == {2_000_000}


def test_identical_snapshot_produces_no_deltas_and_reset_forces_a_full_snapshot() -> None:
    btc = perp("BTC")
    differ = BookDiffer(btc)
    snapshot = ws_frames("ws_l2Book.json")[0].data
    differ.diff(snapshot, TS_INIT)

    assert differ.diff(snapshot, TS_INIT) is None
    differ.reset()
    again = differ.diff(snapshot, TS_INIT)

    assert again is not None
    assert again.deltas[0].action == BookAction.CLEAR
    assert len(again.deltas) == 5


_PRICES = [f"{100 + i * 0.5:.1f}" for i in range(40)]
_SIZES = st.sampled_from(["0.1", "0.25", "1.0", "2.5", "10.0", "123.45678"])


@st.composite
def _snapshots(draw: st.DrawFn) -> L2Book:
    mid = draw(st.integers(min_value=1, max_value=38))
    bid_px = draw(st.lists(st.sampled_from(_PRICES[:mid]), unique=True, max_size=20))
    ask_px = draw(st.lists(st.sampled_from(_PRICES[mid:]), unique=True, max_size=20))
    bids = [(p, draw(_SIZES)) for p in sorted(bid_px, key=float, reverse=True)]
    asks = [(p, draw(_SIZES)) for p in sorted(ask_px, key=float)]
    return _book(draw(st.integers(min_value=0, max_value=10**12)), bids, asks)


@settings(max_examples=200, deadline=None)
@given(st.lists(_snapshots(), min_size=1, max_size=8))
def test_applying_diffs_reproduces_every_snapshot_exactly_and_minimally(
    snapshots: list[L2Book],
) -> None:
    btc = perp("BTC")
    differ = BookDiffer(btc)
    book = OrderBook(btc.id, BookType.L2_MBP)
    previous: L2Book | None = None
    for snapshot in snapshots:
        deltas = differ.diff(snapshot, TS_INIT)
        if deltas is not None:
            assert isinstance(deltas, OrderBookDeltas)
            book.apply_deltas(deltas)
            assert deltas.deltas[-1].flags & F_LAST
        want_bids = [(Decimal(lvl.px), Decimal(lvl.sz)) for lvl in snapshot.levels[0]]
        want_asks = [(Decimal(lvl.px), Decimal(lvl.sz)) for lvl in snapshot.levels[1]]
        bids, asks = levels_of(book)
        assert [(Decimal(p), Decimal(s)) for p, s in bids] == want_bids
        assert [(Decimal(p), Decimal(s)) for p, s in asks] == want_asks
        if previous is not None:
            old = {(side, lvl.px): lvl.sz for side in (0, 1) for lvl in previous.levels[side]}
            new = {(side, lvl.px): lvl.sz for side in (0, 1) for lvl in snapshot.levels[side]}
            changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
            assert (0 if deltas is None else len(deltas.deltas)) == len(changed)
        previous = snapshot


@settings(max_examples=200, deadline=None)
@given(_snapshots(), st.lists(st.lists(st.tuples(st.booleans(), st.integers(0, 19), _SIZES))))
def test_size_only_changes_become_updates_in_level_order_bids_first(
    first: L2Book, edits: list[list[tuple[bool, int, str]]]
) -> None:
    # The fast path (same prices on both sides): exactly one UPDATE per level whose size moved.
    btc = perp("BTC")
    differ = BookDiffer(btc)
    book = OrderBook(btc.id, BookType.L2_MBP)
    book.apply_deltas(differ.diff(first, TS_INIT))
    previous = first
    for step in edits:
        sides = [list(previous.levels[0]), list(previous.levels[1])]
        for is_ask, index, size in step:
            levels = sides[int(is_ask)]
            if levels:
                old = levels[index % len(levels)]
                levels[index % len(levels)] = L2Level(px=old.px, sz=size, n=old.n + 1)
        snapshot = L2Book(coin="BTC", time=previous.time + 1, levels=(sides[0], sides[1]))

        deltas = differ.diff(snapshot, TS_INIT)

        want = [
            (side, new.px, new.sz)
            for side, olds, news in (
                (OrderSide.BUY, previous.levels[0], sides[0]),
                (OrderSide.SELL, previous.levels[1], sides[1]),
            )
            for old, new in zip(olds, news, strict=True)
            if old.sz != new.sz
        ]
        got = (
            []
            if deltas is None
            else [(d.order.side, d.order.price, d.order.size, d.action) for d in deltas.deltas]
        )
        assert [(side, Decimal(px), Decimal(sz), BookAction.UPDATE) for side, px, sz in want] == [
            (side, price.as_decimal(), size.as_decimal(), action)
            for side, price, size, action in got
        ]
        if deltas is not None:
            assert [d.flags for d in deltas.deltas][-1] == F_LAST
            book.apply_deltas(deltas)
        bids, asks = levels_of(book)
        assert [(Decimal(p), Decimal(s)) for p, s in bids] == [
            (Decimal(lvl.px), Decimal(lvl.sz)) for lvl in sides[0]
        ]
        assert [(Decimal(p), Decimal(s)) for p, s in asks] == [
            (Decimal(lvl.px), Decimal(lvl.sz)) for lvl in sides[1]
        ]
        previous = snapshot


# --- bbo --------------------------------------------------------------------------------


def test_two_sided_bbo_frames_become_quote_ticks() -> None:
    frames = ws_frames("ws_bbo.json")
    btc = perp("BTC")

    first = parse_quote_tick(frames[0].data, btc, TS_INIT)
    third = parse_quote_tick(frames[2].data, btc, TS_INIT)

    assert first is not None
    assert third is not None
    assert (str(first.bid_price), str(first.ask_price)) == ("80639.0", "80640.0")
    assert (str(first.bid_size), str(first.ask_size)) == ("0.00186", "13.74589")
    assert first.ts_event == 1788490065008_000_000
    assert first.ts_init == TS_INIT
    assert (str(third.bid_price), str(third.ask_size)) == ("85811.0", "4.09277")
    assert third.ts_event == 1791278884013_000_000


def test_bbo_data_capture_becomes_a_quote_tick() -> None:
    raw = json.loads((FIXTURES / "ws_bbo_data_info_test.json").read_text())[0]
    bbo = msgspec.json.decode(json.dumps(raw), type=type(ws_frames("ws_bbo.json")[0].data))

    quote = parse_quote_tick(bbo, perp("BTC"), TS_INIT)

    assert quote is not None
    assert (str(quote.bid_price), str(quote.bid_size)) == ("80657.0", "1.53005")
    assert (str(quote.ask_price), str(quote.ask_size)) == ("80658.0", "0.59555")
    assert quote.ts_event == 1788490137025_000_000


@pytest.mark.parametrize("index", [1, 3, 4])
def test_bbo_with_a_missing_side_yields_no_quote(index: int) -> None:
    frame = ws_frames("ws_bbo.json")[index]
    instrument = hype_spot() if frame.data.coin == "@107" else perp("MATIC")

    assert parse_quote_tick(frame.data, instrument, TS_INIT) is None


# --- trades -------------------------------------------------------------------------------


def test_trades_become_trade_ticks_with_aggressor_side_and_tid() -> None:
    frames = ws_frames("ws_trades.json")
    btc = perp("BTC")

    ticks = [parse_trade_tick(t, btc, TS_INIT) for f in frames for t in f.data]

    assert [(str(t.price), str(t.size)) for t in ticks] == [
        ("80639.0", "0.00022"),
        ("80640.0", "0.00404"),
        ("85827.0", "0.02721"),
        ("85826.0", "0.00897"),
    ]
    assert [t.aggressor_side for t in ticks] == [
        AggressorSide.SELLER,
        AggressorSide.BUYER,
        AggressorSide.BUYER,
        AggressorSide.SELLER,
    ]
    assert [t.trade_id.value for t in ticks] == [
        "1095884267920331",
        "159797238452866",
        "188095306343783",
        "250009747508244",
    ]
    assert [t.ts_event for t in ticks] == [1788490042052_000_000] * 2 + [1791278878126_000_000] * 2


def test_trades_become_hyperliquid_trades_with_buyer_seller_hash_and_tid() -> None:
    frames = ws_frames("ws_trades.json")
    btc = perp("BTC")

    first = parse_hyperliquid_trade(frames[0].data[0], btc, TS_INIT)
    third = parse_hyperliquid_trade(frames[1].data[0], btc, TS_INIT)

    assert first.buyer == "0xa62b923a112d50d03e1e096bbd53422490dac104"
    assert first.seller == "0x8a544ab75107efd541c9072a0efebb87cc4292f3"
    assert first.hash == "0x" + "0" * 64
    assert first.tid == 1095884267920331
    assert first.aggressor_side == "A"
    assert (first.price, first.size) == (80639.0, 0.00022)
    assert first.instrument_id == btc.id
    assert (first.ts_event, first.ts_init) == (1788490042052_000_000, TS_INIT)
    assert third.hash == "0xe7a30278f69a68bee91c0445f4fe140206c5005e919d87908b6badcbb59e42a9"
    assert third.aggressor_side == "B"


# --- candles ------------------------------------------------------------------------------


def test_every_venue_interval_maps_to_a_bar_type_and_back() -> None:
    btc_id = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")

    types = {i: str(bar_type_for_interval(btc_id, i)) for i in CANDLE_INTERVALS if i != "3d"}

    assert types["1m"] == "BTC-USD-PERP.HYPERLIQUID-1-MINUTE-LAST-EXTERNAL"
    assert types["15m"] == "BTC-USD-PERP.HYPERLIQUID-15-MINUTE-LAST-EXTERNAL"
    assert types["4h"] == "BTC-USD-PERP.HYPERLIQUID-4-HOUR-LAST-EXTERNAL"
    assert types["1d"] == "BTC-USD-PERP.HYPERLIQUID-1-DAY-LAST-EXTERNAL"
    assert types["1w"] == "BTC-USD-PERP.HYPERLIQUID-1-WEEK-LAST-EXTERNAL"
    assert types["1M"] == "BTC-USD-PERP.HYPERLIQUID-1-MONTH-LAST-EXTERNAL"
    assert len(set(types.values())) == 13
    for interval, text in types.items():
        assert interval_for_bar_type(BarType.from_str(text)) == interval


def test_three_day_candles_have_no_nautilus_bar_type() -> None:
    btc_id = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")

    with pytest.raises(ValueError, match="'3d'"):
        bar_type_for_interval(btc_id, "3d")


def test_bar_type_without_a_venue_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="no candle interval"):
        interval_for_bar_type(BarType.from_str("BTC-USD-PERP.HYPERLIQUID-2-MINUTE-LAST-EXTERNAL"))


def test_ws_candles_become_bars_stamped_at_close() -> None:
    frames = ws_frames("ws_candle.json")
    btc = perp("BTC")
    bar_type = bar_type_for_interval(btc.id, "1m")

    bars = [parse_bar(f.data, bar_type, btc, TS_INIT) for f in frames[:2]]
    spot_bar = parse_bar(
        frames[2].data, bar_type_for_interval(hype_spot().id, "1m"), hype_spot(), TS_INIT
    )

    ohlcv = [(str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume)) for b in bars]
    assert ohlcv == [
        ("80640.0", "80641.0", "80639.0", "80640.0", "2.20493"),
        ("85827.0", "85827.0", "85801.0", "85812.0", "0.73617"),
    ]
    assert [b.ts_event for b in bars] == [1788490080000_000_000, 1791278940000_000_000]
    assert bars[0].ts_init == TS_INIT
    assert (str(spot_bar.open), str(spot_bar.low), str(spot_bar.volume)) == (
        "92.652000",
        "92.581000",
        "2115.03",
    )
    assert spot_bar.ts_event == 1791279300000_000_000


def test_info_candle_snapshot_becomes_hourly_bars() -> None:
    candles = decode_info_response(
        "candleSnapshot", (FIXTURES / "info_candleSnapshot.json").read_bytes()
    )
    kpepe = perp("kPEPE")
    bar_type = bar_type_for_interval(kpepe.id, candles[0].i)

    bars = [parse_bar(c, bar_type, kpepe, TS_INIT) for c in candles]

    assert str(bar_type) == "kPEPE-USD-PERP.HYPERLIQUID-1-HOUR-LAST-EXTERNAL"
    assert [str(b.close) for b in bars] == [
        "0.001604",
        "0.001591",
        "0.001605",
        "0.001596",
        "0.001550",
    ]
    assert str(bars[0].open) == "0.001601"
    assert str(bars[0].volume) == "520665683"
    assert str(bars[4].low) == "0.001532"
    assert [b.ts_event for b in bars] == [
        1684702800000_000_000,
        1684706400000_000_000,
        1684710000000_000_000,
        1684713600000_000_000,
        1684717200000_000_000,
    ]


# --- asset context and funding --------------------------------------------------------------


def test_active_asset_ctx_becomes_mark_index_funding_and_open_interest() -> None:
    frames = ws_frames("ws_activeAssetCtx.json")
    btc = perp("BTC")

    updates = parse_asset_ctx(frames[0].data.ctx, btc, TS_INIT)

    assert str(updates.mark.value) == "80640.0"
    assert str(updates.index.value) == "80684.7"
    assert updates.funding.rate == Decimal("0.0000052974")
    assert updates.funding.interval == 60
    # TS_INIT is 1_800_000_000.123 s, just past a top of the hour (1_800_000_000 = 500_000 h).
    assert updates.funding.next_funding_ns == 1_800_003_600_000_000_000
    assert updates.open_interest.value == 36295.80812
    assert updates.open_interest.instrument_id == btc.id
    for data in updates:
        assert (data.ts_event, data.ts_init) == (TS_INIT, TS_INIT)


def test_bookless_asset_ctx_with_null_fields_still_parses() -> None:
    frames = ws_frames("ws_activeAssetCtx.json")

    updates = parse_asset_ctx(frames[1].data.ctx, perp("MATIC"), TS_INIT)

    assert str(updates.mark.value) == "0.37621"
    assert str(updates.index.value) == "0.37540"
    assert updates.funding.rate == Decimal("0.0")
    assert updates.open_interest.value == 0.0


def test_second_btc_ctx_has_default_hourly_funding() -> None:
    frames = ws_frames("ws_activeAssetCtx.json")

    updates = parse_asset_ctx(frames[2].data.ctx, perp("BTC"), TS_INIT)

    assert updates.funding.rate == Decimal("0.0000125")
    assert str(updates.mark.value) == "85814.0"
    assert str(updates.index.value) == "85828.0"
    assert updates.open_interest.value == 39980.76392


def test_spot_asset_ctx_becomes_a_mark_price() -> None:
    frame = ws_frames("ws_activeSpotAssetCtx.json")[0]

    mark = parse_spot_asset_ctx(frame.data.ctx, hype_spot(), TS_INIT)

    assert str(mark.value) == "92.949000"
    assert mark.instrument_id == hype_spot().id


@pytest.mark.parametrize(
    ("name", "rates", "times_ms"),
    [
        (
            "info_fundingHistory.json",
            ["-0.00061334", "-0.00074503", "-0.00081798", "-0.00044036", "-0.00010343"],
            [1683849600048, 1683878400388, 1683907200253, 1683936000278, 1683964800255],
        ),
        (
            "info_fundingHistory_recent.json",
            ["0.0000125", "-0.0000081", "0.0000033"],
            [1769908800000, 1769912400000, 1769916000000],
        ),
    ],
)
def test_funding_history_becomes_funding_rate_updates(
    name: str, rates: list[str], times_ms: list[int]
) -> None:
    entries = decode_info_response("fundingHistory", (FIXTURES / name).read_bytes())
    btc_id = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")

    updates = parse_funding_history(entries, btc_id, TS_INIT)

    assert [u.rate for u in updates] == [Decimal(r) for r in rates]
    assert [u.ts_event for u in updates] == [t * 1_000_000 for t in times_ms]
    assert {u.interval for u in updates} == {60}
    assert {u.instrument_id for u in updates} == {btc_id}
