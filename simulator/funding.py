"""Hourly funding by the venue's rule: premium sampled every 5 s, averaged over the hour.

PROTOCOL.md §11 and the venue's funding documentation:

* every `PREMIUM_SAMPLE_MS` (5 s of venue time) one premium sample is taken per coin:
  `premium = (max(impact_bid - oracle, 0) - max(oracle - impact_ask, 0)) / oracle`, where the
  impact prices are the average execution prices of selling / buying the coin's impact notional
  (20,000 USDC for BTC and ETH, 6,000 USDC for every other coin) into the book;
* at the top of each hour the samples of that hour are averaged (`avgPremium`), the 8-hour rate
  is `F = avgPremium + clamp(0.0001 - avgPremium, -0.0005, 0.0005)` and the hour pays `F / 8`,
  capped at 4% an hour; payment = `-szi * oraclePx * rate` (positive rate: longs pay);
* `ctx.funding` (and `predictedFundings`) is the rate of the samples of the current hour so far;
  `fundingHistory` has one row per hour with that hour's rate and average premium.

So a scenario switch moves funding gradually over the hour, as on the venue, instead of at once.
ASSUMED where the venue is silent: a side thinner than the impact notional is averaged over the
depth it has, an empty side adds nothing to the premium; an hour without samples (the engine's
first, partial hour) settles on the premium of that moment; the sample due at the very top of an
hour belongs to the new hour. `cumFunding` counts funding PAID by the position as positive.
"""

from __future__ import annotations

from typing import Any

from simulator.events import UserFunding
from simulator.orders import fmt_usd
from simulator.state import HOUR_MS
from simulator.state import MarketState
from simulator.state import VenueState
from simulator.state import hash_hex

PREMIUM_SAMPLE_MS = 5_000
FUNDING_INTEREST_8H = 0.0001
FUNDING_CLAMP_8H = 0.0005
FUNDING_CAP_1H = 0.04
FUNDING_CATCH_UP_HOURS = 24 * 7
IMPACT_NOTIONAL_USD: dict[str, float] = {"BTC": 20_000.0, "ETH": 20_000.0}
DEFAULT_IMPACT_NOTIONAL_USD = 6_000.0


def impact_notional_usd(coin: str) -> float:
    """The notional whose average execution price is the coin's impact price."""
    return IMPACT_NOTIONAL_USD.get(coin, DEFAULT_IMPACT_NOTIONAL_USD)


def impact_price(market: MarketState, is_bid: bool, notional_usd: float) -> float | None:
    """Average execution price of selling (bid side) or buying `notional_usd` into the book;
    over the whole side when it is thinner (ASSUMED); None for an empty side."""
    remaining = notional_usd
    cost = 0.0
    size = 0.0
    for px_units, queue in market.book.levels(is_bid):
        px = market.px_float(px_units)
        level_sz = sum(o.sz for o in queue) / market.sz_scale
        take = min(level_sz, remaining / px)
        cost += take * px
        size += take
        remaining -= take * px
        if remaining <= 1e-9:
            break
    return cost / size if size > 0 else None


def premium_sample(market: MarketState) -> float:
    """One premium sample of `market` now, by the venue's impact-price formula."""
    oracle = market.oracle
    if oracle <= 0:
        return 0.0
    notional = impact_notional_usd(market.coin)
    bid = impact_price(market, True, notional)
    ask = impact_price(market, False, notional)
    above = max(bid - oracle, 0.0) if bid is not None else 0.0
    below = max(oracle - ask, 0.0) if ask is not None else 0.0
    return (above - below) / oracle


def rate_from_premium(avg_premium: float) -> float:
    """The hourly funding rate of an average premium: F/8 with F clamped as documented."""
    clamp = max(-FUNDING_CLAMP_8H, min(FUNDING_CLAMP_8H, FUNDING_INTEREST_8H - avg_premium))
    rate = (avg_premium + clamp) / 8
    return max(-FUNDING_CAP_1H, min(FUNDING_CAP_1H, rate))


def average_premium(market: MarketState) -> float:
    """The mean of this hour's samples (the current premium before the first one)."""
    if market.premium_samples:
        return market.premium_sum / market.premium_samples
    return premium_sample(market)


def current_funding_rate(state: VenueState, coin: str) -> tuple[float, float]:
    """(hourly rate, average premium) of `coin` for the current hour so far; a rate forced by
    `set_funding_rate` wins over the premium."""
    market = state.market(coin)
    premium = average_premium(market)
    if market.funding_override is not None:
        return market.funding_override, premium
    return rate_from_premium(premium), premium


def predicted_fundings(state: VenueState, now_ms: int) -> list[list[Any]]:
    """The `predictedFundings` payload (this venue only): per coin, the current hour's rate and
    the next funding time, in the captured shape `[[coin, [["HlPerp", {...}]]], ...]`."""
    next_time = (now_ms // HOUR_MS + 1) * HOUR_MS
    out: list[list[Any]] = []
    for coin in state.markets:
        rate, _ = current_funding_rate(state, coin)
        entry = {
            "fundingRate": fmt_usd(rate, 10),
            "nextFundingTime": next_time,
            "fundingIntervalHours": 1,
        }
        out.append([coin, [["HlPerp", entry]]])
    return out


def advance_funding(state: VenueState, now_ms: int) -> None:
    """Take the premium samples due up to `now_ms` and settle every hour that ended.

    Samples missed between two calls (a clock jump) are taken at the state of this call; at
    most `FUNDING_CATCH_UP_HOURS` past hours are settled.
    """
    if state.last_funding_hour is None or state.next_sample_ms is None:
        state.last_funding_hour = now_ms // HOUR_MS
        state.next_sample_ms = -(-now_ms // PREMIUM_SAMPLE_MS) * PREMIUM_SAMPLE_MS
    oldest = now_ms // HOUR_MS - FUNDING_CATCH_UP_HOURS
    if state.last_funding_hour < oldest:
        state.last_funding_hour = oldest
        state.next_sample_ms = max(state.next_sample_ms, oldest * HOUR_MS)
        for market in state.markets.values():
            market.premium_sum = 0.0
            market.premium_samples = 0
    premiums: dict[str, float] | None = None
    while True:
        boundary = (state.last_funding_hour + 1) * HOUR_MS
        last_due = min(now_ms, boundary - 1)
        if state.next_sample_ms <= last_due:
            n = (last_due - state.next_sample_ms) // PREMIUM_SAMPLE_MS + 1
            if premiums is None:
                premiums = {c: premium_sample(m) for c, m in state.markets.items()}
            for coin, market in state.markets.items():
                market.premium_sum += premiums[coin] * n
                market.premium_samples += n
            state.next_sample_ms += n * PREMIUM_SAMPLE_MS
        if now_ms < boundary:
            return
        settle_hour(state, boundary)
        state.last_funding_hour += 1


def settle_hour(state: VenueState, when: int) -> None:
    """Pay the hour ending at `when`: one fundingHistory row per coin, one payment per position."""
    for market in state.markets.values():
        rate, premium = current_funding_rate(state, market.coin)
        rate = round(rate, 10)
        market.premium_sum = 0.0
        market.premium_samples = 0
        market.funding_history.append(
            {
                "coin": market.coin,
                "fundingRate": fmt_usd(rate, 10),
                "premium": fmt_usd(premium, 8),
                "time": when,
            }
        )
        for account in state.accounts.values():
            pos = account.positions.get(market.coin)
            if pos is None or not pos.szi:
                continue
            payment = round(-pos.size * market.oracle * rate, 6)
            if pos.is_cross:
                account.usdc = round(account.usdc + payment, 6)
            else:
                pos.iso_margin += payment
            pos.funding_all_time -= payment
            pos.funding_since_open -= payment
            pos.funding_since_change -= payment
            delta = {
                "time": when,
                "coin": market.coin,
                "usdc": fmt_usd(payment),
                "szi": market.sz_str(pos.szi),
                "fundingRate": fmt_usd(rate, 10),
                "nSamples": 1,
            }
            account.fundings.append(
                {
                    "time": when,
                    "hash": hash_hex("funding", account.address, market.coin, when),
                    "delta": {
                        "type": "funding",
                        **{k: v for k, v in delta.items() if k != "time"},
                    },
                }
            )
            state.emit(UserFunding(account.address, delta))
