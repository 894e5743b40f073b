"""
The strategy state machine shared by every rulebook strategy (STRATEGIES.md).

The transition table appears once, as data (``TRANSITIONS``), and is driven by NautilusTrader's own
``FiniteStateMachine`` — the same machinery that keeps an order's lifecycle honest
(``_ORDER_STATE_TABLE`` in ``model/orders/base.pyx``). A transition not in the table raises
``InvalidStrategyTransition`` and leaves the state unchanged; the strategy logs it.

The FSM works on ints, so each ``StrategyStatus`` has a fixed index and the trigger of a transition
is the state it goes to ("go to ARMED"): the table's rows are (from, to) pairs exactly as
STRATEGIES.md lists them.
"""

from __future__ import annotations

from typing import Final

from nautilus_trader.core.fsm import FiniteStateMachine
from nautilus_trader.core.fsm import InvalidStateTrigger

from controllers.protocol import StrategyStatus

__all__ = [
    "TRANSITIONS",
    "InvalidStrategyTransition",
    "StrategyStateMachine",
]

_S = StrategyStatus

# (from, to) -> why; STRATEGIES.md "The strategy state machine", row for row. "any -> DISABLED"
# is expanded to every state (DISABLED -> DISABLED included: a forced reset of a disabled
# strategy is valid and changes nothing but the reason).
TRANSITIONS: Final[dict[tuple[StrategyStatus, StrategyStatus], str]] = {
    (_S.DISABLED, _S.SCANNING): "the controller enables the strategy",
    (_S.SCANNING, _S.ARMED): "the setup holds and the controller grants the instrument",
    (_S.ARMED, _S.SCANNING): "the setup is invalidated or arm_timeout_secs passed",
    (_S.ARMED, _S.ENTERED): "the entry trigger fired and the entry order filled",
    (_S.ENTERED, _S.EXITED): "the position is flat",
    (_S.EXITED, _S.COOLDOWN): "the exit is recorded",
    (_S.COOLDOWN, _S.SCANNING): "cooldown_secs passed",
    **{
        (state, _S.DISABLED): "disabled, forced reset, stale state or strategy exception"
        for state in StrategyStatus
    },
}

_ORDER: Final[tuple[StrategyStatus, ...]] = tuple(StrategyStatus)
_INDEX: Final[dict[StrategyStatus, int]] = {state: i for i, state in enumerate(_ORDER)}
_FSM_TABLE: Final[dict[tuple[int, int], int]] = {
    (_INDEX[src], _INDEX[dst]): _INDEX[dst] for src, dst in TRANSITIONS
}


def _name(index: int) -> str:
    return _ORDER[index].value


class InvalidStrategyTransition(ValueError):
    """A transition the table does not allow; the machine's state did not change."""


class StrategyStateMachine:
    """
    One strategy's state, moved only along ``TRANSITIONS``.

    Why a wrapper and not the bare FSM: the FSM speaks ints and raises a Cython exception with
    ``"ARMED -> DISABLED"``-style text; strategies speak ``StrategyStatus`` and want the reason of
    the refused move in the error.
    """

    def __init__(self, initial: StrategyStatus = StrategyStatus.DISABLED) -> None:
        self._fsm = _new_fsm(initial)

    @property
    def state(self) -> StrategyStatus:
        """The current state."""
        return _ORDER[self._fsm.state]

    def can(self, target: StrategyStatus) -> bool:
        """Whether moving to ``target`` is in the table from the current state."""
        return (self.state, target) in TRANSITIONS

    def move(self, target: StrategyStatus, reason: str) -> StrategyStatus:
        """Move to ``target``; returns the previous state. Raises if the table forbids it."""
        previous = self.state
        try:
            self._fsm.trigger(_INDEX[target])
        except InvalidStateTrigger:
            raise InvalidStrategyTransition(
                f"invalid transition {previous.value} -> {target.value} ({reason})"
            ) from None
        return previous

    def force(self, state: StrategyStatus) -> None:
        """Set the state without the table: only for restoring a saved state at start."""
        self._fsm = _new_fsm(state)


def _new_fsm(initial: StrategyStatus) -> FiniteStateMachine:
    return FiniteStateMachine(
        state_transition_table=_FSM_TABLE,
        initial_state=_INDEX[initial],
        trigger_parser=_name,
        state_parser=_name,
    )
