"""The /exchange envelope: signers, agents, nonces, vaults, expiry, rate limits."""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

VAULT = "0x" + "4a" * 20


def test_unknown_signer_gets_venue_text_with_recovered_address(kit: Any, engine: SimEngine) -> None:
    stranger = kit.Trader(engine, "0x" + "e5" * 32)

    response = stranger.order("ETH", True, "2400", "0.1")

    assert response == {
        "status": "err",
        "response": f"User or API Wallet {stranger.address} does not exist.",
    }


def test_known_address_without_deposit_must_deposit(kit: Any, engine: SimEngine) -> None:
    empty = kit.Trader(engine, "0x" + "e6" * 32)
    engine.credit_usdc(empty.address, 0.0)

    response = empty.order("ETH", True, "2400", "0.1")

    assert response == {
        "status": "err",
        "response": f"Must deposit before performing actions. User: {empty.address}",
    }


def test_tampered_action_recovers_a_different_unknown_address(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    action = {
        "type": "order",
        "orders": [kit.order_wire(1, True, "2400", "0.1", {"limit": {"tif": "Gtc"}})],
        "grouping": "na",
    }
    from hyperliquid.utils.signing import sign_l1_action

    signature = sign_l1_action(alice.wallet, action, None, kit.T0, None, False)
    action["orders"][0]["p"] = "2401"

    response = engine.exchange(
        {"action": action, "nonce": kit.T0, "signature": signature, "vaultAddress": None}, kit.T0
    )

    assert response["status"] == "err"
    assert response["response"].startswith("User or API Wallet 0x")
    assert alice.address not in response["response"]


def test_mainnet_signature_is_not_valid_on_testnet_engine(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    from hyperliquid.utils.signing import sign_l1_action

    action = {"type": "scheduleCancel"}
    signature = sign_l1_action(alice.wallet, action, None, kit.T0, None, True)

    response = engine.exchange(
        {"action": action, "nonce": kit.T0, "signature": signature, "vaultAddress": None}, kit.T0
    )

    assert response["status"] == "err"
    assert "does not exist" in response["response"]


def test_approved_agent_trades_for_its_master(kit: Any, engine: SimEngine, alice: Any) -> None:
    agent = kit.Trader(engine, "0x" + "ad" * 32)
    assert agent.order("ETH", True, "2400", "0.1")["status"] == "err"

    approval = alice.approve_agent(agent.address)
    response = agent.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 1)

    assert approval == {"status": "ok", "response": {"type": "default"}}
    oid = kit.statuses(response)[0]["resting"]["oid"]
    assert [o["oid"] for o in engine.open_orders_of(alice.address)] == [oid]
    assert engine.open_orders_of(agent.address) == []
    # The master can cancel what its agent placed: same account.
    cancel = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]}, kit.T0 + 2)
    assert kit.statuses(cancel) == ["success"]


def test_agent_with_expired_validity_is_refused(kit: Any, engine: SimEngine, alice: Any) -> None:
    agent = kit.Trader(engine, "0x" + "ae" * 32)
    alice.approve_agent(agent.address, f"tmp valid_until {kit.T0 + 1_000}")

    before = agent.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 500)
    after = agent.order("ETH", True, "2400", "0.1", now_ms=kit.T0 + 2_000)

    assert before["status"] == "ok"
    assert after["status"] == "err"


def test_reused_nonce_is_rejected(kit: Any, engine: SimEngine, alice: Any) -> None:
    action = {"type": "noop"}
    first = alice.l1(action, nonce=kit.T0)

    again = alice.l1(action, nonce=kit.T0)

    assert first["status"] == "ok"
    assert again == {"status": "err", "response": f"Invalid nonce: duplicate nonce {kit.T0}"}


def test_nonces_out_of_order_are_fine_but_not_below_the_100_highest(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    action = {"type": "noop"}
    assert alice.l1(action, nonce=kit.T0 + 10)["status"] == "ok"
    assert alice.l1(action, nonce=kit.T0 + 5)["status"] == "ok"
    for i in range(100):
        assert alice.l1(action, nonce=kit.T0 + 100 + i)["status"] == "ok"

    too_low = alice.l1(action, nonce=kit.T0 + 50)

    assert too_low["status"] == "err"
    assert too_low["response"].startswith("Invalid nonce")


def test_nonce_outside_the_time_window_is_rejected(kit: Any, engine: SimEngine, alice: Any) -> None:
    day = 86_400_000
    action = {"type": "noop"}

    old = alice.l1(action, nonce=kit.T0 - 2 * day - 1)
    future = alice.l1(action, nonce=kit.T0 + day + 1)
    fine = alice.l1(action, nonce=kit.T0 - 2 * day + 1000)

    assert old["status"] == "err" and old["response"].startswith("Invalid nonce")
    assert future["status"] == "err" and future["response"].startswith("Invalid nonce")
    assert fine["status"] == "ok"


def test_expires_after_in_the_past_rejects_the_action(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    action = {"type": "noop"}

    expired = alice.l1(action, kit.T0, expires_after=kit.T0 - 1)
    live = alice.l1(action, kit.T0, expires_after=kit.T0 + 5_000)

    assert expired["status"] == "err"
    assert live == {"status": "ok", "response": {"type": "default"}}


def test_vault_address_trades_for_a_sub_account_of_the_signer(
    kit: Any, engine: SimEngine, alice: Any, bob: Any
) -> None:
    created = alice.l1({"type": "createSubAccount", "name": "desk"})
    sub = created["response"]["data"]
    transfer = alice.l1(
        {
            "type": "subAccountTransfer",
            "subAccountUser": sub,
            "isDeposit": True,
            "usd": 5_000_000_000,
        }
    )

    response = alice.order("ETH", True, "2400", "0.1", vault=sub)
    foreign = bob.order("ETH", True, "2400", "0.1", vault=sub)

    assert transfer["status"] == "ok"
    oid = kit.statuses(response)[0]["resting"]["oid"]
    assert [o["oid"] for o in engine.open_orders_of(sub)] == [oid]
    assert engine.open_orders_of(alice.address) == []
    assert foreign["status"] == "err"
    state = engine.info({"type": "clearinghouseState", "user": sub}, kit.T0)
    assert state["marginSummary"]["accountValue"] == "5000.0"


def test_a_vault_is_traded_with_vault_address_by_its_leader(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    engine.add_vault(alice.address, VAULT)
    engine.credit_usdc(VAULT, 10_000.0)

    bid = str(int(float(engine.all_mids()["BTC"]) * 0.95))

    answer = alice.order("BTC", True, bid, "0.01", vault=VAULT)

    assert "resting" in kit.statuses(answer)[0]
    assert engine.open_orders_of(VAULT)[0]["sz"] == "0.01"


def test_address_rate_limit_uses_venue_text(kit: Any, engine: SimEngine) -> None:

    tight = SimEngine(list(DEFAULT_COINS.values()))
    trader = kit.Trader(tight, "0x" + "f1" * 32)
    tight.credit_usdc(trader.address, 1000.0)
    tight.accounts[trader.address].n_requests = 10_000

    response = trader.l1({"type": "scheduleCancel"})

    assert response == {
        "status": "err",
        "response": "Too many cumulative requests sent (10001 > 10000) for cumulative volume "
        "traded $0.00. Place taker orders to free up 1 request per USDC traded.",
    }


def test_exchange_response_shapes(kit: Any, engine: SimEngine, alice: Any, bob: Any) -> None:
    resting = alice.order("ETH", True, "2400", "0.1")
    bob.order("ETH", False, "2500", "1")
    filled = alice.order("ETH", True, "2500", "0.1", "Ioc")
    error = alice.order("ETH", True, "2500", "0.001")
    oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]
    cancel = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})
    cancel_error = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})
    default = alice.l1({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 3})

    kit.assert_same_shape(resting, kit.load_fixture("exchange_order_resting.json"))
    kit.assert_same_shape(filled, kit.load_fixture("exchange_order_filled_docs.json"))
    kit.assert_same_shape(error, kit.load_fixture("exchange_order_error.json"))
    kit.assert_same_shape(cancel, kit.load_fixture("exchange_cancel_success.json"))
    kit.assert_same_shape(cancel_error, kit.load_fixture("exchange_cancel_error.json"))
    assert default == kit.load_fixture("exchange_default_ok.json")


def test_user_signed_transfer_signed_for_mainnet_is_refused_on_a_testnet_venue(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    from hyperliquid.utils.signing import sign_usd_class_transfer_action

    action = {"type": "usdClassTransfer", "amount": "1000", "toPerp": False, "nonce": kit.T0}
    signature = sign_usd_class_transfer_action(alice.wallet, action, True)
    assert action["hyperliquidChain"] == "Mainnet"  # the body says which chain it was signed for

    response = engine.exchange(
        {"action": action, "nonce": kit.T0, "signature": signature, "vaultAddress": None}, kit.T0
    )

    assert response["status"] == "err"
    assert "does not exist" in response["response"]
    assert alice.address not in response["response"]
    spot = engine.info({"type": "spotClearinghouseState", "user": alice.address}, kit.T0)
    assert spot["balances"] == []


def test_agent_approval_signed_for_mainnet_does_not_approve_on_a_testnet_venue(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    from hyperliquid.utils.signing import sign_agent

    agent = "0x" + "1d" * 20
    action = {"type": "approveAgent", "agentAddress": agent, "agentName": "x", "nonce": kit.T0}
    signature = sign_agent(alice.wallet, action, True)

    response = engine.exchange(
        {"action": action, "nonce": kit.T0, "signature": signature, "vaultAddress": None}, kit.T0
    )

    assert response["status"] == "err"
    assert engine.info({"type": "userRole", "user": agent}, kit.T0) == {"role": "missing"}
