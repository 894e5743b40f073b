"""The tracker on the simulator's cascade with the stop hunter (development seed 11).

The prints (with both parties) and open interest of a stepped in-process run go through the
same pieces the node uses: ``StructuralEventDetector`` for OI_DROP, then ``WalletTracker``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nautilus_trader.model.identifiers import InstrumentId

from actors.structural_events import StructuralEventDetector
from actors.structural_events import StructuralEventThresholds
from actors.structural_events import StructuralMetrics
from actors.wallets.tracker import WalletTracker
from simulator.app import SimConfig
from simulator.app import build_venue
from simulator.events import SimEvent
from simulator.events import TradePrint

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
MS = 1_000_000


def test_the_hunter_is_flagged_short_only_after_the_oi_drop_and_cleared_once_flat(
    tmp_path: Path,
) -> None:
    truth_path = tmp_path / "truth.jsonl"
    config = SimConfig(
        stepped=True,
        scenario="cascade",
        seed=11,
        coins=("BTC",),
        ground_truth_path=str(truth_path),
    )
    venue = build_venue(config)
    pending: list[dict[str, Any]] = []
    forward = venue.feeds.on_events

    def tap(events: list[SimEvent], now_ms: int) -> None:
        pending.extend(e.trade for e in events if isinstance(e, TradePrint))
        forward(events, now_ms)

    venue.feeds.on_events = tap  # type: ignore[method-assign]
    tracker = WalletTracker()
    detector = StructuralEventDetector(BTC, StructuralEventThresholds())
    timeline: list[tuple[int, bool, str, str]] = []  # (ms since start, active, side, address)
    first_drop_ms = None
    venue.step(venue.clock.now_ms())
    assert venue.market is not None and venue.market.start_ms is not None
    start = venue.market.start_ms
    while venue.clock.now_ms() - start < 40_000:
        venue.advance(1)
        now_ms = venue.clock.now_ms()
        for t in pending:
            users = t["users"]
            tracker.on_trade(
                BTC, t["time"] * MS, float(t["px"]), float(t["sz"]), t["side"] == "B", *users
            )
        pending.clear()
        oi = float(venue.engine.asset_ctx("BTC")["openInterest"])
        for event in detector.on_metrics(now_ms * MS, StructuralMetrics(open_interest=oi)):
            if event.kind == "OI_DROP":
                first_drop_ms = first_drop_ms or now_ms - start
                tracker.on_cascade_signal(BTC, now_ms * MS)
        state = tracker.manipulator_state(BTC, now_ms * MS)
        timeline.append(
            (
                now_ms - start,
                state.is_manipulator_active,
                state.manipulator_direction,
                state.address,
            )
        )

    records = [json.loads(line) for line in truth_path.read_text().splitlines()]
    hunter = records[0]["address"]
    flat_ms = records[-1]["time_ms"] - start
    assert records[-1]["position_after"] == 0.0
    assert first_drop_ms is not None
    flagged = [(ms, side, who) for ms, active, side, who in timeline if active]
    assert flagged, "the hunter was never flagged"
    assert {who for _, _, who in flagged} == {hunter}
    assert {side for _, side, _ in flagged} == {"SHORT"}
    assert min(ms for ms, _, _ in flagged) >= first_drop_ms  # never before the cascade is known
    assert max(ms for ms, _, _ in flagged) < flat_ms  # cleared as soon as the hunter is flat
    labels = {b.behaviour for b in tracker.behaviours if b.address == hunter}
    assert labels == {"PRE_CASCADE_ENTRY", "CASCADE_EXIT", "SHORT_HOLD"}
