"""The per-user state channels: snapshot on subscribe, a frame only when the content changed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.engine import SimEngine
from simulator.state_feeds import StateFeeds

KEY = "0x" + "6b" * 32


def test_a_state_frame_is_due_only_when_its_content_changes(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    feeds = StateFeeds(engine)
    key = f"openOrders|{alice.address}"
    first = feeds.snapshot(key, "openOrders", alice.address, None, kit.T0)
    assert first == {"dex": "", "user": alice.address, "orders": []}
    assert feeds.changed(key, "openOrders", alice.address, None, kit.T0 + 1_000) is None
    alice.order("ETH", True, "2000", "0.1")
    frame = feeds.changed(key, "openOrders", alice.address, None, kit.T0 + 2_000)
    assert [o["limitPx"] for o in frame["orders"]] == ["2000.0"]
    assert feeds.changed(key, "openOrders", alice.address, None, kit.T0 + 3_000) is None


def test_the_server_clock_alone_is_not_a_change(engine: SimEngine, alice: Any, kit: Any) -> None:
    feeds = StateFeeds(engine)
    key = f"clearinghouseState|{alice.address}"
    feeds.snapshot(key, "clearinghouseState", alice.address, None, kit.T0)
    assert feeds.changed(key, "clearinghouseState", alice.address, None, kit.T0 + 5_000) is None
    engine.credit_usdc(alice.address, 1.0)
    frame = feeds.changed(key, "clearinghouseState", alice.address, None, kit.T0 + 6_000)
    assert frame["clearinghouseState"]["marginSummary"]["accountValue"] == "100001.0"


def test_ledger_stream_sends_a_snapshot_then_only_new_rows(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    feeds = StateFeeds(engine)
    key = f"userNonFundingLedgerUpdates|{alice.address}"
    kind = "userNonFundingLedgerUpdates"
    snapshot = feeds.snapshot(key, kind, alice.address, None, kit.T0)
    assert snapshot["isSnapshot"] is True
    assert [r["delta"]["type"] for r in snapshot["nonFundingLedgerUpdates"]] == ["deposit"]
    assert feeds.changed(key, kind, alice.address, None, kit.T0) is None
    assert alice.usd_class_transfer("10", False)["status"] == "ok"
    update = feeds.changed(key, kind, alice.address, None, kit.T0)
    assert "isSnapshot" not in update
    assert [r["delta"] for r in update["nonFundingLedgerUpdates"]] == [
        {"type": "accountClassTransfer", "usdc": "10.0", "toPerp": False}
    ]


# --- over a real socket ------------------------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[SimThread]:
    config = SimConfig(stepped=True, start_ms=int(time.time() * 1000), seed=5)
    with SimThread(config) as running:
        running.step(4)
        yield running


def _frames_until_pong(ws: ClientConnection) -> list[dict[str, Any]]:
    ws.send('{"method":"ping"}')
    out: list[dict[str, Any]] = []
    while True:
        text = str(ws.recv(timeout=10))
        if text == '{"channel":"pong"}':
            return out
        if text.startswith("{"):
            out.append(json.loads(text))


def _subscribe(ws: ClientConnection, sub: dict[str, Any]) -> None:
    ws.send(json.dumps({"method": "subscribe", "subscription": sub}))


def test_open_orders_channel_follows_placement_and_cancel(sim: SimThread) -> None:
    wallet = eth_account.Account.from_key(KEY)
    user = wallet.address.lower()
    sim.fund(user, 10_000.0)
    exchange = Exchange(wallet, sim.base_url)
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "openOrders", "user": user})
        first = [f for f in _frames_until_pong(ws) if f["channel"] == "openOrders"]
        assert first == [{"channel": "openOrders", "data": {"dex": "", "user": user, "orders": []}}]
        placed = exchange.order("ETH", True, 0.01, 2000.0, {"limit": {"tif": "Gtc"}})
        oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
        pushed = [f for f in _frames_until_pong(ws) if f["channel"] == "openOrders"]
        assert [o["oid"] for o in pushed[-1]["data"]["orders"]] == [oid]
        exchange.cancel("ETH", oid)
        pushed = [f for f in _frames_until_pong(ws) if f["channel"] == "openOrders"]
        assert pushed[-1]["data"]["orders"] == []


def test_active_asset_data_follows_a_leverage_change_within_a_second(sim: SimThread) -> None:
    wallet = eth_account.Account.from_key(KEY)
    user = wallet.address.lower()
    sim.fund(user, 10_000.0)
    exchange = Exchange(wallet, sim.base_url)
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "activeAssetData", "user": user, "coin": "BTC"})
        first = [f for f in _frames_until_pong(ws) if f["channel"] == "activeAssetData"]
        assert first[0]["data"]["leverage"] == {"type": "cross", "value": 20}
        assert exchange.update_leverage(5, "BTC")["status"] == "ok"
        sim.step(4)  # one second of venue time: the periodic state push
        pushed = [f for f in _frames_until_pong(ws) if f["channel"] == "activeAssetData"]
        assert pushed and pushed[-1]["data"]["leverage"] == {"type": "cross", "value": 5}


def test_unknown_dex_and_spot_active_asset_data_are_invalid(sim: SimThread) -> None:
    user = "0x" + "ab" * 20
    with connect(sim.ws_url) as ws:
        _subscribe(ws, {"type": "clearinghouseState", "user": user, "dex": "xyz"})
        _subscribe(ws, {"type": "activeAssetData", "user": user, "coin": "PURR/USDC"})
        errors = [f["data"] for f in _frames_until_pong(ws) if f["channel"] == "error"]
    assert errors == [
        f'Invalid subscription {{"type":"clearinghouseState","user":"{user}","dex":"xyz"}}',
        f'Invalid subscription {{"type":"activeAssetData","user":"{user}","coin":"PURR/USDC"}}',
    ]


def test_a_resubscribed_stream_starts_from_a_fresh_snapshot(
    engine: SimEngine, alice: Any, kit: Any
) -> None:
    feeds = StateFeeds(engine)
    key = f"openOrders|{alice.address}"
    feeds.snapshot(key, "openOrders", alice.address, None, kit.T0)
    feeds.retain(set())  # nobody listens any more
    # Without a baseline, the current state is due again (the same content, a new listener).
    frame = feeds.changed(key, "openOrders", alice.address, None, kit.T0)
    assert frame == {"dex": "", "user": alice.address, "orders": []}
