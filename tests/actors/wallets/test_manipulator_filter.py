"""The strategy filter: blocks arming against an active manipulator, only when switched on."""

from __future__ import annotations

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from actors.wallets.data import ManipulatorState
from actors.wallets.data import new_manipulator_state
from actors.wallets.manipulator_filter import ManipulatorFilterConfig
from actors.wallets.manipulator_filter import ManipulatorWatch
from actors.wallets.manipulator_filter import manipulator_allows

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
S = 1_000_000_000
T0 = 1_700_000_000 * S
ON = ManipulatorFilterConfig(enabled=True)
OFF = ManipulatorFilterConfig()


def _state(active: bool, direction: str = "NONE", ts: int = T0) -> ManipulatorState:
    return new_manipulator_state(
        ts,
        instrument_id=BTC,
        is_manipulator_active=active,
        manipulator_direction=direction,
        address="0xhunter" if active else "",
        position_usd=-500_000.0 if direction == "SHORT" else 500_000.0,
        behaviours="PRE_CASCADE_ENTRY" if active else "",
    )


def test_the_filter_is_off_by_default_and_then_allows_even_against_a_manipulator() -> None:
    decision = manipulator_allows("LONG", _state(True, "SHORT"), T0, OFF)

    assert decision.allowed
    assert decision.reason == "manipulator filter off"


def test_on_it_blocks_a_long_while_a_short_manipulator_is_active() -> None:
    decision = manipulator_allows("LONG", _state(True, "SHORT"), T0 + S, ON)

    assert not decision.allowed
    assert "0xhunter" in decision.reason and "SHORT against LONG" in decision.reason


@pytest.mark.parametrize(
    ("direction", "state"),
    [
        ("SHORT", _state(True, "SHORT")),  # with the manipulator
        ("LONG", _state(True, "LONG")),
        ("LONG", _state(False)),  # nobody active
        ("SHORT", _state(False)),
    ],
)
def test_on_it_allows_when_no_manipulator_is_against_the_direction(
    direction: str, state: ManipulatorState
) -> None:
    assert manipulator_allows(direction, state, T0 + S, ON).allowed


def test_on_it_fails_closed_without_a_state_or_with_a_stale_one() -> None:
    stale = _state(False, ts=T0)

    missing = manipulator_allows("LONG", None, T0, ON)
    old = manipulator_allows("LONG", stale, T0 + 6 * S, ON)
    fresh = manipulator_allows("LONG", stale, T0 + 5 * S, ON)

    assert not missing.allowed and missing.reason == "no manipulator state yet"
    assert not old.allowed and "stale" in old.reason
    assert fresh.allowed


def test_allow_when_unknown_lets_a_strategy_arm_without_a_tracker() -> None:
    config = ManipulatorFilterConfig(enabled=True, allow_when_unknown=True)

    assert manipulator_allows("SHORT", None, T0, config).allowed


def test_a_direction_other_than_long_or_short_is_refused() -> None:
    with pytest.raises(ValueError, match="direction"):
        manipulator_allows("BUY", None, T0, OFF)


def test_the_watch_keeps_only_its_instruments_newest_state() -> None:
    eth = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")
    watch = ManipulatorWatch(BTC, ON)
    other = new_manipulator_state(
        T0, instrument_id=eth, is_manipulator_active=True, manipulator_direction="SHORT"
    )

    before = watch.allows("LONG", T0)
    watch.on_state(_state(True, "SHORT"))
    watch.on_state(other)
    blocked = watch.allows("LONG", T0)
    watch.on_state(_state(False, ts=T0 + S))
    cleared = watch.allows("LONG", T0 + S)

    assert not before.allowed  # nothing known yet: fail closed
    assert not blocked.allowed and "0xhunter" in blocked.reason
    assert cleared.allowed
