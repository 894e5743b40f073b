"""The execution client's start-up checks and config, against the real simulator.

Flows with a running node (orders, streams, reconciliation, recovery) are end-to-end tests in
``tests/e2e/test_execution_node*.py``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.model.identifiers import TraderId

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.execution import HyperliquidExecutionClient
from adapters.hyperliquid.execution import KeyNotApprovedError
from adapters.hyperliquid.execution import external_client_order_id
from adapters.hyperliquid.schemas.exchange import NoopAction
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import address_from_private_key
from adapters.hyperliquid.sim.app import SimConfig
from adapters.hyperliquid.sim.app import SimServer

MASTER_KEY = "0x" + "a1" * 32
AGENT_KEY = "0x" + "b2" * 32
STRANGER_KEY = "0x" + "c3" * 32
MASTER = address_from_private_key(MASTER_KEY)


def make_client(base_url: str, key: str, **overrides: Any) -> HyperliquidExecutionClient:
    """A client outside a node: real clock, bus and cache, the key passed directly."""
    clock = LiveClock()
    config = HyperliquidExecClientConfig(http_url=base_url, dead_man_switch_secs=0, **overrides)
    return HyperliquidExecutionClient(
        asyncio.get_running_loop(),
        MessageBus(TraderId("TEST-001"), clock),
        Cache(),
        clock,
        config,
        private_key=key,
    )


async def approve_agent(sim: SimServer, agent: str) -> None:
    """The master approves an API wallet, signed as the SDK does (user-signed action)."""
    signer = HyperliquidSigner(MASTER_KEY, is_mainnet=False)
    nonce = time.time_ns() // 1_000_000
    action = {"type": "approveAgent", "agentAddress": agent, "agentName": "", "nonce": nonce}
    signature = signer.sign_user_signed_action(action)
    action.pop("agentName")  # the SDK drops an empty name after signing
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    answer = sim.venue.exchange(body)
    assert answer["status"] == "ok", answer


async def test_unapproved_key_fails_at_start_naming_both_addresses() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        client = make_client(sim.base_url, STRANGER_KEY, account_address=MASTER)
        stranger = address_from_private_key(STRANGER_KEY)
        with pytest.raises(KeyNotApprovedError) as raised:
            await client._check_key_approved()
        await client.http_client.close()
    assert stranger in str(raised.value)
    assert MASTER in str(raised.value)


async def test_approved_agent_key_may_trade_for_its_master() -> None:
    async with SimServer(SimConfig(coins=("BTC",), market=False)) as sim:
        sim.fund(MASTER, 1_000)
        await approve_agent(sim, address_from_private_key(AGENT_KEY))
        client = make_client(sim.base_url, AGENT_KEY, account_address=MASTER)
        await client._check_key_approved()  # does not raise
        await client.http_client.close()
    assert client.user == MASTER
    assert client.signer_address == address_from_private_key(AGENT_KEY)


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
            HyperliquidExecutionClient(
                loop, MessageBus(TraderId("TEST-001"), clock), Cache(), clock, config
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


def test_external_orders_get_deterministic_client_order_ids() -> None:
    assert external_client_order_id(10_000_000_042).value == "HL-10000000042"
    assert external_client_order_id(7) == external_client_order_id(7)


def _noop() -> NoopAction:
    return NoopAction()
