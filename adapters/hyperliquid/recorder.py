"""Append-only recording of every raw WebSocket frame and REST response, and its reader.

Why: any trading day must be replayable bit for bit (ARCHITECTURE.md), and a crash must never
make a recording unreadable.

Writing never blocks ingestion. ``FrameRecorder.append`` only puts a tuple on a bounded
``deque`` (atomic in CPython, no lock, no I/O); a writer thread, started explicitly with
``start()``, encodes, frames, writes, rotates and compresses. When the queue is full the frame is
dropped and counted, and a ``FeedHealth`` alarm (stream ``"recorder"``, GAP) is raised once; OK
follows when the queue has drained below half. Dropped frames show as holes in the recorded
sequence numbers.

File format (little-endian), one record per frame::

    magic  b"JRC1"      4 bytes
    length u32          length of the body
    crc32  u32          zlib.crc32 of the body
    body:  seq u64 | recv_ns u64 | kind u8 | conn_len u16 | stream_len u16 |
           conn_id utf-8 | stream utf-8 | payload bytes

A torn last record (crash mid-write) is detected by its short header or body and skipped with a
warning; a record whose checksum fails is skipped; a broken record header ends that file (with a
warning) and reading continues with the next file. Files are named
``<prefix>-<first recv_ns, 20 digits>-<counter, 6 digits>.jrec`` so names sort in recording order,
rotate by size or by receive-time span, and are compressed when closed (``.jrec.zst`` through
pyarrow's zstd codec, else ``.jrec.gz``). The file being written stays plain ``.jrec``.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from enum import unique
from pathlib import Path
from typing import IO
from typing import Final
from typing import Protocol

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.data_types import FeedHealthStatus

__all__ = [
    "RECORDER_STREAM",
    "FrameKind",
    "FrameRecorder",
    "RecordedFrame",
    "RecorderStats",
    "iter_records",
    "recording_files",
]

_log = logging.getLogger(__name__)

RECORDER_STREAM: Final[str] = "recorder"
"""Stream key of the recorder's own ``FeedHealth`` alarms."""

_MAGIC: Final[bytes] = b"JRC1"
_HEADER: Final[struct.Struct] = struct.Struct("<4sII")
_BODY_HEAD: Final[struct.Struct] = struct.Struct("<QQBHH")
_MAX_BODY: Final[int] = 256 * 1024 * 1024
_RAW_SUFFIX: Final[str] = ".jrec"
_ZSTD_SUFFIX: Final[str] = ".jrec.zst"
_GZIP_SUFFIX: Final[str] = ".jrec.gz"
_IDLE_POLL_SECS: Final[float] = 0.002
_COPY_CHUNK: Final[int] = 1024 * 1024


@unique
class FrameKind(IntEnum):
    """What a record holds: a frame received on a socket, one we sent, or a REST response."""

    WS_IN = 1
    WS_OUT = 2
    REST = 3


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
    """Counters of a recorder (read from any thread; values are a consistent-enough snapshot)."""

    appended: int
    dropped: int
    written: int
    files_closed: int
    write_errors: int
    queue_depth: int


def encode_record(
    seq: int, recv_ns: int, kind: int, conn_id: str, stream: str, payload: bytes
) -> bytes:
    """One framed record (header + body) in the recording format."""
    conn = conn_id.encode()
    key = stream.encode()
    body = b"".join((_BODY_HEAD.pack(seq, recv_ns, kind, len(conn), len(key)), conn, key, payload))
    return _HEADER.pack(_MAGIC, len(body), zlib.crc32(body)) + body


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
    ) -> None:
        if compression not in ("zstd", "gzip", "none"):
            raise ValueError(f"compression: must be 'zstd', 'gzip' or 'none', was {compression!r}")
        if rotate_max_bytes <= 0 or rotate_interval_ns <= 0 or queue_max_frames <= 0:
            raise ValueError("rotate_max_bytes, rotate_interval_ns, queue_max_frames must be > 0")
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
        self._queue: deque[tuple[int, int, int, str, str, bytes | str]] = deque()
        self._thread: threading.Thread | None = None
        self._accepting = False
        self._stopping = False
        self._alarm = False
        # Counters: the first two are written by the ingesting thread, the rest by the writer.
        self._appended = 0
        self._dropped = 0
        self._written = 0
        self._files_closed = 0
        self._write_errors = 0
        # Writer-thread state.
        self._file: IO[bytes] | None = None
        self._file_path: Path | None = None
        self._file_bytes = 0
        self._file_first_ns = 0
        self._file_counter = 0
        self._dirty = False

    @classmethod
    def from_config(
        cls,
        config: HyperliquidRecorderConfig,
        on_health: Callable[[FeedHealth], None] | None = None,
    ) -> FrameRecorder:
        """A recorder as configured in the data client config."""
        return cls(
            config.directory,
            rotate_max_bytes=config.rotate_max_bytes,
            rotate_interval_ns=int(config.rotate_interval_secs * 1e9),
            compression=config.compression,
            queue_max_frames=config.queue_max_frames,
            on_health=on_health,
        )

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
            appended=self._appended,
            dropped=self._dropped,
            written=self._written,
            files_closed=self._files_closed,
            write_errors=self._write_errors,
            queue_depth=len(self._queue),
        )

    # -- ingestion side (hot path) -----------------------------------------------------------

    def append(
        self,
        stream: str,
        payload: bytes | str,
        recv_ns: int,
        seq: int,
        conn_id: str = "",
        kind: FrameKind = FrameKind.WS_IN,
    ) -> bool:
        """Hand a frame to the writer; never blocks. False if dropped (queue full) or stopped."""
        if not self._accepting:
            return False
        queue = self._queue
        if len(queue) >= self._max_frames:
            self._dropped += 1
            if not self._alarm:
                self._alarm = True
                self._emit(
                    FeedHealthStatus.GAP,
                    f"recorder queue full ({self._max_frames} frames): dropping frames",
                )
            return False
        queue.append((seq, recv_ns, kind, conn_id, stream, payload))
        self._appended += 1
        if self._alarm and len(queue) <= self._low_watermark:
            self._alarm = False
            self._emit(
                FeedHealthStatus.OK, f"recorder caught up; {self._dropped} frames dropped in total"
            )
        return True

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
        self._thread = threading.Thread(
            target=self._run, name=f"jarvis-recorder-{self._prefix}", daemon=True
        )
        self._accepting = True
        self._thread.start()

    def stop(self, timeout_secs: float | None = None) -> None:
        """Stop accepting, write what is queued, close and compress the current file."""
        self._accepting = False
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        thread.join(timeout_secs)
        if not thread.is_alive():
            self._thread = None

    # -- writer thread -------------------------------------------------------------------------

    def _run(self) -> None:
        queue = self._queue
        while True:
            try:
                item = queue.popleft()
            except IndexError:
                if self._stopping:
                    break
                self._idle()
                continue
            try:
                self._write_item(item)
            except Exception:
                self._write_errors += 1
                _log.exception("recorder: failed to write a frame")
                self._abandon_file()
        self._close_file()

    def _idle(self) -> None:
        if self._file is not None:
            if self._dirty:
                self._file.flush()
                self._dirty = False
            if self._time_ns() - self._file_first_ns >= self._rotate_interval_ns:
                self._close_file()
        time.sleep(_IDLE_POLL_SECS)

    def _write_item(self, item: tuple[int, int, int, str, str, bytes | str]) -> None:
        """Encode and write one queued frame, rotating as needed (writer thread only)."""
        seq, recv_ns, kind, conn_id, stream, payload = item
        if isinstance(payload, str):
            payload = payload.encode()
        if self._file is not None and recv_ns - self._file_first_ns >= self._rotate_interval_ns:
            self._close_file()
        if self._file is None:
            self._open_file(recv_ns)
        record = encode_record(seq, recv_ns, kind, conn_id, stream, payload)
        assert self._file is not None
        self._file.write(record)
        self._dirty = True
        self._file_bytes += len(record)
        self._written += 1
        if self._file_bytes >= self._rotate_max_bytes:
            self._close_file()

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
            compress_file(path, self._compression)
        except Exception:
            self._write_errors += 1
            _log.exception("recorder: failed to compress %s (left uncompressed)", path)


def compress_file(path: Path, compression: str) -> Path:
    """Compress a closed ``.jrec`` file next to itself and delete the original.

    Written to a temporary name first, so a crash leaves either the raw file or a complete
    compressed one (the reader prefers the compressed one when both exist).
    """
    if compression == "none":
        return path
    suffix = _ZSTD_SUFFIX if compression == "zstd" else _GZIP_SUFFIX
    target = path.with_name(path.name.removesuffix(_RAW_SUFFIX) + suffix)
    tmp = target.with_name(target.name + ".tmp")
    with open(path, "rb") as source:
        if compression == "zstd":
            import pyarrow as pa

            with pa.CompressedOutputStream(pa.OSFile(str(tmp), "wb"), "zstd") as sink:
                while chunk := source.read(_COPY_CHUNK):
                    sink.write(chunk)
        else:
            with gzip.open(tmp, "wb", compresslevel=6) as gz:
                while chunk := source.read(_COPY_CHUNK):
                    gz.write(chunk)
    os.replace(tmp, target)
    path.unlink()
    return target


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


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


def _iter_file(path: Path) -> Iterator[RecordedFrame]:
    stream = _open_for_read(path)
    try:
        while True:
            header = _read_exact(stream, _HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                _log.warning("recording %s: torn record header at the end, skipped", path.name)
                return
            magic, length, crc = _HEADER.unpack(header)
            if magic != _MAGIC or length < _BODY_HEAD.size or length > _MAX_BODY:
                _log.warning("recording %s: corrupt record header, rest of file skipped", path.name)
                return
            body = _read_exact(stream, length)
            if len(body) < length:
                _log.warning(
                    "recording %s: torn last record (%d of %d bytes), skipped",
                    path.name,
                    len(body),
                    length,
                )
                return
            if zlib.crc32(body) != crc:
                _log.warning("recording %s: record with a bad checksum, skipped", path.name)
                continue
            seq, recv_ns, kind, conn_len, stream_len = _BODY_HEAD.unpack_from(body)
            start = _BODY_HEAD.size
            conn_end = start + conn_len
            stream_end = conn_end + stream_len
            yield RecordedFrame(
                seq=seq,
                recv_ns=recv_ns,
                kind=FrameKind(kind),
                conn_id=body[start:conn_end].decode(),
                stream=body[conn_end:stream_end].decode(),
                payload=body[stream_end:],
            )
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def iter_records(path_or_dir: str | Path) -> Iterator[RecordedFrame]:
    """Every readable record of a recording file or directory, in recording order.

    Damaged records are skipped with a warning (see module notes); reading never fails on them.
    """
    for path in recording_files(path_or_dir):
        yield from _iter_file(path)
