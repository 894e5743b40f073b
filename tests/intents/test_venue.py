"""Venue snapshots: built from the venue's own metaAndAssetCtxs answer, saved and read back."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from intents.venue import SHIPPED_SNAPSHOT
from intents.venue import load_snapshot
from intents.venue import save_snapshot
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.testkit import VENUE_CAPTURES


def test_snapshot_from_a_mainnet_capture_has_sizes_leverage_marks_and_base_fees() -> None:
    payload = json.loads((VENUE_CAPTURES / "info_metaAndAssetCtxs.json").read_text())
    snap = snapshot_from_meta_and_ctxs(payload, source="capture", taken_at_ms=5)
    eth = snap.instruments["ETH"]
    assert (eth.sz_decimals, eth.max_leverage, eth.mark_px_usd) == (4, 25, Decimal("2499.93"))
    assert (eth.maker_fee, eth.taker_fee) == (Decimal("0.00015"), Decimal("0.00045"))
    assert eth.instrument_id == "ETH-USD-PERP.HYPERLIQUID"
    assert snap.instruments["BTC"].mark_px_usd == Decimal("80639.0")


def test_a_bare_meta_answer_gives_coins_without_reference_prices() -> None:
    payload = json.loads((VENUE_CAPTURES / "info_meta.json").read_text())
    snap = snapshot_from_meta_and_ctxs(payload, source="meta", taken_at_ms=0)
    assert snap.instruments["SOL"].sz_decimals == 2
    assert snap.instruments["SOL"].mark_px_usd is None


def test_snapshot_round_trips_through_its_file(tmp_path: Path) -> None:
    payload = json.loads((VENUE_CAPTURES / "info_metaAndAssetCtxs.json").read_text())
    snap = snapshot_from_meta_and_ctxs(payload, source="capture", taken_at_ms=5)
    save_snapshot(snap, tmp_path / "s.json")
    assert load_snapshot(tmp_path / "s.json") == snap


def test_the_shipped_snapshot_loads_and_says_where_it_came_from() -> None:
    snap = load_snapshot(SHIPPED_SNAPSHOT)
    assert "simulator" in snap.source
    assert {"BTC", "ETH", "SOL"} <= set(snap.instruments)


def test_a_file_that_is_not_a_snapshot_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match=r"bad\.json: not a venue snapshot"):
        load_snapshot(bad)


@pytest.mark.parametrize(
    ("age_ms", "text"),
    [(5_000, "5 s old"), (125_000, "2 min old"), (3_720_000, "1 h 2 min old"),
     (90_000_000, "1 d 1 h old")],
)  # fmt: skip
def test_age_is_said_in_plain_units(age_ms: int, text: str) -> None:
    snap = snapshot_from_meta_and_ctxs({"universe": []}, source="x", taken_at_ms=1_000)
    assert snap.describe_age(1_000 + age_ms) == text
