"""
Geometry (sideways): fade the edges of a range the book defends (STRATEGIES.md, Geometry).

* Range: ``mid_high_15m`` / ``mid_low_15m``; width = (high - low) / mid, valid in
  [``min_width_bps``, ``max_width_bps``].
* Setup (SCANNING -> ARMED): the mid within ``edge_share`` of the width from one edge, that edge's
  side of the book not thinning (``bid_thinning_ratio`` >= ``min_thinning_ratio`` at the low
  edge, ``ask_thinning_ratio`` at the high edge) and ``depth_asymmetry_20bps`` not opposing the
  fade (>= -``max_opposing_asymmetry`` for a long, <= +``max_opposing_asymmetry`` for a short).
* Entry trigger (ARMED -> ENTERED): an ABSORPTION on the defended side (negative value = selling
  absorbed = the bid defended; positive = the ask) or a BOOK_REFILL of the defended side. Long at
  the low edge, short at the high edge.
* Levels freeze when the strategy arms: the range's high, low and midpoint at that moment; stop
  ``stop_buffer_bps`` beyond the frozen edge, target the frozen midpoint.
* Invalidation (ARMED: back to SCANNING; ENTERED: close at market now): OI_SURGE; DEPTH_THINNING
  on the defended side; the mid beyond the frozen edge by more than the buffer; the regime leaves
  SIDEWAYS; ``max_hold_secs`` (the base's time stop).

The rules are pure functions of (inputs, frozen levels, config) so every trigger and no-trigger
is tested on hand-built values; ``Geometry`` only wires them to the shared runtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveFloat

from actors.market_state import MarketState
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventKind
from controllers.protocol import Regime
from controllers.protocol import RegimeChange
from strategies.intents import Direction
from strategies.intents import Intent
from strategies.rulebook import Levels
from strategies.rulebook import RulebookStrategy
from strategies.rulebook import RulebookStrategyConfig

__all__ = [
    "FrozenRange",
    "Geometry",
    "GeometryConfig",
    "entry_trigger",
    "event_invalidation",
    "freeze_range",
    "regime_invalidation",
    "setup",
    "state_invalidation",
]

_BPS: Final[float] = 10_000.0
_EK = StructuralEventKind


class GeometryConfig(RulebookStrategyConfig, frozen=True, kw_only=True):
    """
    Geometry's thresholds (STRATEGIES.md defaults).

    Parameters
    ----------
    edge_share : float
        How close to an edge the mid must be, as a share of the range width.
    min_width_bps : float
        Narrowest valid range, (high - low) / mid in bps.
    max_width_bps : float
        Widest valid range.
    min_thinning_ratio : float
        The defended side's thinning ratio must be at least this (not thinning).
    max_opposing_asymmetry : float
        ``depth_asymmetry_20bps`` may oppose the fade by at most this.
    stop_buffer_bps : float
        Stop distance beyond the frozen edge; also the "mid beyond the edge" invalidation.
    """

    arm_timeout_secs: PositiveFloat = 60.0
    max_hold_secs: PositiveFloat = 900.0
    edge_share: PositiveFloat = 0.15
    min_width_bps: NonNegativeFloat = 15.0
    max_width_bps: PositiveFloat = 300.0
    min_thinning_ratio: NonNegativeFloat = 0.7
    max_opposing_asymmetry: NonNegativeFloat = 0.1
    stop_buffer_bps: PositiveFloat = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.edge_share < 0.5:
            raise ValueError(
                f"edge_share must be < 0.5 (one edge at a time), was {self.edge_share}"
            )
        if self.max_width_bps <= self.min_width_bps:
            raise ValueError(
                f"max_width_bps ({self.max_width_bps}) must be above min_width_bps "
                f"({self.min_width_bps})"
            )


@dataclass(frozen=True, slots=True)
class FrozenRange:
    """The range at the moment of arming, and the trade it implies."""

    direction: Direction
    high: float
    low: float
    midpoint: float
    stop: float
    target: float

    @property
    def defended_side(self) -> str:
        """BID for a long at the low edge, ASK for a short at the high edge."""
        return "BID" if self.direction == Direction.LONG else "ASK"

    def to_levels(self) -> Levels:
        """As the base's ``Levels`` (entry unknown until the fill)."""
        return Levels(
            stop=self.stop,
            target=self.target,
            extra=(
                ("high", self.high),
                ("low", self.low),
                ("midpoint", self.midpoint),
                ("long", 1.0 if self.direction == Direction.LONG else 0.0),
            ),
        )

    @classmethod
    def from_levels(cls, levels: Levels) -> FrozenRange:
        """Back from ``Levels`` (after a restart)."""
        long = levels.get("long") == 1.0
        return cls(
            direction=Direction.LONG if long else Direction.SHORT,
            high=levels.get("high"),
            low=levels.get("low"),
            midpoint=levels.get("midpoint"),
            stop=levels.stop,
            target=levels.target,
        )


def _known(*values: float) -> bool:
    return all(not math.isnan(v) for v in values)


def freeze_range(direction: Direction, high: float, low: float, buffer_bps: float) -> FrozenRange:
    """Stop ``buffer_bps`` beyond the edge faded, target the midpoint."""
    midpoint = (high + low) / 2.0
    if direction == Direction.LONG:
        stop = low * (1.0 - buffer_bps / _BPS)
    else:
        stop = high * (1.0 + buffer_bps / _BPS)
    return FrozenRange(direction, high, low, midpoint, stop, midpoint)


def setup(state: MarketState, cfg: GeometryConfig) -> tuple[FrozenRange | None, str]:
    """The range to freeze when the setup holds, and the one-line why (or why not)."""
    mid = state.mid
    high = state.mid_high_15m
    low = state.mid_low_15m
    if not _known(mid, high, low) or mid <= 0:
        return None, "range unknown (warming up)"
    width_bps = (high - low) / mid * _BPS
    if not cfg.min_width_bps <= width_bps <= cfg.max_width_bps:
        return None, (
            f"width {width_bps:.1f} bps outside [{cfg.min_width_bps:g}, {cfg.max_width_bps:g}]"
        )
    band = cfg.edge_share * (high - low)
    asym = state.depth_asymmetry_20bps
    if mid - low <= band:
        ratio = state.bid_thinning_ratio
        if not _known(ratio, asym):
            return None, "low edge: thinning ratio or asymmetry unknown"
        if ratio < cfg.min_thinning_ratio:
            return None, f"low edge: bid_thinning_ratio={ratio:.2f} < {cfg.min_thinning_ratio:g}"
        if asym < -cfg.max_opposing_asymmetry:
            return None, (
                f"low edge: depth_asymmetry_20bps={asym:.2f} < -{cfg.max_opposing_asymmetry:g}"
            )
        frozen = freeze_range(Direction.LONG, high, low, cfg.stop_buffer_bps)
        return frozen, (
            f"low edge: mid={mid:.6g} within {cfg.edge_share:g} of [{low:.6g}, {high:.6g}] "
            f"(width {width_bps:.1f} bps), bid_thinning_ratio={ratio:.2f} >= "
            f"{cfg.min_thinning_ratio:g}, depth_asymmetry_20bps={asym:.2f} >= "
            f"-{cfg.max_opposing_asymmetry:g}"
        )
    if high - mid <= band:
        ratio = state.ask_thinning_ratio
        if not _known(ratio, asym):
            return None, "high edge: thinning ratio or asymmetry unknown"
        if ratio < cfg.min_thinning_ratio:
            return None, f"high edge: ask_thinning_ratio={ratio:.2f} < {cfg.min_thinning_ratio:g}"
        if asym > cfg.max_opposing_asymmetry:
            return None, (
                f"high edge: depth_asymmetry_20bps={asym:.2f} > {cfg.max_opposing_asymmetry:g}"
            )
        frozen = freeze_range(Direction.SHORT, high, low, cfg.stop_buffer_bps)
        return frozen, (
            f"high edge: mid={mid:.6g} within {cfg.edge_share:g} of [{low:.6g}, {high:.6g}] "
            f"(width {width_bps:.1f} bps), ask_thinning_ratio={ratio:.2f} >= "
            f"{cfg.min_thinning_ratio:g}, depth_asymmetry_20bps={asym:.2f} <= "
            f"{cfg.max_opposing_asymmetry:g}"
        )
    return None, "mid not near an edge"


def entry_trigger(event: StructuralEvent, frozen: FrozenRange) -> str | None:
    """Why ``event`` triggers the entry (the defended side absorbed or refilled), else None."""
    side = frozen.defended_side
    if event.kind == _EK.ABSORPTION:
        defended = (event.value < 0) if side == "BID" else (event.value > 0)
        if defended:
            return f"ABSORPTION {event.value:.0f} USD defends the {side.lower()}"
        return None
    if event.kind == _EK.BOOK_REFILL and event.side == side:
        return f"BOOK_REFILL of the {side.lower()} in {event.value:.2f} s"
    return None


def event_invalidation(event: StructuralEvent, frozen: FrozenRange) -> str | None:
    """OI_SURGE, or DEPTH_THINNING on the defended side."""
    if event.kind == _EK.OI_SURGE:
        return f"OI_SURGE {event.value:+.2f}% in {event.window_secs:g} s"
    if event.kind == _EK.DEPTH_THINNING and event.side == frozen.defended_side:
        return f"DEPTH_THINNING of the defended {event.side.lower()} (ratio {event.value:.2f})"
    return None


def state_invalidation(state: MarketState, frozen: FrozenRange, buffer_bps: float) -> str | None:
    """The mid beyond the frozen edge by more than the buffer."""
    mid = state.mid
    if math.isnan(mid):
        return None
    if frozen.direction == Direction.LONG:
        limit = frozen.low * (1.0 - buffer_bps / _BPS)
        if mid < limit:
            return f"mid {mid:.6g} below the frozen low {frozen.low:.6g} by > {buffer_bps:g} bps"
    else:
        limit = frozen.high * (1.0 + buffer_bps / _BPS)
        if mid > limit:
            return f"mid {mid:.6g} above the frozen high {frozen.high:.6g} by > {buffer_bps:g} bps"
    return None


def regime_invalidation(change: RegimeChange) -> str | None:
    """The regime left SIDEWAYS."""
    if change.regime != Regime.SIDEWAYS.value:
        return f"regime {change.previous}->{change.regime}"
    return None


class Geometry(RulebookStrategy):
    """The rulebook's range fader, on the shared runtime (see module notes)."""

    def __init__(self, config: GeometryConfig) -> None:
        super().__init__(config)
        self.gcfg = config
        self._why = ""

    def _frozen(self) -> FrozenRange:
        return FrozenRange.from_levels(self.levels)

    def scan(self, state: MarketState) -> Levels | None:
        """The frozen range when the setup holds."""
        frozen, self._why = setup(state, self.gcfg)
        return None if frozen is None else frozen.to_levels()

    def setup_reason(self) -> str:
        """The inputs and thresholds that armed it."""
        return self._why

    def setup_direction(self, levels: Levels) -> str | None:
        """Long at the low edge, short at the high edge."""
        return FrozenRange.from_levels(levels).direction.value

    def on_armed_state(self, state: MarketState) -> Intent | str | None:
        """The mid beyond the frozen edge invalidates."""
        return state_invalidation(state, self._frozen(), self.gcfg.stop_buffer_bps)

    def on_armed_event(self, event: StructuralEvent) -> Intent | str | None:
        """Invalidations first, then (ARMED only) the entry trigger."""
        frozen = self._frozen()
        invalid = event_invalidation(event, frozen)
        if invalid is not None:
            return invalid
        trigger = entry_trigger(event, frozen)
        if trigger is None or self.last_state is None:
            return None
        return Intent(
            direction=frozen.direction,
            size_pct_equity=self.gcfg.size_pct_equity,
            stop_price=frozen.stop,
            target_price=frozen.target,
            reference_price=self.last_state.mid,
            reason=trigger,
        )

    def on_regime(self, change: RegimeChange) -> str | None:
        """Leaving SIDEWAYS invalidates."""
        return regime_invalidation(change)
