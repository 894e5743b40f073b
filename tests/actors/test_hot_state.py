"""Hot state store: layout, reads, staleness, and torn-read freedom across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from actors.hot_state import HotStateError
from actors.hot_state import HotStateReader
from actors.hot_state import HotStateWriter
from actors.hot_state_layout import FLOAT_FIELDS
from actors.hot_state_layout import FLOAT_INDEX
from actors.hot_state_layout import N_FLOAT_FIELDS
from actors.hot_state_layout import segment_size_for

REPO_ROOT = Path(__file__).resolve().parents[2]
BTC = "BTC-USD-PERP.HYPERLIQUID"
ETH = "ETH-USD-PERP.HYPERLIQUID"

# Writer process: creates the segment, says "ready", then writes flat out. Write number k carries
# venue_ts_ns = 7 * k, input_ts_ns = 11 * k and field j = k * 1000 + j, so any mix of two writes
# is detectable. Stops when the test writes a line to its stdin.
WRITER_CODE = r"""
import json, select, sys, time
import numpy as np
from actors.hot_state import HotStateWriter
from actors.hot_state_layout import N_FLOAT_FIELDS
name, n_slots = sys.argv[1], int(sys.argv[2])
writer = HotStateWriter(name, ["BTC-USD-PERP.HYPERLIQUID"], n_slots=n_slots)
offsets = np.arange(N_FLOAT_FIELDS, dtype=np.float64)
values = np.empty(N_FLOAT_FIELDS, dtype=np.float64)
print("ready", flush=True)
k = 0
t0 = time.perf_counter()
while True:
    k += 1
    np.add(offsets, k * 1000.0, out=values)
    writer.write(0, values, 7 * k, 11 * k, time.time_ns())
    if k & 4095 == 0 and select.select([sys.stdin], [], [], 0)[0]:
        break
elapsed = time.perf_counter() - t0
writer.close()
print(json.dumps({"writes": k, "rate_per_s": k / elapsed}), flush=True)
"""

# Reader process: reads as fast as it can and checks every snapshot, for at least `duration`
# seconds and until it has seen 300 different writes (at most 20 s: the machine is shared,
# so a reader may get little CPU time while the writer runs).
READER_CODE = r"""
import json, sys, time
import numpy as np
from actors.hot_state import HotStateReader
from actors.hot_state_layout import N_FLOAT_FIELDS
name, duration = sys.argv[1], float(sys.argv[2])
reader = HotStateReader(name)
snap = reader.new_snapshot()
offsets = np.arange(N_FLOAT_FIELDS, dtype=np.float64)
reads = misses = violations = distinct = 0
last_seq = 0
first_bad = None
start = time.perf_counter()
while True:
    elapsed = time.perf_counter() - start
    if elapsed > 20.0 or (elapsed > duration and distinct >= 300):
        break
    got = reader.read(0, snap, 0)
    if got is None:
        misses += 1
        continue
    reads += 1
    k = got.local_seq
    ok = (
        k >= last_seq
        and int(got.words[0]) % 2 == 0
        and got.venue_ts_ns == 7 * k
        and got.input_ts_ns == 11 * k
        and np.array_equal(got.values, offsets + k * 1000.0)
    )
    if not ok:
        violations += 1
        if first_bad is None:
            first_bad = {"k": k, "last": last_seq, "venue": got.venue_ts_ns,
                         "v0": float(got.values[0]), "v_last": float(got.values[-1])}
    if k != last_seq:
        distinct += 1
    last_seq = max(last_seq, k)
reader.close()
print(json.dumps({"reads": reads, "misses": misses, "violations": violations,
                  "distinct": distinct, "first_bad": first_bad}), flush=True)
"""


def _python(code: str, *args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO_ROOT,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def segment_name() -> str:
    return f"jarvis_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def writer(segment_name: str) -> Iterator[HotStateWriter]:
    w = HotStateWriter(segment_name, [BTC, ETH], created_ns=1)
    yield w
    w.close()


def _values(**fields: float) -> np.ndarray:
    out = np.full(N_FLOAT_FIELDS, np.nan)
    for name, value in fields.items():
        out[FLOAT_INDEX[name]] = value
    return out


def test_segment_size_follows_documented_layout() -> None:
    # header 128 + directory 2 * 128 (already line aligned) + 2 blocks of (64 + 8 slots * words)
    words = -(-(5 + N_FLOAT_FIELDS) // 8) * 8
    expected = 128 + 2 * 128 + 2 * (64 + 8 * words * 8)

    assert segment_size_for(2, 8, N_FLOAT_FIELDS) == expected


def test_reader_sees_instrument_directory_and_nothing_before_first_write(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    with HotStateReader(segment_name) as reader:
        snap = reader.new_snapshot()

        assert reader.instrument_ids == (BTC, ETH)
        assert reader.index_of(ETH) == 1
        assert reader.read(0, snap) is None
        assert reader.is_stale(BTC, max_age_ns=10**12, now_ns=0)


def test_read_returns_newest_write_with_venue_time_sequence_and_age(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    with HotStateReader(segment_name) as reader:
        snap = reader.new_snapshot()
        writer.write(1, _values(mid=100.0, spread=0.5), 10, input_ts_ns=900, written_ns=1_000)
        writer.write(1, _values(mid=101.0, funding=0.0001), 20, input_ts_ns=1_900, written_ns=2_000)

        got = reader.read_by_id(ETH, snap, now_ns=2_500)

        assert got is snap
        assert (got.local_seq, got.venue_ts_ns, got.input_ts_ns, got.written_ns) == (
            2,
            20,
            1_900,
            2_000,
        )
        assert got.age_ns == 600  # counted from the input, not the write
        assert got["mid"] == 101.0
        assert got.get("funding") == 0.0001
        assert got.get("spread") is None  # NaN in the store: unknown in the newest write
        assert reader.read(0, snap) is None  # the other instrument was never written


def test_ring_wraps_and_reader_still_gets_newest(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    with HotStateReader(segment_name) as reader:
        snap = reader.new_snapshot()
        for k in range(1, 20):  # more than 8 slots: wraps twice
            writer.write(0, _values(mid=float(k)), venue_ts_ns=k, input_ts_ns=k, written_ns=k)

        got = reader.read(0, snap, now_ns=19)

        assert got is not None
        assert (got.local_seq, got["mid"], got.age_ns) == (19, 19.0, 0)


def test_is_stale_compares_age_with_limit(writer: HotStateWriter, segment_name: str) -> None:
    with HotStateReader(segment_name) as reader:
        writer.write(
            0, _values(mid=1.0), venue_ts_ns=5, input_ts_ns=1_000_000, written_ns=1_000_000
        )

        assert not reader.is_stale(BTC, max_age_ns=500_000, now_ns=1_500_000)
        assert reader.is_stale(BTC, max_age_ns=499_999, now_ns=1_500_000)
        assert reader.is_stale(ETH, max_age_ns=500_000, now_ns=1_500_000)


def test_refresh_writes_without_new_input_do_not_reset_staleness(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    with HotStateReader(segment_name) as reader:
        writer.write(0, _values(mid=1.0), venue_ts_ns=5, input_ts_ns=1_000, written_ns=1_000)
        # The builder's refresh timer rewrites decayed windows later, with no new input.
        writer.write(0, _values(mid=1.0), venue_ts_ns=5, input_ts_ns=1_000, written_ns=9_000)

        assert reader.is_stale(BTC, max_age_ns=5_000, now_ns=9_500)
        assert not reader.is_stale(BTC, max_age_ns=9_000, now_ns=9_500)


def test_to_dict_names_every_field(writer: HotStateWriter, segment_name: str) -> None:
    with HotStateReader(segment_name) as reader:
        writer.write(0, _values(mid=3.0), venue_ts_ns=5, input_ts_ns=6, written_ns=7)
        got = reader.read(0, reader.new_snapshot(), now_ns=9)
        assert got is not None

        as_dict = got.to_dict()

        assert list(as_dict)[:5] == [
            "venue_ts_ns",
            "local_seq",
            "written_ns",
            "input_ts_ns",
            "age_ns",
        ]
        assert list(as_dict)[5:] == list(FLOAT_FIELDS)
        assert as_dict["age_ns"] == 3
        assert as_dict["mid"] == 3.0
        assert as_dict["mark"] is None


def test_second_writer_with_same_name_is_refused_unless_replacing(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    with pytest.raises(HotStateError, match="already exists"):
        HotStateWriter(segment_name, [BTC])

    replacement = HotStateWriter(segment_name, [ETH], replace_existing=True)
    try:
        writer.close()  # the replaced writer shuts down: it must not unlink its successor
        with HotStateReader(segment_name) as reader:
            assert reader.instrument_ids == (ETH,)
    finally:
        replacement.close()


def test_reader_of_missing_or_foreign_segment_fails_loudly(segment_name: str) -> None:
    with pytest.raises(HotStateError, match="does not exist"):
        HotStateReader(segment_name)

    from multiprocessing import shared_memory

    foreign = shared_memory.SharedMemory(name=segment_name, create=True, size=4096)
    try:
        with pytest.raises(HotStateError, match="bad magic"):
            HotStateReader(segment_name)
    finally:
        foreign.close()
        foreign.unlink()


def test_writer_rejects_bad_shapes(segment_name: str) -> None:
    with pytest.raises(HotStateError, match="power of two"):
        HotStateWriter(segment_name, [BTC], n_slots=6)
    with pytest.raises(HotStateError, match="duplicate"):
        HotStateWriter(segment_name, [BTC, BTC])
    with pytest.raises(HotStateError, match="at least one"):
        HotStateWriter(segment_name, [])


def test_reader_exiting_in_another_process_does_not_unlink_the_segment(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    # Python 3.12's resource_tracker unlinks segments a process attached through SharedMemory
    # when that process exits; our reader must not register, or readers would delete live state.
    writer.write(0, _values(mid=42.0), venue_ts_ns=1, input_ts_ns=1, written_ns=1)
    code = (
        "import sys\nfrom actors.hot_state import HotStateReader\n"
        "r = HotStateReader(sys.argv[1]); s = r.read(0, r.new_snapshot(), 1)\n"
        "print(s['mid']); r.close()\n"
    )
    child = _python(code, segment_name)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == "42.0"
    assert "leaked" not in err

    with HotStateReader(segment_name) as reader:
        got = reader.read(0, reader.new_snapshot(), now_ns=1)
        assert got is not None
        assert got["mid"] == 42.0


@pytest.mark.parametrize("n_slots", [8, 1], ids=["ring_of_8", "single_slot_max_contention"])
def test_readers_in_other_processes_never_see_a_torn_snapshot(
    segment_name: str,
    n_slots: int,
) -> None:
    # The single-slot case makes the writer overwrite the very slot readers copy, all the time:
    # without the seqlock check it yields torn reads within milliseconds.
    writer = _python(WRITER_CODE, segment_name, str(n_slots), stdin=subprocess.PIPE)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        readers = [_python(READER_CODE, segment_name, "2.0") for _ in range(2)]
        results = []
        for reader in readers:
            out, err = reader.communicate(timeout=120)
            assert reader.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        w_out, w_err = writer.communicate("stop\n", timeout=60)
        assert writer.returncode == 0, w_err
        writer_stats = json.loads(w_out.strip().splitlines()[-1])
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    assert writer_stats["writes"] > 100_000, writer_stats
    for stats in results:
        assert stats["violations"] == 0, stats
        assert stats["reads"] > 1_000, stats
        # The reader raced a moving writer, not a finished one.
        assert stats["distinct"] >= 300, stats


def test_a_read_never_returns_a_write_newer_than_the_head_it_loaded(
    writer: HotStateWriter,
    segment_name: str,
) -> None:
    # The interleaving CI hit under load (2,462 out-of-order reads in one run), set up by hand:
    # a reader loads head = 1 and is descheduled; the writer laps the 8-slot ring, so slot 1
    # now holds write 9, and is itself descheduled after completing write 9 but before
    # publishing head = 9. Returning slot 1's write 9 there, and then the published head's
    # write 8, would take the reader back in time.
    for k in range(1, 10):
        writer.write(0, _values(mid=float(k)), venue_ts_ns=k, input_ts_ns=k, written_ns=k)
    head_word = writer._geo.head_words[0]
    with HotStateReader(segment_name, max_attempts=4) as reader:
        snap = reader.new_snapshot()
        writer._q[head_word] = 1  # the head the descheduled reader loaded
        assert reader.read(0, snap, now_ns=9) is None  # slot 1 holds write 9, not write 1
        writer._q[head_word] = 8  # write 9 complete, its head not yet published
        got = reader.read(0, snap, now_ns=9)
        assert got is not None
        assert (got.local_seq, got["mid"]) == (8, 8.0)
        writer._q[head_word] = 9
        got = reader.read(0, snap, now_ns=9)
        assert got is not None
        assert (got.local_seq, got["mid"]) == (9, 9.0)
