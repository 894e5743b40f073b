"""Operator checks over a node's Prometheus metrics: ``jarvis check smoke|alerts|acceptance``.

Why from the metrics endpoint and not from the node's objects: a check runs in another process
(cron, a deploy script, CI) against whatever node is running, exactly as Prometheus sees it, so
the same numbers drive the dashboards, the alerts and these exit codes.

A window (``--window 30m``) is observed forward: one scrape now, one at the end, and the counters'
differences are judged; ``0`` judges the totals since the node started. Gauges (staleness,
circuit breaker, budget) are judged on the last scrape. Each check returns ``CheckResult``: one
line per item, passed only if every item passed.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Final

from prometheus_client.parser import text_string_to_metric_families

__all__ = [
    "CheckResult",
    "Item",
    "Scrape",
    "Thresholds",
    "acceptance",
    "acceptance_report",
    "alerts",
    "fetch",
    "parse_duration",
    "smoke",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECS: Final[dict[str, float]] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """``"30m"`` -> 1800.0 (units ms, s, m, h; a bare number is seconds)."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (e.g. 90s, 30m, 2h)")
    return float(match.group(1)) * _UNIT_SECS[match.group(2) or "s"]


@dataclass(frozen=True)
class Scrape:
    """One scrape: sample name -> {sorted label pairs -> value}."""

    samples: Mapping[str, Mapping[tuple[tuple[str, str], ...], float]]
    at: float = 0.0

    @classmethod
    def parse(cls, text: str, at: float = 0.0) -> Scrape:
        """From the text exposition format."""
        samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = tuple(sorted(sample.labels.items()))
                samples.setdefault(sample.name, {})[labels] = sample.value
        return cls(samples, at)

    def has(self, name: str) -> bool:
        """Whether the scrape holds any sample of ``name``."""
        return bool(self.samples.get(name))

    def total(self, name: str) -> float:
        """The sum over every label set of ``name`` (0 when absent)."""
        return sum(self.samples.get(name, {}).values())

    def by(self, name: str, label: str) -> dict[str, float]:
        """``name`` summed per value of ``label``."""
        found: dict[str, float] = {}
        for labels, value in self.samples.get(name, {}).items():
            key = dict(labels).get(label, "")
            found[key] = found.get(key, 0.0) + value
        return found

    def value(self, name: str, default: float = math.nan) -> float:
        """The unlabelled sample ``name``."""
        return self.samples.get(name, {}).get((), default)


def fetch(url: str, timeout_secs: float = 5.0) -> Scrape:
    """Scrape ``url``; ``OSError`` (with the URL) when it does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_secs) as response:
            return Scrape.parse(response.read().decode(), time.time())
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OSError(f"{url} did not answer: {reason}") from None


@dataclass(frozen=True)
class Thresholds:
    """Pass/fail limits of the checks (every field is a ``jarvis check`` option)."""

    max_state_age_secs: float = 10.0
    max_reject_rate: float = 0.2
    max_p95_submit_secs: float = 2.0
    max_budget_used: float = 0.8
    max_rate_limited: int = 0
    min_acks: int = 1
    max_errors: int = 10


@dataclass(frozen=True)
class Item:
    """One judged item of a check."""

    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        """``PASS name: detail`` / ``FAIL name: detail``."""
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


@dataclass
class CheckResult:
    """A check's items; it passes when every item does."""

    check: str
    items: list[Item] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every item passed."""
        return all(item.passed for item in self.items)

    def failures(self) -> list[Item]:
        """The items that failed."""
        return [item for item in self.items if not item.passed]


def _unhealthy_streams(scrape: Scrape) -> list[str]:
    return sorted(s for s, v in scrape.by("jarvis_feed_stream_healthy", "stream").items() if not v)


def _node_item(metrics_url: str, timeout_secs: float) -> tuple[Item, Scrape | None]:
    try:
        scrape = fetch(metrics_url, timeout_secs)
    except OSError as exc:
        return Item("node reachable", False, str(exc)), None
    if not scrape.has("jarvis_node_up"):
        return Item("node reachable", False, f"{metrics_url} serves no jarvis node metrics"), None
    up = scrape.value("jarvis_node_up", 0.0) == 1.0
    detail = "metrics answered" if up else "the node's metrics actor is stopped"
    return Item("node reachable", up, detail), scrape


def _sidecar_item(sidecar_url: str | None, timeout_secs: float) -> Item:
    if sidecar_url is None:
        return Item("sidecar reachable", True, "not checked (no --sidecar URL given)")
    url = sidecar_url.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout_secs) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503 = alive but not ready: it answers
        try:
            body = json.loads(exc.read())
        except ValueError:
            return Item("sidecar reachable", False, f"{url} answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        return Item("sidecar reachable", False, f"{url} did not answer: {exc}")
    alive = bool(body.get("alive"))
    connected = bool(body.get("node_connected"))
    detail = f"alive={alive} node_connected={connected} ready={body.get('ready')}"
    return Item("sidecar reachable", alive and connected, detail)


def smoke(
    metrics_url: str,
    sidecar_url: str | None = None,
    thresholds: Thresholds | None = None,
    timeout_secs: float = 5.0,
) -> CheckResult:
    """Feed fresh, state fresh, node and sidecar reachable — now."""
    limits = thresholds or Thresholds()
    result = CheckResult("smoke")
    node, scrape = _node_item(metrics_url, timeout_secs)
    result.items.append(node)
    result.items.append(_sidecar_item(sidecar_url, timeout_secs))
    if scrape is None:
        result.items.append(Item("feed fresh", False, "no metrics to judge"))
        result.items.append(Item("state fresh", False, "no metrics to judge"))
        return result
    stale = _unhealthy_streams(scrape)
    watched = len(scrape.by("jarvis_feed_stream_healthy", "stream"))
    if not watched:
        result.items.append(Item("feed fresh", False, "no market-data stream is watched"))
    elif stale:
        result.items.append(Item("feed fresh", False, f"not OK: {', '.join(stale)}"))
    else:
        result.items.append(Item("feed fresh", True, f"{watched} stream(s) OK"))
    ages = scrape.by("jarvis_market_state_age_seconds", "instrument")
    old = {k: v for k, v in ages.items() if v > limits.max_state_age_secs}
    if not ages:
        result.items.append(Item("state fresh", False, "no MarketState published yet"))
    elif old:
        named = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(old.items()))
        result.items.append(
            Item("state fresh", False, f"older than {limits.max_state_age_secs:g} s: {named}")
        )
    else:
        newest = max(ages.values())
        result.items.append(
            Item("state fresh", True, f"{len(ages)} instrument(s), oldest {newest:.2f} s")
        )
    return result


def _observe(
    metrics_url: str, window_secs: float, timeout_secs: float, sleep: Callable[[float], None]
) -> tuple[Scrape | None, Scrape | None, Item]:
    """(first, last, node item): both scrapes of a window (first is None for totals)."""
    node, first = _node_item(metrics_url, timeout_secs)
    if first is None or window_secs <= 0:
        return None, first, node
    sleep(window_secs)
    node, last = _node_item(metrics_url, timeout_secs)
    return first, last, node


def _delta(first: Scrape | None, last: Scrape, name: str) -> float:
    return last.total(name) - (first.total(name) if first is not None else 0.0)


def _delta_by(first: Scrape | None, last: Scrape, name: str, label: str) -> dict[str, float]:
    before = first.by(name, label) if first is not None else {}
    found = {k: v - before.get(k, 0.0) for k, v in last.by(name, label).items()}
    return {k: v for k, v in found.items() if v}


def p95_seconds(first: Scrape | None, last: Scrape, name: str) -> float | None:
    """The 95th percentile of a histogram over the window, as the upper bound of the bucket
    holding it (``inf`` past the last bound); None when nothing was observed."""
    deltas = _delta_by(first, last, f"{name}_bucket", "le")
    buckets = sorted((float(le), count) for le, count in deltas.items())
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    for bound, count in buckets:  # cumulative counts
        if count >= 0.95 * total:
            return bound
    return math.inf


def _window_text(window_secs: float) -> str:
    return f"over {window_secs:g} s" if window_secs > 0 else "since the node started"


def alerts(
    metrics_url: str,
    window_secs: float = 0.0,
    thresholds: Thresholds | None = None,
    timeout_secs: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """Reject rate, p95 submit latency, stale streams, circuit breaker and budgets."""
    limits = thresholds or Thresholds()
    result = CheckResult("alerts")
    first, last, node = _observe(metrics_url, window_secs, timeout_secs, sleep)
    result.items.append(node)
    if last is None:
        return result
    when = _window_text(window_secs)
    attempts = _delta(first, last, "jarvis_order_attempts_total")
    rejects = _delta(first, last, "jarvis_order_rejections_total")
    rate = rejects / attempts if attempts else 0.0
    reasons = _delta_by(first, last, "jarvis_order_rejections_total", "reason")
    named = ", ".join(f"{k} {v:g}" for k, v in sorted(reasons.items()))
    result.items.append(
        Item(
            "reject rate",
            rate <= limits.max_reject_rate,
            f"{rejects:g} of {attempts:g} orders {when} ({rate:.0%}, max "
            f"{limits.max_reject_rate:.0%})" + (f": {named}" if named else ""),
        )
    )
    p95 = p95_seconds(first, last, "jarvis_order_submit_to_ack_seconds")
    result.items.append(
        Item(
            "p95 submit latency",
            p95 is None or p95 <= limits.max_p95_submit_secs,
            "no acks " + when
            if p95 is None
            else f"<= {p95:g} s {when} (max {limits.max_p95_submit_secs:g} s)",
        )
    )
    stale = _unhealthy_streams(last)
    result.items.append(
        Item("stale streams", not stale, ", ".join(stale) if stale else "every stream OK")
    )
    tripped = last.value("jarvis_circuit_breaker_tripped", 0.0) == 1.0
    result.items.append(
        Item("circuit breaker", not tripped, "tripped: node close-only" if tripped else "closed")
    )
    used = last.value("jarvis_risk_budget_used_ratio", 0.0)
    limited = _delta(first, last, "jarvis_rest_rate_limited_total")
    problems = []
    if used > limits.max_budget_used:
        problems.append(f"daily notional {used:.0%} used (max {limits.max_budget_used:.0%})")
    if limited > limits.max_rate_limited:
        problems.append(f"{limited:g} HTTP 429 answer(s) {when} (max {limits.max_rate_limited})")
    result.items.append(
        Item(
            "budgets",
            not problems,
            "; ".join(problems) or f"daily notional {used:.0%} used, {limited:g} HTTP 429",
        )
    )
    return result


@dataclass
class Acceptance:
    """An acceptance run: its result and the Markdown report."""

    result: CheckResult
    report: str


def acceptance(
    metrics_url: str,
    window_secs: float,
    thresholds: Thresholds | None = None,
    timeout_secs: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Acceptance:
    """Watch the node over the window and judge what it did (module notes)."""
    limits = thresholds or Thresholds()
    result = CheckResult("acceptance")
    first, last, node = _observe(metrics_url, window_secs, timeout_secs, sleep)
    result.items.append(node)
    if last is None:
        return Acceptance(result, acceptance_report(result, {}, window_secs))
    acks = _delta(first, last, "jarvis_order_acks_total")
    attempts = _delta(first, last, "jarvis_order_attempts_total")
    rejects = _delta_by(first, last, "jarvis_order_rejections_total", "reason")
    errors = _delta_by(first, last, "jarvis_errors_total", "kind")
    terminal = _delta_by(first, last, "jarvis_orders_terminal_total", "state")
    trips = _delta(first, last, "jarvis_circuit_breaker_trips_total")
    realized = last.value("jarvis_pnl_realized_usd", 0.0)
    realized_change = realized - (
        first.value("jarvis_pnl_realized_usd", 0.0) if first is not None else 0.0
    )
    rate = sum(rejects.values()) / attempts if attempts else 0.0
    result.items += [
        Item("acks", acks >= limits.min_acks, f"{acks:g} (min {limits.min_acks})"),
        Item(
            "reject rate",
            rate <= limits.max_reject_rate,
            f"{rate:.0%} of {attempts:g} orders (max {limits.max_reject_rate:.0%})",
        ),
        Item(
            "errors",
            sum(errors.values()) <= limits.max_errors,
            f"{sum(errors.values()):g} (max {limits.max_errors})",
        ),
        Item("circuit breaker", trips == 0, f"{trips:g} trip(s)"),
    ]
    facts = {
        "attempts": attempts,
        "acks": acks,
        "fills": _delta(first, last, "jarvis_order_fills_total"),
        "terminal": terminal,
        "rejects": rejects,
        "errors": errors,
        "realized": realized,
        "realized_change": realized_change,
        "unrealized": last.value("jarvis_pnl_unrealized_usd", 0.0),
        "open_orders": last.value("jarvis_orders_open", 0.0),
        "positions": last.value("jarvis_positions_open", 0.0),
    }
    return Acceptance(result, acceptance_report(result, facts, window_secs))


def _table(counts: object) -> list[str]:
    if not isinstance(counts, dict) or not counts:
        return ["none"]
    lines = ["| what | count |", "| --- | ---: |"]
    lines += [f"| {k} | {v:g} |" for k, v in sorted(counts.items())]
    return lines


def acceptance_report(result: CheckResult, facts: Mapping[str, object], window: float) -> str:
    """The Markdown report of an acceptance run."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    verdict = "PASS" if result.passed else "FAIL"
    lines = [
        f"# Jarvis acceptance: {verdict}",
        "",
        f"{stamp}, {_window_text(window)}.",
        "",
        "## Checks",
        "",
        *[f"- {item.line()}" for item in result.items],
    ]
    if facts:

        def num(key: str) -> float:
            value = facts.get(key, 0.0)
            return float(value) if isinstance(value, (int, float)) else 0.0

        lines += [
            "",
            "## Orders",
            "",
            f"- attempts {num('attempts'):g}, acks {num('acks'):g}, fills {num('fills'):g}, "
            f"open at the end {num('open_orders'):g}",
            "",
            "### Terminal states",
            "",
            *_table(facts.get("terminal")),
            "",
            "### Rejects by reason",
            "",
            *_table(facts.get("rejects")),
            "",
            "## Errors",
            "",
            *_table(facts.get("errors")),
            "",
            "## PnL (USD)",
            "",
            f"- realized {num('realized'):,.2f} "
            f"(change in the window {num('realized_change'):+,.2f})",
            f"- unrealized {num('unrealized'):,.2f}, open positions {num('positions'):g}",
        ]
    return "\n".join(lines) + "\n"
