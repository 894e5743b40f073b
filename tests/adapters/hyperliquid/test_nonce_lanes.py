"""Nonces of an execution client in a lane: strictly increasing, never behind the clock, and
never one another lane could sign (two node processes sign for the same key; the venue refuses a
duplicate nonce, which CI saw as a PriceLimit leg rejected with INVALID_NONCE)."""

from __future__ import annotations

from itertools import pairwise

import pytest

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.nonces import next_nonce


def _run(lane: int, lanes: int, clock: list[int]) -> list[int]:
    last, out = 0, []
    for now in clock:
        last = next_nonce(now, last, lanes, lane)
        out.append(last)
    return out


def test_one_lane_is_the_clock_or_one_above_the_last() -> None:
    assert _run(0, 1, [1000, 1000, 1000, 1005, 1003]) == [1000, 1001, 1002, 1005, 1006]


def test_two_lanes_signing_at_the_same_milliseconds_never_share_a_nonce() -> None:
    clock = [1000, 1000, 1001, 1001, 1001, 1010, 1011, 1011]
    lanes = [_run(lane, 16, clock) for lane in (0, 1)]

    assert not set(lanes[0]) & set(lanes[1])
    for lane, nonces in enumerate(lanes):
        assert all(n % 16 == lane for n in nonces)
        assert all(b > a for a, b in pairwise(nonces))
        assert all(n >= now for n, now in zip(nonces, clock, strict=True))
        assert all(n - now < 16 * len(clock) for n, now in zip(nonces, clock, strict=True))


def test_a_lane_outside_the_lanes_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="nonce_lane"):
        HyperliquidExecClientConfig(nonce_lanes=4, nonce_lane=4)
    with pytest.raises(ValueError, match="nonce_lanes"):
        HyperliquidExecClientConfig(nonce_lanes=0)
