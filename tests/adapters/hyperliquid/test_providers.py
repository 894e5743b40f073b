"""Instrument provider: real venue metadata -> CryptoPerpetual / CurrencyPair."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair

from adapters.hyperliquid.providers import HyperliquidInstrumentProvider
from adapters.hyperliquid.providers import fee_rates_from_user_fees
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.providers import parse_spot_instruments
from adapters.hyperliquid.schemas.info import SpotMeta
from adapters.hyperliquid.schemas.info import SpotPair
from adapters.hyperliquid.schemas.info import decode_info_response
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
TS = 1_700_000_000_000_000_000


def fixture_bytes(name: str) -> bytes:
    """Raw bytes of a fixture file."""
    return (FIXTURES / name).read_bytes()


class FakeInfo:
    """Serves /info bodies from fixtures and records the requests (stands in for HTTP)."""

    def __init__(self, responses: dict[str, bytes]) -> None:
        self.responses = dict(responses)
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, body: dict[str, Any]) -> bytes:
        self.requests.append(body)
        return self.responses[body["type"]]


def test_meta_fixture_becomes_perps_with_precisions_margins_and_default_fees() -> None:
    meta = decode_info_response("meta", fixture_bytes("info_meta.json"))

    instruments = parse_perp_instruments(meta, TS)

    assert len(instruments) == 28
    by_coin = {i.raw_symbol.value: i for i in instruments}
    btc = by_coin["BTC"]
    assert isinstance(btc, CryptoPerpetual)
    assert btc.id == InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
    assert (btc.price_precision, str(btc.price_increment)) == (1, "0.1")
    assert (btc.size_precision, str(btc.size_increment)) == (5, "0.00001")
    assert btc.margin_init == Decimal("0.02")
    assert btc.margin_maint == Decimal("0.01")
    assert (btc.maker_fee, btc.taker_fee) == (Decimal("0.00015"), Decimal("0.00045"))
    assert btc.quote_currency.code == "USDC"
    assert btc.settlement_currency.code == "USDC"
    assert str(btc.min_notional) == "10.00000000 USDC"
    assert btc.info["asset"] == 0
    doge = by_coin["DOGE"]
    assert (doge.price_precision, str(doge.size_increment)) == (6, "1")
    assert by_coin["APT"].info["asset"] == 27
    assert (by_coin["ETH"].price_precision, by_coin["ETH"].size_precision) == (2, 4)
    assert (btc.ts_event, btc.ts_init) == (TS, TS)


def test_meta_and_asset_ctxs_skips_delisted_and_uses_max_leverage() -> None:
    meta, _ctxs = decode_info_response(
        "metaAndAssetCtxs", fixture_bytes("info_metaAndAssetCtxs.json")
    )

    instruments = parse_perp_instruments(meta, TS)

    assert [i.raw_symbol.value for i in instruments] == ["BTC", "ETH", "ATOM"]
    margins = [(i.margin_init, i.margin_maint) for i in instruments]
    assert margins == [
        (Decimal("0.025"), Decimal("0.0125")),
        (Decimal("0.04"), Decimal("0.02")),
        (Decimal("0.2"), Decimal("0.1")),
    ]
    assert [i.info["asset"] for i in instruments] == [0, 1, 2]


def test_coin_filter_keeps_only_requested_coins() -> None:
    meta = decode_info_response("meta", fixture_bytes("info_meta.json"))

    instruments = parse_perp_instruments(meta, TS, coins=["ETH", "kPEPE"])

    assert [i.id.value for i in instruments] == [
        "ETH-USD-PERP.HYPERLIQUID",
        "kPEPE-USD-PERP.HYPERLIQUID",
    ]


def test_user_fees_fixture_sets_maker_and_taker_rates() -> None:
    user_fees = decode_info_response("userFees", fixture_bytes("info_userFees.json"))
    meta = decode_info_response("meta", fixture_bytes("info_meta.json"))

    fees = fee_rates_from_user_fees(user_fees)
    (btc,) = parse_perp_instruments(meta, TS, fees=fees, coins=["BTC"])

    assert (fees.maker, fees.taker) == (Decimal("0.0001"), Decimal("0.00035"))
    assert (btc.maker_fee, btc.taker_fee) == (Decimal("0.0001"), Decimal("0.00035"))


def test_spot_tokens_excerpt_has_no_pairs_and_a_pair_over_its_tokens_parses() -> None:
    spot_meta = decode_info_response("spotMeta", fixture_bytes("info_spotMeta_tokens_excerpt.json"))
    with_pair = SpotMeta(
        tokens=spot_meta.tokens,
        universe=[SpotPair(name="@230", tokens=(360, 0), index=230, isCanonical=False)],
    )

    assert parse_spot_instruments(spot_meta, TS) == []
    (pair,) = parse_spot_instruments(with_pair, TS)

    assert isinstance(pair, CurrencyPair)
    assert pair.id == InstrumentId.from_str("USDH-USDC-SPOT.HYPERLIQUID")
    assert pair.raw_symbol.value == "@230"
    assert (pair.price_precision, str(pair.price_increment)) == (6, "0.000001")
    assert (pair.size_precision, str(pair.size_increment)) == (2, "0.01")
    assert (pair.maker_fee, pair.taker_fee) == (Decimal("0.0004"), Decimal("0.0007"))
    assert pair.info["asset"] == 10230
    assert pair.base_currency.code == "USDH"


def test_spot_pair_with_an_unknown_token_is_skipped() -> None:
    spot_meta = decode_info_response("spotMeta", fixture_bytes("info_spotMeta_tokens_excerpt.json"))
    broken = SpotMeta(
        tokens=spot_meta.tokens,
        universe=[SpotPair(name="@1", tokens=(999, 0), index=1, isCanonical=False)],
    )

    assert parse_spot_instruments(broken, TS) == []


async def test_provider_loads_default_dex_only_unless_hip3_is_opted_in() -> None:
    info = FakeInfo(
        {
            "meta": fixture_bytes("info_meta.json"),
            "allPerpMetas": fixture_bytes("info_allPerpMetas.json"),
        }
    )
    default_only = HyperliquidInstrumentProvider(info, lambda: TS)
    with_km = HyperliquidInstrumentProvider(info, lambda: TS, hip3_dexes=["km"])

    await default_only.load_all_async()
    await with_km.load_all_async()

    assert default_only.count == 28
    assert [i.id.value for i in with_km.list_all()] == [
        "BTC-USD-PERP.HYPERLIQUID",
        "km:US500-USD-PERP.HYPERLIQUID",
    ]
    km = with_km.find(InstrumentId.from_str("km:US500-USD-PERP.HYPERLIQUID"))
    assert km is not None
    assert km.info["asset"] == 110000
    assert km.info["dex"] == "km"
    assert (km.price_precision, km.size_precision) == (3, 3)
    assert [r["type"] for r in info.requests] == ["meta", "allPerpMetas"]


async def test_provider_fetches_user_fees_when_a_fee_user_is_given() -> None:
    info = FakeInfo(
        {"meta": fixture_bytes("info_meta.json"), "userFees": fixture_bytes("info_userFees.json")}
    )
    provider = HyperliquidInstrumentProvider(info, lambda: TS, fee_user="0xabc", coins=["BTC"])

    await provider.load_all_async()

    (btc,) = provider.list_all()
    assert btc.taker_fee == Decimal("0.00035")
    assert info.requests[0] == {"type": "userFees", "user": "0xabc"}


async def test_refresh_adds_new_listings_and_reports_them() -> None:
    meta = json.loads(fixture_bytes("info_meta.json"))
    first = dict(meta, universe=meta["universe"][:2])
    info = FakeInfo({"meta": json.dumps(first).encode()})
    provider = HyperliquidInstrumentProvider(info, lambda: TS)
    await provider.load_all_async()
    info.responses["meta"] = fixture_bytes("info_meta.json")

    added = await provider.refresh_async()

    assert provider.count == 28
    assert len(added) == 26
    assert added[0].id.value == "ATOM-USD-PERP.HYPERLIQUID"
    assert await provider.refresh_async() == []


async def test_load_ids_loads_only_the_requested_instruments() -> None:
    info = FakeInfo({"meta": fixture_bytes("info_meta.json")})
    provider = HyperliquidInstrumentProvider(info, lambda: TS)
    eth = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")

    await provider.load_ids_async([eth])

    assert [i.id for i in provider.list_all()] == [eth]
    assert provider.currency("ETH") is not None
