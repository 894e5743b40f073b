"""
Fixed binary layout of the shared-memory hot state store.

The layout is the contract between the one writer (the state builder) and readers in other
processes, so it is written down here once and versioned. All offsets are in bytes from the start
of the segment; every word is 8 bytes, native little-endian (x86-64), 8-byte aligned.

Segment::

    +--------------------------------------------------------------------------------------+
    | HEADER (HEADER_SIZE = 128 bytes)                                                     |
    |   0  u64  magic              MAGIC (b"JRVSHOT1" as a little-endian u64)              |
    |   8  u32  version            LAYOUT_VERSION                                          |
    |  12  u32  header_size        HEADER_SIZE                                             |
    |  16  u32  n_instruments                                                              |
    |  20  u32  n_slots            ring slots per instrument (a power of two)              |
    |  24  u32  n_int_fields       len(INT_FIELDS) (seq word included)                     |
    |  28  u32  n_float_fields     len(FLOAT_FIELDS)                                       |
    |  32  u32  slot_words         8-byte words per slot (padded to a 64-byte line)        |
    |  36  u32  fields_crc32       crc32 of the field names (detects a stale reader build) |
    |  40  u64  directory_offset                                                           |
    |  48  u64  data_offset                                                                |
    |  56  u64  instrument_stride  bytes per instrument block                              |
    |  64  i64  created_ns         writer clock when the segment was created               |
    |  72  u32  writer_pid                                                                 |
    |  76  u32  reserved (zero)                                                            |
    |  80  u64  writer_token       random per writer: a replaced writer never unlinks    |
    |                              its successor's segment                               |
    |  88  ...  reserved (zero)                                                            |
    +--------------------------------------------------------------------------------------+
    | DIRECTORY: n_instruments entries of DIRECTORY_ENTRY_SIZE (128) bytes                 |
    |   0  ..120  instrument id, UTF-8, NUL padded                                         |
    +--------------------------------------------------------------------------------------+
    | DATA: n_instruments blocks of instrument_stride bytes, each:                         |
    |   0  i64  head               number of completed writes (0 = never written);        |
    |                              the newest complete slot is head % n_slots              |
    |   8  ...  padding to 64 bytes                                                        |
    |  64  n_slots slots of slot_words words, each slot:                                   |
    |        word 0  i64  seq          seqlock counter: odd while the writer is inside    |
    |        word 1  i64  venue_ts_ns  venue time (ts_event) of the newest input          |
    |        word 2  i64  local_seq    write number k (1, 2, 3, ...) for this instrument   |
    |        word 3  i64  written_ns   writer clock when the slot was written              |
    |        word 4  i64  input_ts_ns  local time (ts_init) of the newest input; age and   |
    |                                  staleness count from here, so periodic refresh     |
    |                                  writes never make a dead feed look alive           |
    |        word 5+ f64  FLOAT_FIELDS in order (NaN = not known / not warmed up)          |
    +--------------------------------------------------------------------------------------+

Change a field => bump LAYOUT_VERSION; readers refuse a segment whose version or field crc differ.
"""

from __future__ import annotations

import zlib
from typing import Final

MAGIC: Final[int] = int.from_bytes(b"JRVSHOT1", "little")
LAYOUT_VERSION: Final[int] = 3
HEADER_SIZE: Final[int] = 128
DIRECTORY_ENTRY_SIZE: Final[int] = 128
INSTRUMENT_ID_MAX_BYTES: Final[int] = 120
CACHE_LINE: Final[int] = 64
WORD: Final[int] = 8
DEFAULT_N_SLOTS: Final[int] = 8

# Header field offsets (bytes).
OFF_MAGIC: Final[int] = 0
OFF_VERSION: Final[int] = 8
OFF_HEADER_SIZE: Final[int] = 12
OFF_N_INSTRUMENTS: Final[int] = 16
OFF_N_SLOTS: Final[int] = 20
OFF_N_INT_FIELDS: Final[int] = 24
OFF_N_FLOAT_FIELDS: Final[int] = 28
OFF_SLOT_WORDS: Final[int] = 32
OFF_FIELDS_CRC: Final[int] = 36
OFF_DIRECTORY: Final[int] = 40
OFF_DATA: Final[int] = 48
OFF_INSTRUMENT_STRIDE: Final[int] = 56
OFF_CREATED_NS: Final[int] = 64
OFF_WRITER_PID: Final[int] = 72
OFF_WRITER_TOKEN: Final[int] = 80

# Integer words at the start of every slot, in order.
INT_FIELDS: Final[tuple[str, ...]] = (
    "seq",
    "venue_ts_ns",
    "local_seq",
    "written_ns",
    "input_ts_ns",
)
SLOT_SEQ: Final[int] = 0
SLOT_VENUE_TS: Final[int] = 1
SLOT_LOCAL_SEQ: Final[int] = 2
SLOT_WRITTEN_NS: Final[int] = 3
SLOT_INPUT_TS: Final[int] = 4

# Float fields of a snapshot, in slot order. Define once; everything else derives from this tuple.
FLOAT_FIELDS: Final[tuple[str, ...]] = (
    # Top of book and venue context
    "mid",
    "spread",
    "best_bid",
    "best_ask",
    "mark",
    "oracle",
    "funding",
    "open_interest",
    # Depth in USD within N bps of mid, per side, and asymmetry (bid - ask) / (bid + ask)
    "bid_depth_usd_10bps",
    "ask_depth_usd_10bps",
    "bid_depth_usd_20bps",
    "ask_depth_usd_20bps",
    "bid_depth_usd_50bps",
    "ask_depth_usd_50bps",
    "depth_asymmetry_10bps",
    "depth_asymmetry_20bps",
    "depth_asymmetry_50bps",
    # Depth thinning: current depth / rolling baseline (1.0 = normal, < 1 = thinner)
    "bid_thinning_ratio",
    "ask_thinning_ratio",
    # Aggressive flow in USD notional (buyer- resp. seller-initiated trades)
    "aggr_buy_usd_1s",
    "aggr_sell_usd_1s",
    "aggr_buy_usd_5s",
    "aggr_sell_usd_5s",
    "aggr_buy_usd_15m",
    "aggr_sell_usd_15m",
    "aggr_buy_usd_1h",
    "aggr_sell_usd_1h",
    # Open interest change over the window, percent
    "oi_change_pct_1s",
    "oi_change_pct_5s",
    "oi_change_pct_15m",
    "oi_change_pct_1h",
    # Funding drift: change of the funding rate over the window (absolute rate units)
    "funding_drift_1s",
    "funding_drift_5s",
    "funding_drift_15m",
    "funding_drift_1h",
    # Rolling mean of depth asymmetry (20 bps)
    "depth_asymmetry_mean_1s",
    "depth_asymmetry_mean_5s",
    "depth_asymmetry_mean_15m",
    "depth_asymmetry_mean_1h",
    # Absorption: aggressive USD that failed to move the mid (+ bought, - sold, 0 none)
    "absorbed_usd",
    # Book refill: seconds the side took to refill after its latest sweep
    "bid_refill_secs",
    "ask_refill_secs",
    # Mid geometry and motion: change in bps against the mid at the window start, the range
    # over 15 min, velocity over 5 s, and the change of the 1 s velocity over 5 s
    "mid_change_bps_1s",
    "mid_change_bps_5s",
    "mid_change_bps_15m",
    "mid_high_15m",
    "mid_low_15m",
    "mid_velocity_bps_s",
    "mid_accel_bps_s2",
    # Wallet tracker (copied from its newest ManipulatorState; NaN until one arrives):
    # 1.0 / 0.0, the side as +1 LONG / -1 SHORT / 0 NONE, the largest manipulator's signed
    # position in USD (the address and behaviours travel in the ManipulatorState event)
    "is_manipulator_active",
    "manipulator_direction",
    "manipulator_position_usd",
)

N_INT_FIELDS: Final[int] = len(INT_FIELDS)
N_FLOAT_FIELDS: Final[int] = len(FLOAT_FIELDS)
FLOAT_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(FLOAT_FIELDS)}
FIELDS_CRC32: Final[int] = zlib.crc32("\n".join(INT_FIELDS + FLOAT_FIELDS).encode())


def slot_words_for(n_float_fields: int) -> int:
    """Words per slot, padded to whole cache lines so adjacent slots never share a line."""
    words = N_INT_FIELDS + n_float_fields
    per_line = CACHE_LINE // WORD
    return -(-words // per_line) * per_line


def instrument_stride_for(n_slots: int, slot_words: int) -> int:
    """Bytes per instrument block: one cache line for the head counter, then the slot ring."""
    return CACHE_LINE + n_slots * slot_words * WORD


def directory_offset() -> int:
    """Directory starts right after the header."""
    return HEADER_SIZE


def data_offset_for(n_instruments: int) -> int:
    """Data starts after the directory, aligned to a cache line."""
    end = HEADER_SIZE + n_instruments * DIRECTORY_ENTRY_SIZE
    return -(-end // CACHE_LINE) * CACHE_LINE


def segment_size_for(n_instruments: int, n_slots: int, n_float_fields: int) -> int:
    """Total segment size in bytes for the given shape."""
    stride = instrument_stride_for(n_slots, slot_words_for(n_float_fields))
    return data_offset_for(n_instruments) + n_instruments * stride


__all__ = [
    "CACHE_LINE",
    "DEFAULT_N_SLOTS",
    "DIRECTORY_ENTRY_SIZE",
    "FIELDS_CRC32",
    "FLOAT_FIELDS",
    "FLOAT_INDEX",
    "HEADER_SIZE",
    "INSTRUMENT_ID_MAX_BYTES",
    "INT_FIELDS",
    "LAYOUT_VERSION",
    "MAGIC",
    "N_FLOAT_FIELDS",
    "N_INT_FIELDS",
    "SLOT_INPUT_TS",
    "SLOT_LOCAL_SEQ",
    "SLOT_SEQ",
    "SLOT_VENUE_TS",
    "SLOT_WRITTEN_NS",
    "WORD",
    "data_offset_for",
    "directory_offset",
    "instrument_stride_for",
    "segment_size_for",
    "slot_words_for",
]
