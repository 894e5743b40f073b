"""The metrics' names and labels follow Prometheus conventions; rejection labels stay bounded."""

from __future__ import annotations

import pytest

from jarvis.cli import build_parser
from jarvis.metrics import NodeMetrics
from jarvis.metrics import rejection_reason_label


def test_names_follow_prometheus_conventions() -> None:
    families = list(NodeMetrics().registry.collect())
    assert len(families) >= 30
    for family in families:
        assert family.name.startswith("jarvis_"), family.name
        if family.type == "counter":
            # prometheus_client strips _total from the family name and adds it to samples.
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram":
            assert family.name.endswith("_seconds"), family.name
        assert not family.name.endswith(("_ms", "_millis", "_us")), family.name


def test_rejection_labels_are_venue_codes_or_a_fixed_few() -> None:
    assert rejection_reason_label("MIN_VALUE: Order must have minimum value of $10.", False) == (
        "MIN_VALUE"
    )
    assert rejection_reason_label("something the venue never said before", False) == "OTHER"
    assert rejection_reason_label("RiskGuard: instrument not allowed", True) == "RISK_GUARD"
    assert rejection_reason_label("TRADING_STATE_REDUCING", True) == "RISK_ENGINE"


def test_metrics_port_must_be_a_port() -> None:
    parser = build_parser()
    args = parser.parse_args(["node", "--config", "x.toml", "--metrics-port", "9464"])
    assert args.metrics_port == 9464
    assert args.log_format == "human"
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--metrics-port", "70000"])
