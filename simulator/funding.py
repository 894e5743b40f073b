"""Hourly funding: the rate from the premium, payments to and from every open position.

`cumFunding` counts funding PAID by the position as positive.
"""

from __future__ import annotations

from simulator.events import UserFunding
from simulator.orders import fmt_usd
from simulator.state import HOUR_MS
from simulator.state import VenueState
from simulator.state import hash_hex

FUNDING_INTEREST_8H = 0.0001
FUNDING_CLAMP_8H = 0.0005
FUNDING_CAP_1H = 0.04
FUNDING_CATCH_UP_HOURS = 24 * 7


def current_funding_rate(state: VenueState, coin: str) -> tuple[float, float]:
    """(hourly rate, premium) of `coin` now: override, else the venue's formula on the mark."""
    market = state.market(coin)
    premium = (market.mark - market.oracle) / market.oracle if market.oracle else 0.0
    if market.funding_override is not None:
        return market.funding_override, premium
    clamp = max(-FUNDING_CLAMP_8H, min(FUNDING_CLAMP_8H, FUNDING_INTEREST_8H - premium))
    rate = (premium + clamp) / 8
    rate = max(-FUNDING_CAP_1H, min(FUNDING_CAP_1H, rate))
    return rate, premium


def pay_funding(state: VenueState, now_ms: int) -> None:
    """On each new hour, record the rate per coin and pay/charge every open position."""
    hour = now_ms // HOUR_MS
    if state.last_funding_hour is None:
        state.last_funding_hour = hour
        return
    if hour <= state.last_funding_hour:
        return
    first = max(state.last_funding_hour + 1, hour - FUNDING_CATCH_UP_HOURS + 1)
    state.last_funding_hour = hour
    for h in range(first, hour + 1):
        when = h * HOUR_MS
        for market in state.markets.values():
            rate, premium = current_funding_rate(state, market.coin)
            rate = round(rate, 10)
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
