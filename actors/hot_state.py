"""
Shared-memory hot state store: one writer, any number of lock-free readers in other processes.

Strategies in other processes need the newest market state in microseconds, without a socket
round trip and without ever seeing half of an update. The layout is fixed and documented in
``actors/hot_state_layout.py``.

Protocol (a seqlock per slot, over a small ring of slots per instrument)
-----------------------------------------------------------------------
Writer, for write number ``k`` of an instrument (slot ``k % n_slots``):

1. ``seq += 1``  (odd: the slot is being written)
2. store venue_ts_ns, local_seq = k, written_ns, input_ts_ns and the float fields
3. ``seq += 1``  (even again: the slot is complete)
4. ``head = k``  (publishes the slot as the newest complete one)

Reader: load ``head``; pick its slot; load ``seq`` (retry if odd); copy the slot into a
preallocated buffer; load ``seq`` again; accept the copy only if both loads are equal and it holds
write ``head`` (not a later write that lapped the ring into that slot: returning that one could
make the next read, of a head not yet published past it, go back in time). A single
slot would starve readers under a flat-out writer (the slot is almost always odd or changes during
the copy); with a ring the writer is busy with slot ``k + 1`` while readers copy slot ``k``, so a
reader retries only if the writer laps the whole ring during one copy.

Memory ordering: Python has no memory fences. The protocol relies on x86-64's TSO ordering: stores
become visible to other cores in program order (step 1 before 2 before 3 before 4) and loads are not
reordered with older loads (the reader's seq / copy / seq). Each step is a separate C call (aligned
8-byte stores are single instructions; the slot copy is a small memcpy without non-temporal stores),
so neither CPython nor the C compiler reorders them across steps. On a weakly ordered CPU (ARM) this
would need explicit fences; the store refuses to start on other architectures.

Python's ``resource_tracker`` unlinks every segment a process opened through ``SharedMemory`` when
that process exits (3.12 has no ``track=False``), which would delete the writer's segment when a
reader exits. Readers therefore map the segment read-only straight through ``shm_open`` + ``mmap``
and never register with the tracker; only the writer registers (so a crashed writer's segment is
cleaned up) and unlinks on close.
"""

from __future__ import annotations

import mmap
import os
import platform
import struct
import time
from collections.abc import Sequence
from multiprocessing import shared_memory
from typing import Final

import numpy as np
import numpy.typing as npt

from actors.hot_state_layout import CACHE_LINE
from actors.hot_state_layout import DEFAULT_N_SLOTS
from actors.hot_state_layout import DIRECTORY_ENTRY_SIZE
from actors.hot_state_layout import FIELDS_CRC32
from actors.hot_state_layout import FLOAT_FIELDS
from actors.hot_state_layout import FLOAT_INDEX
from actors.hot_state_layout import HEADER_SIZE
from actors.hot_state_layout import INSTRUMENT_ID_MAX_BYTES
from actors.hot_state_layout import LAYOUT_VERSION
from actors.hot_state_layout import MAGIC
from actors.hot_state_layout import N_FLOAT_FIELDS
from actors.hot_state_layout import N_INT_FIELDS
from actors.hot_state_layout import OFF_WRITER_TOKEN
from actors.hot_state_layout import SLOT_INPUT_TS
from actors.hot_state_layout import SLOT_LOCAL_SEQ
from actors.hot_state_layout import SLOT_VENUE_TS
from actors.hot_state_layout import SLOT_WRITTEN_NS
from actors.hot_state_layout import WORD
from actors.hot_state_layout import data_offset_for
from actors.hot_state_layout import directory_offset
from actors.hot_state_layout import instrument_stride_for
from actors.hot_state_layout import segment_size_for
from actors.hot_state_layout import slot_words_for

# magic, version, header_size, n_instruments, n_slots, n_int_fields, n_float_fields, slot_words,
# fields_crc32, directory_offset, data_offset, instrument_stride, created_ns, writer_pid,
# reserved, writer_token
_HEADER_STRUCT: Final[struct.Struct] = struct.Struct("<QIIIIIIIIQQQqIIQ")
_DEFAULT_MAX_ATTEMPTS: Final[int] = 256
_TSO_MACHINES: Final[frozenset[str]] = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})


class HotStateError(RuntimeError):
    """Raised when a segment cannot be created or does not match this build's layout."""


def _check_memory_model() -> None:
    # The seqlock below is only correct under total store order (see module docstring).
    if platform.machine().lower() not in _TSO_MACHINES:
        raise HotStateError(
            f"hot state seqlock needs x86-64 store ordering, got {platform.machine()!r}",
        )


def _map_readonly(name: str) -> mmap.mmap:
    """Map a segment read-only without registering it with the resource tracker."""
    # Deliberately not SharedMemory(create=False): that registers the segment with this
    # process's resource_tracker, which would unlink the writer's segment when we exit.
    import _posixshmem  # type: ignore[import-not-found]  # CPython's POSIX shm binding

    path = "/" + name if not name.startswith("/") else name
    try:
        fd = _posixshmem.shm_open(path, os.O_RDONLY, mode=0)
    except FileNotFoundError:
        raise HotStateError(f"hot state segment {name!r} does not exist") from None
    try:
        size = os.fstat(fd).st_size
        if size < HEADER_SIZE:
            raise HotStateError(f"hot state segment {name!r} is too small ({size} bytes)")
        return mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
    finally:
        os.close(fd)


class HotSnapshot:
    """
    One consistent copy of an instrument's slot, reused across reads (preallocated once).

    Reads copy into ``words``; ``values`` is a float64 view of the field part of that buffer,
    in ``FLOAT_FIELDS`` order (NaN = unknown or not warmed up).
    """

    __slots__ = ("instrument_index", "read_ns", "values", "words")

    def __init__(self, slot_words: int) -> None:
        self.words: npt.NDArray[np.int64] = np.zeros(slot_words, dtype=np.int64)
        floats = self.words.view(np.float64)
        self.values: npt.NDArray[np.float64] = floats[N_INT_FIELDS : N_INT_FIELDS + N_FLOAT_FIELDS]
        self.read_ns: int = 0
        self.instrument_index: int = -1

    @property
    def venue_ts_ns(self) -> int:
        """Venue time (ts_event) of the newest input folded into this snapshot."""
        return int(self.words[SLOT_VENUE_TS])

    @property
    def local_seq(self) -> int:
        """Write number of this snapshot for its instrument (1, 2, 3, ...)."""
        return int(self.words[SLOT_LOCAL_SEQ])

    @property
    def written_ns(self) -> int:
        """Writer clock when the snapshot was written."""
        return int(self.words[SLOT_WRITTEN_NS])

    @property
    def input_ts_ns(self) -> int:
        """Local time (ts_init) of the newest input folded into this snapshot."""
        return int(self.words[SLOT_INPUT_TS])

    @property
    def age_ns(self) -> int:
        """
        Age of the data at read time: reader's now minus ``input_ts_ns``.

        Counted from the newest *input*, not from the write, so the builder's periodic refresh
        writes (which decay rolling windows) never make a dead feed look fresh.
        """
        return self.read_ns - int(self.words[SLOT_INPUT_TS])

    def __getitem__(self, name: str) -> float:
        """Field by name as a float (NaN when unknown)."""
        return float(self.values[FLOAT_INDEX[name]])

    def get(self, name: str) -> float | None:
        """Field by name, ``None`` when unknown (NaN in the store)."""
        value = float(self.values[FLOAT_INDEX[name]])
        return None if value != value else value

    def to_dict(self) -> dict[str, float | int | None]:
        """All fields as a dict (allocates: for logging and tests, not for hot paths)."""
        out: dict[str, float | int | None] = {
            "venue_ts_ns": self.venue_ts_ns,
            "local_seq": self.local_seq,
            "written_ns": self.written_ns,
            "input_ts_ns": self.input_ts_ns,
            "age_ns": self.age_ns,
        }
        for name in FLOAT_FIELDS:
            out[name] = self.get(name)
        return out


class _Geometry:
    """Word offsets derived once from a header, shared by writer and reader."""

    __slots__ = (
        "head_words",
        "instrument_ids",
        "mask",
        "n_slots",
        "size",
        "slot_base_words",
        "slot_words",
    )

    def __init__(
        self,
        instrument_ids: tuple[str, ...],
        n_slots: int,
        slot_words: int,
        data_offset: int,
        stride: int,
        size: int,
    ) -> None:
        self.instrument_ids = instrument_ids
        self.n_slots = n_slots
        self.mask = n_slots - 1
        self.slot_words = slot_words
        self.size = size
        self.head_words: list[int] = []
        self.slot_base_words: list[list[int]] = []
        for i in range(len(instrument_ids)):
            block = data_offset + i * stride
            self.head_words.append(block // WORD)
            first = (block + CACHE_LINE) // WORD
            self.slot_base_words.append([first + s * slot_words for s in range(n_slots)])


class HotStateWriter:
    """
    The single writer of a hot state segment (the state builder owns it).

    Creates the named segment with the documented layout and writes snapshots through the
    seqlock. Exactly one writer may write a given instrument; nothing here enforces that across
    processes, so give every builder its own segment name or its own instruments.
    """

    def __init__(
        self,
        name: str,
        instrument_ids: Sequence[str],
        n_slots: int = DEFAULT_N_SLOTS,
        created_ns: int = 0,
        replace_existing: bool = False,
    ) -> None:
        _check_memory_model()
        ids = tuple(instrument_ids)
        if not ids:
            raise HotStateError("hot state segment needs at least one instrument")
        if len(set(ids)) != len(ids):
            raise HotStateError(f"duplicate instrument ids in {ids}")
        if n_slots < 1 or n_slots & (n_slots - 1):
            raise HotStateError(f"n_slots must be a power of two, got {n_slots}")
        encoded = [i.encode() for i in ids]
        for raw in encoded:
            if len(raw) > INSTRUMENT_ID_MAX_BYTES:
                raise HotStateError(f"instrument id longer than {INSTRUMENT_ID_MAX_BYTES} bytes")

        slot_words = slot_words_for(N_FLOAT_FIELDS)
        stride = instrument_stride_for(n_slots, slot_words)
        data_off = data_offset_for(len(ids))
        size = segment_size_for(len(ids), n_slots, N_FLOAT_FIELDS)
        self._token = int.from_bytes(os.urandom(8), "little")
        self._shm = self._create(name, size, replace_existing)
        self.name = name
        buf = self._shm.buf
        if buf is None:  # typeshed: None only after close()
            raise HotStateError(f"hot state segment {name!r} has no buffer")
        _HEADER_STRUCT.pack_into(
            buf,
            0,
            MAGIC,
            LAYOUT_VERSION,
            HEADER_SIZE,
            len(ids),
            n_slots,
            N_INT_FIELDS,
            N_FLOAT_FIELDS,
            slot_words,
            FIELDS_CRC32,
            directory_offset(),
            data_off,
            stride,
            created_ns,
            os.getpid(),
            0,
            self._token,
        )
        for i, raw in enumerate(encoded):
            start = directory_offset() + i * DIRECTORY_ENTRY_SIZE
            buf[start : start + len(raw)] = raw

        self._geo = _Geometry(ids, n_slots, slot_words, data_off, stride, size)
        self._index = {iid: i for i, iid in enumerate(ids)}
        self._q: memoryview = buf[:size].cast("q")
        floats = np.ndarray((size // WORD,), dtype=np.float64, buffer=buf)
        # One float64 view per (instrument, slot) over the field words: built once, so a write
        # is a handful of 8-byte stores plus one small memcpy.
        self._field_views: list[list[npt.NDArray[np.float64]]] = [
            [
                floats[base + N_INT_FIELDS : base + N_INT_FIELDS + N_FLOAT_FIELDS]
                for base in self._geo.slot_base_words[i]
            ]
            for i in range(len(ids))
        ]
        self._heads: list[int] = [0] * len(ids)
        self._closed = False

    @staticmethod
    def _create(name: str, size: int, replace_existing: bool) -> shared_memory.SharedMemory:
        try:
            return shared_memory.SharedMemory(name=name, create=True, size=size)
        except FileExistsError:
            if not replace_existing:
                raise HotStateError(
                    f"hot state segment {name!r} already exists (another writer, or a crashed "
                    "one: pass replace_existing=True to take it over)",
                ) from None
        stale = shared_memory.SharedMemory(name=name, create=False)
        stale.close()
        stale.unlink()
        return shared_memory.SharedMemory(name=name, create=True, size=size)

    @property
    def instrument_ids(self) -> tuple[str, ...]:
        """Instrument ids in directory order."""
        return self._geo.instrument_ids

    @property
    def n_slots(self) -> int:
        """Ring slots per instrument."""
        return self._geo.n_slots

    def index_of(self, instrument_id: str) -> int:
        """Directory index of an instrument (look it up once, then write by index)."""
        return self._index[instrument_id]

    def write(
        self,
        index: int,
        values: npt.NDArray[np.float64],
        venue_ts_ns: int,
        input_ts_ns: int,
        written_ns: int,
    ) -> int:
        """
        Publish one snapshot for instrument ``index``; returns its local_seq.

        ``values`` holds the float fields in ``FLOAT_FIELDS`` order (NaN for unknown);
        ``input_ts_ns`` is the ts_init of the newest input (staleness counts from it) and
        ``written_ns`` the writer's clock now.
        """
        k = self._heads[index] + 1
        self._heads[index] = k
        slot = k & self._geo.mask
        w = self._geo.slot_base_words[index][slot]
        q = self._q
        # Program order is visibility order on x86 (TSO): odd seq, payload, even seq, head.
        seq = q[w]
        q[w] = seq + 1
        q[w + SLOT_VENUE_TS] = venue_ts_ns
        q[w + SLOT_LOCAL_SEQ] = k
        q[w + SLOT_WRITTEN_NS] = written_ns
        q[w + SLOT_INPUT_TS] = input_ts_ns
        self._field_views[index][slot][:] = values
        q[w] = seq + 2
        q[self._geo.head_words[index]] = k
        return k

    def close(self, unlink: bool = True) -> None:
        """Release the mapping and (by default) remove the segment name."""
        if self._closed:
            return
        self._closed = True
        self._field_views = []
        self._q.release()
        self._shm.close()
        if unlink and self._name_still_ours():
            self._shm.unlink()

    def _name_still_ours(self) -> bool:
        # A writer that was replaced (replace_existing=True elsewhere) must not unlink the
        # successor's segment that now carries the name.
        try:
            mm = _map_readonly(self.name)
        except HotStateError:
            return False
        try:
            token: int = struct.unpack_from("<Q", mm, OFF_WRITER_TOKEN)[0]
        finally:
            mm.close()
        return token == self._token

    def __enter__(self) -> HotStateWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HotStateReader:
    """
    A reader attached by name from any process: lock-free, never blocks, never unlinks.

    ``read`` copies the newest complete slot into a caller-owned ``HotSnapshot`` (make one with
    ``new_snapshot()`` and reuse it), so a read allocates nothing beyond that snapshot.
    """

    def __init__(self, name: str, max_attempts: int = _DEFAULT_MAX_ATTEMPTS) -> None:
        _check_memory_model()
        self.name = name
        self._max_attempts = max_attempts
        self._mmap = _map_readonly(name)
        try:
            self._geo = self._parse_header(self._mmap, name)
        except BaseException:
            self._mmap.close()
            raise
        geo = self._geo
        self._index = {iid: i for i, iid in enumerate(geo.instrument_ids)}
        self._q: memoryview = memoryview(self._mmap)[: geo.size].cast("q")
        words = np.ndarray((geo.size // WORD,), dtype=np.int64, buffer=self._mmap)
        self._slot_views: list[list[npt.NDArray[np.int64]]] = [
            [words[base : base + geo.slot_words] for base in geo.slot_base_words[i]]
            for i in range(len(geo.instrument_ids))
        ]
        self._scratch = HotSnapshot(geo.slot_words)
        self._closed = False

    @staticmethod
    def _parse_header(mm: mmap.mmap, name: str) -> _Geometry:
        (
            magic,
            version,
            header_size,
            n_instruments,
            n_slots,
            n_int,
            n_float,
            slot_words,
            crc,
            dir_off,
            data_off,
            stride,
            _created_ns,
            _pid,
            _reserved,
            _token,
        ) = _HEADER_STRUCT.unpack_from(mm, 0)
        if magic != MAGIC:
            raise HotStateError(f"{name!r} is not a hot state segment (bad magic)")
        if (version, header_size, n_int, n_float, crc) != (
            LAYOUT_VERSION,
            HEADER_SIZE,
            N_INT_FIELDS,
            N_FLOAT_FIELDS,
            FIELDS_CRC32,
        ):
            raise HotStateError(
                f"hot state segment {name!r} has layout version {version} / fields crc {crc:#x}, "
                f"this build expects {LAYOUT_VERSION} / {FIELDS_CRC32:#x}",
            )
        size = data_off + n_instruments * stride
        if size > len(mm) or slot_words != slot_words_for(n_float):
            raise HotStateError(f"hot state segment {name!r} has an inconsistent header")
        ids: list[str] = []
        for i in range(n_instruments):
            start = dir_off + i * DIRECTORY_ENTRY_SIZE
            raw = mm[start : start + INSTRUMENT_ID_MAX_BYTES]
            ids.append(raw.rstrip(b"\x00").decode())
        return _Geometry(tuple(ids), n_slots, slot_words, data_off, stride, size)

    @property
    def instrument_ids(self) -> tuple[str, ...]:
        """Instrument ids in directory order."""
        return self._geo.instrument_ids

    def index_of(self, instrument_id: str) -> int:
        """Directory index of an instrument (look it up once, then read by index)."""
        return self._index[instrument_id]

    def new_snapshot(self) -> HotSnapshot:
        """A preallocated snapshot buffer to pass to ``read`` again and again."""
        return HotSnapshot(self._geo.slot_words)

    def read(self, index: int, out: HotSnapshot, now_ns: int | None = None) -> HotSnapshot | None:
        """
        Copy the newest complete snapshot of instrument ``index`` into ``out``.

        Returns ``out``, or ``None`` if the instrument was never written or the writer kept
        lapping the ring for ``max_attempts`` tries (then ``out`` holds garbage: do not use it).
        ``now_ns`` (default: ``time.time_ns()``, the live node's clock) sets ``out.age_ns``;
        in a backtest pass the simulated time.
        """
        q = self._q
        head_word = self._geo.head_words[index]
        bases = self._geo.slot_base_words[index]
        views = self._slot_views[index]
        mask = self._geo.mask
        dst = out.words
        for _ in range(self._max_attempts):
            k = q[head_word]
            if k == 0:
                return None
            slot = k & mask
            w = bases[slot]
            seq = q[w]
            if seq & 1:
                continue
            dst[:] = views[slot]
            # Consistent (seq unchanged) AND the write the head named: a slot the writer has
            # since rewritten for write k + n_slots is retried, not returned, or a read could
            # return a write newer than the head the next read sees, and go back in time.
            if q[w] == seq and dst[SLOT_LOCAL_SEQ] == k:
                out.read_ns = time.time_ns() if now_ns is None else now_ns
                out.instrument_index = index
                return out
        return None

    def read_by_id(
        self,
        instrument_id: str,
        out: HotSnapshot,
        now_ns: int | None = None,
    ) -> HotSnapshot | None:
        """``read`` by instrument id (one dict lookup more)."""
        return self.read(self._index[instrument_id], out, now_ns)

    def is_stale(self, instrument: int | str, max_age_ns: int, now_ns: int | None = None) -> bool:
        """
        True when there is no consistent snapshot or its data is older than ``max_age_ns``.

        Strategies call this before trading so they refuse to act on stale state (fail closed).
        """
        index = self._index[instrument] if isinstance(instrument, str) else instrument
        snap = self.read(index, self._scratch, now_ns)
        return snap is None or snap.age_ns > max_age_ns

    def close(self) -> None:
        """Drop the mapping (never unlinks: the writer owns the segment)."""
        if self._closed:
            return
        self._closed = True
        self._slot_views = []
        self._q.release()
        self._mmap.close()

    def __enter__(self) -> HotStateReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "HotSnapshot",
    "HotStateError",
    "HotStateReader",
    "HotStateWriter",
]
