"""Custom data published by the wallet tracker (``WalletBehaviour``, ``ManipulatorState``).

Publish and subscribe with the module-level ``DataType`` constants (no metadata): in
NautilusTrader 1.231 a subscription with ``instrument_id=`` does not match ``publish_data``,
so consumers filter on the ``instrument_id`` field. Enum-valued fields are plain ``str``.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "MANIPULATOR_STATE_DATA_TYPE",
    "WALLET_BEHAVIOUR_DATA_TYPE",
    "Behaviour",
    "ManipulatorDirection",
    "ManipulatorState",
    "WalletBehaviour",
    "new_manipulator_state",
    "new_wallet_behaviour",
]


@unique
class Behaviour(StrEnum):
    """What an address was seen doing (facts from its own trades, never a forecast).

    SHORT_HOLD: a position closed (or flipped) within ``short_hold_secs`` of its entry.
    PRE_CASCADE_ENTRY: a position, built mostly aggressively, entered within
    ``pre_cascade_secs`` before a cascade and pointing the cascade's way (it profits from it);
    given when the cascade is detected, never earlier.
    CASCADE_EXIT: a position reduced during a cascade or within ``post_cascade_secs`` after it.
    """

    SHORT_HOLD = "SHORT_HOLD"
    PRE_CASCADE_ENTRY = "PRE_CASCADE_ENTRY"
    CASCADE_EXIT = "CASCADE_EXIT"


@unique
class ManipulatorDirection(StrEnum):
    """The side an active manipulator holds on an instrument."""

    LONG = "LONG"
    SHORT = "SHORT"
    NONE = "NONE"


@customdataclass_resolved
class WalletBehaviour(Data):
    """One behaviour label given to one address on one instrument, with its evidence.

        ``position_usd`` is the address's signed position notional at the label (+ long, - short),
        ``entry_ns`` when that position left flat, ``exit_ns`` the exit that gave the label (0 if
        none), ``holding_secs`` entry to exit (NaN if still open), ``cascade_ns`` the start of the
        cascade concerned (0 if none), ``rolling_notional_usd`` the address's traded notional over
        the tracker's window, ``is_large`` whether that makes it a large wallet and ``taker_share``
    the share of the position's building notional it took as the aggressor.
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    address: str = ""
    behaviour: str = ""
    position_usd: float = 0.0
    entry_ns: int = 0
    exit_ns: int = 0
    holding_secs: float = 0.0
    cascade_ns: int = 0
    rolling_notional_usd: float = 0.0
    is_large: bool = False
    taker_share: float = 0.0


@customdataclass_resolved
class ManipulatorState(Data):
    """Whether a manipulator is active on an instrument, which way, and the evidence.

    Published on every change (and on the tracker's heartbeat). ``address`` is the largest
    active manipulator's, ``position_usd`` its signed position notional, ``behaviours`` its
    labels joined by ``,``, ``n_active`` how many manipulators hold a position there.
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    is_manipulator_active: bool = False
    manipulator_direction: str = ManipulatorDirection.NONE.value
    address: str = ""
    position_usd: float = 0.0
    behaviours: str = ""
    n_active: int = 0


WALLET_BEHAVIOUR_DATA_TYPE = DataType(WalletBehaviour)
MANIPULATOR_STATE_DATA_TYPE = DataType(ManipulatorState)


def new_wallet_behaviour(ts_ns: int, **fields: Any) -> WalletBehaviour:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = WalletBehaviour
    event: WalletBehaviour = ctor(ts_event=ts_ns, ts_init=ts_ns, **fields)
    return event


def new_manipulator_state(ts_ns: int, **fields: Any) -> ManipulatorState:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = ManipulatorState
    state: ManipulatorState = ctor(ts_event=ts_ns, ts_init=ts_ns, **fields)
    return state
