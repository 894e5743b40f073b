"""backtests.recording: a recording becomes the objects the live node saw, in the live order.

The recordings are written with the live recorder (``FrameRecorder``) from real venue payloads
in ``tests/resources/hyperliquid``; expected values are read off those payloads by hand.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.replay import replay_frames
from adapters.hyperliquid.websocket import frame_stream_key
from backtests.recording import RecordedData
from backtests.recording import add_to_engine
from backtests.recording import load_recording
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
MATIC = InstrumentId.from_str("MATIC-USD-PERP.HYPERLIQUID")
MS = 1_000_000
T0 = 1_791_278_890_000 * MS  # local receive times, after the payloads' venue times
# What a live client has enabled for a state builder (no depth10, no trades with addresses).
BUILDER_OUTPUTS = {
    "BTC": {"deltas", "quotes", "trades", "mark", "index", "funding", "open_interest"}
}


def _frames(name: str) -> list[bytes]:
    """The WebSocket frames of a ws_*.json fixture, as the compact bytes the venue sends."""
    frames = json.loads((FIXTURES / name).read_text())
    return [json.dumps(f, separators=(",", ":")).encode() for f in frames]


BOOK = _frames("ws_l2Book.json")[0]  # BTC, 2 bids + 2 asks
TRADES = _frames("ws_trades.json")[1]  # BTC, a buy at 85827.0 and a sell at 85826.0
CTX_BTC = _frames("ws_activeAssetCtx.json")[2]
CTX_MATIC = _frames("ws_activeAssetCtx.json")[1]
BBO_OLD = _frames("ws_bbo.json")[0]  # BTC 80639.0 / 80640.0
BBO = _frames("ws_bbo.json")[2]  # BTC 85811.0 / 85812.0


def _record(directory: Path, frames: list[tuple[int, bytes]]) -> Path:
    """A recording as the live client writes it: the meta response, then WebSocket frames."""
    recorder = FrameRecorder(directory, compression="none")
    recorder.start()
    meta = (FIXTURES / "info_meta.json").read_bytes()
    assert recorder.append("rest:info:meta", meta, T0, 1, "rest", FrameKind.REST)
    for seq, (recv_ns, raw) in enumerate(frames, start=2):
        assert recorder.append(frame_stream_key(raw), raw, recv_ns, seq, "ws-1")
    recorder.stop()
    return directory


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    """Book, bbo, then an asset context, trades and a bbo received at the same instant.

    A quote comes first in the recording but last among the frames received at T0 + 2 ms, so
    an order by type (or by first appearance of a type) differs from the live order.
    """
    return _record(
        tmp_path,
        [
            (T0 + 1 * MS, BOOK),
            (T0 + 1 * MS + MS // 2, BBO_OLD),
            (T0 + 2 * MS, CTX_BTC),
            (T0 + 2 * MS, TRADES),
            (T0 + 2 * MS, BBO),
            (T0 + 3 * MS, CTX_MATIC),
        ],
    )


def _unwrap(data: Data) -> Any:
    return data.data if isinstance(data, CustomData) else data


def _names(data: list[Data]) -> list[str]:
    return [type(_unwrap(d)).__name__ for d in data]


def test_load_recording_rebuilds_instruments_from_the_recorded_meta(recording: Path) -> None:
    recorded = load_recording(recording)

    btc = recorded.instrument(BTC)
    assert btc.raw_symbol.value == "BTC"
    assert btc.price_precision == 1  # 6 - szDecimals 5
    assert btc.size_precision == 5
    assert recorded.instrument(MATIC).size_precision == 1
    assert len(recorded.instruments) == 28  # the 2023 meta universe
    with pytest.raises(KeyError):
        recorded.instrument(InstrumentId.from_str("NOPE-USD-PERP.HYPERLIQUID"))


def test_load_recording_gives_every_object_with_venue_values_and_receive_times(
    recording: Path,
) -> None:
    recorded = load_recording(recording, outputs=BUILDER_OUTPUTS)
    data = recorded.data

    assert _names(data) == [
        "OrderBookDeltas",
        "QuoteTick",
        "MarkPriceUpdate",
        "IndexPriceUpdate",
        "FundingRateUpdate",
        "OpenInterestUpdate",
        "TradeTick",
        "TradeTick",
        "QuoteTick",
    ]
    book = data[0]
    assert isinstance(book, OrderBookDeltas)
    assert book.ts_init == T0 + 1 * MS
    assert book.ts_event == 1_791_278_882_097 * MS
    assert book.deltas[0].action == BookAction.CLEAR
    levels = [(d.order.side, float(d.order.price), float(d.order.size)) for d in book.deltas[1:]]
    assert levels == [
        (OrderSide.BUY, 85821.0, 0.96592),
        (OrderSide.BUY, 85818.0, 0.80629),
        (OrderSide.SELL, 85822.0, 26.98831),
        (OrderSide.SELL, 85823.0, 4.42262),
    ]
    old_quote = data[1]
    assert isinstance(old_quote, QuoteTick)
    assert (float(old_quote.bid_price), float(old_quote.ask_price)) == (80639.0, 80640.0)
    assert old_quote.ts_init == T0 + 1 * MS + MS // 2
    mark, index, funding, oi = data[2], data[3], data[4], _unwrap(data[5])
    assert isinstance(mark, MarkPriceUpdate) and float(mark.value) == 85814.0
    assert isinstance(index, IndexPriceUpdate) and float(index.value) == 85828.0
    assert isinstance(funding, FundingRateUpdate) and funding.rate == Decimal("0.0000125")
    assert isinstance(oi, OpenInterestUpdate) and oi.value == 39980.76392
    assert {d.ts_init for d in data[2:]} == {T0 + 2 * MS}
    ticks = [t for t in data[6:8] if isinstance(t, TradeTick)]
    trades = [(float(t.price), float(t.size), t.aggressor_side) for t in ticks]
    assert trades == [
        (85827.0, 0.02721, AggressorSide.BUYER),
        (85826.0, 0.00897, AggressorSide.SELLER),
    ]
    quote = data[8]
    assert isinstance(quote, QuoteTick)
    assert (float(quote.bid_price), float(quote.ask_price)) == (85811.0, 85812.0)
    assert recorded.start_ns == T0 + 1 * MS
    assert recorded.end_ns == T0 + 2 * MS
    assert recorded.out_of_order == 0


def test_load_recording_is_the_replay_of_the_live_frame_handler(recording: Path) -> None:
    recorded = load_recording(recording)
    replayed = replay_frames(iter_records(recording))

    def dicts(data: list[Data]) -> list[dict[str, Any]]:
        return [type(_unwrap(d)).to_dict(_unwrap(d)) for d in data]  # type: ignore[attr-defined]

    assert recorded.frames == replayed.frames == 6
    assert dicts(recorded.data) == dicts(replayed.data)
    assert len(recorded.data) > 10  # every output: depth10 and trades with addresses too


def test_outputs_restrict_the_objects_to_what_the_live_client_had_enabled(
    recording: Path,
) -> None:
    recorded = load_recording(recording, outputs={"BTC": {"trades", "open_interest"}})

    assert _names(recorded.data) == ["OpenInterestUpdate", "TradeTick", "TradeTick"]


def test_for_instruments_keeps_only_those_instruments_in_order(recording: Path) -> None:
    everything = load_recording(recording, outputs={"BTC": {"mark"}, "MATIC": {"mark"}})

    btc = everything.for_instruments([BTC])
    matic = everything.for_instruments([MATIC])

    assert [d.instrument_id for d in everything.data] == [BTC, MATIC]  # type: ignore[attr-defined]
    assert [i.id for i in btc.instruments] == [BTC]
    assert [d.instrument_id for d in btc.data] == [BTC]  # type: ignore[attr-defined]
    assert [d.instrument_id for d in matic.data] == [MATIC]  # type: ignore[attr-defined]
    assert float(matic.data[0].value) == 0.37621  # type: ignore[attr-defined]


class _SeenConfig(ActorConfig, frozen=True):
    """Nothing to configure."""


class _Seen(Actor):
    """Subscribes to everything a state builder reads and keeps it in arrival order."""

    def __init__(self) -> None:
        super().__init__(_SeenConfig())
        self.seen: list[tuple[str, int]] = []

    def on_start(self) -> None:
        self.subscribe_order_book_deltas(BTC, BookType.L2_MBP, managed=True)
        self.subscribe_quote_ticks(BTC)
        self.subscribe_trade_ticks(BTC)
        self.subscribe_mark_prices(BTC)
        self.subscribe_index_prices(BTC)
        self.subscribe_funding_rates(BTC)
        self.subscribe_data(
            OPEN_INTEREST_DATA_TYPE, client_id=ClientId("HYPERLIQUID"), instrument_id=BTC
        )

    def _keep(self, data: Data) -> None:
        self.seen.append((type(data).__name__, data.ts_init))

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self._keep(deltas)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self._keep(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self._keep(tick)

    def on_mark_price(self, mark_price: MarkPriceUpdate) -> None:
        self._keep(mark_price)

    def on_index_price(self, index_price: IndexPriceUpdate) -> None:
        self._keep(index_price)

    def on_funding_rate(self, funding_rate: FundingRateUpdate) -> None:
        self._keep(funding_rate)

    def on_data(self, data: Data) -> None:
        self._keep(data)


def _run(recorded: RecordedData) -> tuple[list[tuple[str, int]], list[tuple[float, float]]]:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    add_to_engine(engine, recorded)
    seen = _Seen()
    engine.add_actor(seen)
    try:
        engine.run()
        book = engine.cache.order_book(BTC)
        bids = [(float(level.price), float(level.size())) for level in book.bids()]
    finally:
        engine.dispose()
    return seen.seen, bids


def test_backtest_engine_receives_the_objects_in_live_order_also_at_equal_times(
    recording: Path,
) -> None:
    recorded = load_recording(recording, outputs=BUILDER_OUTPUTS)

    seen, bids = _run(recorded)

    assert seen == [
        ("OrderBookDeltas", T0 + 1 * MS),
        ("QuoteTick", T0 + 1 * MS + MS // 2),
        ("MarkPriceUpdate", T0 + 2 * MS),
        ("IndexPriceUpdate", T0 + 2 * MS),
        ("FundingRateUpdate", T0 + 2 * MS),
        ("OpenInterestUpdate", T0 + 2 * MS),
        ("TradeTick", T0 + 2 * MS),
        ("TradeTick", T0 + 2 * MS),
        ("QuoteTick", T0 + 2 * MS),
    ]
    assert bids == [(85821.0, 0.96592), (85818.0, 0.80629)]  # the engine's book is the venue's


def test_backtest_engine_with_depth10_and_other_instruments_still_runs(recording: Path) -> None:
    seen, _ = _run(load_recording(recording))

    assert [name for name, _ in seen].count("TradeTick") == 2
    assert len(seen) == 9  # objects of other instruments or outputs reach no BTC handler


def test_an_empty_recording_gives_instruments_and_no_data(tmp_path: Path) -> None:
    recorded = load_recording(_record(tmp_path, []))

    assert recorded.data == []
    assert recorded.frames == 0
    assert recorded.start_ns == recorded.end_ns == 0
    assert len(recorded.instruments) == 28
