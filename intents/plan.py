"""A compiled plan: what will be traded, when, for how much, at what risk, and its config.

``render()`` is exactly what a user reads before confirming; the numbers come from the compiler,
the words from here. A plan is deterministic for a given intent, snapshot and user (the config
hash covers the strategy config; the snapshot's age is shown but not hashed).
"""

from __future__ import annotations

from decimal import ROUND_CEILING
from decimal import Decimal
from typing import Any

import msgspec
from nautilus_trader.config import ImportableStrategyConfig

__all__ = ["Plan"]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """The compiler's answer to a valid intent."""

    template: str
    coin: str
    instrument_id: str
    lines: tuple[str, ...]
    schedule: str
    notional_usd: Decimal
    fees_usd: Decimal
    fee_basis: str
    worst_case_loss: str
    leverage: str
    live: bool
    notes: tuple[str, ...]
    config_hash: str
    metadata: str
    intent: dict[str, Any]
    strategy_config: ImportableStrategyConfig

    def render(self) -> str:
        """The plan as a user sees it, one fact per line."""
        cents = Decimal("0.01")
        mode = "LIVE: real orders on the venue" if self.live else "DRY-RUN: paper trading"
        out = [f"Plan: {self.template} on {self.instrument_id}"]
        out += [f"  what:      {line}" for line in self.lines]
        out += [
            f"  when:      {self.schedule}",
            f"  notional:  about ${self.notional_usd.quantize(cents):,}",
            f"  fees:      about ${self.fees_usd.quantize(cents, ROUND_CEILING):,} "
            f"({self.fee_basis})",
            f"  worst case: {self.worst_case_loss}",
            f"  leverage:  {self.leverage}",
            f"  mode:      {mode}",
        ]
        out += [f"  note:      {note}" for note in self.notes]
        out += [
            f"  prices from: {self.metadata}",
            f"  config hash: {self.config_hash}",
        ]
        return "\n".join(out)
