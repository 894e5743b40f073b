"""The engine facade: the same calls give byte-identical outputs and events."""

from __future__ import annotations

import json
from typing import Any

from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

HOUR = 3_600_000


def _session(kit: Any) -> tuple[list[str], list[str]]:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(kit.T0)
    alice = kit.Trader(engine, "0x" + "a1" * 32)
    bob = kit.Trader(engine, "0x" + "b2" * 32)
    engine.credit_usdc(alice.address, 5_000.0)
    engine.credit_usdc(bob.address, 5_000.0)
    outputs = [
        bob.order("ETH", False, "2500", "1"),
        alice.order("ETH", True, "2500", "0.4", "Ioc"),
        alice.order("ETH", True, "2450", "0.2"),
    ]
    engine.set_oracle_px("ETH", 2300.0, kit.T0 + 10)
    engine.tick(kit.T0 + 2 * HOUR)
    outputs.append(engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0))
    events = [repr(e) for e in engine.drain_events()]
    return [json.dumps(o) for o in outputs], events


def test_same_actions_give_byte_identical_outputs_and_events(kit: Any) -> None:
    first = _session(kit)
    second = _session(kit)

    assert first == second
    assert len(first[1]) > 5


def test_resting_size_is_what_is_left_of_an_open_order(kit: Any, engine: SimEngine) -> None:
    maker = "0x" + "4d" * 20
    taker = "0x" + "5e" * 20
    engine.credit_usdc(maker, 1_000_000.0)
    engine.credit_usdc(taker, 1_000_000.0)
    oid = engine.place_internal_order(maker, "ETH", False, 2500.0, 2.0, now_ms=kit.T0)["resting"][
        "oid"
    ]
    engine.place_internal_order(taker, "ETH", True, 2500.0, 0.75, "Ioc", now_ms=kit.T0)

    assert engine.resting_size(maker, oid) == 1.25
    assert engine.resting_size(taker, oid) is None  # not the taker's order
    engine.cancel_internal(maker, "ETH", oid, kit.T0)
    assert engine.resting_size(maker, oid) is None
