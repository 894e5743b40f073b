"""Builder fees (approveBuilderFee, an order's `builder`) and withdrawals (withdraw3).

Actions are signed with the unmodified SDK's signing functions; expected amounts are worked out
here: 0.045% taker fee (perp base tier) plus the builder's `f` tenths of a basis point.
"""

from __future__ import annotations

from typing import Any

import pytest
from hyperliquid.utils.signing import sign_approve_builder_fee
from hyperliquid.utils.signing import sign_withdraw_from_bridge_action

from simulator.engine import SimEngine

BUILDER = "0x" + "b1" * 20


def _user_signed(trader: Any, action: dict[str, Any], sign: Any, nonce_key: str) -> Any:
    nonce = trader.next_nonce(trader.engine.now or 1_760_000_000_000)
    action[nonce_key] = nonce
    signature = sign(trader.wallet, action, False)
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    return trader.engine.exchange(body, nonce)


def _approve(trader: Any, rate: str) -> Any:
    action = {"maxFeeRate": rate, "builder": BUILDER, "type": "approveBuilderFee"}
    return _user_signed(trader, action, sign_approve_builder_fee, "nonce")


def _order_with_builder(kit: Any, trader: Any, fee_tenths_bp: int, px: str, tif: str) -> Any:
    wire = kit.order_wire(1, True, px, "1", {"limit": {"tif": tif}})
    action = {
        "type": "order",
        "orders": [wire],
        "grouping": "na",
        "builder": {"b": BUILDER, "f": fee_tenths_bp},
    }
    return trader.l1(action)


def test_approval_sets_max_builder_fee(engine: SimEngine, alice: Any, kit: Any) -> None:
    body = {"type": "maxBuilderFee", "user": alice.address, "builder": BUILDER}
    assert engine.info(body, kit.T0) == 0
    assert _approve(alice, "0.01%") == {"status": "ok", "response": {"type": "default"}}
    assert engine.info(body, kit.T0) == 10


def test_approval_above_the_cap_or_off_the_grid_is_refused(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    assert _approve(alice, "0.2%")["status"] == "err"
    assert _approve(alice, "0.00001%")["status"] == "err"
    body = {"type": "maxBuilderFee", "user": alice.address, "builder": BUILDER}
    assert engine.info(body, kit.T0) == 0


def test_builder_above_the_approval_refuses_the_order(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    _approve(alice, "0.01%")
    response = _order_with_builder(kit, alice, 11, "2000", "Gtc")
    assert response == {"status": "err", "response": "Builder fee has not been approved."}
    assert engine.open_orders_of(alice.address) == []


def test_builder_fee_is_charged_on_each_fill_and_paid_to_the_builder(
    engine: SimEngine, alice: Any, bob: Any, kit: Any
) -> None:
    bob.order("ETH", False, "2500", "1")  # a resting ask without a builder
    _approve(alice, "0.01%")
    before = engine.accounts[alice.address].usdc
    status = kit.statuses(_order_with_builder(kit, alice, 10, "2500", "Ioc"))[0]
    assert status["filled"]["totalSz"] == "1.0"
    fill = engine.info({"type": "userFills", "user": alice.address}, kit.T0)[0]
    # 2500 notional: venue fee 0.045% = 1.125, builder 0.01% = 0.25; `fee` is the total.
    assert float(fill["builderFee"]) == pytest.approx(0.25)
    assert float(fill["fee"]) == pytest.approx(1.375)
    assert engine.accounts[alice.address].usdc == pytest.approx(before - 1.375)
    assert engine.accounts[BUILDER].usdc == pytest.approx(0.25)
    maker_fill = engine.info({"type": "userFills", "user": bob.address}, kit.T0)[0]
    assert "builderFee" not in maker_fill  # the builder was named by the taker's action only


def test_withdraw_takes_the_amount_and_records_the_fee(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    action = {"destination": "0x" + "0d" * 20, "amount": "10", "type": "withdraw3"}
    response = _user_signed(alice, action, sign_withdraw_from_bridge_action, "time")
    assert response == {"status": "ok", "response": {"type": "default"}}
    assert engine.accounts[alice.address].usdc == pytest.approx(100_000 - 10)
    ledger = engine.info(
        {"type": "userNonFundingLedgerUpdates", "user": alice.address, "startTime": 0}, kit.T0
    )
    assert ledger[-1]["delta"] == {
        "type": "withdraw",
        "usdc": "9.0",
        "nonce": ledger[-1]["delta"]["nonce"],
        "fee": "1.0",
    }


def test_withdraw_beyond_the_withdrawable_is_refused(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    action = {"destination": "0x" + "0d" * 20, "amount": "100001", "type": "withdraw3"}
    response = _user_signed(alice, action, sign_withdraw_from_bridge_action, "time")
    assert response == {"status": "err", "response": "Insufficient balance for transfer."}
    assert engine.accounts[alice.address].usdc == 100_000
