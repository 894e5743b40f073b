"""
What the regime controller and the strategies say to each other (STRATEGIES.md).

The controller is one floor below the strategies, so the vocabulary both speak lives here:

- ``RegimeChange`` (controller -> everyone): an instrument's regime changed, with the inputs.
- ``StrategyGate`` (controller -> one strategy): enabled or disabled on an instrument, and why.
- ``StrategyState`` (strategy -> controller and everyone): the strategy's state machine moved,
  with the reason, the levels in force and whether it is flat with no open order. The controller
  completes a hand-over and releases an instrument grant from these reports alone.
- ``GrantRequest`` (strategy -> controller, synchronous on the message bus endpoint
  ``GRANT_ENDPOINT``): "may I arm on this instrument?". The controller answers in place.

All published types are ``@customdataclass`` so they travel on the bus, serialise to the catalog
and replay in backtests. Publish and subscribe with the module-level ``DataType`` constants and
``common.nautilus.custom_data_topic`` (NautilusTrader 1.231: see that module).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "GRANT_ENDPOINT",
    "REGIME_CHANGE_DATA_TYPE",
    "STRATEGY_GATE_DATA_TYPE",
    "STRATEGY_STATE_DATA_TYPE",
    "GrantRequest",
    "Regime",
    "RegimeChange",
    "StrategyGate",
    "StrategySide",
    "StrategyState",
    "StrategyStatus",
    "new_regime_change",
    "new_strategy_gate",
    "new_strategy_state",
]


@unique
class Regime(StrEnum):
    """An instrument's market regime; anything not clearly one of the first two is DISABLED."""

    SIDEWAYS = "SIDEWAYS"
    EXPANSION = "EXPANSION"
    DISABLED = "DISABLED"


@unique
class StrategySide(StrEnum):
    """Which regime a rulebook strategy trades in; the two sides never run together."""

    SIDEWAYS = "SIDEWAYS"  # Geometry, Kinematics
    EXPANSION = "EXPANSION"  # Cascade


@unique
class StrategyStatus(StrEnum):
    """The shared strategy state machine's states (STRATEGIES.md, "The strategy state machine")."""

    DISABLED = "DISABLED"
    SCANNING = "SCANNING"
    ARMED = "ARMED"
    ENTERED = "ENTERED"
    EXITED = "EXITED"
    COOLDOWN = "COOLDOWN"


@customdataclass_resolved
class RegimeChange(Data):
    """
    One instrument's regime changed (published once per change, never repeated).

    ``inputs`` is the decision's one log line of inputs and thresholds
    (``oi_change_pct_15m=2.31 > 1.00; ...``) so a reader of the catalog sees why.
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    previous: str = ""  # Regime value
    regime: str = ""  # Regime value
    reason: str = ""
    inputs: str = ""


@customdataclass_resolved
class StrategyGate(Data):
    """The controller enabled or disabled one strategy on one instrument (and granted/released)."""

    strategy_id: str = ""
    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    enabled: bool = False
    # "ENABLE", "DISABLE", "GRANT", "RELEASE", "REFUSE" (a grant refused: held by another)
    action: str = ""
    reason: str = ""


@customdataclass_resolved
class StrategyState(Data):
    """
    A strategy's state machine moved (or was re-announced after a restart).

    ``flat`` is true when the strategy holds no position and no open order on the instrument:
    the controller waits for ``state == DISABLED and flat`` before enabling the other side.
    Levels are NaN where not in force.
    """

    strategy_id: str = ""
    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    previous: str = ""  # StrategyStatus value
    state: str = ""  # StrategyStatus value
    reason: str = ""
    flat: bool = True
    entry_price: float = float("nan")
    stop_price: float = float("nan")
    target_price: float = float("nan")


# Publish and subscribe with exactly these DataTypes (no metadata).
REGIME_CHANGE_DATA_TYPE: Final = DataType(RegimeChange)
STRATEGY_GATE_DATA_TYPE: Final = DataType(StrategyGate)
STRATEGY_STATE_DATA_TYPE: Final = DataType(StrategyState)

# Message-bus endpoint the controller registers; ``msgbus.send(GRANT_ENDPOINT, request)`` calls
# the controller synchronously on the node's own thread, live and in a backtest alike.
GRANT_ENDPOINT: Final = "RegimeController.grant"


@dataclass(slots=True)
class GrantRequest:
    """
    "May ``strategy_id`` hold ``instrument_id``?" — answered in place by the controller.

    ``granted`` stays ``None`` when no controller answered (no controller in the node): a
    strategy must then treat the request as refused (fail closed).
    """

    strategy_id: str
    instrument_id: InstrumentId
    granted: bool | None = None
    reason: str = ""


def new_regime_change(
    instrument_id: InstrumentId,
    previous: Regime,
    regime: Regime,
    reason: str,
    inputs: str,
    ts_event: int,
    ts_init: int,
) -> RegimeChange:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = RegimeChange
    change: RegimeChange = ctor(
        ts_event=ts_event,
        ts_init=ts_init,
        instrument_id=instrument_id,
        previous=previous.value,
        regime=regime.value,
        reason=reason,
        inputs=inputs,
    )
    return change


def new_strategy_gate(
    strategy_id: str,
    instrument_id: InstrumentId,
    enabled: bool,
    action: str,
    reason: str,
    ts_event: int,
    ts_init: int,
) -> StrategyGate:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = StrategyGate
    gate: StrategyGate = ctor(
        ts_event=ts_event,
        ts_init=ts_init,
        strategy_id=strategy_id,
        instrument_id=instrument_id,
        enabled=enabled,
        action=action,
        reason=reason,
    )
    return gate


def new_strategy_state(
    strategy_id: str,
    instrument_id: InstrumentId,
    previous: StrategyStatus,
    state: StrategyStatus,
    reason: str,
    flat: bool,
    ts_event: int,
    ts_init: int,
    entry_price: float = float("nan"),
    stop_price: float = float("nan"),
    target_price: float = float("nan"),
) -> StrategyState:
    """Typed constructor (the customdataclass ``__init__`` is invisible to type checkers)."""
    ctor: Any = StrategyState
    report: StrategyState = ctor(
        ts_event=ts_event,
        ts_init=ts_init,
        strategy_id=strategy_id,
        instrument_id=instrument_id,
        previous=previous.value,
        state=state.value,
        reason=reason,
        flat=flat,
        entry_price=entry_price,
        stop_price=stop_price,
        target_price=target_price,
    )
    return report
