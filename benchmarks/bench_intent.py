"""Intent latency: text -> intent (the deterministic parser) and intent -> plan (the compiler).

Not a trading hot path, but the sidecar answers a user with both in one request; the figures
say how much of that answer is ours. Prints one JSON line: p50/p99 in microseconds for parsing
and for compiling, over the same mix of phrasings (every template), on the shipped snapshot.
"""

from __future__ import annotations

import json
import statistics
import time

from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.parser import parse_intent
from intents.venue import SHIPPED_SNAPSHOT
from intents.venue import load_snapshot

PHRASINGS = (
    "DCA $500 into ETH over 10 hours every 30m",
    "buy 0.5 ETH if it drops to 2400, cancel above 2600",
    "long 2 SOL 5x isolated stop 140",
    "TWAP sell 0.5 BTC over 1h every 5m",
    "EMA cross BTC 10/20 size $1000 atr stop 2x",
    "buy $1k of ETH at 2400 post-only",
)
ROUNDS = 400


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    """Measure and print one JSON line."""
    snapshot = load_snapshot(SHIPPED_SNAPSHOT)
    user = UserProfile(max_leverage=10)
    intents = [parse_intent(text) for text in PHRASINGS]
    parse_us: list[float] = []
    compile_us: list[float] = []
    for _ in range(ROUNDS):
        for text, intent in zip(PHRASINGS, intents, strict=True):
            t0 = time.perf_counter_ns()
            parse_intent(text)
            t1 = time.perf_counter_ns()
            compile_intent(intent, snapshot, user, now_ms=0)
            t2 = time.perf_counter_ns()
            parse_us.append((t1 - t0) / 1000)
            compile_us.append((t2 - t1) / 1000)
    p50_parse, p99_parse = _percentiles(parse_us)
    p50_compile, p99_compile = _percentiles(compile_us)
    print(
        json.dumps(
            {
                "bench": "intent",
                "samples": len(parse_us),
                "parse_p50_us": round(p50_parse, 1),
                "parse_p99_us": round(p99_parse, 1),
                "compile_p50_us": round(p50_compile, 1),
                "compile_p99_us": round(p99_compile, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
