"""Raw frame recorder: round trip, rotation, compression, torn blocks, back-pressure, old files."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import msgspec
import pytest

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.recorder import RECORDER_STREAM
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import encode_block
from adapters.hyperliquid.recorder import encode_record
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.recorder import last_recorded_seq
from adapters.hyperliquid.recorder import recording_files
from adapters.hyperliquid.recording_compression import ChildCompressor
from jarvis.testkit import CapturingLogger

L2_FRAME = (
    b'{"channel":"l2Book","data":{"coin":"BTC","time":1791278882097,"levels":[[{"px":"85821.0",'
    b'"sz":"0.96592","n":4}],[{"px":"85822.0","sz":"26.98831","n":71}]]}}'
)
SEC = 1_000_000_000


def record_all(recorder: FrameRecorder, count: int, start_ns: int = SEC, step_ns: int = 1) -> None:
    """Append `count` frames with seq 0.. and increasing receive times, then stop."""
    recorder.start()
    for seq in range(count):
        assert recorder.append("l2Book:BTC", L2_FRAME, start_ns + seq * step_ns, seq, "ws-1")
    recorder.stop()


def test_round_trip_keeps_every_field_in_order(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, compression="none")
    recorder.start()
    recorder.append("l2Book:BTC", L2_FRAME, 10, 1, "ws-1")
    recorder.append("trades:BTC", '{"channel":"trades","data":[]}', 11, 2, "ws-1")
    recorder.append("info:meta", b'{"universe":[]}', 12, 3, "http", FrameKind.REST)
    recorder.append("ws-1", b'{"method":"ping"}', 13, 4, "ws-1", FrameKind.WS_OUT)
    recorder.stop()

    records = list(iter_records(tmp_path))

    assert [(r.seq, r.recv_ns, r.kind, r.conn_id, r.stream) for r in records] == [
        (1, 10, FrameKind.WS_IN, "ws-1", "l2Book:BTC"),
        (2, 11, FrameKind.WS_IN, "ws-1", "trades:BTC"),
        (3, 12, FrameKind.REST, "http", "info:meta"),
        (4, 13, FrameKind.WS_OUT, "ws-1", "ws-1"),
    ]
    assert records[0].payload == L2_FRAME
    assert records[1].payload == b'{"channel":"trades","data":[]}'
    assert recorder.stats().written == 4


def test_control_records_are_read_back_in_order_with_the_frames(tmp_path: Path) -> None:
    control = b'{"coin":"BTC","enable":["open_interest"]}'
    recorder = FrameRecorder(tmp_path, compression="none")
    recorder.start()
    recorder.append("l2Book:BTC", L2_FRAME, 10, 1, "ws-1")
    recorder.append("outputs:BTC", control, 11, 2, "control", FrameKind.CONTROL)
    recorder.append("l2Book:BTC", L2_FRAME, 12, 3, "ws-1")
    recorder.stop()

    records = list(iter_records(tmp_path))

    assert [(r.seq, r.kind, r.stream) for r in records] == [
        (1, FrameKind.WS_IN, "l2Book:BTC"),
        (2, FrameKind.CONTROL, "outputs:BTC"),
        (3, FrameKind.WS_IN, "l2Book:BTC"),
    ]
    assert records[1].payload == control


def test_rotation_by_size_splits_files_and_reads_back_in_order(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, rotate_max_bytes=1000, compression="none")

    record_all(recorder, 20)

    files = recording_files(tmp_path)
    assert len(files) >= 4
    assert all(f.stat().st_size < 1000 + 300 for f in files)
    assert [r.seq for r in iter_records(tmp_path)] == list(range(20))


def test_rotation_by_receive_time(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, rotate_interval_ns=10 * SEC, compression="none")

    record_all(recorder, 25, start_ns=SEC, step_ns=SEC)

    files = recording_files(tmp_path)
    assert len(files) == 3
    per_file = [[r.seq for r in iter_records(f)] for f in files]
    assert per_file == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


@pytest.mark.parametrize(("compression", "suffix"), [("zstd", ".jrec.zst"), ("gzip", ".jrec.gz")])
def test_closed_files_are_compressed(tmp_path: Path, compression: str, suffix: str) -> None:
    recorder = FrameRecorder(tmp_path, rotate_max_bytes=2000, compression=compression)

    record_all(recorder, 30)

    files = sorted(tmp_path.iterdir())
    assert len(files) >= 2
    assert all(f.name.endswith(suffix) for f in files)
    assert [r.seq for r in iter_records(tmp_path)] == list(range(30))
    if compression == "gzip":
        assert gzip.decompress(files[0].read_bytes())[:4] == b"JRB2"
    else:
        assert files[0].read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd frame magic


def test_torn_last_block_is_skipped_with_a_warning(
    tmp_path: Path,
) -> None:
    log = CapturingLogger()
    record_all(FrameRecorder(tmp_path, compression="none", block_max_frames=1), 5)
    (path,) = recording_files(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # crash in the middle of the last block

    records = list(iter_records(tmp_path, log))

    assert [r.seq for r in records] == [0, 1, 2, 3]
    assert "torn last block" in log.text


def test_outside_any_node_a_damaged_recording_is_still_reported_on_stderr(
    tmp_path: Path,
) -> None:
    record_all(FrameRecorder(tmp_path, compression="none", block_max_frames=1), 3)
    (path,) = recording_files(tmp_path)
    path.write_bytes(path.read_bytes()[:-40])
    # A fresh interpreter: no NautilusTrader logging runs there (a script reading a recording).
    script = (
        "import sys; from adapters.hyperliquid.recorder import iter_records; "
        "print(len(list(iter_records(sys.argv[1]))))"
    )

    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert result.stdout.strip() == "2"
    assert "[WARN] HyperliquidRecording: recording " in result.stderr
    assert "torn last block" in result.stderr


def test_a_torn_block_is_skipped_as_a_whole_and_earlier_blocks_survive(
    tmp_path: Path,
) -> None:
    log = CapturingLogger()
    frames = [(seq, 10 + seq, 1, "ws-1", "l2Book:BTC", L2_FRAME) for seq in range(6)]
    path = tmp_path / "frames-00000000000000000010-000000.jrec"
    second = encode_block(frames[3:])
    path.write_bytes(encode_block(frames[:3]) + second[: len(second) - 1])

    seqs = [r.seq for r in iter_records(tmp_path, log)]

    assert seqs == [0, 1, 2]
    assert "torn last block" in log.text


def test_files_of_the_first_one_record_per_chunk_format_are_still_read(tmp_path: Path) -> None:
    path = tmp_path / "frames-00000000000000000010-000000.jrec"
    old = encode_record(1, 10, FrameKind.WS_IN, "ws-1", "l2Book:BTC", L2_FRAME)
    rest = encode_record(2, 11, FrameKind.REST, "rest", "rest:info:meta", b"{}")
    new = encode_block([(3, 12, FrameKind.WS_OUT, "ws-2", "ws-2", b'{"method":"ping"}')])
    path.write_bytes(old + rest + new)

    records = list(iter_records(tmp_path))

    assert [(r.seq, r.recv_ns, r.kind, r.conn_id, r.stream, r.payload) for r in records] == [
        (1, 10, FrameKind.WS_IN, "ws-1", "l2Book:BTC", L2_FRAME),
        (2, 11, FrameKind.REST, "rest", "rest:info:meta", b"{}"),
        (3, 12, FrameKind.WS_OUT, "ws-2", "ws-2", b'{"method":"ping"}'),
    ]


def test_a_block_is_a_checksummed_messagepack_array_of_frames() -> None:
    frames = [
        (7, 100, FrameKind.WS_IN, "ws-1", "trades:BTC", b"a"),
        (8, 101, FrameKind.REST, "rest", "rest:info:meta", b"{}"),
    ]

    block = encode_block(frames)

    magic, length, crc = struct.unpack_from("<4sII", block)
    body = block[12:]
    assert (magic, length, crc) == (b"JRB2", len(body), zlib.crc32(body))
    assert msgspec.msgpack.decode(body) == [
        [7, 100, 1, "ws-1", "trades:BTC", b"a"],
        [8, 101, 3, "rest", "rest:info:meta", b"{}"],
    ]


def test_a_block_reads_back_exactly(tmp_path: Path) -> None:
    frames: list[tuple[int, int, int, str, str, bytes | str]] = [
        (7, 100, FrameKind.WS_IN, "ws-1", "trades:BTC", b"a"),
        (8, 101, FrameKind.REST, "rest", "rest:info:meta", "\u00e9t\u00e9"),
        (9, 102, FrameKind.WS_IN, "ws-1", "trades:BTC", b""),
        (10, 2**63, FrameKind.WS_OUT, "ws-2", "ws-2", b"z" * 70_000),
    ]
    path = tmp_path / "frames-00000000000000000100-000000.jrec"
    path.write_bytes(encode_block(frames))

    records = list(iter_records(path))

    assert [(r.seq, r.recv_ns, r.kind, r.conn_id, r.stream) for r in records] == [
        (7, 100, FrameKind.WS_IN, "ws-1", "trades:BTC"),
        (8, 101, FrameKind.REST, "rest", "rest:info:meta"),
        (9, 102, FrameKind.WS_IN, "ws-1", "trades:BTC"),
        (10, 2**63, FrameKind.WS_OUT, "ws-2", "ws-2"),
    ]
    assert [r.payload for r in records] == [b"a", "\u00e9t\u00e9".encode(), b"", b"z" * 70_000]


def test_many_frames_are_written_in_few_blocks_and_all_read_back(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, compression="none", writer_pause_secs=0.05)

    record_all(recorder, 5_000)

    (path,) = recording_files(tmp_path)
    data = path.read_bytes()
    assert [r.seq for r in iter_records(tmp_path)] == list(range(5_000))
    assert recorder.stats().written == 5_000
    assert data.count(b"JRB2") < 50  # batches, not one chunk per frame (5000)


def test_torn_header_and_bad_checksum_are_skipped_and_later_files_still_read(
    tmp_path: Path,
) -> None:
    log = CapturingLogger()
    recorder = FrameRecorder(tmp_path, rotate_max_bytes=600, compression="none", block_max_frames=1)
    record_all(recorder, 9)
    first, *_ = recording_files(tmp_path)
    data = bytearray(first.read_bytes())
    data[40] ^= 0xFF  # corrupt the body of the first block
    first.write_bytes(bytes(data) + b"JRC")  # and a torn header after the last one

    seqs = [r.seq for r in iter_records(tmp_path, log)]

    assert seqs == list(range(1, 9))
    assert "bad checksum" in log.text
    assert "torn record header" in log.text


def test_compressed_copy_wins_over_a_leftover_raw_file(tmp_path: Path) -> None:
    record_all(FrameRecorder(tmp_path, compression="gzip"), 3)
    (compressed,) = recording_files(tmp_path)
    raw = compressed.with_name(compressed.name.removesuffix(".gz"))
    raw.write_bytes(b"partial garbage")  # crash after compressing, before deleting the original

    assert recording_files(tmp_path) == [compressed]
    assert [r.seq for r in iter_records(tmp_path)] == [0, 1, 2]


class StalledRecorder(FrameRecorder):
    """A recorder whose writer blocks on an Event before writing (a stalled disk)."""

    def __init__(self, directory: Path, release: threading.Event, **kwargs: object) -> None:
        super().__init__(directory, **kwargs)  # type: ignore[arg-type]
        self.release = release
        self.writer_blocked = threading.Event()

    def _write_batch(self, items: list[tuple[int, int, int, str, str, bytes | str]]) -> None:
        self.writer_blocked.set()
        self.release.wait()
        super()._write_batch(items)


def test_full_queue_drops_and_counts_without_blocking_and_raises_an_alarm(
    tmp_path: Path,
) -> None:
    release = threading.Event()
    alarms: list[FeedHealth] = []
    recorder = StalledRecorder(
        tmp_path, release, queue_max_frames=10, compression="none", on_health=alarms.append
    )
    recorder.start()
    recorder.append("l2Book:BTC", L2_FRAME, 0, 0)
    assert recorder.writer_blocked.wait(5)

    accepted = [recorder.append("l2Book:BTC", L2_FRAME, seq, seq) for seq in range(1, 1001)]

    # Every call returned while the writer was still blocked: append never waits on it (a
    # blocking append would hang here, since nothing releases the writer until below).
    assert not release.is_set()
    assert accepted.count(True) == 10
    assert recorder.stats().dropped == 990
    assert [(a.stream, a.status) for a in alarms] == [(RECORDER_STREAM, "GAP")]

    release.set()
    recorder.stop()
    seqs = [r.seq for r in iter_records(tmp_path)]
    assert seqs == list(range(11))


def test_alarm_clears_once_the_queue_drains_below_half(tmp_path: Path) -> None:
    release = threading.Event()
    alarms: list[FeedHealth] = []
    recorder = StalledRecorder(
        tmp_path, release, queue_max_frames=4, compression="none", on_health=alarms.append
    )
    recorder.start()
    recorder.append("s", b"x", 0, 0)
    assert recorder.writer_blocked.wait(5)
    for seq in range(1, 7):
        recorder.append("s", b"x", seq, seq)
    release.set()
    deadline = time.monotonic() + 10
    while recorder.stats().queue_depth > 0 and time.monotonic() < deadline:
        time.sleep(0.005)

    assert recorder.append("s", b"x", 7, 7)
    recorder.stop()

    assert [a.status for a in alarms] == ["GAP", "OK"]
    assert "2 frames dropped" in alarms[1].reason
    assert [r.seq for r in iter_records(tmp_path)] == [0, 1, 2, 3, 4, 7]


def test_append_before_start_or_after_stop_is_refused(tmp_path: Path) -> None:
    recorder = FrameRecorder(tmp_path, compression="none")

    assert not recorder.append("s", b"x", 0, 0)
    recorder.start()
    recorder.stop()
    assert not recorder.append("s", b"x", 1, 1)
    assert recorder.stats().dropped == 0


def test_recorder_from_config_uses_the_configured_settings(tmp_path: Path) -> None:
    config = HyperliquidRecorderConfig(
        directory=str(tmp_path / "rec"), rotate_max_bytes=500, compression="gzip"
    )

    recorder = FrameRecorder.from_config(config)
    record_all(recorder, 10)

    files = recording_files(tmp_path / "rec")
    assert len(files) >= 2
    assert all(f.name.endswith(".jrec.gz") for f in files)
    assert recorder.compression == "gzip"


def test_last_recorded_seq_is_the_highest_readable_number_in_the_folder(tmp_path: Path) -> None:
    assert last_recorded_seq(tmp_path / "missing") == 0
    assert last_recorded_seq(tmp_path) == 0
    recorder = FrameRecorder(tmp_path, compression="gzip", rotate_max_bytes=2_000)
    record_all(recorder, 40)
    assert len(recording_files(tmp_path)) > 2  # several (compressed) files

    assert last_recorded_seq(tmp_path) == 39


def test_last_recorded_seq_after_a_torn_last_block_or_an_empty_last_file(tmp_path: Path) -> None:
    record_all(FrameRecorder(tmp_path, compression="none", block_max_frames=1), 5)
    (path,) = recording_files(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # crash in the middle of the block holding seq 4
    assert last_recorded_seq(tmp_path) == 3

    # A crash right after a new file was opened leaves it empty: the number comes from before.
    (tmp_path / "frames-99999999999999999999-000000.jrec").write_bytes(b"")
    assert last_recorded_seq(tmp_path) == 3


def test_durable_counter_counts_frames_readable_from_disk_while_recording(tmp_path: Path) -> None:
    # Small blocks stay in the file's write buffer unless the recorder flushes them.
    recorder = FrameRecorder(tmp_path, compression="none", block_max_frames=1)
    recorder.start()
    try:
        for seq in range(1, 251):  # receive times of now: no rotation closes the file
            assert recorder.append("l2Book:BTC", L2_FRAME, time.time_ns(), seq, "ws-1")
        deadline = time.monotonic() + 30
        while recorder.stats().durable < 250:
            assert time.monotonic() < deadline, recorder.stats()
            time.sleep(0.01)
        stats = recorder.stats()
        # Still running: what it calls durable is already readable by another reader.
        on_disk = list(iter_records(tmp_path))
    finally:
        recorder.stop()

    assert stats.durable == 250
    assert stats.files_closed == 0
    assert stats.last_durable_seq == 250
    assert [r.seq for r in on_disk] == list(range(1, 251))


def test_files_are_compressed_by_a_child_process_and_its_failure_is_reported(
    tmp_path: Path,
) -> None:
    """Compression runs outside the node's interpreter (recording_compression says why): the
    call returns while the child works, the child leaves the compressed copy, and a child that
    fails is reported naming the file (the raw file would stay readable)."""
    recorder = FrameRecorder(tmp_path / "one", compression="none", block_max_frames=1)
    record_all(recorder, 5)
    (raw,) = recording_files(tmp_path / "one")

    compressor = ChildCompressor("zstd")
    assert compressor.submit(raw) is None
    assert compressor.running == 1
    assert compressor.reap(timeout_secs=60) == []
    assert compressor.running == 0
    (compressed,) = recording_files(tmp_path / "one")
    assert compressed.name.endswith(".jrec.zst") and not raw.exists()
    assert [r.seq for r in iter_records(tmp_path / "one")] == list(range(5))

    missing = tmp_path / "frames-00000000000000000001-000000.jrec"
    assert compressor.submit(missing) is None
    (problem,) = compressor.reap(timeout_secs=60)
    assert problem.startswith(f"compressing {missing} failed (exit 1): ")
    assert "FileNotFoundError" in problem
