"""
Regime classification of one instrument from its ``MarketState`` (STRATEGIES.md, "Regime").

Pure and clock-free: ``RegimeTracker.on_state`` takes a state and the decision time and returns
the regime changes it decides, so every rule is tested from hand-built ``MarketState``
sequences and the controller only wires it to the bus.

The rules (every number from ``RegimeThresholds`` / the controller config):

- SIDEWAYS holds when abs(oi_change_pct_15m), abs(funding) and abs(depth_asymmetry_mean_15m) are
  all at or under their caps; EXPANSION when the OI rise, the funding skew (level or 15 min
  drift) and the depth asymmetry are all at or over their floors. Neither, both, or an unknown
  input (warming up): DISABLED.
- Entering SIDEWAYS or EXPANSION needs the condition to hold continuously for
  ``enter_confirm_secs``; leaving the current regime for a market reason needs its condition
  to fail continuously for ``exit_confirm_secs`` (then DISABLED).
- A stale state (age of its newest input over ``max_state_age_ms``) or an unhealthy feed
  switches to DISABLED at once and restarts both confirmation clocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.model.identifiers import InstrumentId

from actors.market_state import MarketState
from controllers.protocol import Regime

__all__ = [
    "RegimeDecision",
    "RegimeThresholds",
    "RegimeTracker",
    "coin_of",
]

_NS_PER_SEC = 1_000_000_000
_NS_PER_MS = 1_000_000


class RegimeThresholds(NautilusConfig, frozen=True, kw_only=True):
    """
    The regime table's numbers (STRATEGIES.md defaults). Funding is the venue's hourly rate.

    Parameters
    ----------
    sideways_max_abs_oi_change_pct_15m : float, default 1.0
    sideways_max_abs_funding_per_hour : float, default 0.00003
    sideways_max_abs_depth_asymmetry_mean_15m : float, default 0.25
    expansion_min_oi_change_pct_1h : float, default 2.0
        EXPANSION's OI rise: this over 1 h, or ``expansion_min_oi_change_pct_15m`` over 15 min.
    expansion_min_oi_change_pct_15m : float, default 1.5
    expansion_min_abs_funding_per_hour : float, default 0.00005
        EXPANSION's funding skew: this level, or ``expansion_min_abs_funding_drift_15m`` drift.
    expansion_min_abs_funding_drift_15m : float, default 0.00002
    expansion_min_abs_depth_asymmetry_mean_15m : float, default 0.30

    """

    sideways_max_abs_oi_change_pct_15m: NonNegativeFloat = 1.0
    sideways_max_abs_funding_per_hour: NonNegativeFloat = 0.00003
    sideways_max_abs_depth_asymmetry_mean_15m: NonNegativeFloat = 0.25
    expansion_min_oi_change_pct_1h: NonNegativeFloat = 2.0
    expansion_min_oi_change_pct_15m: NonNegativeFloat = 1.5
    expansion_min_abs_funding_per_hour: NonNegativeFloat = 0.00005
    expansion_min_abs_funding_drift_15m: NonNegativeFloat = 0.00002
    expansion_min_abs_depth_asymmetry_mean_15m: NonNegativeFloat = 0.30

    def __post_init__(self) -> None:
        """Fail at construction on a number that cannot mean anything, naming the field."""
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0.0:
                raise ValueError(f"{name} must be a finite number >= 0, was {value}")


@dataclass(frozen=True, slots=True)
class RegimeDecision:
    """One regime change: what, why, and the inputs and thresholds that decided it."""

    instrument_id: InstrumentId
    previous: Regime
    regime: Regime
    reason: str
    inputs: str
    ts_ns: int

    def log_line(self) -> str:
        """STYLE.md §15: ``Regime BTC SIDEWAYS->DISABLED (reason): inputs``."""
        return (
            f"Regime {coin_of(self.instrument_id)} {self.previous.value}->{self.regime.value} "
            f"({self.reason}): {self.inputs}"
        )


def coin_of(instrument_id: InstrumentId) -> str:
    """``BTC-USD-PERP.HYPERLIQUID`` -> ``BTC`` (the venue's coin, as in feed stream keys)."""
    return instrument_id.symbol.value.split("-", 1)[0]


# Inputs each row of the table reads, in the order they are reported.
_INPUTS = {
    Regime.SIDEWAYS: ("oi_change_pct_15m", "funding", "depth_asymmetry_mean_15m"),
    Regime.EXPANSION: (
        "oi_change_pct_15m",
        "oi_change_pct_1h",
        "funding",
        "funding_drift_15m",
        "depth_asymmetry_mean_15m",
    ),
}


class RegimeTracker:
    """
    The regime of one instrument and the two confirmation clocks.

    ``on_state`` is the hot path (every ``MarketState``): it compares floats and builds text
    only when it decides something.
    """

    __slots__ = (
        "_candidate",
        "_candidate_since",
        "_enter_ns",
        "_exit_ns",
        "_failing_since",
        "_max_age_ns",
        "instrument_id",
        "regime",
        "t",
    )

    def __init__(
        self,
        instrument_id: InstrumentId,
        thresholds: RegimeThresholds,
        enter_confirm_secs: float,
        exit_confirm_secs: float,
        max_state_age_ms: int,
    ) -> None:
        self.instrument_id = instrument_id
        self.t = thresholds
        self._enter_ns = round(enter_confirm_secs * _NS_PER_SEC)
        self._exit_ns = round(exit_confirm_secs * _NS_PER_SEC)
        self._max_age_ns = max_state_age_ms * _NS_PER_MS
        self.regime = Regime.DISABLED
        self._candidate = Regime.DISABLED
        self._candidate_since = 0
        self._failing_since: int | None = None

    def is_stale(self, input_ts_ns: int, now_ns: int) -> bool:
        """Whether a state whose newest input is stamped ``input_ts_ns`` is too old at ``now``."""
        return now_ns - input_ts_ns > self._max_age_ns

    def on_state(
        self,
        state: MarketState,
        now_ns: int,
        unhealthy: str | None = None,
    ) -> list[RegimeDecision]:
        """
        Evaluate one state at ``now_ns`` (the decision's time: never before ``state.ts_init``).

        ``unhealthy`` names the unhealthy feed stream(s), None when all are healthy.
        """
        if unhealthy is not None:
            return self.force_disabled(now_ns, "feed unhealthy", unhealthy)
        age_ns = now_ns - state.input_ts_ns
        if age_ns > self._max_age_ns:
            return self.force_disabled(
                now_ns,
                "state stale",
                f"state_age_ms={age_ns / _NS_PER_MS:.0f} > {self._max_age_ns / _NS_PER_MS:.0f}",
            )
        candidate = self._classify(state)
        if candidate is not self._candidate:
            self._candidate = candidate
            self._candidate_since = now_ns
        regime = self.regime
        decisions: list[RegimeDecision] = []
        if regime is not Regime.DISABLED:
            if self._holds(state, regime):
                self._failing_since = None
            else:
                if self._failing_since is None:
                    self._failing_since = now_ns
                if now_ns - self._failing_since >= self._exit_ns:
                    decisions.append(
                        self._change(
                            Regime.DISABLED,
                            f"{regime.value} failed for {self._exit_ns / _NS_PER_SEC:g}s",
                            self._describe(state, regime),
                            now_ns,
                        ),
                    )
        if (
            candidate is not Regime.DISABLED
            and candidate is not self.regime
            and now_ns - self._candidate_since >= self._enter_ns
        ):
            decisions.append(
                self._change(
                    candidate,
                    f"{candidate.value} held for {self._enter_ns / _NS_PER_SEC:g}s",
                    self._describe(state, candidate),
                    now_ns,
                ),
            )
        return decisions

    def force_disabled(self, now_ns: int, reason: str, inputs: str) -> list[RegimeDecision]:
        """DISABLED at once (stale state, unhealthy feed); both confirmation clocks restart."""
        self._candidate = Regime.DISABLED
        self._candidate_since = now_ns
        self._failing_since = None
        if self.regime is Regime.DISABLED:
            return []
        return [self._change(Regime.DISABLED, reason, inputs, now_ns)]

    def describe(self, state: MarketState) -> str:
        """Every input of the table and how it compares with both regimes' thresholds."""
        return (
            f"{self._describe(state, Regime.SIDEWAYS)}; {self._describe(state, Regime.EXPANSION)}"
        )

    # -- rules -----------------------------------------------------------------------------

    def _classify(self, state: MarketState) -> Regime:
        sideways = self._holds(state, Regime.SIDEWAYS)
        expansion = self._holds(state, Regime.EXPANSION)
        if sideways and not expansion:
            return Regime.SIDEWAYS
        if expansion and not sideways:
            return Regime.EXPANSION
        return Regime.DISABLED  # neither, both (ambiguous), or an input unknown

    def _holds(self, s: MarketState, regime: Regime) -> bool:
        # NaN (warming up) compares false everywhere, so an unknown input never holds.
        t = self.t
        if regime is Regime.SIDEWAYS:
            return (
                abs(s.oi_change_pct_15m) <= t.sideways_max_abs_oi_change_pct_15m
                and abs(s.funding) <= t.sideways_max_abs_funding_per_hour
                and abs(s.depth_asymmetry_mean_15m) <= t.sideways_max_abs_depth_asymmetry_mean_15m
            )
        if regime is Regime.EXPANSION:
            return (
                (
                    s.oi_change_pct_1h >= t.expansion_min_oi_change_pct_1h
                    or s.oi_change_pct_15m >= t.expansion_min_oi_change_pct_15m
                )
                and (
                    abs(s.funding) >= t.expansion_min_abs_funding_per_hour
                    or abs(s.funding_drift_15m) >= t.expansion_min_abs_funding_drift_15m
                )
                and abs(s.depth_asymmetry_mean_15m) >= t.expansion_min_abs_depth_asymmetry_mean_15m
            )
        return False

    def _describe(self, s: MarketState, regime: Regime) -> str:
        """The regime's conditions with their inputs: ``oi_change_pct_15m=2.31 > 1.00``."""
        unknown = [name for name in _INPUTS[regime] if math.isnan(getattr(s, name))]
        t = self.t
        if regime is Regime.SIDEWAYS:
            parts = [
                _cap(
                    "oi_change_pct_15m", s.oi_change_pct_15m, t.sideways_max_abs_oi_change_pct_15m
                ),
                _cap("funding", s.funding, t.sideways_max_abs_funding_per_hour),
                _cap(
                    "depth_asymmetry_mean_15m",
                    s.depth_asymmetry_mean_15m,
                    t.sideways_max_abs_depth_asymmetry_mean_15m,
                ),
            ]
        else:
            parts = [
                _floor("oi_change_pct_1h", s.oi_change_pct_1h, t.expansion_min_oi_change_pct_1h)
                + " or "
                + _floor(
                    "oi_change_pct_15m",
                    s.oi_change_pct_15m,
                    t.expansion_min_oi_change_pct_15m,
                ),
                _floor("abs(funding)", abs(s.funding), t.expansion_min_abs_funding_per_hour)
                + " or "
                + _floor(
                    "abs(funding_drift_15m)",
                    abs(s.funding_drift_15m),
                    t.expansion_min_abs_funding_drift_15m,
                ),
                _floor(
                    "abs(depth_asymmetry_mean_15m)",
                    abs(s.depth_asymmetry_mean_15m),
                    t.expansion_min_abs_depth_asymmetry_mean_15m,
                ),
            ]
        text = f"{regime.value}[{'; '.join(parts)}]"
        if unknown:
            text += f" warming up: {', '.join(unknown)} unknown"
        return text

    def _change(self, regime: Regime, reason: str, inputs: str, now_ns: int) -> RegimeDecision:
        decision = RegimeDecision(
            instrument_id=self.instrument_id,
            previous=self.regime,
            regime=regime,
            reason=reason,
            inputs=inputs,
            ts_ns=now_ns,
        )
        self.regime = regime
        self._failing_since = None
        return decision


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "unknown"
    return f"{value:.2f}" if abs(value) >= 0.01 or value == 0.0 else f"{value:.7f}"


def _cap(name: str, value: float, cap: float) -> str:
    """abs(value) <= cap, written with the comparison that actually holds."""
    if math.isnan(value):
        return f"{name}=unknown"
    op = "<=" if abs(value) <= cap else ">"
    shown = name if value >= 0 else f"abs({name})"
    return f"{shown}={_fmt(abs(value))} {op} {_fmt(cap)}"


def _floor(name: str, value: float, floor: float) -> str:
    """value >= floor, written with the comparison that actually holds."""
    if math.isnan(value):
        return f"{name}=unknown"
    op = ">=" if value >= floor else "<"
    return f"{name}={_fmt(value)} {op} {_fmt(floor)}"
