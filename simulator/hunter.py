"""A stop hunter for the `cascade` scenario: ground truth for the wallet tracker.

The hunter sells short in a few aggressive chunks before the sell-off and covers in chunks into
it (buying from the forced sellers at the lows). Its plan is drawn from its own generator seeded
by (seed, coin), so turning it on never changes the background market's random sequence; the
market it trades in does change (its orders hit the book), which is why it is opt-in
(`jarvis sim --scenario cascade --hunter`): the existing cascade tests keep their market.

With a ground-truth path every plan and every order (with what filled) is appended as one JSON
line, so a benchmark can score a detector against what the hunter really did.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from simulator.market import LivingMarket
    from simulator.specs import CoinSpec

HUNTER_CHUNKS = 6
HUNTER_MIN_USD = 400_000.0
HUNTER_MAX_USD = 900_000.0


@dataclass(frozen=True)
class HunterPlan:
    """When (venue ms since the market started) and how much one coin's hunter trades."""

    coin: str
    address: str
    target_usd: float
    build_start_ms: int
    build_end_ms: int
    exit_start_ms: int
    exit_end_ms: int


class Hunter:
    """One hunter per coin, driven by the market's step (see the module docstring)."""

    def __init__(
        self,
        market: LivingMarket,
        addresses: dict[str, str],
        *,
        build_end_ms: int,
        ground_truth_path: str | None = None,
    ) -> None:
        self.market = market
        self.path = Path(ground_truth_path) if ground_truth_path else None
        self.plans: dict[str, HunterPlan] = {}
        self.position: dict[str, float] = {}
        self._next_ms: dict[str, int] = {}
        for coin, address in addresses.items():
            rng = random.Random(f"jarvis-hunter|{market.seed}|{coin}")
            start = int(rng.uniform(2_000, 5_000))
            end = build_end_ms - int(rng.uniform(0, 1_500))
            exit_start = build_end_ms + int(rng.uniform(3_000, 8_000))
            self.plans[coin] = HunterPlan(
                coin=coin,
                address=address,
                target_usd=round(rng.uniform(HUNTER_MIN_USD, HUNTER_MAX_USD), 2),
                build_start_ms=start,
                build_end_ms=end,
                exit_start_ms=exit_start,
                exit_end_ms=exit_start + int(rng.uniform(3_000, 8_000)),
            )
            self.position[coin] = 0.0
            self._next_ms[coin] = start

    def start(self) -> None:
        """Fund the hunters (1x their target: never near liquidation) and write their plans."""
        for plan in self.plans.values():
            self.market.engine.credit_usdc(plan.address, plan.target_usd)
            self._record({"kind": "hunter", "seed": self.market.seed, **asdict(plan)})

    def step(self, coin: CoinSpec, elapsed_ms: int, now_ms: int) -> None:
        """Place the next chunk when its time has come."""
        plan = self.plans.get(coin.name)
        if plan is None or elapsed_ms < self._next_ms[coin.name]:
            return
        px = self.market.oracle[coin.name]
        position = self.position[coin.name]
        if elapsed_ms < plan.build_end_ms:
            interval = max(1, (plan.build_end_ms - plan.build_start_ms) // HUNTER_CHUNKS)
            remaining = plan.target_usd + position * px  # position is negative (short)
            if remaining >= 11.0:
                usd = min(remaining, plan.target_usd / HUNTER_CHUNKS)
                self._order(coin, plan, False, usd, now_ms, elapsed_ms)
            self._next_ms[coin.name] = elapsed_ms + interval
        elif elapsed_ms >= plan.exit_start_ms and position < 0:
            interval = max(1, (plan.exit_end_ms - plan.exit_start_ms) // HUNTER_CHUNKS)
            left = max(1, (plan.exit_end_ms - elapsed_ms) // interval + 1)
            usd = -position * px / left if elapsed_ms < plan.exit_end_ms else -position * px * 1.02
            self._order(coin, plan, True, max(usd, 12.0), now_ms, elapsed_ms, reduce_only=True)
            self._next_ms[coin.name] = elapsed_ms + interval
        elif elapsed_ms < plan.exit_start_ms:
            self._next_ms[coin.name] = plan.exit_start_ms

    def _order(
        self,
        coin: CoinSpec,
        plan: HunterPlan,
        is_buy: bool,
        usd: float,
        now_ms: int,
        elapsed_ms: int,
        reduce_only: bool = False,
    ) -> None:
        status = self.market._taker_order(
            coin, plan.address, is_buy, now_ms, usd, reduce_only=reduce_only
        )
        filled = status.get("filled") if isinstance(status, dict) else None
        filled_sz = float(filled["totalSz"]) if filled else 0.0
        self.position[coin.name] += filled_sz if is_buy else -filled_sz
        if abs(self.position[coin.name]) * self.market.oracle[coin.name] < 10.0:
            self.position[coin.name] = 0.0
        self._record(
            {
                "kind": "order",
                "coin": coin.name,
                "address": plan.address,
                "time_ms": now_ms,
                "elapsed_ms": elapsed_ms,
                "side": "B" if is_buy else "A",
                "usd": round(usd, 2),
                "filled_sz": filled_sz,
                "avg_px": float(filled["avgPx"]) if filled else None,
                "position_after": self.position[coin.name],
                "reduce_only": reduce_only,
            }
        )

    def _record(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        with self.path.open("a", encoding="utf-8") as out:  # a dozen lines per run
            out.write(json.dumps(record, sort_keys=True) + "\n")
