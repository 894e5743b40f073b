"""The strategy transition table: every valid move, every invalid one, forced resets."""

from __future__ import annotations

import itertools

import pytest

from controllers.protocol import StrategyStatus
from strategies.state_machine import TRANSITIONS
from strategies.state_machine import InvalidStrategyTransition
from strategies.state_machine import StrategyStateMachine

S = StrategyStatus
ALL_PAIRS = list(itertools.product(StrategyStatus, StrategyStatus))
VALID = sorted(TRANSITIONS, key=str)
INVALID = [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]

# STRATEGIES.md's table, written out independently of the module under test.
SPEC_ROWS = {
    (S.DISABLED, S.SCANNING),
    (S.SCANNING, S.ARMED),
    (S.ARMED, S.SCANNING),
    (S.ARMED, S.ENTERED),
    (S.ENTERED, S.EXITED),
    (S.EXITED, S.COOLDOWN),
    (S.COOLDOWN, S.SCANNING),
} | {(state, S.DISABLED) for state in StrategyStatus}


def test_table_is_exactly_the_specification() -> None:
    assert set(TRANSITIONS) == SPEC_ROWS


@pytest.mark.parametrize(("src", "dst"), VALID, ids=lambda s: s.value)
def test_valid_transition_moves(src: StrategyStatus, dst: StrategyStatus) -> None:
    fsm = StrategyStateMachine(src)
    previous = fsm.move(dst, "test")
    assert previous == src
    assert fsm.state == dst


@pytest.mark.parametrize(("src", "dst"), INVALID, ids=lambda s: s.value)
def test_invalid_transition_raises_and_changes_nothing(
    src: StrategyStatus, dst: StrategyStatus
) -> None:
    fsm = StrategyStateMachine(src)
    with pytest.raises(InvalidStrategyTransition, match=f"{src.value} -> {dst.value}"):
        fsm.move(dst, "test")
    assert fsm.state == src


@pytest.mark.parametrize("src", list(StrategyStatus), ids=lambda s: s.value)
def test_forced_reset_from_every_state_reaches_disabled(src: StrategyStatus) -> None:
    fsm = StrategyStateMachine(src)
    fsm.move(S.DISABLED, "forced reset")
    assert fsm.state == S.DISABLED


def test_spec_examples_of_invalid_moves() -> None:
    for src, dst in ((S.SCANNING, S.ENTERED), (S.DISABLED, S.ARMED), (S.COOLDOWN, S.ENTERED)):
        assert (src, dst) in INVALID


def test_force_restores_a_saved_state_outside_the_table() -> None:
    fsm = StrategyStateMachine()
    fsm.force(S.ENTERED)
    assert fsm.state == S.ENTERED
    fsm.move(S.EXITED, "flat")
    assert fsm.state == S.EXITED
