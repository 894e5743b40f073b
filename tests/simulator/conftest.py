"""Shared helpers for the simulator engine tests: real SDK-signed actions against a pure engine.

Signatures are produced by the unmodified hyperliquid-python-sdk (`sign_l1_action`,
`sign_agent`, `sign_usd_class_transfer_action`) with `eth_account` keys, never by the code under
test, so a test passes only if the engine recovers signers exactly like the venue.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.utils.signing import sign_agent
from hyperliquid.utils.signing import sign_l1_action
from hyperliquid.utils.signing import sign_usd_class_transfer_action

from jarvis.testkit import VENUE_CAPTURES
from simulator.conformance import NULLABLE_KEYS
from simulator.conformance import shape_errors
from simulator.conformance import shape_of
from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

FIXTURES = VENUE_CAPTURES
T0 = 1_760_000_000_000  # a fixed "now" (ms), 2025-10-09T08:53:20Z
ASSET = {"BTC": 0, "ETH": 1, "SOL": 2, "HYPE": 3}


def load_fixture(name: str) -> Any:
    """A venue capture from tests/resources/hyperliquid."""
    return json.loads((FIXTURES / name).read_text())


class Trader:
    """A wallet that signs actions with the SDK and sends them to the engine."""

    def __init__(self, engine: SimEngine, key: str) -> None:
        self.engine = engine
        self.wallet = Account.from_key(key)
        self.address = self.wallet.address.lower()
        self._last_nonce = 0

    def next_nonce(self, now_ms: int) -> int:
        """A fresh nonce near now (strictly increasing per wallet)."""
        self._last_nonce = max(self._last_nonce + 1, now_ms)
        return self._last_nonce

    def l1(
        self,
        action: dict[str, Any],
        now_ms: int = T0,
        *,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> dict[str, Any]:
        """Sign an L1 action with the SDK and post it."""
        nonce = self.next_nonce(now_ms) if nonce is None else nonce
        signature = sign_l1_action(self.wallet, action, vault, nonce, expires_after, False)
        body: dict[str, Any] = {
            "action": action,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": vault,
        }
        if expires_after is not None:
            body["expiresAfter"] = expires_after
        return self.engine.exchange(body, now_ms)

    def order(
        self,
        coin: str,
        is_buy: bool,
        px: str,
        sz: str,
        tif: str = "Gtc",
        *,
        reduce_only: bool = False,
        cloid: str | None = None,
        now_ms: int = T0,
        vault: str | None = None,
    ) -> dict[str, Any]:
        """Place one limit order given wire strings; returns the full response."""
        wire = order_wire(ASSET[coin], is_buy, px, sz, {"limit": {"tif": tif}}, reduce_only, cloid)
        return self.l1({"type": "order", "orders": [wire], "grouping": "na"}, now_ms, vault=vault)

    def approve_agent(self, agent: str, name: str = "", now_ms: int = T0) -> dict[str, Any]:
        """Approve an agent wallet the way the SDK does (unnamed: agentName dropped)."""
        nonce = self.next_nonce(now_ms)
        action: dict[str, Any] = {
            "type": "approveAgent",
            "agentAddress": agent,
            "agentName": name,
            "nonce": nonce,
        }
        signature = sign_agent(self.wallet, action, False)
        if name == "":
            del action["agentName"]
        body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
        return self.engine.exchange(body, now_ms)

    def usd_class_transfer(self, amount: str, to_perp: bool, now_ms: int = T0) -> dict[str, Any]:
        """Move USDC between spot and perp (user-signed)."""
        nonce = self.next_nonce(now_ms)
        action = {"type": "usdClassTransfer", "amount": amount, "toPerp": to_perp, "nonce": nonce}
        signature = sign_usd_class_transfer_action(self.wallet, action, False)
        body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
        return self.engine.exchange(body, now_ms)


def order_wire(
    asset: int,
    is_buy: bool,
    px: str,
    sz: str,
    order_type: dict[str, Any],
    reduce_only: bool = False,
    cloid: str | None = None,
) -> dict[str, Any]:
    """An order wire with keys in the SDK's order (a, b, p, s, r, t, c)."""
    wire: dict[str, Any] = {"a": asset, "b": is_buy, "p": px, "s": sz, "r": reduce_only}
    wire["t"] = order_type
    if cloid is not None:
        wire["c"] = cloid
    return wire


def trigger_type(trigger_px: str, tpsl: str, is_market: bool = True) -> dict[str, Any]:
    """A trigger order type with keys in the SDK's order (isMarket, triggerPx, tpsl)."""
    return {"trigger": {"isMarket": is_market, "triggerPx": trigger_px, "tpsl": tpsl}}


def statuses(response: dict[str, Any]) -> list[Any]:
    """The per-order/per-cancel statuses of an ok response."""
    assert response["status"] == "ok", response
    return list(response["response"]["data"]["statuses"])


@pytest.fixture
def engine() -> SimEngine:
    """A fresh testnet engine with BTC, ETH, SOL, HYPE at their default prices."""
    eng = SimEngine(list(DEFAULT_COINS.values()))
    eng.tick(T0)
    return eng


@pytest.fixture
def alice(engine: SimEngine) -> Trader:
    """A trader funded with $100,000."""
    trader = Trader(engine, "0x" + "a1" * 32)
    engine.credit_usdc(trader.address, 100_000.0)
    return trader


@pytest.fixture
def bob(engine: SimEngine) -> Trader:
    """A second trader funded with $100,000."""
    trader = Trader(engine, "0x" + "b2" * 32)
    engine.credit_usdc(trader.address, 100_000.0)
    return trader


@pytest.fixture
def carol(engine: SimEngine) -> Trader:
    """A third trader funded with $100,000."""
    trader = Trader(engine, "0x" + "c3" * 32)
    engine.credit_usdc(trader.address, 100_000.0)
    return trader


def assert_same_shape(actual: Any, expected: Any, nullable: frozenset[str] = NULLABLE_KEYS) -> None:
    """Same keys and value types as a venue capture (see simulator.conformance)."""
    errors = shape_errors(actual, shape_of(expected), nullable=nullable)
    assert not errors, "\n".join(errors)


class Kit:
    """Test helpers handed out as a fixture (test modules cannot import conftest)."""

    T0 = T0
    ASSET = ASSET
    Trader = Trader
    order_wire = staticmethod(order_wire)
    trigger_type = staticmethod(trigger_type)
    statuses = staticmethod(statuses)
    assert_same_shape = staticmethod(assert_same_shape)
    load_fixture = staticmethod(load_fixture)


@pytest.fixture
def kit() -> Kit:
    """Signing and shape helpers for engine tests."""
    return Kit()
