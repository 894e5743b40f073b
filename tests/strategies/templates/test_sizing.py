"""Order sizing against the venue's $10 minimum, checked against brute force."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from strategies.templates.sizing import MIN_ORDER_NOTIONAL_USD
from strategies.templates.sizing import quantity_for_notional
from strategies.templates.sizing import twap_slices

prices = st.decimals(min_value="0.01", max_value="100000", places=2)
decimals = st.integers(min_value=0, max_value=5)


def test_quantity_rounds_down_to_a_lot_when_that_stays_over_the_minimum() -> None:
    assert quantity_for_notional(Decimal(25), Decimal(2500), 4) == Decimal("0.0100")


def test_quantity_rounds_up_one_lot_when_rounding_down_would_fall_under_the_minimum() -> None:
    # $10.50 at 2500 is 0.0042; floor at 2 decimals is 0.00 -> one lot up is 0.01 ($25)
    assert quantity_for_notional(Decimal("10.5"), Decimal(2500), 2) == Decimal("0.01")


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value="10.5", max_value="50000", places=2), prices, decimals)
def test_quantity_is_worth_the_minimum_and_at_most_one_lot_more_than_asked(
    notional: Decimal, price: Decimal, sz: int
) -> None:
    qty = quantity_for_notional(notional, price, sz)
    lot = Decimal(1).scaleb(-sz)
    assert qty == qty.quantize(lot)
    assert qty * price >= MIN_ORDER_NOTIONAL_USD
    assert qty <= notional / price + lot


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value="0.001", max_value="1000", places=3), prices,
       st.integers(min_value=1, max_value=60), decimals)  # fmt: skip
def test_twap_slices_are_the_most_equal_children_each_worth_the_minimum(
    total: Decimal, price: Decimal, wanted: int, sz: int
) -> None:
    lot = Decimal(1).scaleb(-sz)
    slices, per = twap_slices(total, price, wanted, sz)

    def fits(n: int) -> bool:
        child = (total / n).quantize(lot, rounding="ROUND_FLOOR")
        return child > 0 and child * price >= MIN_ORDER_NOTIONAL_USD

    if slices == 0:
        assert total * price < MIN_ORDER_NOTIONAL_USD
        return
    assert 1 <= slices <= wanted
    assert per * slices <= total
    if slices > 1:
        assert per * price >= MIN_ORDER_NOTIONAL_USD
    assert not any(fits(n) for n in range(slices + 1, wanted + 1))  # no more slices would fit
