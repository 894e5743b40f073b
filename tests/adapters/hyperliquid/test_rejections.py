"""Tests for venue error text -> reason code classification.

The expected codes are written here by hand, independently of the module's tables: one table for
the catalogue of real venue texts (`fixtures/exchange_error_strings.json`), one for every text
constant of the simulator (`sim/errors.py`), and rejections actually produced by the simulator's
engine for SDK-signed actions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hyperliquid.utils.signing import sign_l1_action

from adapters.hyperliquid.rejections import HyperliquidRejectReason as R
from adapters.hyperliquid.rejections import VenueRejection
from adapters.hyperliquid.rejections import classify_rejection
from adapters.hyperliquid.rejections import reason_for_order_status
from jarvis.testkit import VENUE_CAPTURES
from simulator import errors as sim_errors
from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

FIXTURES = VENUE_CAPTURES
T0 = 1_760_000_000_000
MAKER = "0x" + "99" * 20

# Documented per-order texts, by the venue's own error type name.
DOCUMENTED: dict[str, R] = {
    "Tick": R.INVALID_PRICE,
    "MinTradeNtl": R.MIN_VALUE,
    "MinTradeSpotNtl": R.MIN_VALUE,
    "PerpMargin": R.INSUFFICIENT_MARGIN,
    "ReduceOnly": R.REDUCE_ONLY,
    "BadAloPx": R.POST_ONLY_WOULD_CROSS,
    "IocCancel": R.IOC_NO_MATCH,
    "BadTriggerPx": R.INVALID_TRIGGER_PRICE,
    "MarketOrderNoLiquidity": R.NO_LIQUIDITY,
    "PositionIncreaseAtOpenInterestCap": R.OPEN_INTEREST_CAP,
    "PositionFlipAtOpenInterestCap": R.OPEN_INTEREST_CAP,
    "TooAggressiveAtOpenInterestCap": R.OPEN_INTEREST_CAP,
    "OpenInterestIncrease": R.OPEN_INTEREST_CAP,
    "InsufficientSpotBalance": R.INSUFFICIENT_SPOT_BALANCE,
    "Oracle": R.TOO_FAR_FROM_ORACLE,
    "PerpMaxPosition": R.MAX_POSITION,
    "MissingOrder (cancel)": R.UNKNOWN_ORDER,
}

# Texts observed live (per-order and whole-action), verbatim from the catalogue.
OBSERVED: dict[str, R] = {
    "Order must have minimum value of $10. asset=0": R.MIN_VALUE,
    "Insufficient margin to place order. asset=0": R.INSUFFICIENT_MARGIN,
    "Insufficient margin to place order. asset=4": R.INSUFFICIENT_MARGIN,
    "Order could not immediately match against any resting orders. asset=0": R.IOC_NO_MATCH,
    "Order could not immediately match against any resting orders. asset=10107": R.IOC_NO_MATCH,
    "Order could not immediately match against any resting orders. asset=100090170": (
        R.IOC_NO_MATCH
    ),
    "Post only order would have immediately matched, bbo was 64143@64144. asset=0": (
        R.POST_ONLY_WOULD_CROSS
    ),
    "Post only order would have immediately matched, bbo was 1800.1@1800.2. asset=4": (
        R.POST_ONLY_WOULD_CROSS
    ),
    "Post only order would have immediately matched, bbo was 0.004815@0.004818. asset=197": (
        R.POST_ONLY_WOULD_CROSS
    ),
    "Order has invalid size.": R.INVALID_SIZE,
    "Order has invalid price.": R.INVALID_PRICE,
    "Order was never placed, already canceled, or filled. asset=1": R.UNKNOWN_ORDER,
    "Must deposit before performing actions. User: 0x<signer address>": R.NOT_DEPOSITED,
    "User or API Wallet 0x<address> does not exist.": R.UNKNOWN_SIGNER,
    "Cannot set scheduled cancel time until enough volume traded": R.SCHEDULE_CANCEL_REFUSED,
    "Insufficient balance to create vault": R.INSUFFICIENT_BALANCE,
    "Too many cumulative requests sent (97460 > 97456) for cumulative volume traded $87457.46. "
    "Place taker orders to free up 1 request per USDC traded.": R.RATE_LIMITED,
    "Only post-only orders allowed immediately after a network upgrade": R.POST_ONLY_MODE,
}

# Every text constant of the simulator, by constant name.
SIM_TEXTS: dict[str, R] = {
    "TICK": R.INVALID_PRICE,
    "MIN_TRADE_NTL": R.MIN_VALUE,
    "MIN_TRADE_SPOT_NTL": R.MIN_VALUE,
    "INSUFFICIENT_SPOT_BALANCE": R.INSUFFICIENT_SPOT_BALANCE,
    "PERP_MARGIN": R.INSUFFICIENT_MARGIN,
    "REDUCE_ONLY": R.REDUCE_ONLY,
    "BAD_ALO_PX": R.POST_ONLY_WOULD_CROSS,
    "IOC_CANCEL": R.IOC_NO_MATCH,
    "BAD_TRIGGER_PX": R.INVALID_TRIGGER_PRICE,
    "MARKET_NO_LIQUIDITY": R.NO_LIQUIDITY,
    "MISSING_ORDER": R.UNKNOWN_ORDER,
    "INVALID_SIZE": R.INVALID_SIZE,
    "INVALID_PRICE": R.INVALID_PRICE,
    "ORACLE": R.TOO_FAR_FROM_ORACLE,
    "UNKNOWN_SIGNER": R.UNKNOWN_SIGNER,
    "MUST_DEPOSIT": R.NOT_DEPOSITED,
    "SCHEDULE_CANCEL_VOLUME": R.SCHEDULE_CANCEL_REFUSED,
    "DESERIALIZE": R.MALFORMED,
    "UNKNOWN_ASSET": R.INVALID_ASSET,
    "EXPIRES_AFTER_USER_SIGNED": R.MALFORMED,
    "UNKNOWN_VAULT": R.UNKNOWN_VAULT,
    "EXPIRED": R.EXPIRED,
    "NONCE_DUPLICATE": R.INVALID_NONCE,
    "NONCE_TOO_LOW": R.INVALID_NONCE,
    "NONCE_WINDOW": R.INVALID_NONCE,
    "RATE_LIMITED": R.RATE_LIMITED,
    "CANNOT_MODIFY": R.UNKNOWN_ORDER,
    "SCHEDULE_CANCEL_TOO_EARLY": R.SCHEDULE_CANCEL_REFUSED,
    "SCHEDULE_CANCEL_TOO_MANY": R.SCHEDULE_CANCEL_REFUSED,
    "INVALID_LEVERAGE": R.LEVERAGE_REFUSED,
    "CROSS_NOT_ALLOWED": R.LEVERAGE_REFUSED,
    "SWITCH_MARGIN_MODE_WITH_POSITION": R.LEVERAGE_REFUSED,
    "LEVERAGE_MARGIN": R.LEVERAGE_REFUSED,
    "NO_ISOLATED_POSITION": R.ISOLATED_MARGIN_REFUSED,
    "ISOLATED_MARGIN_INSUFFICIENT": R.ISOLATED_MARGIN_REFUSED,
    "AGENT_IS_USER": R.AGENT_REFUSED,
    "TOO_MANY_AGENTS": R.AGENT_REFUSED,
    "INSUFFICIENT_TRANSFER": R.INSUFFICIENT_BALANCE,
}

# Example values for the simulator's templates.
TEMPLATE_VALUES = {
    "bbo": "79990@80010",
    "quote_token": "USDC",
    "address": "0x" + "ab" * 20,
    "nonce": T0,
    "expires_after": T0 - 1,
    "now": T0,
    "used": 10_001,
    "cap": 10_000,
    "volume": "0.00",
}


def catalogue() -> dict[str, Any]:
    result: dict[str, Any] = json.loads((FIXTURES / "exchange_error_strings.json").read_text())
    return result


# --- the catalogue of real venue texts ----------------------------------------------------------


def test_every_documented_order_error_maps_to_its_code() -> None:
    entries = catalogue()["order_documented"]
    assert {e["type"] for e in entries} == set(DOCUMENTED)  # the table covers the catalogue

    for entry in entries:
        text = entry["text"].format(bbo="100.5@100.6", quote_token="USDC")
        assert classify_rejection(text).code is DOCUMENTED[entry["type"]], text
        with_suffix = classify_rejection(f"{text} asset=3")
        assert (with_suffix.code, with_suffix.asset) == (DOCUMENTED[entry["type"]], 3)


def test_every_observed_venue_text_maps_to_its_code_and_keeps_the_full_text() -> None:
    texts = [e["text"] for e in catalogue()["order_observed"] + catalogue()["toplevel_observed"]]
    assert set(texts) == set(OBSERVED)

    for text in texts:
        rejection = classify_rejection(text)
        assert (rejection.code, rejection.text) == (OBSERVED[text], text)


def test_asset_suffix_is_parsed_but_kept_in_the_reason() -> None:
    rejection = classify_rejection("Insufficient margin to place order. asset=4")

    assert rejection == VenueRejection(
        code=R.INSUFFICIENT_MARGIN, text="Insufficient margin to place order. asset=4", asset=4
    )
    assert rejection.reason == "INSUFFICIENT_MARGIN: Insufficient margin to place order. asset=4"
    assert rejection.due_post_only is False


def test_post_only_cross_is_flagged_for_order_rejected() -> None:
    text = "Post only order would have immediately matched, bbo was 64143@64144. asset=0"

    assert classify_rejection(text).due_post_only is True


def test_l1_error_prefix_quoted_by_the_docs_is_ignored_for_matching() -> None:
    text = "L1 error: User or API Wallet 0x0000000000000000000000000000000000000001 does not exist."

    assert classify_rejection(text).code is R.UNKNOWN_SIGNER


def test_unknown_text_is_unknown_and_keeps_its_words() -> None:
    rejection = classify_rejection("Something new the venue says. asset=7")

    assert rejection == VenueRejection(
        code=R.UNKNOWN, text="Something new the venue says. asset=7", asset=7
    )
    assert rejection.reason == "UNKNOWN: Something new the venue says. asset=7"


# --- the simulator's texts ----------------------------------------------------------------------


def test_every_simulator_error_text_maps_to_its_code() -> None:
    constants = {
        name: value
        for name, value in vars(sim_errors).items()
        if name.isupper() and isinstance(value, str)
    }
    assert set(constants) == set(SIM_TEXTS)  # a new simulator text must be classified here

    for name, template in constants.items():
        text = template.format(**TEMPLATE_VALUES)
        assert classify_rejection(text).code is SIM_TEXTS[name], (name, text)
        assert classify_rejection(sim_errors.with_asset(text, 2)).code is SIM_TEXTS[name]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("badAloPxRejected", R.POST_ONLY_WOULD_CROSS),
        ("iocCancelRejected", R.IOC_NO_MATCH),
        ("minTradeNtlRejected", R.MIN_VALUE),
        ("perpMarginRejected", R.INSUFFICIENT_MARGIN),
        ("reduceOnlyRejected", R.REDUCE_ONLY),
        ("tickRejected", R.INVALID_PRICE),
        ("badTriggerPxRejected", R.INVALID_TRIGGER_PRICE),
        ("marketOrderNoLiquidityRejected", R.NO_LIQUIDITY),
        ("oracleRejected", R.TOO_FAR_FROM_ORACLE),
        ("perpMaxPositionRejected", R.MAX_POSITION),
        ("insufficientSpotBalanceRejected", R.INSUFFICIENT_SPOT_BALANCE),
        ("openInterestIncreaseRejected", R.OPEN_INTEREST_CAP),
        ("positionIncreaseAtOpenInterestCapRejected", R.OPEN_INTEREST_CAP),
        ("positionFlipAtOpenInterestCapRejected", R.OPEN_INTEREST_CAP),
        ("tooAggressiveAtOpenInterestCapRejected", R.OPEN_INTEREST_CAP),
        ("rejected", R.UNKNOWN),
        ("open", None),
        ("filled", None),
        ("canceled", None),
        ("marginCanceled", None),
        ("reduceOnlyCanceled", None),
        ("scheduledCancel", None),
    ],
)
def test_order_statuses_naming_a_rejection_map_to_the_same_codes(
    status: str, code: R | None
) -> None:
    assert reason_for_order_status(status) is code


# --- rejections produced by the simulator -------------------------------------------------------


class Signer:
    """Signs L1 actions with the hyperliquid SDK and posts them to the engine."""

    def __init__(self, engine: SimEngine, key: str) -> None:
        self.engine = engine
        self.wallet: LocalAccount = Account.from_key(key)
        self.address = self.wallet.address.lower()
        self.nonce = T0

    def send(self, action: dict[str, Any], *, nonce: int | None = None) -> dict[str, Any]:
        if nonce is None:
            nonce = self.nonce + 1
        self.nonce = max(self.nonce, nonce)
        signature = sign_l1_action(self.wallet, action, None, nonce, None, False)
        body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
        return self.engine.exchange(body, T0)

    def order(self, px: str, sz: str, tif: str = "Gtc", **kw: Any) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "a": kw.get("asset", 0),
            "b": kw.get("is_buy", True),
            "p": px,
            "s": sz,
            "r": kw.get("reduce_only", False),
            "t": kw.get("t", {"limit": {"tif": tif}}),
        }
        if "cloid" in kw:
            wire["c"] = kw["cloid"]
        return self.send({"type": "order", "orders": [wire], "grouping": kw.get("grouping", "na")})


def only_error(response: dict[str, Any]) -> str:
    """The text of a whole-action error or of the single per-order/per-cancel error."""
    if response["status"] == "err":
        return str(response["response"])
    (status,) = response["response"]["data"]["statuses"]
    return str(status["error"])


@pytest.fixture
def engine() -> SimEngine:
    eng = SimEngine(list(DEFAULT_COINS.values()))
    eng.tick(T0)
    eng.credit_usdc(MAKER, 10_000_000.0)
    eng.place_internal_order(MAKER, "BTC", True, 79990.0, 1.0, now_ms=T0)
    eng.place_internal_order(MAKER, "BTC", False, 80010.0, 1.0, now_ms=T0)
    return eng


@pytest.fixture
def trader(engine: SimEngine) -> Signer:
    signer = Signer(engine, "0x" + "a1" * 32)
    engine.credit_usdc(signer.address, 1_000.0)
    return signer


def test_order_rejections_from_the_simulator_map_to_their_codes(
    engine: SimEngine, trader: Signer
) -> None:
    cases: list[tuple[dict[str, Any], R]] = [
        (trader.order("80000", "0.0001"), R.MIN_VALUE),
        (trader.order("79000", "1"), R.INSUFFICIENT_MARGIN),
        (trader.order("80010", "0.001", "Alo"), R.POST_ONLY_WOULD_CROSS),
        (trader.order("80000", "0.001", reduce_only=True, is_buy=False), R.REDUCE_ONLY),
        (trader.order("79000.5", "0.001"), R.INVALID_PRICE),  # 6 significant figures
        (trader.order("79000.25", "0.001"), R.INVALID_PRICE),  # 2 decimals, BTC allows 1
        (trader.order("79000", "0.000001"), R.INVALID_SIZE),
        (trader.order("79000", "0.001", "Ioc"), R.IOC_NO_MATCH),
        (trader.order("79000", "0.001", asset=99), R.INVALID_ASSET),
        (trader.order("79000", "0.001", grouping="positionTpsl"), R.INVALID_TRIGGER_PRICE),
    ]

    for response, code in cases:
        text = only_error(response)
        assert classify_rejection(text).code is code, text


def test_rejected_order_status_and_error_text_agree(engine: SimEngine, trader: Signer) -> None:
    cloid = "0x" + "0" * 31 + "1"
    text = only_error(trader.order("80010", "0.001", "Alo", cloid=cloid))

    status = engine.info({"type": "orderStatus", "user": trader.address, "oid": cloid}, T0)

    assert status["order"]["status"] == "badAloPxRejected"
    assert reason_for_order_status(status["order"]["status"]) is classify_rejection(text).code


def test_cancel_and_modify_of_a_missing_order_are_unknown_order(
    engine: SimEngine, trader: Signer
) -> None:
    new_wire = {"a": 0, "b": True, "p": "79000", "s": "0.001", "r": False}
    new_wire["t"] = {"limit": {"tif": "Gtc"}}

    cancel = only_error(trader.send({"type": "cancel", "cancels": [{"a": 0, "o": 123}]}))
    modify = only_error(
        trader.send({"type": "batchModify", "modifies": [{"oid": 123, "order": new_wire}]})
    )

    assert cancel == "Order was never placed, already canceled, or filled. asset=0"
    assert classify_rejection(cancel).code is R.UNKNOWN_ORDER
    assert classify_rejection(modify).code is R.UNKNOWN_ORDER


def test_whole_action_refusals_from_the_simulator_map_to_their_codes(
    engine: SimEngine, trader: Signer
) -> None:
    stranger = Signer(engine, "0x" + "c3" * 32)
    broke = Signer(engine, "0x" + "d4" * 32)
    engine.credit_usdc(broke.address, 0.0)
    reused = trader.nonce + 1
    trader.send({"type": "scheduleCancel"}, nonce=reused)

    cases: list[tuple[dict[str, Any], R]] = [
        (stranger.send({"type": "scheduleCancel"}), R.UNKNOWN_SIGNER),
        (broke.send({"type": "scheduleCancel"}), R.NOT_DEPOSITED),
        (trader.send({"type": "scheduleCancel"}, nonce=reused), R.INVALID_NONCE),
        (trader.send({"type": "scheduleCancel", "time": T0 + 1}), R.SCHEDULE_CANCEL_REFUSED),
        (
            trader.send({"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 99}),
            R.LEVERAGE_REFUSED,
        ),
    ]
    engine.accounts[trader.address].n_requests = 1_000_000
    cases.append((trader.send({"type": "scheduleCancel"}), R.RATE_LIMITED))

    for response, code in cases:
        assert response["status"] == "err", response
        assert classify_rejection(response["response"]).code is code, response
