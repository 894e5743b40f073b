"""Hyperliquid instruments: venue metadata -> NautilusTrader instruments, and the provider.

The conversion is a pure function core (``parse_perp_instruments``, ``parse_spot_instruments``);
``HyperliquidInstrumentProvider`` wraps it in NautilusTrader's ``InstrumentProvider`` and fetches
``/info`` through an async callable, so any HTTP client (or a test double) can be plugged in and
every response can be recorded by whoever owns the transport.

Rules (PROTOCOL.md §2, §3, §8):

* perp: price precision ``6 - szDecimals``, size increment ``10**-szDecimals``; ``margin_init`` is
  ``1 / maxLeverage`` and ``margin_maint`` half of that (the venue's maintenance margin is half the
  initial margin at max leverage); fees default to the base tier (maker 0.015 %, taker 0.045 %)
  or come from ``userFees``. Never zero: paper trading and backtests must charge fees.
* spot: price precision ``8 - szDecimals`` of the base token, base-tier spot fees.
* Delisted perps keep their slot in the universe (asset ids never compact) but are not listed.
* HIP-3 (builder-deployed) dexes are opt-in by name; their asset ids are
  ``100000 + dex_index * 10000 + index``.

Instrument ids: ``{coin}-USD-PERP.HYPERLIQUID`` and ``{base}-{quote}-SPOT.HYPERLIQUID``; the raw
symbol is the venue's coin string (``"BTC"``, ``"xyz:XYZ100"``, ``"PURR/USDC"``, ``"@107"``) and
``info`` carries ``coin``, ``asset`` and ``szDecimals`` for the execution client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from typing import Final
from typing import NamedTuple

from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.constants import HIP3_ASSET_OFFSET
from adapters.hyperliquid.constants import HIP3_DEX_STRIDE
from adapters.hyperliquid.constants import HYPERLIQUID_VENUE_NAME
from adapters.hyperliquid.constants import MIN_ORDER_VALUE
from adapters.hyperliquid.constants import PERP_MAKER_FEE
from adapters.hyperliquid.constants import PERP_MAX_DECIMALS
from adapters.hyperliquid.constants import PERP_TAKER_FEE
from adapters.hyperliquid.constants import SPOT_ASSET_OFFSET
from adapters.hyperliquid.constants import SPOT_MAKER_FEE
from adapters.hyperliquid.constants import SPOT_MAX_DECIMALS
from adapters.hyperliquid.constants import SPOT_TAKER_FEE
from adapters.hyperliquid.schemas.info import Meta
from adapters.hyperliquid.schemas.info import SpotMeta
from adapters.hyperliquid.schemas.info import UserFees
from adapters.hyperliquid.schemas.info import decode_info_response

__all__ = [
    "DEFAULT_PERP_FEES",
    "DEFAULT_SPOT_FEES",
    "HYPERLIQUID_VENUE",
    "FeeRates",
    "HyperliquidInstrumentProvider",
    "InfoFetcher",
    "fee_rates_from_user_fees",
    "parse_perp_instruments",
    "parse_spot_instruments",
    "perp_instrument_id",
    "spot_instrument_id",
    "unlisted_coins",
]

HYPERLIQUID_VENUE: Final[Venue] = Venue(HYPERLIQUID_VENUE_NAME)
# Unknown tokens get the precision of NautilusTrader's built-in crypto currencies.
_DEFAULT_CURRENCY_PRECISION: Final[int] = 8
_COLLATERAL: Final[str] = "USDC"

InfoFetcher = Callable[[dict[str, Any]], Awaitable[bytes]]
"""POSTs one ``/info`` body and returns the raw response bytes (the HTTP client's job)."""


class FeeRates(NamedTuple):
    """Maker and taker fee rates as fractions (0.00015 = 0.015 %)."""

    maker: Decimal
    taker: Decimal


DEFAULT_PERP_FEES: Final[FeeRates] = FeeRates(PERP_MAKER_FEE, PERP_TAKER_FEE)
DEFAULT_SPOT_FEES: Final[FeeRates] = FeeRates(SPOT_MAKER_FEE, SPOT_TAKER_FEE)


def fee_rates_from_user_fees(user_fees: UserFees) -> FeeRates:
    """The perp rates that apply to a user (``userAddRate`` = maker, ``userCrossRate`` = taker)."""
    return FeeRates(Decimal(user_fees.userAddRate), Decimal(user_fees.userCrossRate))


def perp_instrument_id(coin: str) -> InstrumentId:
    """``BTC`` -> ``BTC-USD-PERP.HYPERLIQUID`` (HIP-3 coins keep their ``dex:`` prefix)."""
    return InstrumentId(Symbol(f"{coin}-USD-PERP"), HYPERLIQUID_VENUE)


def spot_instrument_id(base: str, quote: str) -> InstrumentId:
    """``(PURR, USDC)`` -> ``PURR-USDC-SPOT.HYPERLIQUID``."""
    return InstrumentId(Symbol(f"{base}-{quote}-SPOT"), HYPERLIQUID_VENUE)


def unlisted_coins(coins: Iterable[str], instruments: Iterable[Instrument]) -> list[str]:
    """The configured coins no loaded instrument answers to (by venue name or symbol): coins the
    venue does not list, which the ``coins`` filter would otherwise drop without a word."""
    names: set[str] = set()
    for instrument in instruments:
        names.add(instrument.raw_symbol.value)
        names.add(instrument.id.symbol.value)
    return sorted(set(coins) - names)


def _currency(code: str) -> Currency:
    known = Currency.from_str(code, strict=True)
    if known is not None:
        return known
    return Currency(code, _DEFAULT_CURRENCY_PRECISION, 0, code, CurrencyType.CRYPTO)


def _increment(decimals: int) -> str:
    return f"{Decimal(1).scaleb(-decimals):f}"


def parse_perp_instruments(
    meta: Meta,
    ts_init: int,
    *,
    fees: FeeRates = DEFAULT_PERP_FEES,
    dex: str = "",
    dex_index: int = 0,
    coins: Iterable[str] | None = None,
) -> list[CryptoPerpetual]:
    """Listed perps of one dex as ``CryptoPerpetual``s (delisted skipped, ``coins`` filters)."""
    wanted = None if coins is None else frozenset(coins)
    settlement = _currency(_COLLATERAL)
    min_notional = Money(MIN_ORDER_VALUE, settlement)
    offset = 0 if dex_index == 0 else HIP3_ASSET_OFFSET + dex_index * HIP3_DEX_STRIDE
    instruments: list[CryptoPerpetual] = []
    for index, asset in enumerate(meta.universe):
        if asset.isDelisted or (wanted is not None and asset.name not in wanted):
            continue
        price_precision = max(PERP_MAX_DECIMALS - asset.szDecimals, 0)
        size_precision = asset.szDecimals
        margin_init = Decimal(1) / Decimal(asset.maxLeverage)
        instruments.append(
            CryptoPerpetual(
                instrument_id=perp_instrument_id(asset.name),
                raw_symbol=Symbol(asset.name),
                base_currency=_currency(asset.name),
                quote_currency=settlement,
                settlement_currency=settlement,
                is_inverse=False,
                price_precision=price_precision,
                size_precision=size_precision,
                price_increment=Price.from_str(_increment(price_precision)),
                size_increment=Quantity.from_str(_increment(size_precision)),
                ts_event=ts_init,
                ts_init=ts_init,
                lot_size=Quantity.from_str(_increment(size_precision)),
                min_notional=min_notional,
                margin_init=margin_init,
                margin_maint=margin_init / 2,
                maker_fee=fees.maker,
                taker_fee=fees.taker,
                info={
                    "coin": asset.name,
                    "asset": offset + index,
                    "szDecimals": asset.szDecimals,
                    "maxLeverage": asset.maxLeverage,
                    "onlyIsolated": asset.onlyIsolated,
                    "dex": dex,
                },
            )
        )
    return instruments


def parse_spot_instruments(
    spot_meta: SpotMeta,
    ts_init: int,
    *,
    fees: FeeRates = DEFAULT_SPOT_FEES,
    coins: Iterable[str] | None = None,
) -> list[CurrencyPair]:
    """Spot pairs as ``CurrencyPair``s; ``coins`` filters on the pair's venue name or symbol.

    A pair whose tokens are missing from ``tokens`` is skipped (it cannot be priced correctly).
    """
    wanted = None if coins is None else frozenset(coins)
    tokens = {token.index: token for token in spot_meta.tokens}
    instruments: list[CurrencyPair] = []
    for pair in spot_meta.universe:
        base_index, quote_index = pair.tokens
        base = tokens.get(base_index)
        quote = tokens.get(quote_index)
        if base is None or quote is None:
            continue
        instrument_id = spot_instrument_id(base.name, quote.name)
        if wanted is not None and not {pair.name, instrument_id.symbol.value} & wanted:
            continue
        price_precision = max(SPOT_MAX_DECIMALS - base.szDecimals, 0)
        size_precision = base.szDecimals
        quote_currency = _currency(quote.name)
        instruments.append(
            CurrencyPair(
                instrument_id=instrument_id,
                raw_symbol=Symbol(pair.name),
                base_currency=_currency(base.name),
                quote_currency=quote_currency,
                price_precision=price_precision,
                size_precision=size_precision,
                price_increment=Price.from_str(_increment(price_precision)),
                size_increment=Quantity.from_str(_increment(size_precision)),
                ts_event=ts_init,
                ts_init=ts_init,
                min_notional=Money(MIN_ORDER_VALUE, quote_currency),
                maker_fee=fees.maker,
                taker_fee=fees.taker,
                info={
                    "coin": pair.name,
                    "asset": SPOT_ASSET_OFFSET + pair.index,
                    "szDecimals": base.szDecimals,
                },
            )
        )
    return instruments


def _dex_of(meta: Meta) -> str:
    # allPerpMetas does not name the dex; its coins are "dex:NAME".
    for asset in meta.universe:
        if ":" in asset.name:
            return asset.name.split(":", 1)[0]
    return ""


class HyperliquidInstrumentProvider(InstrumentProvider):
    """Loads Hyperliquid perps and spot pairs through an async ``/info`` fetcher.

    ``refresh_async`` reloads the metadata and adds what was listed since (call it from a timer):
    new listings appear without a restart.

    Parameters
    ----------
    fetch_info : InfoFetcher
        POSTs an ``/info`` body and returns the raw response bytes.
    time_ns : Callable[[], int]
        Clock for ``ts_init`` (the node's clock in production).
    include_perps, include_spot : bool
        Product types to load.
    hip3_dexes : Iterable[str]
        Builder-deployed dexes to include (opt-in, by name); empty = none.
    coins : Iterable[str], optional
        Only these venue coins (perp names, spot pair names or spot symbols); ``None`` = all.
    fee_user : str, optional
        Account address whose ``userFees`` set the perp fee rates; base tier if ``None``.
    config : InstrumentProviderConfig, optional
        NautilusTrader's provider config (``load_all`` / ``load_ids`` on start).
    """

    def __init__(
        self,
        fetch_info: InfoFetcher,
        time_ns: Callable[[], int],
        *,
        include_perps: bool = True,
        include_spot: bool = False,
        hip3_dexes: Iterable[str] = (),
        coins: Iterable[str] | None = None,
        fee_user: str | None = None,
        config: InstrumentProviderConfig | None = None,
    ) -> None:
        super().__init__(config=config)
        self._fetch_info = fetch_info
        self._time_ns = time_ns
        self._include_perps = include_perps
        self._include_spot = include_spot
        self._hip3_dexes = frozenset(hip3_dexes)
        self._coins = None if coins is None else frozenset(coins)
        self._fee_user = fee_user
        self._load_once_lock = asyncio.Lock()
        self.loads = 0  # completed load_once loads (one per node when clients share the provider)

    async def load_once(self) -> None:
        """Load every instrument once for all the clients sharing this provider (the data and
        execution clients of one node); concurrent callers wait for that one load."""
        async with self._load_once_lock:
            if self.loads == 0:
                await self.load_all_async()
                self.loads += 1

    async def _info(self, body: dict[str, Any]) -> Any:
        raw = await self._fetch_info(body)
        return decode_info_response(body["type"], raw)

    async def fetch_instruments(self) -> list[Instrument]:
        """Fetch and convert everything this provider is configured for (no caching)."""
        ts_init = self._time_ns()
        fees = DEFAULT_PERP_FEES
        if self._fee_user is not None:
            user_fees = await self._info({"type": "userFees", "user": self._fee_user})
            fees = fee_rates_from_user_fees(user_fees)
        instruments: list[Instrument] = []
        if self._include_perps:
            if self._hip3_dexes:
                metas: list[Meta] = await self._info({"type": "allPerpMetas"})
            else:
                metas = [await self._info({"type": "meta"})]
            for dex_index, meta in enumerate(metas):
                dex = "" if dex_index == 0 else _dex_of(meta)
                if dex_index > 0 and dex not in self._hip3_dexes:
                    continue
                instruments.extend(
                    parse_perp_instruments(
                        meta, ts_init, fees=fees, dex=dex, dex_index=dex_index, coins=self._coins
                    )
                )
        if self._include_spot:
            spot_meta: SpotMeta = await self._info({"type": "spotMeta"})
            instruments.extend(parse_spot_instruments(spot_meta, ts_init, coins=self._coins))
        return instruments

    def _add_all(self, instruments: Iterable[Instrument]) -> None:
        for instrument in instruments:
            for currency in (instrument.base_currency, instrument.quote_currency):
                if currency is not None:
                    self.add_currency(currency)
            self.add(instrument)

    async def load_all_async(self, filters: dict | None = None) -> None:
        """Load every configured instrument (``filters`` is unused: use ``coins``)."""
        self._add_all(await self.fetch_instruments())

    async def load_ids_async(
        self, instrument_ids: list[InstrumentId], filters: dict | None = None
    ) -> None:
        """Load only the given instruments (the venue has no per-instrument metadata call)."""
        wanted = set(instrument_ids)
        self._add_all(i for i in await self.fetch_instruments() if i.id in wanted)

    async def load_async(self, instrument_id: InstrumentId, filters: dict | None = None) -> None:
        """Load one instrument."""
        await self.load_ids_async([instrument_id], filters)

    async def refresh_async(self) -> list[Instrument]:
        """Reload metadata; return the instruments that were not known before (new listings).

        Known instruments are replaced too, so changed leverage or fees take effect.
        """
        instruments = await self.fetch_instruments()
        added = [i for i in instruments if self.find(i.id) is None]
        self._add_all(instruments)
        return added
