"""Each named scenario shows its regime signature, and seeded runs are byte-reproducible."""

from __future__ import annotations

import json
from typing import Any

import eth_account
from hyperliquid.utils.signing import order_request_to_order_wire
from hyperliquid.utils.signing import order_wires_to_order_action
from hyperliquid.utils.signing import sign_l1_action
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.app import build_venue
from simulator.events import TradePrint
from simulator.market import CASCADE_BUILD_END_MS
from simulator.market import CASCADE_SELLOFF_END_MS
from simulator.market import valid_px
from simulator.server import SimVenue

STEP_MS = 250


def _venue(scenario: str, seed: int = 7) -> SimVenue:
    venue = build_venue(SimConfig(stepped=True, scenario=scenario, seed=seed, step_ms=STEP_MS))
    venue.step(venue.clock.now_ms())
    return venue


def _run_until(venue: SimVenue, elapsed_ms: int) -> None:
    """Advance the stepped market until `elapsed_ms` after its start."""
    assert venue.market is not None and venue.market.start_ms is not None
    while venue.clock.now_ms() - venue.market.start_ms < elapsed_ms:
        venue.advance(1)


def _oi(venue: SimVenue, coin: str) -> float:
    return float(venue.engine.asset_ctx(coin)["openInterest"])


def _funding(venue: SimVenue, coin: str) -> float:
    return float(venue.engine.asset_ctx(coin)["funding"])


def _depth_usd(venue: SimVenue, coin: str, bps: float = 50.0) -> tuple[float, float]:
    """Bid and ask notional within `bps` of the mid, from the public l2Book."""
    bids, asks = venue.engine.l2_book(coin)["levels"]
    assert bids and asks, f"{coin} book is one-sided"
    mid = (float(bids[0]["px"]) + float(asks[0]["px"])) / 2
    lo, hi = mid * (1 - bps / 10_000), mid * (1 + bps / 10_000)
    bid = sum(float(x["px"]) * float(x["sz"]) for x in bids if float(x["px"]) >= lo)
    ask = sum(float(x["px"]) * float(x["sz"]) for x in asks if float(x["px"]) <= hi)
    return bid, ask


def test_quiet_keeps_open_interest_stable_funding_neutral_and_depth_symmetric() -> None:
    venue = _venue("quiet")
    _run_until(venue, 10_000)
    oi_start = {c: _oi(venue, c) for c in ("BTC", "ETH", "SOL")}
    ratios = []
    for _ in range(8):
        assert venue.market is not None and venue.market.start_ms is not None
        _run_until(venue, venue.clock.now_ms() - venue.market.start_ms + 5_000)
        bid, ask = _depth_usd(venue, "BTC")
        ratios.append(bid / ask)
    for coin, before in oi_start.items():
        assert before > 0
        assert abs(_oi(venue, coin) / before - 1) < 0.05, coin
        assert abs(_funding(venue, coin) - 0.0000125) < 0.00001, coin  # the venue's neutral rate
    mean_ratio = sum(ratios) / len(ratios)
    assert 0.7 < mean_ratio < 1.4


def test_trend_raises_open_interest_skews_funding_and_deepens_bids() -> None:
    venue = _venue("trend")
    _run_until(venue, 10_000)
    oi_10s = _oi(venue, "BTC")
    px_10s = float(venue.engine.asset_ctx("BTC")["oraclePx"])
    _run_until(venue, 60_000)
    assert _oi(venue, "BTC") > oi_10s * 1.3
    assert float(venue.engine.asset_ctx("BTC")["oraclePx"]) > px_10s
    assert _funding(venue, "BTC") > 5 * 0.0000125  # longs pay well above the neutral rate
    bid, ask = _depth_usd(venue, "BTC")
    assert bid > 1.5 * ask


def test_cascade_liquidates_leveraged_longs_and_open_interest_collapses_then_bids_refill() -> None:
    venue = _venue("cascade")
    market = venue.market
    assert market is not None
    _run_until(venue, CASCADE_BUILD_END_MS - STEP_MS)  # the last step before the sell-off
    oi_before = _oi(venue, "BTC")
    bid_before, _ = _depth_usd(venue, "BTC")
    assert market.liquidations == 0
    _run_until(venue, CASCADE_BUILD_END_MS + 2_000)
    bid_selloff, _ = _depth_usd(venue, "BTC")
    _run_until(venue, CASCADE_SELLOFF_END_MS)
    assert market.liquidations >= 3
    assert _oi(venue, "BTC") < oi_before * 0.6  # >40% of OI gone within 20 s
    assert bid_selloff < 0.25 * bid_before
    _run_until(venue, CASCADE_SELLOFF_END_MS + 5_000)
    bid_after, _ = _depth_usd(venue, "BTC")
    assert bid_after > 4 * bid_selloff


def test_cascade_liquidations_are_visible_as_liquidation_fills_of_the_leveraged_accounts() -> None:
    venue = _venue("cascade")
    assert venue.market is not None
    _run_until(venue, CASCADE_SELLOFF_END_MS)
    leveraged = venue.market.leveraged["BTC"]
    fills = [
        f
        for user in leveraged
        for f in venue.engine.info({"type": "userFills", "user": user}, venue.clock.now_ms())
    ]
    assert any("liquidation" in f for f in fills)


def test_thin_depth_decays_over_time() -> None:
    venue = _venue("thin")
    _run_until(venue, 2_000)
    bid_start, ask_start = _depth_usd(venue, "ETH")
    _run_until(venue, 40_000)
    bid_end, ask_end = _depth_usd(venue, "ETH")
    assert bid_end < 0.3 * bid_start
    assert ask_end < 0.3 * ask_start


def test_trades_carry_distinct_buyer_and_seller_addresses() -> None:
    venue = _venue("quiet")
    prints: list[dict[str, Any]] = []
    original = venue.feeds.on_events

    def spy(events: list[Any], now_ms: int) -> None:
        prints.extend(e.trade for e in events if isinstance(e, TradePrint))
        original(events, now_ms)

    venue.feeds.on_events = spy  # type: ignore[method-assign]
    _run_until(venue, 10_000)
    assert len(prints) > 10
    for trade in prints:
        buyer, seller = trade["users"]
        assert buyer != seller
        assert buyer.startswith("0x") and len(buyer) == 42


def test_valid_px_rounds_to_five_significant_figures_and_max_decimals() -> None:
    assert valid_px(80123.456, 5) == 80123.0
    assert valid_px(2512.3456, 4) == 2512.3
    assert valid_px(150.12345, 2) == 150.12
    assert valid_px(123456.7, 0) == 123457.0
    assert valid_px(0.0123456, 0) == 0.012346


# --- byte-identical frames for the same seed and the same client actions --------------------

KEY = "0x" + "7e" * 32
START_MS = 1_767_225_600_000


def _signed_order(nonce: int, is_buy: bool, px: float, sz: float, tif: str) -> dict[str, Any]:
    wallet = eth_account.Account.from_key(KEY)
    wire = order_request_to_order_wire(
        {
            "coin": "BTC",
            "is_buy": is_buy,
            "sz": sz,
            "limit_px": px,
            "order_type": {"limit": {"tif": tif}},
            "reduce_only": False,
        },
        0,
    )
    action = order_wires_to_order_action([wire])
    signature = sign_l1_action(wallet, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


def _record_session(seed: int) -> list[str]:
    """Every frame one client sees: subscriptions, stepped market, two signed orders."""
    user = eth_account.Account.from_key(KEY).address.lower()
    config = SimConfig(stepped=True, start_ms=START_MS, seed=seed, scenario="quiet")
    received: list[str] = []
    with SimThread(config) as sim, connect(sim.ws_url) as ws:
        sim.fund(user, 100_000.0)
        subs: list[dict[str, Any]] = [
            {"type": "l2Book", "coin": "BTC"},
            {"type": "trades", "coin": "BTC"},
            {"type": "trades", "coin": "ETH"},
            {"type": "bbo", "coin": "SOL"},
            {"type": "allMids"},
            {"type": "activeAssetCtx", "coin": "BTC"},
            {"type": "candle", "coin": "BTC", "interval": "1m"},
            {"type": "userFills", "user": user},
            {"type": "orderUpdates", "user": user},
            {"type": "userEvents", "user": user},
        ]
        for sub in subs:
            ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        received += _drain(ws)
        for i in range(3):
            sim.step(10)
            mid = float(_post_info(ws, {"type": "allMids"}, received)["BTC"])
            orders = [
                _signed_order(START_MS + 10 * i + 1, True, round(mid * 0.99), 0.001, "Gtc"),
                _signed_order(START_MS + 10 * i + 2, True, round(mid * 1.01), 0.001, "Ioc"),
            ]
            for n, body in enumerate(orders):
                request = {"type": "action", "payload": body}
                ws.send(json.dumps({"method": "post", "id": 100 * i + n, "request": request}))
            received += _drain(ws)
    return received


def _post_info(ws: Any, body: dict[str, Any], sink: list[str]) -> Any:
    """An info request over the socket; every frame read meanwhile goes to `sink`."""
    request = {"type": "info", "payload": body}
    ws.send(json.dumps({"method": "post", "id": 999_999, "request": request}))
    while True:
        text = str(ws.recv(timeout=10))
        sink.append(text)
        msg = json.loads(text) if text.startswith("{") else {}
        if msg.get("channel") == "post" and msg["data"]["id"] == 999_999:
            return msg["data"]["response"]["payload"]["data"]


def _drain(ws: Any) -> list[str]:
    ws.send('{"method":"ping"}')
    out: list[str] = []
    while True:
        text = str(ws.recv(timeout=10))
        if text == '{"channel":"pong"}':
            return out
        out.append(text)


def test_same_seed_and_same_actions_give_byte_identical_frames() -> None:
    first = _record_session(seed=21)
    second = _record_session(seed=21)
    assert len(first) > 50
    channels = {json.loads(f)["channel"] for f in first if f.startswith("{")}
    assert {"l2Book", "trades", "bbo", "allMids", "userFills", "orderUpdates", "post"} <= channels
    assert first == second


def test_a_different_seed_gives_a_different_market() -> None:
    assert _record_session(seed=21) != _record_session(seed=22)
