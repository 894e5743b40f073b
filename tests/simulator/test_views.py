"""Read models: open interest and aggregated books."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.engine import SimEngine
from simulator.errors import InfoRequestError


def test_open_interest_is_the_sum_of_long_positions(
    kit: Any, engine: SimEngine, alice: Any, bob: Any, carol: Any
) -> None:
    bob.order("SOL", False, "150", "5")
    alice.order("SOL", True, "150", "3", "Ioc")
    carol.order("SOL", True, "150", "2", "Ioc")

    assert engine.asset_ctx("SOL")["openInterest"] == "5.0"
    alice.order("SOL", False, "150", "1")
    carol.order("SOL", True, "150", "1", "Ioc")  # a long moves from alice to carol
    assert engine.asset_ctx("SOL")["openInterest"] == "5.0"


def test_l2_book_aggregates_with_sig_figs_and_mantissa(
    kit: Any, engine: SimEngine, bob: Any
) -> None:
    for px in ("79991", "79985", "79949", "79900"):
        bob.order("BTC", True, px, "0.001")
    for px in ("80001", "80012", "80049"):
        bob.order("BTC", False, px, "0.001")

    four = engine.l2_book("BTC", n_sig_figs=4)
    five_by_five = engine.l2_book("BTC", n_sig_figs=5, mantissa=5)

    # 4 significant figures on ~80000: buckets of 10; bids round down, asks round up.
    assert four["levels"] == [
        [
            {"px": "79990.0", "sz": "0.001", "n": 1},
            {"px": "79980.0", "sz": "0.001", "n": 1},
            {"px": "79940.0", "sz": "0.001", "n": 1},
            {"px": "79900.0", "sz": "0.001", "n": 1},
        ],
        [
            {"px": "80010.0", "sz": "0.001", "n": 1},
            {"px": "80020.0", "sz": "0.001", "n": 1},
            {"px": "80050.0", "sz": "0.001", "n": 1},
        ],
    ]
    assert [lvl["px"] for lvl in five_by_five["levels"][0]] == [
        "79990.0",
        "79985.0",
        "79945.0",
        "79900.0",
    ]
    two = engine.info({"type": "l2Book", "coin": "BTC", "nSigFigs": 2}, kit.T0)
    assert two["levels"][0] == [{"px": "79000.0", "sz": "0.004", "n": 4}]
    assert two["levels"][1] == [{"px": "81000.0", "sz": "0.003", "n": 3}]
    with pytest.raises(InfoRequestError):
        engine.info({"type": "l2Book", "coin": "BTC", "nSigFigs": 4, "mantissa": 2}, kit.T0)
