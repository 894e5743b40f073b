"""Every payload the simulator emits has the shape of the venue's real captures.

Shape = same keys (optional keys allowed only where some capture omits them), same value types
(string decimals stay strings, ids stay integers), same envelope. The expected shapes are built
from `tests/resources/hyperliquid/` only, never from the simulator.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.utils.types import Cloid
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

from jarvis.testkit import VENUE_CAPTURES
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.conformance import CLOID_OPTIONAL
from simulator.conformance import FRONTEND_ORDER_NULLABLE_KEYS
from simulator.conformance import NULLABLE_KEYS
from simulator.conformance import Shape
from simulator.conformance import shape_errors
from simulator.conformance import shape_of

FIXTURES = VENUE_CAPTURES
KEY = "0x" + "4f" * 32
OTHER_KEY = "0x" + "5a" * 32


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def frames(name: str, channel: str | None = None) -> list[dict[str, Any]]:
    out = fixture(name)
    return [f for f in out if channel is None or f.get("channel") == channel]


# --- comparer self-tests (so the comparer itself can fail) -----------------------------------


def test_shape_comparer_flags_number_where_venue_sends_string_decimal() -> None:
    shape = shape_of({"px": "1.0", "oid": 1})
    assert shape_errors({"px": 1.0, "oid": 1}, shape) == [
        "$.px: float where the venue sends ['str']"
    ]


def test_shape_comparer_flags_missing_and_unexpected_keys() -> None:
    shape = shape_of({"a": "x", "b": 1}, {"a": "y", "b": 2, "c": True})
    assert shape_errors({"a": "z", "c": False}, shape) == ["$: missing key 'b'"]
    assert shape_errors({"a": "z", "b": 3, "d": 1}, shape) == ["$: unexpected key 'd'"]


def test_shape_comparer_flags_string_ids() -> None:
    shape = shape_of([{"resting": {"oid": 1}}])
    assert shape_errors([{"resting": {"oid": "1"}}], shape) == [
        "$[0].resting.oid: str where the venue sends ['int']"
    ]


# --- a simulator session that produces every payload type ------------------------------------


class Session:
    """A stepped simulator, a funded SDK client and a raw socket collecting every frame."""

    def __init__(self, sim: SimThread, ws: ClientConnection, exchange: Exchange) -> None:
        self.sim = sim
        self.ws = ws
        self.exchange = exchange
        self.user = exchange.wallet.address.lower()
        self.frames: dict[str, list[dict[str, Any]]] = {}
        self.responses: dict[str, list[Any]] = {}
        self.notes: dict[str, Any] = {}

    def collect(self) -> None:
        """Read every frame queued so far (a ping's pong marks the end)."""
        self.ws.send('{"method":"ping"}')
        while True:
            text = self.ws.recv(timeout=10)
            if text == "Websocket connection established.":
                continue
            msg = json.loads(text)
            if msg["channel"] == "pong":
                self.frames.setdefault("pong", []).append(msg)
                return
            self.frames.setdefault(msg["channel"], []).append(msg)

    def info(self, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            self.sim.base_url + "/info",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result = json.loads(response.read())
        self.responses.setdefault(body["type"], []).append(result)
        return result


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    start = int(time.time() * 1000)
    config = SimConfig(stepped=True, start_ms=start, scenario="quiet", seed=11)
    with SimThread(config) as sim:
        wallet = eth_account.Account.from_key(KEY)
        user = wallet.address.lower()
        sim.fund(user, 1_000_000.0)
        other = eth_account.Account.from_key(OTHER_KEY).address.lower()
        sim.fund(other, 1_000.0)
        sim.step(8)
        exchange = Exchange(wallet, sim.base_url)
        vault = "0x" + "9a" * 20
        sim.call(lambda: sim.server.venue.engine.add_vault(user, vault))  # type: ignore[union-attr]
        with connect(sim.ws_url) as ws:
            s = Session(sim, ws, exchange)
            s.notes["vault"] = vault
            sub = exchange.create_sub_account("shapes")["response"]["data"]
            exchange.sub_account_transfer(sub, True, 50_000_000)
            for sub in (
                {"type": "allMids"},
                {"type": "l2Book", "coin": "BTC"},
                {"type": "l2Book", "coin": "ETH", "nSigFigs": 3},
                {"type": "l2Book", "coin": "SOL", "fast": True},
                {"type": "trades", "coin": "BTC"},
                {"type": "bbo", "coin": "BTC"},
                {"type": "candle", "coin": "BTC", "interval": "1m"},
                {"type": "activeAssetCtx", "coin": "BTC"},
                {"type": "orderUpdates", "user": user},
                {"type": "userEvents", "user": user},
                {"type": "userFills", "user": user},
                {"type": "userFundings", "user": user},
                {"type": "notification", "user": user},
                {"type": "userEvents", "user": other},
                {"type": "webData2", "user": user},
                {"type": "webData3", "user": user},
                {"type": "clearinghouseState", "user": user},
                {"type": "openOrders", "user": user, "dex": ""},
                {"type": "activeAssetData", "user": user, "coin": "BTC"},
                {"type": "spotState", "user": user},
                {"type": "userNonFundingLedgerUpdates", "user": user},
                {"type": "activeAssetCtx", "coin": "PURR/USDC"},
            ):
                ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
            ws.send(
                json.dumps(
                    {"method": "unsubscribe", "subscription": {"type": "bbo", "coin": "ETH"}}
                )
            )
            s.collect()
            _trade(s)
            yield s


def _trade(s: Session) -> None:
    ex = s.exchange
    mid = float(s.info({"type": "allMids"})["BTC"])
    r = s.responses.setdefault("exchange", [])
    r.append(ex.order("BTC", True, 0.01, round(mid * 0.9), {"limit": {"tif": "Gtc"}}))
    r.append(ex.order("BTC", True, 0.01, round(mid * 1.05), {"limit": {"tif": "Ioc"}}))
    r.append(ex.order("BTC", True, 0.0001, round(mid * 0.9), {"limit": {"tif": "Gtc"}}))
    cloid = Cloid.from_int(42)
    r.append(ex.order("BTC", True, 0.01, round(mid * 0.8), {"limit": {"tif": "Gtc"}}, cloid=cloid))
    resting = r[0]["response"]["data"]["statuses"][0]["resting"]["oid"]
    r.append(ex.cancel("BTC", resting))
    r.append(ex.cancel("BTC", resting))
    r.append(ex.update_leverage(10, "BTC"))
    r.append(ex.usd_class_transfer(25.0, False))  # a ledger row (userNonFundingLedgerUpdates)
    s.notes["spot_buy"] = ex.market_open("PURR/USDC", True, 60.0)  # a spot fill, 12 USDC
    s.collect()
    _notify_and_liquidate(s)
    s.sim.step(8)
    s.sim.jump(3_600_000)  # a funding payment for the open long
    s.sim.step(8)
    s.collect()
    for body in (
        {"type": "meta"},
        {"type": "spotMeta"},
        {"type": "metaAndAssetCtxs"},
        {"type": "spotMetaAndAssetCtxs"},
        {"type": "allMids"},
        {"type": "l2Book", "coin": "BTC"},
        {
            "type": "candleSnapshot",
            "req": {"coin": "BTC", "interval": "1m", "startTime": 0, "endTime": 2**53},
        },
        {"type": "clearinghouseState", "user": s.user},
        {"type": "spotClearinghouseState", "user": s.user},
        {"type": "openOrders", "user": s.user},
        {"type": "frontendOpenOrders", "user": s.user},
        {"type": "orderStatus", "user": s.user, "oid": resting},
        {"type": "orderStatus", "user": s.user, "oid": 123456789},
        {"type": "historicalOrders", "user": s.user},
        {"type": "userFills", "user": s.user},
        {"type": "userFillsByTime", "user": s.user, "startTime": 0},
        {"type": "userFunding", "user": s.user, "startTime": 0},
        {"type": "fundingHistory", "coin": "BTC", "startTime": 0},
        {"type": "userRateLimit", "user": s.user},
        {"type": "userFees", "user": s.user},
        {"type": "recentTrades", "coin": "BTC"},
        {"type": "perpDexs"},
        {"type": "allPerpMetas"},
        {"type": "exchangeStatus"},
        {"type": "predictedFundings"},
        {"type": "activeAssetData", "user": s.user, "coin": "BTC"},
        {"type": "activeAssetData", "user": s.user, "coin": "ETH"},
        {"type": "maxBuilderFee", "user": s.user, "builder": "0x" + "12" * 20},
        {"type": "portfolio", "user": s.user},
        {"type": "subAccounts", "user": s.user},
        {"type": "referral", "user": s.user},
        {"type": "vaultDetails", "vaultAddress": s.notes["vault"]},
        {"type": "delegatorSummary", "user": s.user},
    ):
        s.info(body)


def _notify_and_liquidate(s: Session) -> None:
    """A resting order filled by another account (notification), then that account is
    liquidated with an order still open (liquidation and nonUserCancel user events)."""
    other = Exchange(eth_account.Account.from_key(OTHER_KEY), s.sim.base_url)
    book = s.info({"type": "l2Book", "coin": "ETH"})["levels"]
    px = round((float(book[0][0]["px"]) + float(book[1][0]["px"])) / 2, 1)
    s.exchange.order("ETH", True, 0.01, px, {"limit": {"tif": "Alo"}})
    other.order("ETH", False, 0.01, px, {"limit": {"tif": "Ioc"}})
    other.order("ETH", True, 7.0, round(px * 1.02, 1), {"limit": {"tif": "Ioc"}})
    other.order("ETH", True, 0.01, round(px * 0.5, 1), {"limit": {"tif": "Gtc"}})
    s.sim.set_oracle("ETH", round(px * 0.9, 1))
    s.sim.step(2)
    s.sim.set_oracle("ETH", px)
    s.collect()


def _check(
    values: list[Any],
    shape: Shape,
    what: str,
    optional: frozenset[str] = frozenset(),
    nullable: frozenset[str] = NULLABLE_KEYS,
) -> None:
    assert values, f"the simulator produced no {what} to compare"
    for value in values:
        errors = shape_errors(value, shape, optional=optional, nullable=nullable)
        assert not errors, f"{what} differs from the venue: {errors[:5]} in {str(value)[:400]}"


# --- WebSocket channels ----------------------------------------------------------------------

WS_CASES = [
    ("l2Book", "ws_l2Book.json"),
    ("trades", "ws_trades.json"),
    ("bbo", "ws_bbo.json"),
    ("candle", "ws_candle.json"),
    ("activeAssetCtx", "ws_activeAssetCtx.json"),
    ("orderUpdates", "ws_orderUpdates.json"),
    ("userFills", "ws_userFills.json"),
    ("userFundings", "ws_userFundings.json"),
    ("subscriptionResponse", "ws_subscriptionResponse.json"),
    ("error", "ws_error.json"),
    ("pong", "ws_pong.json"),
]


@pytest.mark.parametrize(("channel", "name"), WS_CASES)
def test_ws_channel_matches_venue_capture(session: Session, channel: str, name: str) -> None:
    expected = frames(name, channel)
    if channel == "l2Book":  # fast books carry "fast":true (PROTOCOL §9.2)
        expected = [*expected, {"channel": "l2Book", "data": {**expected[0]["data"], "fast": True}}]
    optional = CLOID_OPTIONAL if channel in ("orderUpdates", "userFills") else frozenset()
    _check(session.frames.get(channel, []), shape_of(*expected), channel, optional)


def test_all_mids_frame_matches_venue_capture(session: Session) -> None:
    expected = [f for f in frames("ws_allMids.json") if "dex" not in f["data"]]
    _check(session.frames.get("allMids", []), shape_of(*expected), "allMids")


def test_user_event_frames_match_venue_capture(session: Session) -> None:
    captured = frames("ws_user.json")
    fills = [f["data"]["fills"][0] for f in frames("ws_userFills.json")]
    fill_frame = {"channel": "user", "data": {"fills": fills}}
    user_frames = session.frames.get("user", [])
    kinds = {next(iter(f["data"])) for f in user_frames}
    assert {"fills", "funding", "liquidation", "nonUserCancel"} <= kinds
    for frame in user_frames:
        kind = next(iter(frame["data"]))
        expected = [fill_frame] if kind == "fills" else [f for f in captured if kind in f["data"]]
        _check([frame], shape_of(*expected), f"user {kind}", CLOID_OPTIONAL)


def test_notification_frames_match_venue_capture(session: Session) -> None:
    notes = session.frames.get("notification", [])
    _check(notes, shape_of(*frames("ws_notification.json")), "notification")


def test_post_responses_match_venue_capture(session: Session) -> None:
    mid = float(session.info({"type": "allMids"})["ETH"])
    order = {
        "a": 1,
        "b": True,
        "p": str(round(mid * 0.9)),
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": "Gtc"}},
    }
    from hyperliquid.utils.signing import get_timestamp_ms
    from hyperliquid.utils.signing import sign_l1_action

    action = {"type": "order", "orders": [order], "grouping": "na"}
    nonce = get_timestamp_ms()
    signature = sign_l1_action(session.exchange.wallet, action, None, nonce, None, False)
    payload = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    session.ws.send(
        json.dumps({"method": "post", "id": 256, "request": {"type": "action", "payload": payload}})
    )
    session.ws.send(
        json.dumps(
            {
                "method": "post",
                "id": 7,
                "request": {"type": "info", "payload": {"type": "l2Book", "coin": "ETH"}},
            }
        )
    )
    session.collect()
    posts = {f["data"]["id"]: f for f in session.frames["post"]}
    assert set(posts) >= {256, 7}
    expected_action = frames("ws_post.json", "post")[:1]
    _check([posts[256]], shape_of(*expected_action), "post action")
    info_frame = posts[7]
    assert info_frame["data"]["response"]["type"] == "info"
    assert info_frame["data"]["response"]["payload"]["type"] == "l2Book"
    book_shape = shape_of(
        fixture("info_l2Book.json"), *[f["data"] for f in frames("ws_l2Book.json")]
    )
    _check([info_frame["data"]["response"]["payload"]["data"]], book_shape, "post info l2Book")


# --- /info and /exchange -----------------------------------------------------------------------


def _frontend_orders() -> list[Any]:
    """Frontend orders from the newest captures (they carry `cloid`, null when unset)."""
    status = fixture("info_orderStatus_open.json")["order"]["order"]
    history = [entry["order"] for entry in fixture("info_historicalOrders_entry.json")]
    return [status, *history]


def _basic_orders() -> list[Any]:
    """Basic orders as captured in orderUpdates (the 2023 openOrders capture predates origSz)."""
    return [entry["order"] for f in frames("ws_orderUpdates.json") for entry in f["data"]]


def _expected_info(info_type: str) -> Any:
    """The merged venue shape of one /info type (newest captures; see SOURCES.md)."""
    if info_type == "meta":
        return shape_of(fixture("info_metaAndAssetCtxs.json")[0])
    if info_type == "clearinghouseState":
        live = [f["data"]["clearinghouseState"] for f in frames("ws_clearinghouseState.json")]
        return shape_of(*live, fixture("info_clearinghouseState_empty.json"))
    if info_type == "openOrders":
        return shape_of(_basic_orders())
    if info_type == "frontendOpenOrders":
        return shape_of(_frontend_orders())
    names = {
        "metaAndAssetCtxs": ["info_metaAndAssetCtxs.json"],
        "l2Book": ["info_l2Book.json"],
        "candleSnapshot": ["info_candleSnapshot.json"],
        "orderStatus": ["info_orderStatus_open.json", "info_orderStatus_unknownOid.json"],
        "historicalOrders": ["info_historicalOrders_entry.json"],
        "userFills": ["info_userFills_with_cloid.json"],
        "userFillsByTime": ["info_userFills_with_cloid.json"],
        "userFunding": ["info_userFunding.json"],
        "fundingHistory": ["info_fundingHistory_recent.json"],
        "userRateLimit": ["info_userRateLimit.json"],
        "userFees": ["info_userFees.json"],
    }[info_type]
    return shape_of(*[fixture(n) for n in names])


INFO_TYPES = [
    "meta",
    "metaAndAssetCtxs",
    "l2Book",
    "candleSnapshot",
    "clearinghouseState",
    "openOrders",
    "frontendOpenOrders",
    "orderStatus",
    "historicalOrders",
    "userFills",
    "userFillsByTime",
    "userFunding",
    "fundingHistory",
    "userRateLimit",
    "userFees",
]


@pytest.mark.parametrize("info_type", INFO_TYPES)
def test_info_response_matches_venue_capture(session: Session, info_type: str) -> None:
    cloid_optional = ("openOrders", "userFills", "userFillsByTime")
    optional = CLOID_OPTIONAL if info_type in cloid_optional else frozenset()
    values = session.responses.get(info_type, [])
    _check(values, _expected_info(info_type), f"/info {info_type}", optional)


def test_info_all_mids_matches_venue_capture(session: Session) -> None:
    expected = shape_of({"mids": fixture("info_allMids.json")})
    _check([{"mids": r} for r in session.responses["allMids"]], expected, "/info allMids")


def test_recent_trades_match_ws_trade_shape(session: Session) -> None:
    trades = [t for f in frames("ws_trades.json") for t in f["data"]]
    _check(session.responses.get("recentTrades", []), shape_of(trades), "/info recentTrades")


def test_spot_meta_tokens_match_venue_capture(session: Session) -> None:
    expected = fixture("info_spotMeta_tokens_excerpt.json")
    # The capture is an excerpt without these keys; PROTOCOL §4 lists them in spotMeta tokens.
    documented = {"evmContract", "fullName", "deployerTradingFeeShare"}
    tokens = [
        {k: v for k, v in t.items() if k not in documented}
        for t in session.responses["spotMeta"][0]["tokens"]
    ]
    _check([{"tokens": tokens}], shape_of({"tokens": expected["tokens"]}), "spotMeta")


def test_exchange_responses_match_venue_captures(session: Session) -> None:
    expected = shape_of(
        fixture("exchange_order_resting.json"),
        fixture("exchange_order_filled_docs.json"),
        fixture("exchange_order_error.json"),
        fixture("exchange_cancel_success.json"),
        fixture("exchange_cancel_error.json"),
        fixture("exchange_default_ok.json"),
    )
    responses = session.responses["exchange"]
    _check(responses, expected, "/exchange")
    kinds = [next(iter(r["response"]["data"]["statuses"][0])) for r in responses[:4]]
    assert kinds[:3] == ["resting", "filled", "error"]


# --- the aggregate user channels and the frontend /info types ----------------------------------

# Where the venue has no capture, the expected sample below is the GitBook's own example
# (docs/for-developers/api/info-endpoint*.md), marked DOCS, or a client's parser, marked so.
DOCS_PERP_DEXS = [
    None,
    {
        "name": "test",
        "fullName": "test dex",
        "deployer": "0x5e89b26d8d66da9888c835c9bfcc2aa51813e152",
        "oracleUpdater": None,
        "feeRecipient": None,
        "assetToStreamingOiCap": [["COIN1", "100000.0"]],
        "assetToFundingMultiplier": [["COIN1", "1.0"]],
    },
]
# Not in the GitBook and no capture: the fields ccxt's fetchStatus / fetchTime read.
CCXT_EXCHANGE_STATUS = {"specialStatuses": None, "time": 1764617438643}
# DOCS: activeAssetData of a cross position (the capture shows an isolated one, with rawUsd).
DOCS_ACTIVE_ASSET_DATA_CROSS = {
    "user": "0xb65822a30bbaaa68942d6f4c43d78704faeabbbb",
    "coin": "APT",
    "leverage": {"type": "cross", "value": 3},
    "maxTradeSzs": ["24836370.4400000013", "24836370.4400000013"],
    "availableToTrade": ["37019438.0284740031", "37019438.0284740031"],
    "markPx": "4.4716",
}
DOCS_DELEGATOR_SUMMARY = {
    "delegated": "12060.16529862",
    "undelegated": "0.0",
    "totalPendingWithdrawal": "0.0",
    "nPendingWithdrawals": 0,
}
DOCS_PORTFOLIO_PERIOD = {
    "accountValueHistory": [[1741886630493, "0.0"]],
    "pnlHistory": [[1741886630493, "0.0"]],
    "vlm": "0.0",
}
DOCS_PORTFOLIO = [
    [name, DOCS_PORTFOLIO_PERIOD]
    for name in (
        "day",
        "week",
        "month",
        "allTime",
        "perpDay",
        "perpWeek",
        "perpMonth",
        "perpAllTime",
    )
]
DOCS_SUMMARY = {
    "accountValue": "29.78001",
    "totalNtlPos": "0.0",
    "totalRawUsd": "29.78001",
    "totalMarginUsed": "0.0",
}
DOCS_SUB_ACCOUNTS = [
    {
        "name": "Test",
        "subAccountUser": "0x035605fc2f24d65300227189025e90a0d947f16c",
        "master": "0x8c967e73e6b15087c42a10d344cff4c96d877f1d",
        "clearinghouseState": {
            "marginSummary": DOCS_SUMMARY,
            "crossMarginSummary": DOCS_SUMMARY,
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": "29.78001",
            "assetPositions": [],
            "time": 1733968369395,
        },
        "spotState": {
            "balances": [
                {"coin": "USDC", "token": 0, "total": "0.22", "hold": "0.0", "entryNtl": "0.0"}
            ]
        },
    }
]
DOCS_REFERRAL_STATE = {
    "cumVlm": "149428030.6628420055",
    "unclaimedRewards": "11.047361",
    "claimedRewards": "22.743781",
    "builderRewards": "0.027802",
}
# The GitBook prints `tokenToState` as one flat [token, state] pair; every other token map of
# the venue (e.g. spotState's tokenToAvailableAfterMaintenance capture) is a list of pairs, as
# here. `referrerState.data` depends on the stage (docs: "ready" with a code; a user who has not
# traded enough is in another stage), so only its envelope is compared.
DOCS_REFERRAL = {
    "referredBy": {"referrer": "0x5ac99df645f3414876c816caa18b2d234024b487", "code": "TESTNET"},
    **DOCS_REFERRAL_STATE,
    "tokenToState": [[0, DOCS_REFERRAL_STATE]],
    "referrerState": {"stage": "ready", "data": {}},
    "rewardHistory": [],
}
DOCS_VAULT_DETAILS = {
    "name": "Test",
    "vaultAddress": "0xdfc24b077bc1425ad1dea75bcb6f8158e10df303",
    "leader": "0x677d831aef5328190852e24f13c46cac05f984e7",
    "description": "This community-owned vault provides liquidity.",
    "portfolio": DOCS_PORTFOLIO,
    "apr": 0.36387129259090006,
    "followerState": None,
    "leaderFraction": 0.0007904828725729887,
    "leaderCommission": 0,
    "followers": [],
    "maxDistributable": 94856870.164485,
    "maxWithdrawable": 742557.680863,
    "isClosed": False,
    "relationship": {"type": "parent", "data": {"childAddresses": []}},
    "allowDeposits": True,
    "alwaysCloseOnWithdraw": False,
}


def _referral_envelope(value: Any) -> Any:
    out = dict(value)
    out["referrerState"] = {**value["referrerState"], "data": {}}
    out["referredBy"] = value["referredBy"] or DOCS_REFERRAL["referredBy"]
    return out


def _frame_data(name: str) -> list[Any]:
    return [f["data"] for f in frames(name)]


FRONTEND_INFO_CASES = [
    ("perpDexs", lambda: shape_of(DOCS_PERP_DEXS)),
    (
        "allPerpMetas",
        lambda: shape_of(
            fixture("info_allPerpMetas.json"), [fixture("info_metaAndAssetCtxs.json")[0]]
        ),
    ),
    ("exchangeStatus", lambda: shape_of(CCXT_EXCHANGE_STATUS)),
    ("predictedFundings", lambda: shape_of(fixture("info_predictedFundings_excerpt.json"))),
    (
        "activeAssetData",
        lambda: shape_of(*_frame_data("ws_activeAssetData.json"), DOCS_ACTIVE_ASSET_DATA_CROSS),
    ),
    ("maxBuilderFee", lambda: shape_of(1)),  # DOCS: a bare integer
    ("delegatorSummary", lambda: shape_of(DOCS_DELEGATOR_SUMMARY)),
    ("portfolio", lambda: shape_of(DOCS_PORTFOLIO)),
    ("subAccounts", lambda: shape_of(DOCS_SUB_ACCOUNTS)),
    # DOCS shows a parent vault; a vault without child vaults has relationship {"type":"normal"}
    # (nktkas/hyperliquid VaultDetailsResponse: normal | child | parent).
    (
        "vaultDetails",
        lambda: shape_of(
            DOCS_VAULT_DETAILS, {**DOCS_VAULT_DETAILS, "relationship": {"type": "normal"}}
        ),
    ),
]


@pytest.mark.parametrize(("info_type", "expected"), FRONTEND_INFO_CASES)
def test_frontend_info_type_matches_venue_shape(
    session: Session, info_type: str, expected: Any
) -> None:
    values = session.responses.get(info_type, [])
    _check(values, expected(), f"/info {info_type}")


def test_sub_accounts_list_the_created_sub_account(session: Session) -> None:
    (sub,) = session.responses["subAccounts"][0]
    assert sub["name"] == "shapes"
    assert sub["master"] == session.user
    assert sub["clearinghouseState"]["marginSummary"]["accountValue"] == "50.0"


def test_referral_matches_the_documented_envelope(session: Session) -> None:
    values = [_referral_envelope(v) for v in session.responses["referral"]]
    _check(values, shape_of(DOCS_REFERRAL), "/info referral")


def test_vault_details_answer_a_vault_and_null_otherwise(session: Session) -> None:
    (details,) = session.responses["vaultDetails"]
    assert details["vaultAddress"] == session.notes["vault"]
    assert details["leader"] == session.user
    assert session.info({"type": "vaultDetails", "vaultAddress": session.user}) is None


def _web_data2_sample() -> dict[str, Any]:
    """webData2 has no capture and left the GitBook: its fields (nktkas/hyperliquid
    WebData2Response) filled with captured parts of the same objects."""
    state = frames("ws_clearinghouseState.json")[0]["data"]["clearinghouseState"]
    meta_and_ctxs = fixture("info_metaAndAssetCtxs.json")
    spot = frames("ws_spotState.json")[0]["data"]["spotState"]
    return {
        "clearinghouseState": state,
        "leadingVaults": [],
        "totalVaultEquity": "0.0",
        "openOrders": _frontend_orders(),
        "agentAddress": None,
        "agentValidUntil": None,
        "cumLedger": "-2686.97",
        "meta": meta_and_ctxs[0],
        "assetCtxs": meta_and_ctxs[1],
        "serverTime": 1791280777681,
        "isVault": False,
        "user": "0x0000000000000000000000000000000000000003",
        "twapStates": [],
        "spotState": {"balances": spot["balances"]},
        "spotAssetCtxs": [f["data"]["ctx"] for f in frames("ws_activeSpotAssetCtx.json")],
    }


def _ledger_frames() -> list[Any]:
    snapshot = frames("ws_userNonFundingLedgerUpdates.json")
    update = {
        "channel": "userNonFundingLedgerUpdates",
        "data": {
            "user": snapshot[0]["data"]["user"],
            "nonFundingLedgerUpdates": fixture("info_userNonFundingLedgerUpdates_transfers.json"),
        },
    }
    return [*snapshot, update]


STATE_WS_CASES = [
    ("webData2", lambda: [{"channel": "webData2", "data": _web_data2_sample()}]),
    ("webData3", lambda: frames("ws_webData3.json")),
    ("clearinghouseState", lambda: frames("ws_clearinghouseState.json")),
    ("openOrders", lambda: [*frames("ws_openOrders.json"), _open_orders_frame_docs()]),
    (
        "activeAssetData",
        lambda: [
            *frames("ws_activeAssetData.json"),
            {"channel": "activeAssetData", "data": DOCS_ACTIVE_ASSET_DATA_CROSS},
        ],
    ),
    ("spotState", lambda: frames("ws_spotState.json")),
    ("userNonFundingLedgerUpdates", _ledger_frames),
]


def _open_orders_frame_docs() -> dict[str, Any]:
    """The openOrders capture shows trigger orders only with `cloid`; plain ones may carry null."""
    return {
        "channel": "openOrders",
        "data": {"dex": "", "user": "0x0", "orders": _frontend_orders()},
    }


@pytest.mark.parametrize(("channel", "expected"), STATE_WS_CASES)
def test_state_channel_matches_venue_capture(session: Session, channel: str, expected: Any) -> None:
    optional = frozenset({"isSnapshot"}) if channel == "userNonFundingLedgerUpdates" else None
    _check(
        session.frames.get(channel, []),
        shape_of(*expected()),
        channel,
        optional or frozenset(),
        nullable=FRONTEND_ORDER_NULLABLE_KEYS,
    )


def test_ledger_channel_sends_a_snapshot_then_the_new_rows(session: Session) -> None:
    ledger = session.frames["userNonFundingLedgerUpdates"]
    assert ledger[0]["data"]["isSnapshot"] is True
    later = [row for f in ledger[1:] for row in f["data"]["nonFundingLedgerUpdates"]]
    assert {"type": "accountClassTransfer", "usdc": "25.0", "toPerp": False} in [
        row["delta"] for row in later
    ]


# --- spot --------------------------------------------------------------------------------------


def _spot_fill_shape() -> Shape:
    """A spot fill: the captured PURR/USDC fill merged with the newest fill fields (twapId)."""
    perp_fills = [fill for f in frames("ws_userFills.json") for fill in f["data"]["fills"]]
    return shape_of([*fixture("info_userFills_spot.json"), *perp_fills])


def test_spot_fill_reaches_user_fills_in_the_venue_shape(session: Session) -> None:
    assert "filled" in session.notes["spot_buy"]["response"]["data"]["statuses"][0]
    spot = [
        fill
        for frame in session.frames["userFills"]
        for fill in frame["data"]["fills"]
        if fill["coin"] == "PURR/USDC"
    ]
    assert spot and all(f["dir"] == "Buy" and f["feeToken"] == "PURR" for f in spot)
    _check([spot], _spot_fill_shape(), "spot userFills", CLOID_OPTIONAL)


def test_spot_state_shows_the_bought_token(session: Session) -> None:
    last = session.frames["spotState"][-1]["data"]["spotState"]["balances"]
    purr = next(b for b in last if b["coin"] == "PURR")
    assert float(purr["total"]) == pytest.approx(60 * (1 - 0.0007))


def test_spot_asset_ctx_matches_venue_capture(session: Session) -> None:
    captured = frames("ws_activeSpotAssetCtx.json")
    _check(session.frames.get("activeSpotAssetCtx", []), shape_of(*captured), "activeSpotAssetCtx")
    ctx_shape = shape_of([f["data"]["ctx"] for f in captured])
    ctxs = [response[1] for response in session.responses["spotMetaAndAssetCtxs"]]
    _check(ctxs, ctx_shape, "spotMetaAndAssetCtxs contexts")


def test_spot_clearinghouse_state_matches_venue_capture(session: Session) -> None:
    spot = frames("ws_spotState.json")[0]["data"]["spotState"]
    expected = shape_of({"balances": spot["balances"]})  # /info carries no token map
    values = session.responses["spotClearinghouseState"]
    _check(values, expected, "/info spotClearinghouseState")
    coins = {b["coin"] for v in values for b in v["balances"]}
    assert coins == {"USDC", "PURR"}
