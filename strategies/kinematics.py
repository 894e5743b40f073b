"""
Kinematics (sideways): fade aggression that fails to move price (STRATEGIES.md, Kinematics).

* Setup (SCANNING -> ARMED): over 5 s the aggressive flow is one-sided
  (abs(buy - sell) / (buy + sell) >= ``min_one_sided_share``) and large (buy + sell >=
  ``min_aggr_usd_5s``) while abs(``mid_change_bps_5s``) <= ``max_absorbed_move_bps``: the
  aggression is absorbed. The mid at that moment is the absorbed level.
* Entry trigger (ARMED -> ENTERED, within ``arm_timeout_secs``): the aggression is exhausted --
  ``mid_accel_bps_s2`` turns against the aggressor's direction, or the aggressor's 1 s one-sided
  share falls below ``exhausted_share``. Enter against the aggressor (aggressive buying absorbed
  -> SHORT).
* Stop: ``stop_buffer_bps`` beyond the extreme mid seen while ARMED (in the aggressor's
  direction); target: ``target_stop_multiple`` (1.5) x the stop distance on the other side of the
  entry reference (the mid at the trigger). Levels freeze at the trigger.
* Invalidation (ARMED: back to SCANNING; ENTERED: close at market now): the mid moves through
  the absorbed level, in the aggressor's direction, by more than the buffer; OI_SURGE; the regime
  leaves SIDEWAYS; ``max_hold_secs`` (the base's time stop).

Decided where STRATEGIES.md is silent (written here and in the closing note):

* The 1 s share is signed toward the aggressor, (b - s) / (b + s) for buyers; a second with no
  aggressive flow at all has share 0 (the aggression stopped: exhausted). Unknown (NaN) windows
  never trigger or arm.
* ``mid_accel_bps_s2`` exactly 0 has not turned.

The rules are pure functions of (inputs, levels, config) so every trigger and no-trigger is
tested on hand-built values; ``Kinematics`` only wires them to the shared runtime.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import replace
from typing import Final

from nautilus_trader.config import PositiveFloat

from actors.market_state import MarketState
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventKind
from controllers.protocol import Regime
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyStatus
from strategies.intents import Direction
from strategies.intents import Intent
from strategies.rulebook import Levels
from strategies.rulebook import RulebookStrategy
from strategies.rulebook import RulebookStrategyConfig

__all__ = [
    "Absorption",
    "Kinematics",
    "KinematicsConfig",
    "event_invalidation",
    "exhaustion",
    "kinematics_levels",
    "regime_invalidation",
    "setup",
    "state_invalidation",
]

_BPS: Final[float] = 10_000.0
_EK = StructuralEventKind


class KinematicsConfig(RulebookStrategyConfig, frozen=True, kw_only=True):
    """
    Kinematics' thresholds (STRATEGIES.md defaults).

    Parameters
    ----------
    min_one_sided_share : float
        abs(buy - sell) / (buy + sell) over 5 s must be at least this to arm.
    min_aggr_usd_5s : float
        buy + sell aggressive USD over 5 s must be at least this to arm.
    max_absorbed_move_bps : float
        abs(``mid_change_bps_5s``) must be at most this: the aggression did not move price.
    exhausted_share : float
        The aggressor's 1 s one-sided share below this is exhaustion (entry trigger).
    stop_buffer_bps : float
        Stop distance beyond the extreme mid seen while ARMED; also how far through the absorbed
        level the mid may go before the setup is invalidated.
    target_stop_multiple : float
        Target distance from the entry reference as a multiple of the stop distance.
    """

    arm_timeout_secs: PositiveFloat = 20.0
    max_hold_secs: PositiveFloat = 300.0
    min_one_sided_share: PositiveFloat = 0.6
    min_aggr_usd_5s: PositiveFloat = 100_000.0
    max_absorbed_move_bps: PositiveFloat = 3.0
    exhausted_share: PositiveFloat = 0.2
    stop_buffer_bps: PositiveFloat = 8.0
    target_stop_multiple: PositiveFloat = 1.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.min_one_sided_share <= 1.0:
            raise ValueError(
                f"min_one_sided_share must be in (0, 1], was {self.min_one_sided_share}"
            )
        if not self.exhausted_share < self.min_one_sided_share:
            raise ValueError(
                f"exhausted_share ({self.exhausted_share}) must be below min_one_sided_share "
                f"({self.min_one_sided_share})"
            )


@dataclass(frozen=True, slots=True)
class Absorption:
    """What armed the strategy, and the extreme mid seen since (the levels in force)."""

    direction: Direction  # the trade: against the aggressor
    absorbed: float  # the mid when it armed
    extreme: float  # the furthest mid in the aggressor's direction while ARMED

    @property
    def aggressor_sign(self) -> float:
        """+1 for aggressive buyers (we short), -1 for aggressive sellers (we go long)."""
        return 1.0 if self.direction == Direction.SHORT else -1.0

    def to_levels(self) -> Levels:
        """As the base's ``Levels`` (stop and target NaN until the trigger)."""
        return Levels(
            extra=(
                ("absorbed", self.absorbed),
                ("extreme", self.extreme),
                ("long", 1.0 if self.direction == Direction.LONG else 0.0),
            )
        )

    @classmethod
    def from_levels(cls, levels: Levels) -> Absorption:
        """Back from ``Levels``."""
        long = levels.get("long") == 1.0
        return cls(
            Direction.LONG if long else Direction.SHORT,
            levels.get("absorbed"),
            levels.get("extreme"),
        )

    def seen(self, mid: float) -> Absorption:
        """The extreme updated with ``mid`` (only further in the aggressor's direction)."""
        if math.isnan(mid):
            return self
        if (mid - self.extreme) * self.aggressor_sign > 0:
            return replace(self, extreme=mid)
        return self


def _share(buy: float, sell: float) -> float:
    """(buy - sell) / (buy + sell); 0 when nothing traded; NaN when unknown."""
    if math.isnan(buy) or math.isnan(sell):
        return math.nan
    total = buy + sell
    return 0.0 if total <= 0 else (buy - sell) / total


def setup(state: MarketState, cfg: KinematicsConfig) -> tuple[Absorption | None, str]:
    """The absorption to arm on when the setup holds, and the one-line why (or why not)."""
    buy = state.aggr_buy_usd_5s
    sell = state.aggr_sell_usd_5s
    move = state.mid_change_bps_5s
    mid = state.mid
    if any(math.isnan(v) for v in (buy, sell, move, mid)):
        return None, "5 s flow or mid change unknown (warming up)"
    total = buy + sell
    if total < cfg.min_aggr_usd_5s:
        return None, (
            f"aggressive 5 s flow {total:.0f} USD < min_aggr_usd_5s {cfg.min_aggr_usd_5s:g}"
        )
    share = _share(buy, sell)
    if abs(share) < cfg.min_one_sided_share:
        return None, f"5 s one-sided share {share:+.2f} below {cfg.min_one_sided_share:g}"
    if abs(move) > cfg.max_absorbed_move_bps:
        return None, (
            f"mid moved {move:+.2f} bps in 5 s > {cfg.max_absorbed_move_bps:g}: not absorbed"
        )
    direction = Direction.SHORT if share > 0 else Direction.LONG
    aggressor = "buying" if share > 0 else "selling"
    why = (
        f"{total:.0f} USD aggressive {aggressor} in 5 s (share {share:+.2f}, >= "
        f"{cfg.min_one_sided_share:g}) absorbed: mid moved {move:+.2f} bps (<= "
        f"{cfg.max_absorbed_move_bps:g}) at {mid:.6g}"
    )
    return Absorption(direction, mid, mid), why


def exhaustion(state: MarketState, absorption: Absorption, cfg: KinematicsConfig) -> str | None:
    """Why the aggression is exhausted (acceleration turned or 1 s share faded), else None."""
    sign = absorption.aggressor_sign
    accel = state.mid_accel_bps_s2
    if not math.isnan(accel) and accel * sign < 0:
        return f"mid_accel_bps_s2 {accel:+.2f} turned against the aggressor"
    share = _share(state.aggr_buy_usd_1s, state.aggr_sell_usd_1s)
    if not math.isnan(share) and share * sign < cfg.exhausted_share:
        return (
            f"aggressor's 1 s share {share * sign:+.2f} < {cfg.exhausted_share:g} "
            f"(buy {state.aggr_buy_usd_1s:.0f}, sell {state.aggr_sell_usd_1s:.0f} USD)"
        )
    return None


def kinematics_levels(
    absorption: Absorption, reference: float, cfg: KinematicsConfig
) -> tuple[float, float]:
    """(stop, target): the buffer beyond the extreme; 1.5 x that distance the other way."""
    sign = absorption.aggressor_sign
    stop = absorption.extreme * (1.0 + sign * cfg.stop_buffer_bps / _BPS)
    distance = abs(stop - reference)
    target = reference - sign * cfg.target_stop_multiple * distance
    return stop, target


def state_invalidation(state: MarketState, absorption: Absorption, buffer_bps: float) -> str | None:
    """The mid through the absorbed level, in the aggressor's direction, by more than the buffer."""
    mid = state.mid
    if math.isnan(mid):
        return None
    sign = absorption.aggressor_sign
    limit = absorption.absorbed * (1.0 + sign * buffer_bps / _BPS)
    if (mid - limit) * sign > 0:
        where = "above" if sign > 0 else "below"
        return (
            f"mid {mid:.6g} {where} the absorbed level {absorption.absorbed:.6g} by > "
            f"{buffer_bps:g} bps"
        )
    return None


def event_invalidation(event: StructuralEvent) -> str | None:
    """OI_SURGE: new positions are being built, not absorbed."""
    if event.kind == _EK.OI_SURGE:
        return f"OI_SURGE {event.value:+.2f}% in {event.window_secs:g} s"
    return None


def regime_invalidation(change: RegimeChange) -> str | None:
    """The regime left SIDEWAYS."""
    if change.regime != Regime.SIDEWAYS.value:
        return f"regime {change.previous}->{change.regime}"
    return None


class Kinematics(RulebookStrategy):
    """The rulebook's absorption fader, on the shared runtime (see module notes)."""

    def __init__(self, config: KinematicsConfig) -> None:
        super().__init__(config)
        self.kcfg = config
        self._why = ""

    def scan(self, state: MarketState) -> Levels | None:
        """The absorption when the setup holds."""
        absorption, self._why = setup(state, self.kcfg)
        return None if absorption is None else absorption.to_levels()

    def setup_reason(self) -> str:
        """The inputs and thresholds that armed it."""
        return self._why

    def setup_direction(self, levels: Levels) -> str | None:
        """Against the aggressor: SHORT after absorbed buying, LONG after absorbed selling."""
        return Absorption.from_levels(levels).direction.value

    def on_armed_state(self, state: MarketState) -> Intent | str | None:
        """Invalidation first; ARMED: track the extreme, then the exhaustion trigger."""
        absorption = Absorption.from_levels(self.levels)
        invalid = state_invalidation(state, absorption, self.kcfg.stop_buffer_bps)
        if invalid is not None:
            return invalid
        if self.state != StrategyStatus.ARMED or not self.entry_idle():
            return None  # ENTERED, or the entry is already in flight: levels stay as sent
        absorption = absorption.seen(state.mid)
        self.levels = replace(self.levels, extra=absorption.to_levels().extra)
        trigger = exhaustion(state, absorption, self.kcfg)
        if trigger is None or math.isnan(state.mid):
            return None
        stop, target = kinematics_levels(absorption, state.mid, self.kcfg)
        self.levels = replace(self.levels, stop=stop, target=target)
        return Intent(
            direction=absorption.direction,
            size_pct_equity=self.kcfg.size_pct_equity,
            stop_price=stop,
            target_price=target,
            reference_price=state.mid,
            reason=trigger,
        )

    def on_armed_event(self, event: StructuralEvent) -> Intent | str | None:
        """OI_SURGE invalidates."""
        return event_invalidation(event)

    def on_regime(self, change: RegimeChange) -> str | None:
        """Leaving SIDEWAYS invalidates."""
        return regime_invalidation(change)
