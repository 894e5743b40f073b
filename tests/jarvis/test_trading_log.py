"""The status block a trader reads (jarvis.trading_log.format_status)."""

from __future__ import annotations

import math

from nautilus_trader.model.identifiers import InstrumentId

from controllers.protocol import StrategyState
from jarvis.trading_log import _Row
from jarvis.trading_log import format_status

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")
NOON = 1_764_072_000_000_000_000  # 2025-11-25 12:00:00 UTC


def _geometry(state: str) -> StrategyState:
    return StrategyState(
        strategy_id="Geometry-BTC",
        instrument_id=BTC,
        state=state,
        previous="SCANNING",
        reason="",
        flat=True,
        stop_price=99_000.0,
        target_price=101_500.0,
        ts_event=NOON,
        ts_init=NOON,
    )


def test_a_user_template_is_shown_next_to_its_coin_with_its_component_state() -> None:
    rows = {BTC: _Row("SIDEWAYS", "", 100_000.0), ETH: _Row("SIDEWAYS", "", 2_505.0)}
    lines = format_status(
        NOON,
        "ACTIVE",
        "ACTIVE",
        rows,
        {"Geometry-BTC": _geometry("ARMED")},
        [("ETH", "+0.01", 2505.0, -0.01)],
        0,
        0.0,
        -0.01,
        100_000.0,
        templates={
            "DirectBuy-7f3a": (ETH, "RUNNING"),
            "PriceLimit-01c2": (None, "RUNNING"),
            # A rulebook strategy before its first StrategyState, then after: shown once.
            "Geometry-BTC": (BTC, "RUNNING"),
        },
    )
    assert lines[0] == "== 12:00:00 UTC  trading ACTIVE  guard ACTIVE =="
    assert lines[1] == (
        "  BTC   SIDEWAYS  mid   100,000.00  Geometry-BTC ARMED stop 99,000.00 tgt 101,500.00"
    )
    assert lines[2] == "  ETH   SIDEWAYS  mid     2,505.00  DirectBuy-7f3a RUNNING"
    assert lines[3] == "  no order yet: PriceLimit-01c2 RUNNING"
    assert lines[4].startswith("  positions: ETH +0.01 @ 2,505.00 uPnL -0.01 | open orders 0")


def test_a_coin_with_no_strategy_says_so() -> None:
    lines = format_status(NOON, "REDUCING", "ACTIVE", {ETH: _Row()}, {}, [], 0, 0.0, 0.0, math.nan)
    assert lines[1] == "  ETH   DISABLED  mid            -  (no strategy)"
    assert lines[2].endswith("| equity -")
