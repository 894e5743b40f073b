"""backtests.catalog: a recording becomes a catalog once, complete or rebuilt, never half-used.

The recordings are the corpus in tests/resources/recordings (scripts/record_corpus.py); what the
catalog must hold is read off a replay of the same recording through the live frame handler.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import RecordFlag
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from adapters.hyperliquid.frame_handler import OUTPUTS
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import FrameRecorder
from adapters.hyperliquid.recorder import iter_records
from backtests.catalog import MARKER_NAME
from backtests.catalog import CatalogError
from backtests.catalog import build_catalog
from backtests.catalog import catalog_is_complete
from backtests.recording import load_recording
from jarvis.cli import main as jarvis_main
from jarvis.testkit import VENUE_CAPTURES

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "recordings"
TREND = CORPUS / "trend"
QUIET = CORPUS / "quiet"
F_LAST = int(RecordFlag.F_LAST)


def _replayed(recording: Path) -> list:
    recorded = load_recording(recording)
    coins = {str(i.raw_symbol) for i in recorded.instruments}
    return load_recording(recording, outputs={c: OUTPUTS for c in coins}).data


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_catalog_holds_every_replayed_object(tmp_path: Path) -> None:
    result = build_catalog(TREND, tmp_path / "cat")
    assert not result.skipped
    replayed = _replayed(TREND)
    batches = [d for d in replayed if isinstance(d, OrderBookDeltas)]
    catalog = ParquetDataCatalog(str(tmp_path / "cat"))
    deltas = catalog.query(OrderBookDelta)
    assert len(deltas) == sum(len(b.deltas) for b in batches)
    # F_LAST closes each batch exactly once, as the live handler set it.
    assert sum(1 for d in deltas if d.flags & F_LAST) == len(batches)
    quotes = [d for d in replayed if isinstance(d, QuoteTick)]
    assert sorted((q.ts_init, str(q.instrument_id), str(q.bid_price)) for q in quotes) == sorted(
        (q.ts_init, str(q.instrument_id), str(q.bid_price)) for q in catalog.query(QuoteTick)
    )
    custom = Counter(type(d.data).__name__ for d in replayed if isinstance(d, CustomData))
    assert custom["OpenInterestUpdate"] > 0
    assert result.counts["OpenInterestUpdate"] == custom["OpenInterestUpdate"]
    assert len(catalog.instruments()) == 3


def test_index_prices_read_back_per_instrument(tmp_path: Path) -> None:
    build_catalog(TREND, tmp_path / "cat")
    catalog = ParquetDataCatalog(str(tmp_path / "cat"))
    replayed = [d for d in _replayed(TREND) if isinstance(d, IndexPriceUpdate)]
    for instrument in catalog.instruments():
        expected = [(d.ts_init, str(d.value)) for d in replayed if d.instrument_id == instrument.id]
        read = catalog.query(IndexPriceUpdate, identifiers=[str(instrument.id)])
        assert [(d.ts_init, str(d.value)) for d in read] == expected
        assert {d.instrument_id for d in read} == {instrument.id}


def test_a_second_run_on_the_same_recording_does_nothing(tmp_path: Path) -> None:
    build_catalog(QUIET, tmp_path / "cat")
    before = _files(tmp_path / "cat")
    again = build_catalog(QUIET, tmp_path / "cat")
    assert again.skipped
    assert _files(tmp_path / "cat") == before


def test_a_catalog_without_its_marker_is_rebuilt(tmp_path: Path) -> None:
    build_catalog(QUIET, tmp_path / "cat")
    (tmp_path / "cat" / MARKER_NAME).unlink()
    parquet = next((tmp_path / "cat").rglob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes()[:100])  # a write cut short
    assert not catalog_is_complete(tmp_path / "cat")
    result = build_catalog(QUIET, tmp_path / "cat")
    assert not result.skipped
    assert catalog_is_complete(tmp_path / "cat", result.input_sha256)
    assert len(ParquetDataCatalog(str(tmp_path / "cat")).query(QuoteTick)) > 0


def test_a_file_truncated_after_completion_is_detected_and_rebuilt(tmp_path: Path) -> None:
    build_catalog(QUIET, tmp_path / "cat")
    parquet = next((tmp_path / "cat").rglob("*.parquet"))
    parquet.write_bytes(parquet.read_bytes()[:-10])
    assert not catalog_is_complete(tmp_path / "cat")
    assert not build_catalog(QUIET, tmp_path / "cat").skipped
    assert catalog_is_complete(tmp_path / "cat")


def test_a_different_recording_replaces_the_catalog(tmp_path: Path) -> None:
    source = tmp_path / "rec"
    shutil.copytree(QUIET, source)
    first = build_catalog(source, tmp_path / "cat")
    shutil.rmtree(source)
    shutil.copytree(TREND, source)
    second = build_catalog(source, tmp_path / "cat")
    assert not second.skipped
    assert second.input_sha256 != first.input_sha256
    assert catalog_is_complete(tmp_path / "cat", second.input_sha256)


def test_a_folder_that_is_not_a_catalog_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CatalogError, match="not empty and not a catalog"):
        build_catalog(QUIET, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_missing_recording_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no recording at"):
        build_catalog(tmp_path / "nope", tmp_path / "cat")


def test_jarvis_catalog_twice_says_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["catalog", "--recording", str(QUIET), "--catalog", str(tmp_path / "cat")]
    assert jarvis_main(args) == 0
    assert "wrote" in capsys.readouterr().out
    assert jarvis_main(args) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_recorded_user_fees_set_the_instruments_fee_rates(tmp_path: Path) -> None:
    # The quiet recording again, with the fee account's userFees response recorded after meta
    # (as a data client configured with a fee account records it): 0.01 % maker, 0.035 % taker.
    recording = tmp_path / "rec"
    recorder = FrameRecorder(recording, compression="none")
    recorder.start()
    for record in iter_records(QUIET):
        assert recorder.append(
            record.stream, record.payload, record.recv_ns, record.seq, record.conn_id, record.kind
        )
        if record.stream == "rest:info:meta":
            fees = (VENUE_CAPTURES / "info_userFees.json").read_bytes()
            assert recorder.append(
                "rest:info:userFees", fees, record.recv_ns, 0, "rest", FrameKind.REST
            )
    recorder.stop()
    build_catalog(recording, tmp_path / "cat")
    instruments = ParquetDataCatalog(str(tmp_path / "cat")).instruments()
    assert {(str(i.maker_fee), str(i.taker_fee)) for i in instruments} == {("0.0001", "0.00035")}
    # Without it: the base tier (0.015 % / 0.045 %), as live.
    build_catalog(QUIET, tmp_path / "base")
    base = ParquetDataCatalog(str(tmp_path / "base")).instruments()
    assert {(str(i.maker_fee), str(i.taker_fee)) for i in base} == {("0.00015", "0.00045")}
