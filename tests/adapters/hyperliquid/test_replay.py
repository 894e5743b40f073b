"""Replay honours the data client's recorded output changes and book resets, at their position.

Recordings are written with the live ``FrameRecorder`` from real venue payloads in
``tests/resources/hyperliquid``; expected objects are counted and stamped by hand (or, for the
last test, are the objects a live ``HyperliquidDataClient`` handed to its data engine).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.data import Data
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data import HyperliquidDataClient
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.recorder import ControlPayload
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import decode_control
from adapters.hyperliquid.recorder import encode_control
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.replay import replay_frames
from adapters.hyperliquid.replay import replay_recording
from adapters.hyperliquid.schemas.info import decode_info_response
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
MS = 1_000_000
T0 = 1_791_278_890_000 * MS
META = (FIXTURES / "info_meta.json").read_bytes()


def _frames(name: str) -> list[bytes]:
    frames = json.loads((FIXTURES / name).read_text())
    return [json.dumps(f, separators=(",", ":")).encode() for f in frames]


CTX_BTC = _frames("ws_activeAssetCtx.json")[2]
BOOK = _frames("ws_l2Book.json")[0]  # BTC, 2 bids / 2 asks
TRADES = _frames("ws_trades.json")[1]  # BTC, two prints


def _book_at(time_ms: int, top_ask_sz: str) -> bytes:
    """The BOOK fixture at another venue time, with only the best ask's size changed."""
    frame = json.loads(BOOK)
    frame["data"]["time"] = time_ms
    frame["data"]["levels"][1][0]["sz"] = top_ask_sz
    return json.dumps(frame, separators=(",", ":")).encode()


def _btc() -> Instrument:
    meta = decode_info_response("meta", META)
    (btc,) = parse_perp_instruments(meta, 0, coins=["BTC"])
    return btc


# A recording step: ("ws", stream, payload) for a frame, ("ctl", stream, payload) for a control.
Step = tuple[str, str, bytes]


def _outputs(enable: tuple[str, ...] = (), disable: tuple[str, ...] = ()) -> Step:
    payload = json.dumps({"coin": "BTC", "enable": list(enable), "disable": list(disable)})
    return ("ctl", "outputs:BTC", payload.encode())


def _record(directory: Path, steps: list[Step]) -> Path:
    """The meta response, then the steps one millisecond apart, seq numbers from 2."""
    recorder = FrameRecorder(directory, compression="none")
    recorder.start()
    assert recorder.append("rest:info:meta", META, T0, 1, "rest", FrameKind.REST)
    for seq, (what, stream, payload) in enumerate(steps, start=2):
        recv_ns = T0 + seq * MS
        if what == "ws":
            assert recorder.append(stream, payload, recv_ns, seq, "ws-1")
        else:
            assert recorder.append(stream, payload, recv_ns, seq, "control", FrameKind.CONTROL)
    recorder.stop()
    return directory


def _ctx() -> Step:
    return ("ws", "activeAssetCtx:BTC", CTX_BTC)


def _unwrap(data: Data) -> Any:
    return data.data if isinstance(data, CustomData) else data


def _stamps(data: list[Data], cls: type) -> list[int]:
    """Receive-time offsets (ms after T0) of the objects of one type."""
    return [(d.ts_init - T0) // MS for d in data if isinstance(_unwrap(d), cls)]


def test_open_interest_enabled_halfway_appears_only_from_that_point(tmp_path: Path) -> None:
    # seq/ms: 2 enable mark, 3 ctx, 4 ctx, 5 enable OI, 6 ctx, 7 ctx
    steps = [_outputs(enable=("mark",)), _ctx(), _ctx(), _outputs(enable=("open_interest",))]
    recording = _record(tmp_path, [*steps, _ctx(), _ctx()])

    data = replay_recording(recording).data

    assert _stamps(data, MarkPriceUpdate) == [3, 4, 6, 7]
    assert _stamps(data, OpenInterestUpdate) == [6, 7]
    assert _stamps(data, IndexPriceUpdate) == []
    assert _stamps(data, FundingRateUpdate) == []


def test_disabled_output_stops_at_the_control_record(tmp_path: Path) -> None:
    # seq/ms: 2 enable mark+OI, 3 ctx, 4 disable OI, 5 ctx, 6 disable mark, 7 ctx
    steps = [
        _outputs(enable=("mark", "open_interest")),
        _ctx(),
        _outputs(disable=("open_interest",)),
    ]
    recording = _record(tmp_path, [*steps, _ctx(), _outputs(disable=("mark",)), _ctx()])

    result = replay_recording(recording)

    assert _stamps(result.data, OpenInterestUpdate) == [3]
    assert _stamps(result.data, MarkPriceUpdate) == [3, 5]
    assert result.frames == 3  # control records are not frames


def test_old_recording_without_control_records_enables_everything_from_the_first_frame(
    tmp_path: Path,
) -> None:
    recording = _record(tmp_path, [_ctx(), _ctx()])

    data = replay_recording(recording).data

    for cls in (MarkPriceUpdate, IndexPriceUpdate, FundingRateUpdate, OpenInterestUpdate):
        assert _stamps(data, cls) == [2, 3]


def test_explicit_outputs_override_the_recorded_changes(tmp_path: Path) -> None:
    steps = [_outputs(enable=("mark",)), _ctx(), _outputs(enable=("open_interest",)), _ctx()]
    recording = _record(tmp_path, steps)

    data = replay_frames(iter_records(recording), outputs={"BTC": {"funding"}}).data

    assert _stamps(data, FundingRateUpdate) == [3, 5]
    assert _stamps(data, MarkPriceUpdate) == []
    assert _stamps(data, OpenInterestUpdate) == []


def test_unknown_or_malformed_control_records_are_ignored(tmp_path: Path) -> None:
    steps = [
        _outputs(enable=("mark",)),
        ("ctl", "outputs:BTC", b"not json"),
        ("ctl", "future_thing:BTC", b'{"coin":"BTC","enable":["open_interest"]}'),
        ("ctl", "outputs:NOPE", b'{"coin":"NOPE","enable":["mark"]}'),  # unknown coin
        _ctx(),
    ]

    data = replay_recording(_record(tmp_path, steps)).data

    assert [type(_unwrap(d)).__name__ for d in data] == ["MarkPriceUpdate"]


def _actions(data: list[Data]) -> list[list[BookAction]]:
    return [[d.action for d in x.deltas] for x in data if isinstance(x, OrderBookDeltas)]


WHOLE = [BookAction.CLEAR] + [BookAction.ADD] * 4


def test_positional_book_reset_sends_the_next_book_whole(tmp_path: Path) -> None:
    steps: list[Step] = [
        _outputs(enable=("deltas",)),
        ("ws", "l2Book:BTC", _book_at(1_000, "26.98831")),
        ("ws", "l2Book:BTC", _book_at(2_000, "1.5")),
        ("ctl", "book_reset:BTC", b'{"coin":"BTC"}'),
        ("ws", "l2Book:BTC", _book_at(3_000, "2.5")),
        ("ws", "l2Book:BTC", _book_at(4_000, "3.5")),
    ]

    data = replay_recording(_record(tmp_path, steps)).data

    assert _actions(data) == [WHOLE, [BookAction.UPDATE], WHOLE, [BookAction.UPDATE]]


def test_book_reset_bound_to_a_frame_applies_to_that_frame(tmp_path: Path) -> None:
    # Live, the reset happens while handling frame seq 4 and is recorded right after it.
    steps: list[Step] = [
        _outputs(enable=("deltas",)),
        ("ws", "l2Book:BTC", _book_at(1_000, "26.98831")),  # seq 3
        ("ws", "l2Book:BTC", _book_at(2_000, "1.5")),  # seq 4
        ("ctl", "book_reset:BTC", b'{"coin":"BTC","before_seq":4}'),
        ("ws", "l2Book:BTC", _book_at(3_000, "2.5")),
    ]

    data = replay_recording(_record(tmp_path, steps)).data

    assert _actions(data) == [WHOLE, WHOLE, [BookAction.UPDATE]]


class _LiveClient:
    """A data client with recording on, its emitted data applied to the cached managed book the
    way NautilusTrader's DataEngine does; nothing is connected (frames are handed in)."""

    def __init__(self, directory: Path) -> None:
        self.btc = _btc()
        clock = LiveClock()
        self.cache = Cache()
        self.cache.add_instrument(self.btc)
        msgbus = MessageBus(TraderId("TEST-001"), clock)
        self.emitted: list[Data] = []
        msgbus.register("DataEngine.process", self._process)
        config = HyperliquidDataClientConfig(
            http_url="http://127.0.0.1:9",  # never connected
            recorder=HyperliquidRecorderConfig(directory=str(directory), compression="none"),
        )
        self.client = HyperliquidDataClient(
            asyncio.get_running_loop(), msgbus, self.cache, clock, config
        )
        self.seq = 100
        self.ms = 0

    def _process(self, data: Data) -> None:
        if isinstance(data, CustomData) and isinstance(data.data, FeedHealth):
            return
        self.emitted.append(data)
        if isinstance(data, OrderBookDeltas):
            book = self.cache.order_book(data.instrument_id)
            if book is not None:
                book.apply(data)

    def new_managed_book(self) -> None:
        """What the DataEngine does on every managed book subscription: an empty book."""
        self.cache.add_order_book(OrderBook(self.btc.id, BookType.L2_MBP))

    def feed(self, raw: bytes, key: str) -> None:
        self.seq += 1
        self.ms += 1
        self.client._on_frame(raw, self.seq, T0 + self.ms * MS, "ws-1", key)


def _as_dicts(objects: list[Data]) -> list[tuple[str, dict[str, Any]]]:
    return [(type(_unwrap(o)).__name__, type(_unwrap(o)).to_dict(_unwrap(o))) for o in objects]


async def test_replay_without_outputs_reproduces_a_live_client_with_mid_session_changes(
    tmp_path: Path,
) -> None:
    live = _LiveClient(tmp_path)
    recorder = live.client.recorder
    assert recorder is not None
    recorder.start()
    assert recorder.append("rest:info:meta", META, T0, 1, "rest", FrameKind.REST)
    btc = live.btc.id
    await live.client._enable(btc, "deltas")
    live.new_managed_book()
    live.feed(_book_at(1_000, "26.98831"), "l2Book:BTC")
    await live.client._enable(btc, "mark")
    live.feed(CTX_BTC, "activeAssetCtx:BTC")
    live.feed(_book_at(2_000, "1.5"), "l2Book:BTC")
    live.new_managed_book()  # a second managed subscriber: NautilusTrader swaps the book
    live.feed(_book_at(3_000, "2.5"), "l2Book:BTC")
    await live.client._enable(btc, "open_interest")  # mid-session, same asset-context stream
    live.feed(CTX_BTC, "activeAssetCtx:BTC")
    await live.client._enable(btc, "deltas")  # a repeat book subscription on a running stream
    live.feed(_book_at(4_000, "3.5"), "l2Book:BTC")
    live.feed(_book_at(5_000, "4.5"), "l2Book:BTC")
    await live.client._disable(btc, "open_interest")
    live.feed(CTX_BTC, "activeAssetCtx:BTC")
    await live.client._enable(btc, "trades")
    live.feed(TRADES, "trades:BTC")
    await live.client._disable(btc, "trades")
    await live.client._enable(btc, "trades")  # resubscribed: the venue re-sends recent prints
    live.feed(TRADES, "trades:BTC")
    recorder.stop()

    controls = [
        (r.stream, json.loads(r.payload))
        for r in iter_records(tmp_path)
        if r.kind == FrameKind.CONTROL
    ]
    replayed = replay_recording(tmp_path).data

    def on(*outputs: str) -> tuple[str, dict[str, Any]]:
        return ("outputs:BTC", {"coin": "BTC", "enable": list(outputs)})

    def off(*outputs: str) -> tuple[str, dict[str, Any]]:
        return ("outputs:BTC", {"coin": "BTC", "disable": list(outputs)})

    def stream(change: str, key: str) -> tuple[str, dict[str, Any]]:
        return ("streams:BTC", {"coin": "BTC", change: [key]})

    trades_on = [on("trades"), stream("register", "trades:BTC"), on("trade_check")]
    assert controls == [
        on("deltas"),
        stream("register", "l2Book:BTC"),
        ("book_reset:BTC", {"coin": "BTC", "before_seq": 101}),  # the new cached book
        on("mark"),
        stream("register", "activeAssetCtx:BTC"),
        ("book_reset:BTC", {"coin": "BTC", "before_seq": 104}),  # the swapped book
        on("open_interest"),
        ("book_reset:BTC", {"coin": "BTC"}),  # the repeat book subscription
        off("open_interest"),
        *trades_on,
        off("trades"),
        stream("unregister", "trades:BTC"),
        off("trade_check"),
        *trades_on,
    ]
    assert _actions(live.emitted) == [WHOLE, [BookAction.UPDATE], WHOLE, WHOLE, [BookAction.UPDATE]]
    names = [type(_unwrap(d)).__name__ for d in live.emitted]
    assert names.count("OpenInterestUpdate") == 1
    assert names.count("TradeTick") == 4  # two prints, sent again after the resubscription
    assert _as_dicts(replayed) == _as_dicts(live.emitted)


def test_control_payload_round_trips_without_empty_fields() -> None:
    raw = encode_control(ControlPayload(coin="BTC", enable=["mark"]))

    assert json.loads(raw) == {"coin": "BTC", "enable": ["mark"]}
    assert decode_control(raw) == ControlPayload(coin="BTC", enable=["mark"])
    assert decode_control(b'{"enable":["mark"]}') is None  # no coin
