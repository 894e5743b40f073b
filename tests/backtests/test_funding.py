"""backtests.funding: hourly funding by the venue's rule, booked on account and position.

Expected amounts are worked out by hand: payment = -(signed size * oracle price * rate).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from backtests.funding import FundingModuleConfig
from backtests.funding import funding_payment
from tests.backtests.scripted import run_scripted


@pytest.mark.parametrize(
    ("signed_qty", "price", "rate", "expected"),
    [
        # long 2 @ 100.2, rate +0.01 %: pays 2 * 100.2 * 0.0001 = 0.02004
        ("2", "100.2", "0.0001", "-0.02004"),
        # long 2 @ 101, rate -0.02 %: receives 2 * 101 * 0.0002 = 0.0404
        ("2", "101.0", "-0.0002", "0.0404"),
        # short 1 @ 100.2, rate +0.01 %: receives 0.01002
        ("-1", "100.2", "0.0001", "0.01002"),
        # short 3 @ 50, rate -0.05 %: pays 3 * 50 * 0.0005 = 0.075
        ("-3", "50", "-0.0005", "-0.075"),
        ("0", "100", "0.0001", "0"),
    ],
)
def test_funding_payment_longs_pay_shorts_when_the_rate_is_positive(
    signed_qty: str, price: str, rate: str, expected: str
) -> None:
    assert funding_payment(Decimal(signed_qty), Decimal(price), Decimal(rate)) == Decimal(expected)


def test_a_non_positive_interval_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="interval_secs"):
        FundingModuleConfig(interval_secs=0)


def test_each_open_position_pays_at_each_hour_with_the_rate_of_the_hour_before(
    tmp_path: Path,
) -> None:
    run_scripted(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "funding.jsonl").read_text().splitlines()]
    booked = [(r["ts_ns"], r["strategy_id"], Decimal(r["amount"])) for r in rows]
    hour1 = 1_767_229_200_000_000_000  # 2026-01-01T01:00Z
    hour2 = hour1 + 3_600_000_000_000
    # 01:00: rate 0.0001 and oracle 100.2 (set at 00:59:10), A long 2, B short 1.
    # 02:00: rate -0.0002 and oracle 101.0 (set at 01:00:06), only A (B closed at 01:30).
    assert booked == [
        (hour1, "SCRIPT-000", Decimal("-0.02004")),
        (hour1, "SCRIPT-001", Decimal("0.01002")),
        (hour2, "SCRIPT-000", Decimal("0.0404")),
    ]


def test_funding_moves_the_account_balance(tmp_path: Path) -> None:
    run_scripted(tmp_path)
    account = (tmp_path / "account.csv").read_text().splitlines()
    at_hour1 = [line for line in account if line.startswith("2026-01-01 01:00:00")]
    totals = [Decimal(line.split(",")[1]) for line in at_hour1]
    # Before 01:00: 10000 - fees 0.09045 - 0.045 = 9999.86455; then -0.02004, then +0.01002.
    assert totals == [Decimal("9999.84451000"), Decimal("9999.85453000")]
