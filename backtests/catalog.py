"""A recording becomes a ``ParquetDataCatalog`` once, complete or not at all.

Why: a ``BacktestNode`` reads catalogs, and converting a recording (every raw frame through the
live frame handler, ``backtests.recording``) is the slow part of a backtest; doing it once per
recording makes every later backtest start from parquet. The conversion is safe to repeat:

* **Once.** The catalog ends with a marker (``jarvis_catalog.json``) holding the SHA-256 of the
  input files and the size of every file written. A second run whose input hashes the same and
  whose files are all present with their sizes does nothing.
* **Never half-used.** The catalog is written into a sibling staging folder, the marker is
  written last, and the staging folder is renamed into place. A folder without a valid marker
  (a crash, a copy cut short, a file deleted or truncated since) is rebuilt from scratch. A
  non-empty folder that is not a catalog is refused, never deleted.

What goes in: instruments; order book deltas (``OrderBookDeltas`` batches flattened, the last
delta of each batch carrying ``F_LAST`` as the live handler sets it, so a ``buffer_deltas`` data
engine regroups them); quotes; trades; bars; mark, index (oracle) and funding updates; open
interest and address-carrying trades (custom data, stored by their ``@customdataclass`` type).
Every output of every recorded stream is converted (not only what one live node subscribed to),
so any strategy config can be backtested on the catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.serialization.arrow.schema import NAUTILUS_ARROW_SCHEMA
from nautilus_trader.serialization.arrow.serializer import register_arrow

from adapters.hyperliquid.enums import bar_output
from adapters.hyperliquid.frame_handler import OUTPUTS
from adapters.hyperliquid.providers import fee_rates_from_user_fees
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import RecordedFrame
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.recorder import recording_files
from adapters.hyperliquid.replay import instruments_from_records
from adapters.hyperliquid.replay import replay_frames
from adapters.hyperliquid.schemas.info import decode_info_response

__all__ = [
    "CATALOG_FORMAT",
    "MARKER_NAME",
    "CatalogError",
    "CatalogResult",
    "all_outputs",
    "build_catalog",
    "catalog_is_complete",
    "recording_hash",
    "with_recorded_fees",
]

MARKER_NAME: Final[str] = "jarvis_catalog.json"
CATALOG_FORMAT: Final[int] = 1
"""Bumped when what goes into a catalog changes, so older catalogs are rebuilt."""


class CatalogError(ValueError):
    """The input is not a recording, or the output folder is not ours to write."""


@dataclass(frozen=True)
class CatalogResult:
    """What ``build_catalog`` did."""

    path: Path
    skipped: bool
    input_sha256: str
    input_bytes: int
    counts: dict[str, int]
    seconds: float

    @property
    def mb_per_sec(self) -> float:
        """Recording megabytes (as stored) converted per second (0 when skipped)."""
        if self.skipped or self.seconds <= 0:
            return 0.0
        return self.input_bytes / 1e6 / self.seconds


def recording_hash(recording: str | Path) -> tuple[str, int]:
    """SHA-256 over the recording's files (names and bytes, in order) and their total size."""
    files = _input_files(recording)
    digest = hashlib.sha256()
    total = 0
    for file in files:
        digest.update(file.name.encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                total += len(chunk)
    return digest.hexdigest(), total


def catalog_is_complete(catalog: str | Path, input_sha256: str | None = None) -> bool:
    """True when the marker is valid, names this input (if given) and every file is intact."""
    root = Path(catalog)
    marker = _read_marker(root)
    if marker is None or marker.get("format") != CATALOG_FORMAT:
        return False
    if input_sha256 is not None and marker.get("input_sha256") != input_sha256:
        return False
    files = marker.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for relative, size in files.items():
        path = root / relative
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def build_catalog(recording: str | Path, catalog: str | Path) -> CatalogResult:
    """Convert ``recording`` into a catalog at ``catalog`` unless an intact one is there."""
    started = time.perf_counter()
    root = Path(catalog)
    input_sha256, input_bytes = recording_hash(recording)
    if catalog_is_complete(root, input_sha256):
        marker = _read_marker(root) or {}
        return CatalogResult(
            path=root,
            skipped=True,
            input_sha256=input_sha256,
            input_bytes=input_bytes,
            counts=dict(marker.get("counts", {})),
            seconds=time.perf_counter() - started,
        )
    _check_replaceable(root)
    staging = root.with_name(f".{root.name}.partial-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        counts = _write(recording, staging)
        files = {
            str(p.relative_to(staging)): p.stat().st_size
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        marker = {
            "format": CATALOG_FORMAT,
            "input_sha256": input_sha256,
            "input_bytes": input_bytes,
            "counts": counts,
            "files": files,
        }
        # The marker is written last: its presence means everything before it is complete.
        (staging / MARKER_NAME).write_text(json.dumps(marker, indent=1, sort_keys=True))
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return CatalogResult(
        path=root,
        skipped=False,
        input_sha256=input_sha256,
        input_bytes=input_bytes,
        counts=counts,
        seconds=time.perf_counter() - started,
    )


def _input_files(recording: str | Path) -> list[Path]:
    path = Path(recording)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CatalogError(f"no recording at {path}")
    files = recording_files(path)
    if not files:
        raise CatalogError(f"{path}: holds no recording files")
    return files


def _read_marker(root: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((root / MARKER_NAME).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _check_replaceable(root: Path) -> None:
    """Only an empty folder, a catalog (marker) or a torn catalog (only ``data/``) is replaced."""
    if not root.exists():
        return
    if not root.is_dir():
        raise CatalogError(f"{root}: exists and is not a folder")
    entries = {entry.name for entry in root.iterdir()}
    if entries and not entries <= {MARKER_NAME, "data"}:
        raise CatalogError(
            f"{root}: not empty and not a catalog (holds {sorted(entries)[:5]}); refusing to "
            "replace it, give an empty or new folder"
        )


def _write(recording: str | Path, staging: Path) -> dict[str, int]:
    records = list(iter_records(recording))
    instruments = with_recorded_fees(instruments_from_records(records), records)
    if not instruments:
        raise CatalogError(f"{recording}: no instrument metadata (meta response) recorded")
    everything = all_outputs(records, instruments)
    replayed = replay_frames(records, instruments=instruments, outputs=everything)
    flat = list(_flatten(replayed.data))
    counts = Counter(type(item).__name__ for item in flat)
    counts["Instrument"] = len(instruments)
    catalog = ParquetDataCatalog(str(staging))
    catalog.write_data(list(instruments))
    by_type: dict[type, list[Data]] = {}
    for item in flat:
        by_type.setdefault(type(item), []).append(item)
    for items in by_type.values():
        # A stable sort by ts_init keeps emission order among equal stamps (catalog files
        # must be ordered; the live order is recorded in the frames).
        items.sort(key=lambda d: d.ts_init)
        catalog.write_data(items)
    return dict(sorted(counts.items()))


def with_recorded_fees(
    instruments: list[Instrument], records: Iterable[RecordedFrame]
) -> list[Instrument]:
    """Perpetuals with the fee rates of the first recorded ``userFees`` response, if any.

    Why: a data client configured with a fee account records that account's ``userFees`` and
    gives its instruments those rates live; replay rebuilds instruments from ``meta`` alone
    (base tier), so the catalog applies the recorded rates itself. Without a recorded
    ``userFees`` the base tier stays, exactly as live.
    """
    for record in records:
        if record.kind == FrameKind.REST and record.stream == "rest:info:userFees":
            rates = fee_rates_from_user_fees(decode_info_response("userFees", record.payload))
            break
    else:
        return instruments
    adjusted: list[Instrument] = []
    for instrument in instruments:
        if isinstance(instrument, CryptoPerpetual):
            values = CryptoPerpetual.to_dict(instrument)
            values["maker_fee"] = str(rates.maker)
            values["taker_fee"] = str(rates.taker)
            instrument = CryptoPerpetual.from_dict(values)
        adjusted.append(instrument)
    return adjusted


def all_outputs(
    records: Iterable[RecordedFrame], instruments: Iterable[Instrument]
) -> dict[str, set[str]]:
    """Every output of every coin, plus the bars of every candle stream recorded."""
    outputs: dict[str, set[str]] = {str(i.raw_symbol): set(OUTPUTS) for i in instruments}
    for record in records:
        parts = record.stream.split(":")
        if parts[0] == "candle" and len(parts) == 3 and parts[1] in outputs:
            outputs[parts[1]].add(bar_output(parts[2]))
    return outputs


def _flatten(data: Iterable[Data]) -> Iterable[Data]:
    for item in data:
        if isinstance(item, OrderBookDeltas):
            yield from item.deltas
        elif isinstance(item, CustomData):
            yield item.data
        else:
            yield item


def _decode_index_prices(table: Any) -> list[IndexPriceUpdate]:
    """Index prices from a catalog table.

    Why: NautilusTrader 1.231 writes ``IndexPriceUpdate`` to a catalog but cannot read it back
    (its Arrow decoder table maps the type to ``None`` and raises ``NotImplementedError``). The
    stored layout is the one it wrote: a 16-byte little-endian fixed-point ``value`` and the
    instrument and precision in the schema metadata. That metadata is per file and a
    multi-instrument query concatenates files under the first file's metadata, so index prices
    must be queried ONE INSTRUMENT AT A TIME (``identifiers=[id]``; ``backtests.run`` does).
    """
    metadata = table.schema.metadata
    instrument_id = InstrumentId.from_str(metadata[b"instrument_id"].decode())
    precision = int(metadata[b"price_precision"])
    values = table.column("value").to_pylist()
    ts_events = table.column("ts_event").to_pylist()
    ts_inits = table.column("ts_init").to_pylist()
    return [
        IndexPriceUpdate(
            instrument_id,
            Price.from_raw(int.from_bytes(raw, "little", signed=True), precision),
            ts_event,
            ts_init,
        )
        for raw, ts_event, ts_init in zip(values, ts_events, ts_inits, strict=True)
    ]


register_arrow(
    IndexPriceUpdate, NAUTILUS_ARROW_SCHEMA[IndexPriceUpdate], decoder=_decode_index_prices
)
