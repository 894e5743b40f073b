"""Replay a raw-frame recording through the live data client's own frame handler.

Why: "a recording replayed frame by frame reproduces the same NautilusTrader data objects as the
live run" is what makes any trading day replayable and backtestable. Replay therefore does not
re-implement anything: recorded WebSocket frames go, in recording order and with their recorded
sequence number, receive time and connection id, through ``HyperliquidFrameHandler.handle`` --
the exact code the live ``HyperliquidDataClient`` runs -- and every object it emits is collected.

What replay needs besides the frames:

* the instruments (precisions): given, or rebuilt from the recorded ``meta`` / ``spotMeta`` REST
  responses, which the live client records when it loads instruments;
* which outputs were enabled per coin, and when. The live client switches an output on when a
  component subscribes and off when the last one unsubscribes, and records each change as a
  ``CONTROL`` record (stream ``"outputs:<coin>"``) in order with the frames; it also records
  every reset of a coin's book differs it made outside the frames (``"book_reset:<coin>"``: a
  repeat book subscription, or NautilusTrader replacing the cached book), after which the next
  book goes out whole; and when a stream starts or stops being watched by the continuity
  monitor (``"streams:<coin>"``: a resubscribed stream starts from a resync, without the
  duplicate-print history of the old subscription). Replay applies each at its position, so
  outputs start and stop, book snapshots are re-sent and prints are de-duplicated exactly as
  they were live. Without stream records (old files) a stream is watched from its first frame.

Which outputs, in order of precedence:

1. an explicit ``outputs=`` argument: those, from the first frame; recorded output changes are
   ignored (book resets still apply: they shape the deltas of any enabled book);
2. otherwise, when the recording holds output control records: those, at their positions
   (nothing is on before the first one);
3. otherwise (recordings made before control records existed): every output of every stream
   seen in the recording, from the first frame.

A recording replayed from a later file alone (a rotated directory cut at the front) lacks the
control records of the earlier files; replay the whole directory, or pass ``outputs=``.

Health (``FeedHealth``) is collected separately: staleness depends on timers that a recording
cannot reproduce exactly, market data does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from nautilus_trader.core.data import Data
from nautilus_trader.core.datetime import millis_to_nanos
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.frame_handler import OUTPUTS
from adapters.hyperliquid.frame_handler import HyperliquidFrameHandler
from adapters.hyperliquid.health import StreamMonitor
from adapters.hyperliquid.health import stream_kind
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.providers import parse_spot_instruments
from adapters.hyperliquid.recorder import CONTROL_BOOK_RESET
from adapters.hyperliquid.recorder import CONTROL_OUTPUTS
from adapters.hyperliquid.recorder import CONTROL_STREAMS
from adapters.hyperliquid.recorder import ControlPayload
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import RecordedFrame
from adapters.hyperliquid.recorder import decode_control
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.schemas.info import decode_info_response

__all__ = [
    "ReplayResult",
    "instruments_from_records",
    "replay_frames",
    "replay_recording",
]

_DATA_CHANNELS = frozenset(
    {"l2Book", "bbo", "trades", "candle", "activeAssetCtx", "activeSpotAssetCtx"}
)


@dataclass
class ReplayResult:
    """What a replay produced: market data in emission order, health changes, frame count."""

    data: list[Data] = field(default_factory=list)
    health: list[FeedHealth] = field(default_factory=list)
    frames: int = 0


def instruments_from_records(records: Iterable[RecordedFrame]) -> list[Instrument]:
    """Instruments rebuilt from the first recorded ``meta`` and ``spotMeta`` responses."""
    instruments: dict[str, Instrument] = {}
    seen: set[str] = set()
    for record in records:
        if record.kind != FrameKind.REST or record.stream in seen:
            continue
        if record.stream == "rest:info:meta":
            meta = decode_info_response("meta", record.payload)
            parsed: list[Instrument] = list(parse_perp_instruments(meta, record.recv_ns))
        elif record.stream == "rest:info:spotMeta":
            spot_meta = decode_info_response("spotMeta", record.payload)
            parsed = list(parse_spot_instruments(spot_meta, record.recv_ns))
        else:
            continue
        seen.add(record.stream)
        for instrument in parsed:
            instruments.setdefault(instrument.raw_symbol.value, instrument)
    return list(instruments.values())


def _default_outputs(records: Iterable[RecordedFrame]) -> dict[str, set[str]]:
    outputs: dict[str, set[str]] = {}
    for record in records:
        if record.kind != FrameKind.WS_IN:
            continue
        parts = record.stream.split(":")
        if len(parts) < 2 or parts[0] not in _DATA_CHANNELS:
            continue
        coin_outputs = outputs.setdefault(parts[1], set())
        if parts[0] == "candle" and len(parts) == 3:
            coin_outputs.add(f"bar:{parts[2]}")
        elif parts[0] != "candle":
            coin_outputs.update(OUTPUTS)
    return outputs


_KNOWN_CONTROLS = frozenset({CONTROL_OUTPUTS, CONTROL_BOOK_RESET, CONTROL_STREAMS})


def _controls(records: list[RecordedFrame]) -> dict[int, tuple[str, ControlPayload]]:
    """Decoded control records by their index in ``records``."""
    controls: dict[int, tuple[str, ControlPayload]] = {}
    for index, record in enumerate(records):
        if record.kind != FrameKind.CONTROL:
            continue
        payload = decode_control(record.payload)
        action = record.stream.partition(":")[0]
        if payload is None or action not in _KNOWN_CONTROLS:
            continue  # a control this reader does not know: nothing to apply
        controls[index] = (action, payload)
    return controls


def _apply_outputs(handler: HyperliquidFrameHandler, payload: ControlPayload) -> None:
    if handler.instrument(payload.coin) is None:
        return
    for output in payload.disable:
        handler.set_output(payload.coin, output, False)
    for output in payload.enable:
        handler.set_output(payload.coin, output, True)


def replay_frames(
    records: Iterable[RecordedFrame],
    *,
    instruments: Iterable[Instrument] | None = None,
    outputs: Mapping[str, Iterable[str]] | None = None,
    health: HyperliquidFeedHealthConfig | None = None,
    bar_close_grace_ms: int = 250,
    flush_until_ns: int | None = None,
) -> ReplayResult:
    """Feed recorded frames through a fresh ``HyperliquidFrameHandler`` and collect its output.

    Parameters
    ----------
    records : Iterable[RecordedFrame]
        The recording, in recording order (``iter_records``).
    instruments : Iterable[Instrument], optional
        Instruments by venue coin; default: rebuilt from the recorded REST responses.
    outputs : Mapping[str, Iterable[str]], optional
        Enabled outputs per coin from the first frame, overriding the recorded output changes;
        default: the recorded changes, or everything seen when there are none (module notes).
    health : HyperliquidFeedHealthConfig, optional
        Staleness thresholds (only continuity matters in replay).
    bar_close_grace_ms : int
        Must equal the live client's ``bar_close_grace_ms`` for identical bars.
    flush_until_ns : int, optional
        Also emit the bars whose close deadline falls before this time (the live backstop timer
        may have fired after the last recorded frame).
    """
    frames = list(records)
    controls = _controls(frames)
    actions = {action for action, _ in controls.values()}
    recorded_outputs = CONTROL_OUTPUTS in actions
    # Streams watched as the live client did (subscribe / unsubscribe); old files: from the
    # first frame of each stream.
    recorded_streams = CONTROL_STREAMS in actions
    # Book resets the live client made while handling a frame: (frame seq, coin).
    frame_resets = {
        (payload.before_seq, payload.coin)
        for action, payload in controls.values()
        if action == CONTROL_BOOK_RESET and payload.before_seq is not None
    }
    coins: dict[InstrumentId, str] = {}

    def book_replaced(instrument_id: InstrumentId, seq: int) -> bool:
        return (seq, coins.get(instrument_id, "")) in frame_resets

    result = ReplayResult()
    health_config = health or HyperliquidFeedHealthConfig()
    monitor = StreamMonitor(health_config.stale_thresholds_ns())
    handler = HyperliquidFrameHandler(
        result.data.append,
        result.health.append,
        monitor,
        bar_close_grace_ns=millis_to_nanos(bar_close_grace_ms),
        book_replaced=book_replaced if frame_resets else None,
    )
    for instrument in instruments if instruments is not None else instruments_from_records(frames):
        handler.add_instrument(instrument)
        coins[instrument.id] = instrument.raw_symbol.value
    apply_recorded_outputs = outputs is None and recorded_outputs
    if not apply_recorded_outputs:
        wanted = outputs if outputs is not None else _default_outputs(frames)
        for coin, coin_outputs in wanted.items():
            if handler.instrument(coin) is None:
                continue
            for output in coin_outputs:
                handler.set_output(coin, output, True)
    registered: set[str] = set()
    for index, record in enumerate(frames):
        if record.kind == FrameKind.CONTROL:
            control = controls.get(index)
            if control is None:
                continue
            action, payload = control
            if action == CONTROL_OUTPUTS:
                if apply_recorded_outputs:
                    _apply_outputs(handler, payload)
            elif action == CONTROL_STREAMS:
                for key in payload.unregister:
                    monitor.unregister(key)
                for key in payload.register:
                    change = monitor.register(key, record.recv_ns)
                    if change is not None:
                        result.health.append(change)
            elif payload.before_seq is None:
                handler.reset_books(payload.coin)
            continue
        if record.kind != FrameKind.WS_IN:
            continue
        stream = record.stream
        if (
            not recorded_streams
            and stream not in registered
            and stream_kind(stream) in _DATA_CHANNELS
        ):
            # Live, a stream is registered when subscribed, i.e. before its first frame.
            registered.add(stream)
            monitor.register(stream, record.recv_ns)
        handler.handle(record.payload, record.seq, record.recv_ns, record.conn_id, stream)
        result.frames += 1
    if flush_until_ns is not None:
        handler.flush_bars(flush_until_ns)
    return result


def replay_recording(path: str | Path, **kwargs: object) -> ReplayResult:
    """``replay_frames`` over every record of a recording file or directory."""
    return replay_frames(iter_records(path), **kwargs)  # type: ignore[arg-type]
