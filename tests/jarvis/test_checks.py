"""The operator checks' judgement, on a real metrics endpoint serving values the test sets
(the end-to-end file drives the same checks from a node on the simulator)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import start_http_server

from jarvis.check_cli import add_cli_commands  # noqa: F401  (the CLI module imports cheaply)
from jarvis.checks import Scrape
from jarvis.checks import acceptance
from jarvis.checks import alerts
from jarvis.checks import parse_duration
from jarvis.checks import smoke
from jarvis.cli import main
from jarvis.metrics import NodeMetrics


@pytest.fixture
def served() -> Iterator[tuple[NodeMetrics, str]]:
    """A healthy node's metrics on a free port."""
    metrics = NodeMetrics()
    metrics.up.set(1)
    metrics.stream_healthy.labels("l2Book:BTC").set(1)
    metrics.stream_healthy.labels("bbo:BTC").set(1)
    metrics.state_age.labels("BTC-USD-PERP.HYPERLIQUID").set(0.5)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=metrics.registry)
    try:
        yield metrics, f"http://127.0.0.1:{server.server_address[1]}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def failed(result: object) -> dict[str, str]:
    return {item.name: item.detail for item in result.failures()}  # type: ignore[attr-defined]


def test_durations_take_units_and_refuse_words() -> None:
    assert parse_duration("30m") == 1800.0
    assert parse_duration("90s") == 90.0
    assert parse_duration("2h") == 7200.0
    assert parse_duration("250ms") == 0.25
    assert parse_duration("5") == 5.0
    with pytest.raises(ValueError, match="not a duration: 'soon'"):
        parse_duration("soon")


def test_smoke_passes_on_a_healthy_node(served: tuple[NodeMetrics, str]) -> None:
    _, url = served
    result = smoke(url)
    assert result.passed, [i.line() for i in result.items]


def test_smoke_names_the_stale_stream_and_the_old_state(served: tuple[NodeMetrics, str]) -> None:
    metrics, url = served
    metrics.stream_healthy.labels("l2Book:BTC").set(0)
    metrics.state_age.labels("BTC-USD-PERP.HYPERLIQUID").set(42)

    problems = failed(smoke(url))

    assert problems["feed fresh"] == "not OK: l2Book:BTC"
    assert "BTC-USD-PERP.HYPERLIQUID 42.0 s" in problems["state fresh"]


def test_smoke_fails_when_nothing_answers() -> None:
    problems = failed(smoke("http://127.0.0.1:9/metrics", "http://127.0.0.1:9", timeout_secs=1))
    assert "did not answer" in problems["node reachable"]
    assert "did not answer" in problems["sidecar reachable"]


def test_alerts_fail_on_rejects_latency_breaker_and_budgets(
    served: tuple[NodeMetrics, str],
) -> None:
    metrics, url = served
    assert alerts(url).passed
    for _ in range(10):
        metrics.order_attempts.inc()
    for _ in range(4):
        metrics.order_rejections.labels("MIN_VALUE").inc()
    for _ in range(20):
        metrics.submit_to_ack.observe(4.0)  # every ack took 4 s
    metrics.circuit_breaker.set(1)
    metrics.budget_used.set(0.9)
    metrics.rate_limited.inc(3)

    problems = failed(alerts(url))

    assert problems["reject rate"].startswith("4 of 10 orders since the node started (40%")
    assert "MIN_VALUE 4" in problems["reject rate"]
    assert problems["p95 submit latency"].startswith("<= 5 s")
    assert problems["circuit breaker"] == "tripped: node close-only"
    assert "daily notional 90% used" in problems["budgets"]
    assert "3 HTTP 429" in problems["budgets"]


def test_a_window_judges_only_what_happened_in_it(served: tuple[NodeMetrics, str]) -> None:
    metrics, url = served
    for _ in range(5):  # old trouble, before the window
        metrics.order_attempts.inc()
        metrics.order_rejections.labels("OTHER").inc()

    def during_window(_: float) -> None:
        for _ in range(4):
            metrics.order_attempts.inc()
            metrics.order_acks.inc()
            metrics.submit_to_ack.observe(0.02)

    result = alerts(url, window_secs=1, sleep=during_window)

    assert result.passed, [i.line() for i in result.items]


def test_acceptance_report_counts_the_window(served: tuple[NodeMetrics, str]) -> None:
    metrics, url = served

    def during_window(_: float) -> None:
        for _ in range(5):
            metrics.order_attempts.inc()
            metrics.order_acks.inc()
        metrics.order_fills.inc()
        metrics.orders_terminal.labels("FILLED").inc()
        metrics.order_attempts.inc()
        metrics.order_rejections.labels("TOO_FAR_FROM_ORACLE").inc()
        metrics.errors.labels("order_rejected").inc()
        metrics.pnl_realized.set(12.5)

    run = acceptance(url, window_secs=1, sleep=during_window)

    assert run.result.passed, [i.line() for i in run.result.items]
    assert run.report.startswith("# Jarvis acceptance: PASS")
    assert "- attempts 6, acks 5, fills 1" in run.report
    assert "| TOO_FAR_FROM_ORACLE | 1 |" in run.report
    assert "| FILLED | 1 |" in run.report
    assert "| order_rejected | 1 |" in run.report
    assert "change in the window +12.50" in run.report


def test_check_cli_exit_codes_and_report(
    served: tuple[NodeMetrics, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics, url = served
    assert main(["check", "smoke", "--metrics", url]) == 0
    report = tmp_path / "accept.md"
    code = main(["check", "acceptance", "--metrics", url, "--window", "0", "--report", str(report)])
    assert code == 2  # no ack at all: below --min-acks 1
    assert "FAIL acks: 0 (min 1)" in capsys.readouterr().out
    assert report.read_text().startswith("# Jarvis acceptance: FAIL")
    metrics.stream_healthy.labels("bbo:BTC").set(0)
    assert main(["check", "alerts", "--metrics", url]) == 2


def test_scrape_reads_labels_and_histograms() -> None:
    metrics = NodeMetrics()
    metrics.order_rejections.labels("MIN_VALUE").inc(2)
    metrics.order_rejections.labels("OTHER").inc()
    scrape = Scrape.parse(metrics.render().decode())
    assert scrape.total("jarvis_order_rejections_total") == 3
    assert scrape.by("jarvis_order_rejections_total", "reason") == {"MIN_VALUE": 2, "OTHER": 1}
    assert math.isnan(scrape.value("jarvis_no_such_metric"))
