"""The simulator's read-only agent queries, `extraAgents` and `userRole`, in the venue's shapes.

The execution client decides at start whether its key may trade for the account from these two
answers, so their shapes must be the venue's (fixtures) and their content the engine's truth.
"""

from __future__ import annotations

from typing import Any

from simulator.engine import SimEngine

AGENT = "0x" + "1d" * 20
OTHER_AGENT = "0x" + "2e" * 20
SUB = "0x" + "3f" * 20
VAULT = "0x" + "4a" * 20
NOBODY = "0x" + "5b" * 20


def test_extra_agents_lists_named_agents_with_valid_until_in_the_venue_shape(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    until = kit.T0 + 86_400_000
    assert alice.approve_agent(AGENT, f"bot1 valid_until {until}")["status"] == "ok"
    assert alice.approve_agent(OTHER_AGENT, "")["status"] == "ok"  # unnamed: not listed

    answer = engine.info({"type": "extraAgents", "user": alice.address}, kit.T0)

    kit.assert_same_shape(answer, kit.load_fixture("info_extraAgents.json"))
    assert answer == [{"name": "bot1", "address": AGENT, "validUntil": until}]


def test_extra_agents_gives_agents_without_expiry_a_far_future_valid_until(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    assert alice.approve_agent(AGENT, "forever")["status"] == "ok"

    (entry,) = engine.info({"type": "extraAgents", "user": alice.address}, kit.T0)

    assert isinstance(entry["validUntil"], int)
    assert entry["validUntil"] > kit.T0 + 100 * 365 * 86_400_000


def test_extra_agents_of_an_unknown_user_is_empty(kit: Any, engine: SimEngine) -> None:
    assert engine.info({"type": "extraAgents", "user": NOBODY}, kit.T0) == []


def test_user_role_of_an_account_an_agent_and_an_unknown_address(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    assert alice.approve_agent(AGENT, "")["status"] == "ok"

    def role(user: str) -> Any:
        return engine.info({"type": "userRole", "user": user}, kit.T0)

    assert role(alice.address) == {"role": "user"}
    assert role(AGENT) == {"role": "agent", "data": {"user": alice.address}}
    assert role(AGENT.upper().replace("0X", "0x")) == {
        "role": "agent",
        "data": {"user": alice.address},
    }
    assert role(NOBODY) == {"role": "missing"}


def test_user_role_of_an_expired_agent_is_missing(kit: Any, engine: SimEngine, alice: Any) -> None:
    until = kit.T0 + 1_000
    assert alice.approve_agent(AGENT, f"short valid_until {until}")["status"] == "ok"

    before = engine.info({"type": "userRole", "user": AGENT}, until - 1)
    after = engine.info({"type": "userRole", "user": AGENT}, until)

    assert before == {"role": "agent", "data": {"user": alice.address}}
    assert after == {"role": "missing"}


def test_user_role_of_a_vault_and_a_sub_account(kit: Any, engine: SimEngine, alice: Any) -> None:
    engine.add_sub_account(alice.address, SUB)
    engine.add_vault(alice.address, VAULT)

    vault = engine.info({"type": "userRole", "user": VAULT}, kit.T0)
    sub = engine.info({"type": "userRole", "user": SUB}, kit.T0)

    kit.assert_same_shape(vault, kit.load_fixture("info_userRole.json"))
    assert vault == {"role": "vault"}
    assert sub == {"role": "subAccount", "data": {"master": alice.address}}


def test_a_vault_is_traded_with_vault_address_by_its_leader(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    engine.add_vault(alice.address, VAULT)
    engine.credit_usdc(VAULT, 10_000.0)

    bid = str(int(float(engine.all_mids()["BTC"]) * 0.95))

    answer = alice.order("BTC", True, bid, "0.01", vault=VAULT)

    assert "resting" in kit.statuses(answer)[0]
    assert engine.open_orders_of(VAULT)[0]["sz"] == "0.01"
