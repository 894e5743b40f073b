"""A market that changes regime: a schedule of scenarios over venue time, with smooth hand-overs.

``--scenario quiet:600,trend:900,cascade:120,quiet:600`` runs quiet for 600 s of venue time, then
trend for 900 s, and so on; the last phase goes on after its time is up (a bare name, ``quiet``,
is a one-phase schedule: the scenario forever, exactly as before). A phase's duration may be
omitted on the last phase only.

Hand-overs are smooth because nothing the regime controller reads is set directly:

* open interest only changes by trades (the takers' behaviour changes, not the positions);
* funding is the venue's hourly average of 5 s premium samples of the book (``funding.py``), so
  it follows the makers' premium gradually;
* the market conditions a scenario sets (volatility, drift, premium, depth multipliers, levels,
  taker rate and size, buy bias) move linearly from the previous phase's values at its end to the
  new phase's over ``blend_ms`` (``BLEND_MS``, at most a quarter of the new phase), so depth and
  premium never jump. A cascade's own sell-off is the exception by design: it is the event the
  phase exists for. A cascade after another phase keeps that phase's market until its sell-off
  (its leveraged longs build up in the expansion before it: ``trend`` then ``cascade`` is one
  expansion that ends in liquidations, not an expansion, a calm book, then a crash), and after the
  sell-off its makers refill the book to the depth it had before, then move to the cascade's own
  over a hand-over (the refill is what a cascade strategy waits for).

Why our own and not a library: the conditions are this simulator's own model parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.market import Scenario

__all__ = ["BLEND_MS", "Conditions", "Phase", "ScenarioSchedule", "parse_schedule"]

BLEND_MS = 30_000
"""How long a hand-over between two phases lasts (venue ms), at most a quarter of a phase."""


@dataclass(frozen=True)
class Conditions:
    """What the market does right now (a scenario's values at one moment of its phase)."""

    vol_bps: float
    drift_bps: float
    premium_bps: float
    level_usd: float
    bid_mult: float
    ask_mult: float
    taker_rate: float
    taker_usd: float
    buy_bias: float
    levels: int
    mean_revert: bool
    selloff: bool


_FLOATS = tuple(
    f.name for f in fields(Conditions) if f.name not in ("levels", "mean_revert", "selloff")
)


def blend(a: Conditions, b: Conditions, weight: float) -> Conditions:
    """``a`` moved toward ``b`` by ``weight`` in [0, 1] (smoothstep, so no kink at either end).

    Depth multipliers are rounded to 0.01 so the makers requote only when depth really moved;
    the taker mode (mean-reverting or not) switches half-way.
    """
    w = weight * weight * (3.0 - 2.0 * weight)
    values: dict[str, float] = {
        name: getattr(a, name) + (getattr(b, name) - getattr(a, name)) * w for name in _FLOATS
    }
    values["bid_mult"] = round(values["bid_mult"], 2)
    values["ask_mult"] = round(values["ask_mult"], 2)
    return Conditions(
        **values,
        levels=round(a.levels + (b.levels - a.levels) * w),
        mean_revert=b.mean_revert if w >= 0.5 else a.mean_revert,
        selloff=b.selloff,
    )


@dataclass(frozen=True)
class Phase:
    """One scenario for ``duration_ms`` of venue time (None: until the end of the run)."""

    scenario: Scenario
    start_ms: int
    duration_ms: int | None


def parse_schedule(text: str) -> list[tuple[str, float | None]]:
    """``"quiet:600,trend:900"`` -> ``[("quiet", 600.0), ("trend", 900.0)]``; errors name the
    part that is wrong."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ValueError(f"scenario schedule {text!r}: empty phase (use name or name:seconds,...)")
    out: list[tuple[str, float | None]] = []
    for i, part in enumerate(parts):
        name, sep, secs = part.partition(":")
        name = name.strip()
        if not sep:
            if i != len(parts) - 1:
                raise ValueError(
                    f"scenario schedule {text!r}: phase {part!r} needs a duration "
                    "(name:seconds); only the last phase may omit it"
                )
            out.append((name, None))
            continue
        try:
            value = float(secs)
        except ValueError:
            raise ValueError(
                f"scenario schedule {text!r}: duration of {part!r} is not a number of seconds"
            ) from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"scenario schedule {text!r}: duration of {part!r} must be > 0 seconds"
            )
        out.append((name, value))
    return out


class ScenarioSchedule:
    """The phases of a run and the conditions at any moment (see module notes)."""

    def __init__(
        self,
        text: str,
        scenarios: Mapping[str, Scenario],
        conditions_of: Callable[[Scenario, int], Conditions],
        *,
        blend_ms: int = BLEND_MS,
        blend_cap_ms: Mapping[str, int] | None = None,
        inherit_ms: Mapping[str, int] | None = None,
        refill_ms: Mapping[str, int] | None = None,
    ) -> None:
        """``conditions_of(scenario, ms_into_phase)`` is the market model's own rule;
        ``blend_cap_ms`` caps the hand-over into a scenario; ``inherit_ms`` keeps the previous
        phase's market for the first ms of a scenario (a cascade's crowded side builds up in
        the expansion before it, which goes on until the sell-off); ``refill_ms``: from that
        ms into such a scenario its book refills to the previous phase's depth and then moves
        to its own over a hand-over (after a sell-off the makers come back to the book they
        had, not straight to the calm book of a cascade run alone)."""
        phases: list[Phase] = []
        start = 0
        for name, secs in parse_schedule(text):
            if name not in scenarios:
                raise ValueError(
                    f"scenario schedule {text!r}: unknown scenario {name!r}; valid: "
                    f"{', '.join(scenarios)}"
                )
            duration = None if secs is None else round(secs * 1000)
            phases.append(Phase(scenarios[name], start, duration))
            start += duration or 0
        self.text = text
        self.phases = phases
        self.blend_ms = blend_ms
        self._conditions_of = conditions_of
        self._caps = dict(blend_cap_ms or {})
        self._inherit = dict(inherit_ms or {})
        self._refill = dict(refill_ms or {})

    @property
    def names(self) -> list[str]:
        """The scenario names, in order."""
        return [p.scenario.name for p in self.phases]

    def index_at(self, elapsed_ms: int) -> int:
        """The phase running ``elapsed_ms`` after the market started (the last one goes on)."""
        for i, phase in enumerate(self.phases):
            if phase.duration_ms is None or elapsed_ms < phase.start_ms + phase.duration_ms:
                return i
        return len(self.phases) - 1

    def at(self, elapsed_ms: int) -> tuple[int, int, Conditions]:
        """(phase index, ms into that phase, the market's conditions now)."""
        conditions_of = self._conditions_of
        index = self.index_at(elapsed_ms)
        phase = self.phases[index]
        into = max(0, elapsed_ms - phase.start_ms)
        now = conditions_of(phase.scenario, into)
        if index == 0:
            return index, into, now
        previous = self.phases[index - 1]
        assert previous.duration_ms is not None
        window = self._blend_window(phase)
        before = conditions_of(previous.scenario, previous.duration_ms)
        refill = self._refill.get(phase.scenario.name)
        if refill is not None and into >= refill:
            weight = min(1.0, (into - refill) / window)
            depth = blend(before, now, weight)
            return (
                index,
                into,
                replace(
                    now,
                    level_usd=depth.level_usd,
                    bid_mult=depth.bid_mult,
                    ask_mult=depth.ask_mult,
                    levels=depth.levels,
                ),
            )
        if into >= window:
            return index, into, now
        if into < self._inherit.get(phase.scenario.name, 0):
            return index, into, before
        return index, into, blend(before, now, into / window)

    def _blend_window(self, phase: Phase) -> int:
        window = self.blend_ms
        if phase.duration_ms is not None:
            window = min(window, phase.duration_ms // 4)
        cap = self._caps.get(phase.scenario.name)
        if cap is not None:
            window = min(window, cap)
        return max(1, window)
