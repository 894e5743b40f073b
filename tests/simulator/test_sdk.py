"""The unmodified hyperliquid-python-sdk trades against the simulator as it would on the venue."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread

MASTER_KEY = "0x" + "a1" * 32
TAKER_KEY = "0x" + "b2" * 32


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    config = SimConfig(stepped=True, start_ms=int(time.time() * 1000), seed=13)
    with SimThread(config) as running:
        running.step(8)
        yield running


@pytest.fixture(scope="module")
def master(sim: SimThread) -> Exchange:
    wallet = eth_account.Account.from_key(MASTER_KEY)
    sim.fund(wallet.address, 500_000.0)
    return Exchange(wallet, sim.base_url)


@pytest.fixture(scope="module")
def info(sim: SimThread) -> Info:
    return Info(sim.base_url, skip_ws=True)


def _mid(info: Info, coin: str) -> float:
    return float(info.all_mids()[coin])


def _status(response: dict[str, Any], i: int = 0) -> Any:
    assert response["status"] == "ok", response
    return response["response"]["data"]["statuses"][i]


def test_place_modify_and_cancel_a_resting_order(master: Exchange, info: Info) -> None:
    user = master.wallet.address
    px = round(_mid(info, "ETH") * 0.9, 1)
    oid = _status(master.order("ETH", True, 0.05, px, {"limit": {"tif": "Gtc"}}))["resting"]["oid"]
    assert info.query_order_by_oid(user, oid)["order"]["status"] == "open"

    new_px = round(px * 0.99, 1)
    modified = master.modify_order(oid, "ETH", True, 0.06, new_px, {"limit": {"tif": "Gtc"}})
    assert modified["status"] == "ok", modified
    open_orders = [o for o in info.open_orders(user) if o["coin"] == "ETH"]
    assert len(open_orders) == 1
    assert float(open_orders[0]["limitPx"]) == new_px
    assert open_orders[0]["sz"] == "0.06"

    assert _status(master.cancel("ETH", open_orders[0]["oid"])) == "success"
    assert not [o for o in info.open_orders(user) if o["coin"] == "ETH"]
    error = _status(master.cancel("ETH", open_orders[0]["oid"]))
    # the text observed live, with the asset suffix (exchange_error_strings.json)
    assert error == {"error": "Order was never placed, already canceled, or filled. asset=1"}


def test_cancel_by_cloid_and_query_by_cloid(master: Exchange, info: Info) -> None:
    user = master.wallet.address
    cloid = Cloid.from_int(777)
    px = round(_mid(info, "SOL") * 0.8, 2)
    master.order("SOL", True, 1.0, px, {"limit": {"tif": "Alo"}}, cloid=cloid)
    status = info.query_order_by_cloid(user, cloid)
    assert status["order"]["order"]["cloid"] == cloid.to_raw()
    assert _status(master.cancel_by_cloid("SOL", cloid)) == "success"
    assert info.query_order_by_cloid(user, cloid)["order"]["status"] == "canceled"


def test_bracket_order_fills_entry_and_stop_loss_fires_on_the_mark(
    sim: SimThread, master: Exchange, info: Info
) -> None:
    user = master.wallet.address
    mid = _mid(info, "BTC")
    entry = {
        "coin": "BTC",
        "is_buy": True,
        "sz": 0.01,
        "limit_px": round(mid * 1.01),
        "order_type": {"limit": {"tif": "Gtc"}},
        "reduce_only": False,
    }
    tp = {
        "coin": "BTC",
        "is_buy": False,
        "sz": 0.01,
        "limit_px": round(mid * 1.2),
        "order_type": {"trigger": {"isMarket": True, "triggerPx": round(mid * 1.2), "tpsl": "tp"}},
        "reduce_only": True,
    }
    sl = {
        "coin": "BTC",
        "is_buy": False,
        "sz": 0.01,
        "limit_px": round(mid * 0.9),
        "order_type": {"trigger": {"isMarket": True, "triggerPx": round(mid * 0.95), "tpsl": "sl"}},
        "reduce_only": True,
    }
    response = master.bulk_orders([entry, tp, sl], grouping="normalTpsl")
    statuses = response["response"]["data"]["statuses"]
    assert "filled" in statuses[0]
    assert statuses[1:] == ["waitingForTrigger", "waitingForTrigger"]
    triggers = [o for o in info.frontend_open_orders(user) if o["coin"] == "BTC" and o["isTrigger"]]
    assert sorted(o["orderType"] for o in triggers) == ["Stop Market", "Take Profit Market"]
    position = [
        p["position"]
        for p in info.user_state(user)["assetPositions"]
        if p["position"]["coin"] == "BTC"
    ]
    assert position and float(position[0]["szi"]) == pytest.approx(0.01)

    sim.set_oracle("BTC", round(mid * 0.93))
    sim.step(2)
    positions = [
        p for p in info.user_state(user)["assetPositions"] if p["position"]["coin"] == "BTC"
    ]
    assert not positions or float(positions[0]["position"]["szi"]) == 0
    assert not [o for o in info.frontend_open_orders(user) if o["coin"] == "BTC"]
    sim.set_oracle("BTC", mid)
    sim.step(2)


def test_agent_wallet_trades_for_its_master(sim: SimThread, master: Exchange, info: Info) -> None:
    result, agent_key = master.approve_agent()
    assert result == {"status": "ok", "response": {"type": "default"}}
    agent = eth_account.Account.from_key(agent_key)
    as_agent = Exchange(agent, sim.base_url, account_address=master.wallet.address)
    px = round(_mid(info, "ETH") * 0.85, 1)
    oid = _status(as_agent.order("ETH", True, 0.05, px, {"limit": {"tif": "Gtc"}}))["resting"][
        "oid"
    ]
    assert oid in [o["oid"] for o in info.open_orders(master.wallet.address)]
    assert info.open_orders(agent.address) == []
    assert _status(as_agent.cancel("ETH", oid)) == "success"


def test_unknown_signer_is_rejected_with_the_venue_text(sim: SimThread) -> None:
    stranger = eth_account.Account.from_key("0x" + "c3" * 32)
    response = Exchange(stranger, sim.base_url).order(
        "ETH", True, 0.05, 1000.0, {"limit": {"tif": "Gtc"}}
    )
    assert response["status"] == "err"
    address = stranger.address.lower()
    assert response["response"] in (
        f"User or API Wallet {address} does not exist.",
        f"Must deposit before performing actions. User: {address}",
    )


def test_every_info_type_answers(sim: SimThread, master: Exchange, info: Info) -> None:
    user = master.wallet.address
    master.market_open("SOL", True, 1.0)
    sim.step(4)
    now = int(time.time() * 1000)
    assert [a["name"] for a in info.meta()["universe"]] == ["BTC", "ETH", "SOL"]
    assert info.spot_meta()["universe"][0]["name"] == "PURR/USDC"
    meta, ctxs = info.meta_and_asset_ctxs()
    assert len(ctxs) == len(meta["universe"])
    spot_meta, spot_ctxs = info.spot_meta_and_asset_ctxs()
    assert len(spot_ctxs) == len(spot_meta["universe"])
    assert set(info.all_mids()) >= {"BTC", "ETH", "SOL"}
    assert len(info.l2_snapshot("BTC")["levels"]) == 2
    assert info.candles_snapshot("BTC", "1m", now - 3_600_000, now + 60_000)
    state = info.user_state(user)
    assert float(state["marginSummary"]["accountValue"]) > 0
    assert "balances" in info.spot_user_state(user)
    assert isinstance(info.open_orders(user), list)
    assert isinstance(info.frontend_open_orders(user), list)
    assert info.query_order_by_oid(user, 1) == {"status": "unknownOid"}
    assert info.historical_orders(user)
    fills = info.user_fills(user)
    assert fills and fills[0]["coin"] in ("BTC", "SOL", "ETH")
    assert info.user_fills_by_time(user, 0)
    assert isinstance(info.user_funding_history(user, 0), list)
    assert isinstance(info.funding_history("BTC", 0), list)
    assert "nRequestsCap" in info.user_rate_limit(user)
    assert "feeSchedule" in info.user_fees(user)
    assert info.post("/info", {"type": "recentTrades", "coin": "BTC"})
    assert info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 3})["levels"]


def test_update_leverage_and_isolated_margin(master: Exchange, info: Info) -> None:
    assert master.update_leverage(5, "ETH", is_cross=False)["status"] == "ok"
    master.market_open("ETH", True, 0.1)
    assert master.update_isolated_margin(10.0, "ETH")["status"] == "ok"
    position = next(
        p["position"]
        for p in info.user_state(master.wallet.address)["assetPositions"]
        if p["position"]["coin"] == "ETH"
    )
    assert position["leverage"]["type"] == "isolated"
    assert position["leverage"]["value"] == 5
    master.market_close("ETH")


def _wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sdk_websocket_manager_receives_every_channel(sim: SimThread, master: Exchange) -> None:
    user = master.wallet.address
    ws_info = Info(sim.base_url, skip_ws=False)
    got: dict[str, list[Any]] = {}
    lock = threading.Lock()

    def on(name: str) -> Callable[[Any], None]:
        def callback(msg: Any) -> None:
            with lock:
                got.setdefault(name, []).append(msg)

        return callback

    try:
        subs: list[Any] = [
            {"type": "allMids"},
            {"type": "l2Book", "coin": "BTC"},
            {"type": "trades", "coin": "BTC"},
            {"type": "bbo", "coin": "BTC"},
            {"type": "candle", "coin": "BTC", "interval": "1m"},
            {"type": "activeAssetCtx", "coin": "BTC"},
            {"type": "orderUpdates", "user": user},
            {"type": "userEvents", "user": user},
            {"type": "userFills", "user": user},
            {"type": "userFundings", "user": user},
        ]
        for sub in subs:
            ws_info.subscribe(sub, on(sub["type"]))
        assert ws_info.ws_manager is not None
        _wait_for(lambda: ws_info.ws_manager.ws_ready)  # type: ignore[union-attr]
        _wait_for(lambda: "userFills" in got)
        master.market_open("BTC", True, 0.002)
        sim.step(8)
        sim.jump(3_600_000)  # funding for the open position
        sim.step(8)
        expected = {s["type"] for s in subs}
        _wait_for(lambda: expected <= set(got))
        _wait_for(lambda: any("funding" in m["data"] for m in got["userEvents"]))
        _wait_for(lambda: len(got["userFundings"]) >= 2)  # snapshot, then the payment
    finally:
        ws_info.disconnect_websocket()
    assert got["userFills"][0]["data"]["isSnapshot"] is True
    assert any("fills" in m["data"] for m in got["userEvents"])
    assert any("funding" in m["data"] for m in got["userEvents"])
    assert got["orderUpdates"][0]["channel"] == "orderUpdates"
    assert got["candle"][-1]["data"]["s"] == "BTC"


def test_resting_order_filled_by_another_account_notifies_its_owner(
    sim: SimThread, master: Exchange, info: Info
) -> None:
    taker_wallet = eth_account.Account.from_key(TAKER_KEY)
    sim.fund(taker_wallet.address, 100_000.0)
    taker = Exchange(taker_wallet, sim.base_url)
    user = master.wallet.address.lower()
    with connect(sim.ws_url) as ws:
        ws.send(
            json.dumps(
                {"method": "subscribe", "subscription": {"type": "notification", "user": user}}
            )
        )
        book = info.l2_snapshot("ETH")["levels"]
        best_bid = float(book[0][0]["px"])
        best_ask = float(book[1][0]["px"])
        px = round((best_bid + best_ask) / 2, 1)
        assert best_bid < px < best_ask  # the makers quote a spread wider than one tick
        master.order("ETH", True, 0.02, px, {"limit": {"tif": "Alo"}})
        taker.order("ETH", False, 0.02, px, {"limit": {"tif": "Ioc"}})
        ws.send('{"method":"ping"}')
        texts = []
        while True:
            text = str(ws.recv(timeout=10))
            if text == '{"channel":"pong"}':
                break
            texts.append(text)
        frames = [json.loads(t) for t in texts if t.startswith("{")]
        notes = [f for f in frames if f["channel"] == "notification"]
        assert notes
        assert "filled" in notes[0]["data"]["notification"].lower()


def test_dead_man_switch_needs_traded_volume_as_on_the_venue(sim: SimThread) -> None:
    wallet = eth_account.Account.from_key("0x" + "c7" * 32)
    sim.fund(wallet.address, 10_000.0)
    exchange = Exchange(wallet, sim.base_url)
    when = sim.call(lambda: sim.server.venue.clock.now_ms()) + 60_000  # type: ignore[union-attr]

    refused = exchange.schedule_cancel(when)
    sim.fund(wallet.address, 0.0, volume_usd=1_000_000.0)
    accepted = exchange.schedule_cancel(when)

    assert refused == {
        "status": "err",
        "response": "Cannot set scheduled cancel time until enough volume traded",
    }
    assert accepted == {"status": "ok", "response": {"type": "default"}}
