"""Append-only recording of every raw WebSocket frame and REST response, and its reader.

Why: any trading day must be replayable bit for bit (ARCHITECTURE.md), and a crash must never
make a recording unreadable.

Writing never blocks ingestion and costs it little. ``FrameRecorder.append`` only puts a tuple on
a bounded ``deque`` (atomic in CPython, no lock, no I/O, no encoding). A writer thread, started
explicitly with ``start()``, wakes every 50 ms (``writer_pause_secs``; at once while a full block
of 512 frames is waiting), drains the queue in batches, encodes
each batch as one block with a single C-level call (a handful of interpreted operations per
block, not per frame), writes it, rotates and compresses. Waking rarely and working in large
chunks keeps its share of the GIL, and the hand-offs, small. When the queue is full the frame is
dropped and counted, and a ``FeedHealth`` alarm (stream ``"recorder"``, GAP) is raised once; OK
follows when the queue has drained below half. Dropped frames show as holes in the recorded
sequence numbers.

Record kinds (``FrameKind``): WebSocket frames in and out, REST responses, and ``CONTROL``
records -- the data client's own changes to its frame handler (outputs switched on a
subscription, book differs reset), rare, written in order with the frames so a replay applies
them at the same point. Files written before ``CONTROL`` existed simply have none.

File format: a sequence of chunks, each ``magic | length u32 | crc32 u32 | body`` (integers
little-endian) with ``zlib.crc32`` of the body. Two chunk kinds, told apart by their magic, so
files written before blocks existed stay readable:

* ``b"JRB2"`` -- a block of frames (what the recorder writes): the body is one MessagePack
  array of ``[seq, recv_ns, kind, conn_id, stream, payload]`` arrays (``payload`` as bin, or as
  str if it was handed over as text), encoded in one C call, so the writer's interpreted work
  and GIL time per frame are tiny; any MessagePack library can read it.
* ``b"JRC1"`` -- one frame (the first format, read only; integers little-endian)::

      seq u64 | recv_ns u64 | kind u8 | conn_len u16 | stream_len u16 | conn | stream | payload

Framing and checksums are per block, so a torn last block (crash mid-write) is detected by its
short header or body and skipped *as a whole*, with a warning: a crash loses at most the last
block written (``block_max_frames`` bounds it) plus whatever was still queued. A block whose
checksum fails, or that does not decode, is skipped; a broken chunk header ends that file
(with a warning) and reading continues with the next file. Nothing here is ever fatal. Files are
named ``<prefix>-<first recv_ns, 20 digits>-<counter, 6 digits>.jrec`` so names sort in
recording order, rotate by size or by receive-time span (a batch is split at the rotation
point), and are compressed when closed (``.jrec.zst`` through pyarrow's zstd codec, else
``.jrec.gz``) by a child process (``recording_compression`` says why: compressing here held
the GIL against ingest). The file being written stays plain ``.jrec``; ``stop`` waits for the
compressions it started.
"""

from __future__ import annotations

import gzip
import struct
import sys
import threading
import time
import zlib
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from enum import unique
from operator import itemgetter
from pathlib import Path
from typing import IO
from typing import Any
from typing import Final
from typing import Protocol

import msgspec
from nautilus_trader.common.component import Logger
from nautilus_trader.common.component import is_logging_initialized
from nautilus_trader.common.enums import LogColor

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus
from adapters.hyperliquid.recording_compression import GZIP_SUFFIX as _GZIP_SUFFIX
from adapters.hyperliquid.recording_compression import RAW_SUFFIX as _RAW_SUFFIX
from adapters.hyperliquid.recording_compression import ZSTD_SUFFIX as _ZSTD_SUFFIX
from adapters.hyperliquid.recording_compression import ChildCompressor

__all__ = [
    "CONTROL_BOOK_RESET",
    "CONTROL_OUTPUTS",
    "CONTROL_STREAMS",
    "RECORDER_STREAM",
    "ControlPayload",
    "FrameKind",
    "FrameRecorder",
    "RecordedFrame",
    "RecorderStats",
    "decode_control",
    "encode_block",
    "encode_control",
    "encode_record",
    "iter_records",
    "last_recorded_seq",
    "recording_files",
]


class _StderrLogger(Logger):
    """Where a damaged-recording warning goes when no NautilusTrader logging runs in this process
    (a recording read by a script or the CLI, outside any node or engine): stderr, never lost."""

    def warning(self, message: str, color: LogColor = LogColor.YELLOW) -> None:
        print(f"[WARN] {self.name}: {message}", file=sys.stderr, flush=True)


_READER_LOG: Final[Logger] = Logger("HyperliquidRecording")
_READER_STDERR_LOG: Final[Logger] = _StderrLogger("HyperliquidRecording")

RECORDER_STREAM: Final[str] = "recorder"
"""Stream key of the recorder's own ``FeedHealth`` alarms."""

_RECORD_MAGIC: Final[bytes] = b"JRC1"
_BLOCK_MAGIC: Final[bytes] = b"JRB2"
_HEADER: Final[struct.Struct] = struct.Struct("<4sII")
_BODY_HEAD: Final[struct.Struct] = struct.Struct("<QQBHH")
_MAX_BODY: Final[int] = 256 * 1024 * 1024
# A block holds about this many bytes at most: small enough to stay in the CPU caches and the
# allocator's pools (a multi-MB buffer per block costs page faults), large enough to amortize.
_BLOCK_MAX_BYTES: Final[int] = 1024 * 1024
_BLOCK_ENCODER: Final = msgspec.msgpack.Encoder()
_BLOCK_DECODER: Final = msgspec.msgpack.Decoder(list[tuple[int, int, int, str, str, Any]])

_Item = tuple[int, int, int, str, str, "bytes | str"]
_RECV_NS: Final = itemgetter(1)


@unique
class FrameKind(IntEnum):
    """What a record holds: a frame received on a socket, one we sent, a REST response, or a
    control record (see ``ControlPayload``)."""

    WS_IN = 1
    WS_OUT = 2
    REST = 3
    CONTROL = 4


CONTROL_OUTPUTS: Final[str] = "outputs"
"""Control action (stream ``"outputs:<coin>"``): outputs of a coin switched on or off."""

CONTROL_BOOK_RESET: Final[str] = "book_reset"
"""Control action (stream ``"book_reset:<coin>"``): the coin's book differs were reset, so its
next book goes out whole."""


CONTROL_STREAMS: Final[str] = "streams"
"""Control action (stream ``"streams:<coin>"``): streams of a coin registered with, or removed
from, the continuity monitor (a new subscription starts from a resync, with no history)."""


class ControlPayload(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=False):
    """What a ``CONTROL`` record carries (JSON): a change the live data client made to its frame
    handler, recorded in order with the frames so a replay makes it at the same point.

    Why: which objects a frame produces depends on which outputs were subscribed at that moment
    and on when the book differs were reset; neither is in the venue frames.

    ``enable`` / ``disable``: outputs switched (``"outputs:<coin>"``). ``before_seq``: a book
    reset that took effect while handling the frame with this sequence number (it is recorded
    right after that frame), ``None`` when it applies at the record's own position.
    ``register`` / ``unregister``: stream keys watched or no longer watched (``"streams:<coin>"``).
    """

    coin: str
    enable: list[str] = msgspec.field(default_factory=list)
    disable: list[str] = msgspec.field(default_factory=list)
    before_seq: int | None = None
    register: list[str] = msgspec.field(default_factory=list)
    unregister: list[str] = msgspec.field(default_factory=list)


_CONTROL_ENCODER: Final = msgspec.json.Encoder()
_CONTROL_DECODER: Final = msgspec.json.Decoder(ControlPayload)


def encode_control(payload: ControlPayload) -> bytes:
    """The JSON payload of a control record."""
    return _CONTROL_ENCODER.encode(payload)


def decode_control(payload: bytes) -> ControlPayload | None:
    """A control record's payload, or ``None`` when it is not one this reader understands."""
    try:
        return _CONTROL_DECODER.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


_WS_IN: Final[int] = int(FrameKind.WS_IN)


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One recorded frame, as read back for replay."""

    seq: int
    recv_ns: int
    kind: FrameKind
    conn_id: str
    stream: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Counters of a recorder (read from any thread; values are a consistent-enough snapshot).

    ``durable``: frames written AND flushed to the operating system, so they survive the
    process being killed (not a power loss: the writer does not fsync). ``written`` may run
    ahead of it by at most the batch being written. ``last_durable_seq``: the highest sequence
    number among them (0 before the first).
    """

    appended: int
    dropped: int
    written: int
    files_closed: int
    write_errors: int
    queue_depth: int
    durable: int = 0
    last_durable_seq: int = 0


def encode_record(
    seq: int, recv_ns: int, kind: int, conn_id: str, stream: str, payload: bytes
) -> bytes:
    """One frame in the first (``JRC1``, one chunk per frame) format; still read, no longer
    written by the recorder (kept for tools and for testing the reader on old files)."""
    conn = conn_id.encode()
    key = stream.encode()
    body = b"".join((_BODY_HEAD.pack(seq, recv_ns, kind, len(conn), len(key)), conn, key, payload))
    return _HEADER.pack(_RECORD_MAGIC, len(body), zlib.crc32(body)) + body


def encode_block(items: Sequence[_Item]) -> bytes:
    """One ``JRB2`` block holding ``items`` (``(seq, recv_ns, kind, conn_id, stream, payload)``)."""
    body = _BLOCK_ENCODER.encode(items)
    return _HEADER.pack(_BLOCK_MAGIC, len(body), zlib.crc32(body)) + body


def _zstd_available() -> bool:
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow ships with nautilus_trader
        return False
    return bool(pa.Codec.is_available("zstd"))


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class FrameRecorder:
    """Records raw frames off the hot path (see module notes).

    Parameters
    ----------
    directory : str | Path
        Folder for the files (created by ``start()``).
    rotate_max_bytes : int
        Close the current file once it holds this many (uncompressed) bytes.
    rotate_interval_ns : int
        ... or once its records span this long by receive time (also checked while idle).
    compression : str
        ``"zstd"`` (falls back to gzip when pyarrow lacks zstd), ``"gzip"`` or ``"none"``.
    queue_max_frames : int
        Bound of the hand-off queue; frames beyond it are dropped and counted.
    on_health : Callable[[FeedHealth], None], optional
        Receives the recorder's alarms; called on the thread calling ``append``.
    prefix : str
        File name prefix.
    time_ns : Callable[[], int]
        Clock for idle time-based rotation and alarm timestamps.
    block_max_frames : int
        Most frames per written block: what a crash mid-write can tear at worst.
    writer_pause_secs : float
        The writer sleeps this long between batches unless a full block is waiting, so it works
        in large chunks and rarely contends for the GIL; also the idle poll period. 50 ms: at a
        few thousand frames/s that is one wake-up, one encode and one write+flush per few
        hundred frames (10 ms cost measurably more CPU per frame in ``bench_peer.py``); the
        durable counter lags by at most this much plus one block's write.
    logger : Logger, optional
        NautilusTrader logger for write failures (default: one named ``HyperliquidRecorder``).
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        rotate_max_bytes: int = 256 * 1024 * 1024,
        rotate_interval_ns: int = 3_600 * 1_000_000_000,
        compression: str = "zstd",
        queue_max_frames: int = 100_000,
        on_health: Callable[[FeedHealth], None] | None = None,
        prefix: str = "frames",
        time_ns: Callable[[], int] = time.time_ns,
        block_max_frames: int = 512,
        writer_pause_secs: float = 0.05,
        logger: Logger | None = None,
    ) -> None:
        if compression not in ("zstd", "gzip", "none"):
            raise ValueError(f"compression: must be 'zstd', 'gzip' or 'none', was {compression!r}")
        if rotate_max_bytes <= 0 or rotate_interval_ns <= 0 or queue_max_frames <= 0:
            raise ValueError("rotate_max_bytes, rotate_interval_ns, queue_max_frames must be > 0")
        if not 0 < block_max_frames <= 1_000_000:
            raise ValueError(f"block_max_frames: must be in [1, 1000000], was {block_max_frames}")
        if writer_pause_secs < 0:
            raise ValueError(f"writer_pause_secs: must be >= 0, was {writer_pause_secs}")
        if compression == "zstd" and not _zstd_available():
            compression = "gzip"
        self._directory = Path(directory)
        self._rotate_max_bytes = rotate_max_bytes
        self._rotate_interval_ns = rotate_interval_ns
        self._compression = compression
        self._max_frames = queue_max_frames
        self._low_watermark = queue_max_frames // 2
        self._on_health = on_health
        self._prefix = prefix
        self._time_ns = time_ns
        self._block_max_frames = block_max_frames
        self._pause_secs = writer_pause_secs
        self._log = logger if logger is not None else Logger("HyperliquidRecorder")
        self._queue: deque[_Item] = deque()
        self._push = self._queue.append
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._accepting = False
        # Queue room while accepting, 0 otherwise: ``append`` checks both with one comparison.
        self._room = 0
        self._stopping = False
        self._alarm = False
        # Counters: ``_dropped`` is written by the ingesting thread, the rest by the writer
        # (``_taken``: frames taken off the queue, so appended = taken + queue depth).
        self._taken = 0
        self._dropped = 0
        self._written = 0
        self._files_closed = 0
        self._write_errors = 0
        self._durable = 0
        self._last_durable_seq = 0
        # Writer-thread state.
        self._file: IO[bytes] | None = None
        self._file_path: Path | None = None
        self._file_bytes = 0
        self._file_first_ns = 0
        self._file_counter = 0
        self._dirty = False
        self._buffer = bytearray()  # reused for every block: no multi-MB allocation per block
        self._compressor = ChildCompressor(compression)

    @classmethod
    def from_config(
        cls,
        config: HyperliquidRecorderConfig,
        on_health: Callable[[FeedHealth], None] | None = None,
        logger: Logger | None = None,
    ) -> FrameRecorder:
        """A recorder as configured in the data client config."""
        return cls(
            config.directory,
            rotate_max_bytes=config.rotate_max_bytes,
            rotate_interval_ns=int(config.rotate_interval_secs * 1e9),
            compression=config.compression,
            queue_max_frames=config.queue_max_frames,
            on_health=on_health,
            logger=logger,
        )

    @property
    def directory(self) -> Path:
        """The folder the recording files are written into."""
        return self._directory

    @property
    def compression(self) -> str:
        """The compression actually used for closed files."""
        return self._compression

    @property
    def is_running(self) -> bool:
        """Whether ``append`` currently accepts frames."""
        return self._accepting

    def stats(self) -> RecorderStats:
        """Current counters."""
        return RecorderStats(
            appended=self._taken + len(self._queue),
            dropped=self._dropped,
            written=self._written,
            files_closed=self._files_closed,
            write_errors=self._write_errors,
            queue_depth=len(self._queue),
            durable=self._durable,
            last_durable_seq=self._last_durable_seq,
        )

    # -- ingestion side (hot path) -----------------------------------------------------------

    def append(
        self,
        stream: str,
        payload: bytes | str,
        recv_ns: int,
        seq: int,
        conn_id: str = "",
        kind: int = _WS_IN,
    ) -> bool:
        """Hand a frame to the writer; never blocks. False if dropped (queue full) or stopped.

        O(1) and one allocation (the tuple): everything else happens on the writer thread.
        ``kind`` is a ``FrameKind``; the default is its plain-int value on purpose: a tuple of
        ints, strings and bytes only is dropped from the garbage collector's tracking, while a
        tuple holding an enum member would be traversed by every collection while queued.
        """
        queue = self._queue
        if len(queue) < self._room:  # the common case: one comparison, one push
            self._push((seq, recv_ns, kind, conn_id, stream, payload))
            if self._alarm and len(queue) <= self._low_watermark:
                self._alarm = False
                self._emit(
                    FeedHealthStatus.OK,
                    f"recorder caught up; {self._dropped} frames dropped in total",
                )
            return True
        if not self._accepting:
            return False
        self._dropped += 1
        if not self._alarm:
            self._alarm = True
            self._emit(
                FeedHealthStatus.GAP,
                f"recorder queue full ({self._max_frames} frames): dropping frames",
            )
        return False

    def _emit(self, status: FeedHealthStatus, reason: str) -> None:
        if self._on_health is None:
            return
        now = self._time_ns()
        ctor: type = FeedHealth  # the customdataclass __init__ is not visible to mypy
        self._on_health(
            ctor(
                stream=RECORDER_STREAM,
                status=status.value,
                reason=reason,
                since_ns=now,
                ts_event=now,
                ts_init=now,
            )
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Create the directory and start the writer thread."""
        if self._thread is not None:
            raise RuntimeError("recorder already started")
        self._directory.mkdir(parents=True, exist_ok=True)
        self._stopping = False
        self._wake.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"jarvis-recorder-{self._prefix}", daemon=True
        )
        self._accepting = True
        self._room = self._max_frames
        self._thread.start()

    def stop(self, timeout_secs: float | None = None) -> None:
        """Stop accepting, write what is queued, close the current file and wait for the
        compressions (each up to ``timeout_secs``; one still running is left to finish)."""
        self._accepting = False
        self._room = 0
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        thread.join(timeout_secs)
        if not thread.is_alive():
            self._thread = None
            self._report(self._compressor.reap(timeout_secs))

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        queue = self._queue
        pop = queue.popleft
        block_max = self._block_max_frames
        wait = self._wake.wait
        while True:
            depth = len(queue)
            if not depth:
                if self._stopping:
                    break
                self._idle()
                wait(self._pause_secs)
                continue
            count = depth if depth < block_max else block_max
            items = [pop() for _ in range(count)]
            self._taken += count
            try:
                self._write_batch(items)
                self._flush(items[-1][0])
            except Exception as exc:
                self._write_errors += 1
                self._log.exception(f"failed to write {len(items)} frames", exc)
                self._abandon_file()
            if count < block_max:
                # Not a full block waiting: let frames accumulate (larger chunks, fewer GIL
                # hand-offs). ``stop`` sets the event, so draining at the end does not wait.
                wait(self._pause_secs)
        self._close_file()

    def _flush(self, last_seq: int) -> None:
        """Hand what was written to the OS and count it durable (one syscall per batch: batches
        come at most every ``writer_pause_secs``, so the count is never stale for long)."""
        if self._file is not None and self._dirty:
            self._file.flush()
            self._dirty = False
        self._durable = self._written
        self._last_durable_seq = max(self._last_durable_seq, last_seq)

    def _idle(self) -> None:
        # Every batch was flushed when written (``_flush``); idle only rotates by time.
        if self._compressor.running:
            self._report(self._compressor.reap())
        file_age_ns = self._time_ns() - self._file_first_ns
        if self._file is not None and file_age_ns >= self._rotate_interval_ns:
            self._close_file()

    def _write_batch(self, items: list[_Item]) -> None:
        """Write queued frames as blocks, split where the file rotates (writer thread only).

        The common case is one encode and one block per batch; only a batch that crosses a
        rotation point is split (by receive time with a bisection, by size with a walk).
        """
        start = 0
        total = len(items)
        interval = self._rotate_interval_ns
        buffer = self._buffer
        splitting = False
        while start < total:
            if self._file is not None and items[start][1] - self._file_first_ns >= interval:
                self._close_file()
            if self._file is None:
                self._open_file(items[start][1])
            file = self._file
            assert file is not None
            end = total
            limit_ns = self._file_first_ns + interval
            if items[end - 1][1] >= limit_ns:
                end = bisect_left(items, limit_ns, start + 1, end, key=_RECV_NS)
            budget = min(self._rotate_max_bytes - self._file_bytes, _BLOCK_MAX_BYTES)
            if splitting:  # this batch is larger than a block: measure before encoding
                end = start + _fit(items[start:end], budget)
            _BLOCK_ENCODER.encode_into(items[start:end] if start or end < total else items, buffer)
            if len(buffer) > budget and end - start > 1:
                splitting = True
                end = start + _fit(items[start:end], budget)
                _BLOCK_ENCODER.encode_into(items[start:end], buffer)
            file.write(_HEADER.pack(_BLOCK_MAGIC, len(buffer), zlib.crc32(buffer)))
            file.write(buffer)
            self._dirty = True
            self._file_bytes += _HEADER.size + len(buffer)
            self._written += end - start
            if self._file_bytes >= self._rotate_max_bytes:
                self._close_file()
            start = end

    def _open_file(self, first_ns: int) -> None:
        name = f"{self._prefix}-{first_ns:020d}-{self._file_counter:06d}{_RAW_SUFFIX}"
        self._file_counter += 1
        self._file_path = self._directory / name
        self._file = open(self._file_path, "ab")  # noqa: SIM115 - closed by _close_file
        self._file_bytes = 0
        self._file_first_ns = first_ns

    def _abandon_file(self) -> None:
        try:
            if self._file is not None:
                self._file.close()
        except OSError:
            pass
        self._file = None

    def _close_file(self) -> None:
        file, path = self._file, self._file_path
        if file is None or path is None:
            return
        self._file = None
        self._dirty = False
        file.close()
        self._files_closed += 1
        try:
            warning = self._compressor.submit(path)
        except Exception as exc:
            self._write_errors += 1
            self._log.exception(f"failed to compress {path} (left uncompressed)", exc)
        else:
            if warning:
                self._log.warning(warning)

    def _report(self, problems: list[str]) -> None:
        for problem in problems:
            self._write_errors += 1
            self._log.error(f"{problem}; the raw file stays readable")


def _fit(items: Sequence[_Item], budget: int) -> int:
    """How many leading frames fit in ``budget`` encoded bytes, counting the frame that crosses
    it (so at least one: the file rotates after the frame that filled it, as it always did)."""
    used = 0
    for index, item in enumerate(items):
        used += len(item[5]) + len(item[4]) + len(item[3]) + 32  # 32: numbers and msgpack tags
        if used >= budget:
            return index + 1
    return len(items)


def _stem(path: Path) -> str | None:
    name = path.name
    for suffix in (_ZSTD_SUFFIX, _GZIP_SUFFIX, _RAW_SUFFIX):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def recording_files(path: str | Path) -> list[Path]:
    """The recording files of a directory in recording order (or ``[path]`` for a file).

    When a closed file exists both raw and compressed (crash during compression), the compressed
    one is complete and wins.
    """
    root = Path(path)
    if root.is_file():
        return [root]
    chosen: dict[str, Path] = {}
    for candidate in root.iterdir():
        stem = _stem(candidate)
        if stem is None or not candidate.is_file():
            continue
        current = chosen.get(stem)
        if current is None or current.name.endswith(_RAW_SUFFIX):
            chosen[stem] = candidate
    return [chosen[stem] for stem in sorted(chosen)]


def _read_exact(stream: _Readable, size: int) -> bytes:
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = stream.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


def _open_for_read(path: Path) -> IO[bytes] | _Readable:
    if path.name.endswith(_ZSTD_SUFFIX):
        import pyarrow as pa

        stream: _Readable = pa.CompressedInputStream(pa.OSFile(str(path)), "zstd")
        return stream
    if path.name.endswith(_GZIP_SUFFIX):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _decode_record(body: bytes) -> RecordedFrame | None:
    if len(body) < _BODY_HEAD.size:
        return None
    seq, recv_ns, kind, conn_len, stream_len = _BODY_HEAD.unpack_from(body)
    start = _BODY_HEAD.size
    conn_end = start + conn_len
    stream_end = conn_end + stream_len
    if stream_end > len(body) or kind not in _KINDS:
        return None
    return RecordedFrame(
        seq=seq,
        recv_ns=recv_ns,
        kind=_KINDS[kind],
        conn_id=body[start:conn_end].decode(),
        stream=body[conn_end:stream_end].decode(),
        payload=body[stream_end:],
    )


_KINDS: Final[dict[int, FrameKind]] = {int(kind): kind for kind in FrameKind}


def _decode_block(body: bytes) -> list[RecordedFrame] | None:
    """The frames of a block body, or ``None`` if it is not a valid block."""
    try:
        rows = _BLOCK_DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    frames: list[RecordedFrame] = []
    for seq, recv_ns, kind, conn_id, stream, payload in rows:
        frame_kind = _KINDS.get(kind)
        if frame_kind is None or not isinstance(payload, bytes | str):
            return None
        frames.append(
            RecordedFrame(
                seq=seq,
                recv_ns=recv_ns,
                kind=frame_kind,
                conn_id=conn_id,
                stream=stream,
                payload=payload if isinstance(payload, bytes) else payload.encode(),
            )
        )
    return frames


def _iter_file(path: Path, log: Logger) -> Iterator[RecordedFrame]:
    stream = _open_for_read(path)
    try:
        while True:
            header = _read_exact(stream, _HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                log.warning(f"recording {path.name}: torn record header at the end, skipped")
                return
            magic, length, crc = _HEADER.unpack(header)
            if magic not in (_BLOCK_MAGIC, _RECORD_MAGIC) or length > _MAX_BODY:
                log.warning(f"recording {path.name}: corrupt record header, rest of file skipped")
                return
            body = _read_exact(stream, length)
            if len(body) < length:
                what = "block" if magic == _BLOCK_MAGIC else "record"
                log.warning(
                    f"recording {path.name}: torn last {what} ({len(body)} of {length} bytes), "
                    "skipped"
                )
                return
            if zlib.crc32(body) != crc:
                log.warning(f"recording {path.name}: record with a bad checksum, skipped")
                continue
            if magic == _BLOCK_MAGIC:
                frames = _decode_block(body)
                if frames is None:
                    log.warning(f"recording {path.name}: malformed block, skipped")
                    continue
                yield from frames
            else:
                frame = _decode_record(body)
                if frame is None:
                    log.warning(f"recording {path.name}: malformed record, skipped")
                    continue
                yield frame
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def last_recorded_seq(directory: str | Path) -> int:
    """The highest readable sequence number in a recording folder (0: none, or no folder).

    Why: a recorder started again in a folder (after a crash or a clean stop) must continue the
    numbering, or replay, which keys on sequence numbers, sees duplicates. Files are read from
    the newest back until one holds a readable record, so a torn or empty last file (a crash
    right after opening it, or mid-block) falls back to what was durably written before it;
    numbers of frames lost in a torn block are not reused by anything readable.
    """
    root = Path(directory)
    if not root.is_dir():
        return 0
    for path in reversed(recording_files(root)):
        highest = 0
        for frame in _iter_file(path, _READER_LOG):
            highest = max(highest, frame.seq)
        if highest:
            return highest
    return 0


def iter_records(path_or_dir: str | Path, logger: Logger | None = None) -> Iterator[RecordedFrame]:
    """Every readable record of a recording file or directory, in recording order.

    Damaged records and blocks are skipped with a warning on ``logger`` (default: one named
    ``HyperliquidRecording``; see module notes); reading never fails on them.
    """
    if logger is not None:
        log = logger
    else:
        log = _READER_LOG if is_logging_initialized() else _READER_STDERR_LOG
    for path in recording_files(path_or_dir):
        yield from _iter_file(path, log)
