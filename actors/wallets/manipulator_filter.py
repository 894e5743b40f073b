"""The check a strategy makes before arming: no manipulator active against my direction.

A pure function over the newest ``ManipulatorState`` of the strategy's instrument, so any
strategy (rulebook or template) can call it from its setup check without knowing the tracker.
Off by default: ``benchmarks/bench_wallets.py`` measures how often the flag is right, and until
that says otherwise it should not keep strategies out of the market.
"""

from __future__ import annotations

from dataclasses import dataclass

from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import PositiveFloat
from nautilus_trader.model.identifiers import InstrumentId

from actors.wallets.data import ManipulatorDirection
from actors.wallets.data import ManipulatorState

__all__ = [
    "FilterDecision",
    "ManipulatorFilterConfig",
    "ManipulatorWatch",
    "manipulator_allows",
]

_NS = 1_000_000_000


class ManipulatorFilterConfig(NautilusConfig, frozen=True, kw_only=True):
    """
    Whether and how a strategy consults the manipulator state before arming.

    Parameters
    ----------
    enabled : bool, default False
        Off: every direction is allowed and the state is not looked at.
    max_state_age_secs : float, default 5
        A state older than this (by ``ts_init``) is unknown; the tracker's heartbeat refreshes
        it every second by default.
    allow_when_unknown : bool, default False
        With the filter on and no fresh state (no tracker, a stale one): False blocks (fail
        closed), True lets the strategy arm.

    """

    enabled: bool = False
    max_state_age_secs: PositiveFloat = 5.0
    allow_when_unknown: bool = False


@dataclass(frozen=True)
class FilterDecision:
    """The answer and the one-line reason (for the strategy's transition log)."""

    allowed: bool
    reason: str


_OFF = FilterDecision(True, "manipulator filter off")


def manipulator_allows(
    direction: str,
    state: ManipulatorState | None,
    now_ns: int,
    config: ManipulatorFilterConfig,
) -> FilterDecision:
    """
    May a strategy arm in ``direction`` ("LONG" or "SHORT") given the newest ``state``?

    Blocked when an active manipulator holds the opposite side; allowed when none is active or
    it holds the same side. ``state`` must be of the strategy's instrument (not checked here).
    """
    if direction not in (ManipulatorDirection.LONG.value, ManipulatorDirection.SHORT.value):
        raise ValueError(f"direction must be LONG or SHORT, was {direction!r}")
    if not config.enabled:
        return _OFF
    if state is None:
        return FilterDecision(config.allow_when_unknown, "no manipulator state yet")
    age_secs = (now_ns - state.ts_init) / _NS
    if age_secs > config.max_state_age_secs:
        return FilterDecision(
            config.allow_when_unknown,
            f"manipulator state stale: age {age_secs:.1f}s > {config.max_state_age_secs:g}s",
        )
    if not state.is_manipulator_active:
        return FilterDecision(True, "no manipulator active")
    if state.manipulator_direction == direction:
        return FilterDecision(True, f"manipulator {state.address} is {direction} too")
    return FilterDecision(
        False,
        f"manipulator {state.address} active {state.manipulator_direction} against {direction}: "
        f"position_usd={state.position_usd:.0f} behaviours={state.behaviours}",
    )


class ManipulatorWatch:
    """
    The newest ``ManipulatorState`` of one instrument, for a strategy to ask before arming.

    Subscribe ``on_state`` to ``custom_data_topic(MANIPULATOR_STATE_DATA_TYPE)`` in
    ``on_start`` (unsubscribe in ``on_stop``); call ``allows(direction, now_ns)`` in the
    SCANNING -> ARMED check and stay SCANNING, logging the reason, when it says no.
    """

    def __init__(self, instrument_id: InstrumentId, config: ManipulatorFilterConfig) -> None:
        self.instrument_id = instrument_id
        self.config = config
        self.latest: ManipulatorState | None = None

    def on_state(self, state: ManipulatorState) -> None:
        """Keep the state if it is our instrument's (the topic carries every instrument)."""
        if state.instrument_id == self.instrument_id:
            self.latest = state

    def allows(self, direction: str, now_ns: int) -> FilterDecision:
        """``manipulator_allows`` on the newest state."""
        return manipulator_allows(direction, self.latest, now_ns, self.config)
