"""The execution client's start-up checks and config, against the real simulator.

Flows with a running node (orders, streams, reconciliation, recovery) are end-to-end tests in
``tests/e2e/test_execution_node*.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.test_kit.stubs.execution import TestExecStubs

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.execution import KeyNotApprovedError
from adapters.hyperliquid.execution import external_client_order_id
from adapters.hyperliquid.factories import build_exec_client
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.schemas.exchange import NoopAction
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import address_from_private_key
from simulator.app import SimConfig
from simulator.app import SimServer

MASTER_KEY = "0x" + "a1" * 32
AGENT_KEY = "0x" + "b2" * 32
STRANGER_KEY = "0x" + "c3" * 32
MASTER = address_from_private_key(MASTER_KEY)
_LAST_NONCE = [0]  # nonces of the master's actions strictly increase


def make_client(base_url: str, key: str, **overrides: Any) -> HyperliquidExecutionClient:
    """A client outside a node: real clock, bus and cache, the key passed directly."""
    clock = LiveClock()
    config = HyperliquidExecClientConfig(
        http_url=base_url, dead_man_switch_secs=0, dead_man_switch_required=False, **overrides
    )
    return build_exec_client(
        asyncio.get_running_loop(),
        MessageBus(TraderId("TEST-001"), clock),
        Cache(),
        clock,
        config,
        private_key=key,
    )


def signed_by_master(action: dict[str, Any]) -> dict[str, Any]:
    """An /exchange body signed by the master key as the SDK signs it."""
    signer = HyperliquidSigner(MASTER_KEY, is_mainnet=False)
    nonce = max(time.time_ns() // 1_000_000, _LAST_NONCE[0] + 1)
    _LAST_NONCE[0] = nonce
    if action["type"] == "approveAgent":
        action["nonce"] = nonce
        signature = signer.sign_user_signed_action(action)
        if action["agentName"] == "":
            action.pop("agentName")  # the SDK drops an empty name after signing
    else:
        signature = signer.sign_l1_action(action, nonce)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


async def approve_agent(sim: SimServer, agent: str, name: str = "") -> None:
    """The master approves an API wallet (user-signed action); `name` may carry valid_until."""
    action = {"type": "approveAgent", "agentAddress": agent, "agentName": name}
    answer = sim.venue.exchange(signed_by_master(action))
    assert answer["status"] == "ok", answer


async def check_fails(sim: SimServer, key: str, **overrides: Any) -> str:
    """The start-up check's error text for this key and config (it must fail)."""
    client = make_client(sim.base_url, key, **overrides)
    try:
        with pytest.raises(KeyNotApprovedError) as raised:
            await client._check_key_approved()
    finally:
        await client.http_client.close()
    return str(raised.value)


async def test_unapproved_key_fails_at_start_naming_both_addresses() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        text = await check_fails(sim, STRANGER_KEY, account_address=MASTER)
    assert address_from_private_key(STRANGER_KEY) in text
    assert MASTER in text
    assert "'missing'" in text


async def test_approved_agent_key_may_trade_for_its_master() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        await approve_agent(sim, address_from_private_key(AGENT_KEY))
        client = make_client(sim.base_url, AGENT_KEY, account_address=MASTER)
        await client._check_key_approved()  # does not raise
        await client.http_client.close()
    assert client.user == MASTER
    assert client.signer_address == address_from_private_key(AGENT_KEY)


async def test_named_agent_approved_until_later_may_trade() -> None:
    until = time.time_ns() // 1_000_000 + 3_600_000
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        agent = address_from_private_key(AGENT_KEY)
        await approve_agent(sim, agent, f"bot1 valid_until {until}")
        client = make_client(sim.base_url, AGENT_KEY, account_address=MASTER)
        await client._check_key_approved()  # does not raise
        await client.http_client.close()


async def test_expired_named_agent_fails_at_start_naming_both_addresses_and_expiry() -> None:
    until = time.time_ns() // 1_000_000 - 60_000
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        agent = address_from_private_key(AGENT_KEY)
        await approve_agent(sim, agent, f"bot1 valid_until {until}")
        text = await check_fails(sim, AGENT_KEY, account_address=MASTER)
    assert agent in text and MASTER in text
    assert "'bot1'" in text and "expired" in text


async def test_agent_of_another_account_fails_naming_its_master() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        await approve_agent(sim, address_from_private_key(AGENT_KEY))
        other = address_from_private_key(STRANGER_KEY)
        sim.fund(other, 1_000)
        text = await check_fails(sim, AGENT_KEY, account_address=other)
    assert address_from_private_key(AGENT_KEY) in text and other in text
    assert f"'agent' of {MASTER}" in text


async def test_key_check_leaves_an_existing_dead_man_switch_alone() -> None:
    cancel_at = time.time_ns() // 1_000_000 + 120_000
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000, volume_usd=1_000_000)  # the venue's dead-man switch volume gate
        await approve_agent(sim, address_from_private_key(AGENT_KEY))
        answer = sim.venue.exchange(signed_by_master({"type": "scheduleCancel", "time": cancel_at}))
        assert answer["status"] == "ok", answer
        for key in (AGENT_KEY, MASTER_KEY):
            client = make_client(sim.base_url, key, account_address=MASTER)
            await client._check_key_approved()
            await client.http_client.close()
        scheduled = sim.venue.engine.scheduled.get(MASTER)
    assert scheduled == cancel_at


async def test_key_of_the_account_itself_needs_no_approval() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        client = make_client(sim.base_url, MASTER_KEY)
        await client._check_key_approved()  # does not raise (nothing funded, nothing asked)
        await client.http_client.close()
    assert client.signer_address == client.user == MASTER


async def test_vault_led_by_the_account_passes_and_a_stranger_address_fails() -> None:
    vault = "0x" + "d4" * 20
    stranger = "0x" + "e5" * 20
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        sim.venue.engine.add_vault(MASTER, vault)
        await approve_agent(sim, address_from_private_key(AGENT_KEY))
        for key in (MASTER_KEY, AGENT_KEY):
            client = make_client(sim.base_url, key, account_address=MASTER, vault_address=vault)
            await client._check_key_approved()  # does not raise
            await client.http_client.close()
        text = await check_fails(sim, MASTER_KEY, vault_address=stranger)
    assert stranger in text and MASTER in text


async def test_sub_account_of_another_master_fails_naming_it() -> None:
    sub = "0x" + "f6" * 20
    other = address_from_private_key(STRANGER_KEY)
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        sim.venue.engine.add_sub_account(other, sub)
        text = await check_fails(sim, MASTER_KEY, vault_address=sub)
    assert sub in text and MASTER in text and f"'subAccount' of {other}" in text


async def test_vault_address_is_the_user_queried_and_traded_for() -> None:
    vault = "0x" + "d4" * 20
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        client = make_client(sim.base_url, MASTER_KEY, vault_address=vault)
        body = client.signed_body(_noop())
        await client.http_client.close()
    assert client.user == vault
    assert body["vaultAddress"] == vault


async def test_nonces_strictly_increase_even_within_one_millisecond() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        client = make_client(sim.base_url, MASTER_KEY)
        nonces = [client.signed_body(_noop())["nonce"] for _ in range(50)]
        await client.http_client.close()
    assert nonces == sorted(set(nonces))


def test_missing_key_names_the_environment_variable_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("JARVIS_ABSENT_KEY", raising=False)
    config = HyperliquidExecClientConfig(private_key_env="JARVIS_ABSENT_KEY")
    clock = LiveClock()
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="JARVIS_ABSENT_KEY"):
            build_exec_client(
                loop, MessageBus(TraderId("TEST-001"), clock), Cache(), clock, config, environ={}
            )
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"leverage": {"BTC": 0}}, "leverage"),
        ({"isolated_coins": ("ETH",)}, "isolated_coins"),
        ({"dead_man_switch_secs": 3.0}, "dead_man_switch_secs"),
        ({"dead_man_switch_secs": 30.0, "dead_man_refresh_secs": 30.0}, "dead_man_refresh_secs"),
        ({"account_address": "0x123"}, "account_address"),
        ({"max_slippage_bps": 0}, "max_slippage_bps"),
    ],
)
def test_bad_exec_config_fails_loudly_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        HyperliquidExecClientConfig(**overrides)


VENUE_CANCEL_STATUSES = (
    "scheduledCancel",
    "marginCanceled",
    "reduceOnlyCanceled",
    "siblingFilledCanceled",
    "liquidatedCanceled",
    "selfTradeCanceled",
    "openInterestCapCanceled",
    "delistedCanceled",
)


class Streamed:
    """A client outside a node with one accepted order of its own in the cache; the events it
    emits are caught where the execution engine would receive them."""

    OID = 10_000_000_042

    def __init__(self) -> None:
        self.client = make_client("http://127.0.0.1:9", MASTER_KEY)
        self.events: list[Any] = []
        self.client._msgbus.register(endpoint="ExecEngine.process", handler=self.events.append)
        self.order = TestExecStubs.limit_order(client_order_id=ClientOrderId("O-1"))
        self.client._cache.add_order(self.order)
        now = self.client._clock.timestamp_ns()
        self.client.tracked_orders.track(self.order, now)
        self.client._accept(self.order.client_order_id, self.OID, now)
        self.cloid = cloid_from_client_order_id(self.order.client_order_id)

    def push(self, channel: str, data: Any) -> None:
        """One user-stream frame, as the socket hands it to the client."""
        raw = json.dumps({"channel": channel, "data": data}).encode()
        self.client._on_frame(raw, 1, 0, "conn-1", channel)

    def order_update(self, status: str, oid: int | None = None) -> None:
        order = {
            "coin": "BTC",
            "side": "B",
            "limitPx": "1.0",
            "sz": "100000.0",
            "oid": self.OID if oid is None else oid,
            "timestamp": 1_760_000_000_000,
            "origSz": "100000.0",
            "cloid": self.cloid,
        }
        self.push(
            "orderUpdates",
            [{"order": order, "status": status, "statusTimestamp": 1_760_000_000_500}],
        )

    def cancels(self) -> list[OrderCanceled]:
        return [e for e in self.events if isinstance(e, OrderCanceled)]


@pytest.mark.parametrize("status", VENUE_CANCEL_STATUSES)
async def test_venue_cancel_status_of_own_order_becomes_order_canceled_with_a_reason(
    status: str,
) -> None:
    streamed = Streamed()

    streamed.order_update(status)
    streamed.push("user", {"nonUserCancel": [{"coin": "BTC", "oid": Streamed.OID}]})

    (cancel,) = streamed.cancels()
    assert cancel.client_order_id == streamed.order.client_order_id
    assert cancel.venue_order_id == VenueOrderId(str(Streamed.OID))
    assert cancel.ts_event == 1_760_000_000_500 * 1_000_000
    assert streamed.client.counters.venue_cancels == 1
    reason = venue_cancel_reason(status)
    assert reason is not None and reason.startswith(f"{status}: ")
    await streamed.client.http_client.close()


async def test_non_user_cancel_alone_cancels_own_order_as_a_venue_cancel() -> None:
    streamed = Streamed()

    streamed.push("user", {"nonUserCancel": [{"coin": "BTC", "oid": Streamed.OID}]})

    (cancel,) = streamed.cancels()
    assert cancel.venue_order_id == VenueOrderId(str(Streamed.OID))
    assert streamed.client.counters.venue_cancels == 1
    await streamed.client.http_client.close()


async def test_user_cancel_is_order_canceled_without_a_venue_reason() -> None:
    streamed = Streamed()

    streamed.order_update("canceled")

    assert len(streamed.cancels()) == 1
    assert streamed.client.counters.venue_cancels == 0
    await streamed.client.http_client.close()


async def test_non_user_cancel_of_a_replaced_modify_leg_leaves_the_order_open() -> None:
    streamed = Streamed()
    tracked = streamed.client.tracked_orders.tracked[streamed.order.client_order_id]
    streamed.client.tracked_orders.bind(tracked, Streamed.OID + 1)  # the modify's new leg
    tracked.old_oids.add(Streamed.OID)

    streamed.push("user", {"nonUserCancel": [{"coin": "BTC", "oid": Streamed.OID}]})

    assert streamed.cancels() == []
    await streamed.client.http_client.close()


def test_external_orders_get_deterministic_client_order_ids() -> None:
    assert external_client_order_id(10_000_000_042).value == "HL-10000000042"
    assert external_client_order_id(7) == external_client_order_id(7)


def _noop() -> NoopAction:
    return NoopAction()
