"""End to end: the node's Prometheus metrics and the operator checks on the simulator.

One node built from ``config/sim_trading.toml`` (as ``jarvis node`` builds it, metrics on a free
port) plus a BTC market-state builder and a risk guard whose circuit breaker trips after three
venue rejections, and the sidecar on the same node (as ``jarvis serve``). One session, in order:
healthy checks pass (through the library and once through the ``jarvis check`` command); the
node trades and the counters move by what the harness did; an acceptance window with a trade in
it; 429s injected with ``jarvis sim-fault``; three orders the venue refuses (the circuit breaker
trips); a stalled book stream. After each fault the check that must see it fails naming it.
Expected numbers come from what the harness did, never from the metrics code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.config import ImportableActorConfig
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId

from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from adapters.hyperliquid.signing import address_from_private_key
from api.app import create_app
from api.events import EventHub
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.inprocess import InProcessNodeLink
from api.settings import ApiSettings
from config.loading import CONFIG_DIR
from jarvis.checks import CheckResult
from jarvis.checks import Scrape
from jarvis.checks import acceptance
from jarvis.checks import alerts
from jarvis.checks import fetch
from jarvis.checks import smoke
from jarvis.metrics_actor import NodeMetricsActor
from jarvis.node import NodeOverrides
from jarvis.node import build_node
from jarvis.node import load_for_run
from jarvis.testkit import Driver
from jarvis.testkit import DriverConfig
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import replace_node
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from tests.api.conftest import serve

KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"  # the variable config/sim_trading.toml names
KEY = "0x" + "3d" * 32
ADDRESS = address_from_private_key(KEY).lower()
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
BREAKER_AFTER = 3


@dataclass
class Session:
    """What the session saw: scrapes and check results by step name."""

    scrapes: dict[str, Scrape] = field(default_factory=dict)
    checks: dict[str, CheckResult] = field(default_factory=dict)
    exits: dict[str, tuple[int, str]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    report: str = ""


def _jarvis(*args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "jarvis.cli", *args], capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout + done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _scrape_until(url: str, ok: Callable[[Scrape], bool], timeout: float) -> Scrape:
    """Scrape ``url`` (off the loop) until ``ok``; a refused connection is tried again."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            scrape: Scrape = await loop.run_in_executor(None, fetch, url)
            if ok(scrape):
                return scrape
        except OSError:
            pass
        if loop.time() > deadline:
            raise AssertionError(f"{url} never showed what was awaited within {timeout} s")
        await asyncio.sleep(0.25)


def _node(base_url: str, log_dir: Path) -> Any:
    loaded = load_for_run(CONFIG_DIR / "sim_trading.toml", NodeOverrides(http_url=base_url))
    guard = ImportableActorConfig(
        actor_path="strategies.risk_guard:RiskGuard",
        config_path="strategies.risk_guard:RiskGuardConfig",
        config={"max_consecutive_rejections": BREAKER_AFTER, "failure_cooldown_secs": 0.0},
    )
    loaded = replace_node(
        loaded,
        logging=file_logging(log_dir, level_file="INFO"),
        actors=[*loaded.node.actors, guard],
    )
    node = build_node(loaded, new_event_loop(), metrics_port=0)
    node.trader.add_actor(MarketStateBuilder(MarketStateBuilderConfig(instrument_id=BTC)))
    return node


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """Run the session once (module notes)."""
    out = tmp_path_factory.mktemp("ops_metrics")
    result = Session()
    with (
        pytest.MonkeyPatch.context() as patch,
        fresh_rate_limiter(),
        SimThread(SimConfig(seed=11, coins=("BTC", "ETH", "SOL"))) as sim,
        contextlib.ExitStack() as stack,
    ):
        patch.setenv(KEY_ENV, KEY)
        fund_test_account(sim, ADDRESS, 1_000_000)
        node = _node(sim.base_url, out)
        driver = Driver(DriverConfig(strategy_id="DRIVER-001", instrument_id=BTC))
        node.trader.add_strategy(driver)
        (actor,) = [a for a in node.trader.actors() if isinstance(a, NodeMetricsActor)]
        keys = LocalSigningKey(out / "keys")
        keys.ensure()
        app = create_app(
            ApiSettings(database_url=f"sqlite:///{out}/sidecar.db"),  # type: ignore[call-arg]
            link=InProcessNodeLink(node, EventHub(100)),
            verifier=TokenVerifier(public_key_pem=keys.public_path.read_bytes()),
        )
        cache = node.kernel.cache

        # A node-only process, as an operator starts it: metrics on a port, JSON log lines.
        node_port = _free_port()
        node_only = subprocess.Popen(
            [sys.executable, "-m", "jarvis.cli", "node", "--config", str(CONFIG_DIR / "sim.toml"),
             "--http-url", sim.base_url, "--duration-secs", "10", "--metrics-port", str(node_port),
             "--log-format", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

        async def scenario() -> None:
            loop = asyncio.get_running_loop()
            url = f"http://127.0.0.1:{actor.bound_port}/metrics"
            result.scrapes["node only"] = await _scrape_until(
                f"http://127.0.0.1:{node_port}/metrics",
                lambda s: s.value("jarvis_feed_healthy") == 1,
                30,
            )
            sidecar = stack.enter_context(contextlib.contextmanager(serve)(app))

            async def off_loop(fn: Callable[..., Any], *args: Any) -> Any:
                return await loop.run_in_executor(None, fn, *args)

            async def scrape_until(
                ok: Callable[[Scrape], bool], timeout: float, what: str
            ) -> Scrape:
                deadline = loop.time() + timeout
                while True:
                    scrape: Scrape = await off_loop(fetch, url)
                    if ok(scrape):
                        return scrape
                    if loop.time() > deadline:
                        raise AssertionError(f"metrics never showed {what} within {timeout} s")
                    await asyncio.sleep(0.25)

            await wait_for(
                lambda: node.kernel.risk_engine.trading_state == TradingState.ACTIVE,
                20,
                "trading ACTIVE",
            )
            await scrape_until(
                lambda s: (
                    s.has("jarvis_market_state_age_seconds") and s.value("jarvis_feed_healthy") == 1
                ),
                20,
                "a fresh market state and a healthy feed",
            )
            # 1) Healthy: every check passes, through the library and the command line.
            result.checks["smoke healthy"] = await off_loop(smoke, url, sidecar)
            result.checks["alerts healthy"] = await off_loop(alerts, url)
            result.exits["smoke healthy"] = await off_loop(
                _jarvis, "check", "smoke", "--sidecar", sidecar
            )
            result.scrapes["before trading"] = await off_loop(fetch, url)
            # 2) Trade: a limit rests, a market order fills, the limit is canceled.
            instrument = cache.instrument(BTC)
            assert instrument is not None
            qty = instrument.make_qty(Decimal("0.01"))
            tick = cache.quote_tick(BTC)
            assert tick is not None
            bid = tick.bid_price.as_decimal()
            factory = driver.order_factory
            resting = factory.limit(
                BTC, OrderSide.BUY, qty, instrument.make_price(bid * Decimal("0.97"))
            )
            market = factory.market(BTC, OrderSide.BUY, qty)
            driver.submit_order(resting)
            driver.submit_order(market)
            await wait_for(
                lambda: resting.status == OrderStatus.ACCEPTED and market.is_closed,
                10,
                "the limit to rest and the market order to fill",
            )
            driver.cancel_order(resting)
            await wait_for(lambda: resting.status == OrderStatus.CANCELED, 5, "the cancel")
            result.notes["market_status"] = market.status
            result.scrapes["after trading"] = await scrape_until(
                lambda s: s.value("jarvis_positions_open") == 1, 5, "the open position"
            )
            result.scrapes["sidecar"] = await off_loop(fetch, f"{sidecar}/metrics")
            # 3) An acceptance window with a trade in it (the position is closed meanwhile).
            closing = factory.market(BTC, OrderSide.SELL, qty, reduce_only=True)
            window = loop.create_task(off_loop(acceptance, url, 4.0))
            await asyncio.sleep(1.0)
            driver.submit_order(closing)
            run = await window
            result.checks["acceptance"] = run.result
            result.report = run.report
            (out / "acceptance.md").write_text(run.report)
            result.notes["report_path"] = out / "acceptance.md"
            # 4) 429s on /info (the execution client's account refresh meets them).
            result.exits["sim-fault 429"] = await off_loop(
                _jarvis, "sim-fault", "--url", sim.base_url, "http-error",
                "--status", "429", "--count", "2", "--path", "info",
            )  # fmt: skip
            await scrape_until(
                lambda s: s.total("jarvis_rest_rate_limited_total") >= 1, 15, "an HTTP 429"
            )
            result.checks["alerts after 429"] = await off_loop(alerts, url)
            # 5) Orders the venue refuses (90% under the oracle): the breaker trips.
            for _ in range(BREAKER_AFTER):
                far = factory.limit(
                    BTC, OrderSide.BUY, qty, instrument.make_price(bid * Decimal("0.1"))
                )
                driver.submit_order(far)
                await wait_for(lambda: far.is_closed, 5, "the rejection")  # noqa: B023
            result.scrapes["after rejects"] = await scrape_until(
                lambda s: s.value("jarvis_circuit_breaker_tripped") == 1, 5, "the breaker"
            )
            result.checks["alerts after rejects"] = await off_loop(alerts, url)
            # 6) Every WebSocket dropped: both clients reconnect and subscribe again.
            await sim_admin_async(sim.base_url, "fault/drop-ws")
            result.scrapes["after drop"] = await scrape_until(
                lambda s: (
                    len(s.by("jarvis_ws_reconnects_total", "client")) == 2
                    and s.value("jarvis_feed_healthy") == 1
                ),
                15,
                "both clients reconnected and the feed healthy again",
            )
            # 7) The BTC book stream stalls while its socket stays open.
            await sim_admin_async(
                sim.base_url, "fault/stall", {"channel": "l2Book", "coin": "BTC", "secs": 30}
            )
            await scrape_until(
                lambda s: s.by("jarvis_feed_stream_healthy", "stream").get("l2Book:BTC") == 0,
                15,
                "l2Book:BTC unhealthy",
            )
            result.checks["smoke stalled"] = await off_loop(smoke, url, sidecar)
            result.checks["alerts stalled"] = await off_loop(alerts, url)
            result.exits["smoke stalled"] = await off_loop(
                _jarvis, "check", "smoke", "--metrics", url
            )

        run_node(node, scenario, quotes_of=BTC, timeout_secs=120)
        stdout, stderr = node_only.communicate(timeout=60)
        result.notes["node_only"] = (node_only.returncode, stdout, stderr)
    result.notes["log"] = read_logs(out, "*.log")
    yield result


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _failed(result: CheckResult) -> dict[str, str]:
    return {item.name: item.detail for item in result.failures()}


def test_every_check_passes_on_a_healthy_node(session: Session) -> None:
    for name in ("smoke healthy", "alerts healthy"):
        check = session.checks[name]
        assert check.passed, [item.line() for item in check.items]
    items = session.checks["smoke healthy"].items
    sidecar = next(i for i in items if i.name == "sidecar reachable")
    assert "node_connected=True" in sidecar.detail
    code, output = session.exits["smoke healthy"]
    assert code == 0, output
    assert "jarvis check smoke: PASS" in output


def test_order_counters_move_by_what_the_node_did(session: Session) -> None:
    before = session.scrapes["before trading"]
    after = session.scrapes["after trading"]

    def moved(name: str) -> float:
        return after.total(name) - before.total(name)

    assert moved("jarvis_order_attempts_total") == 2  # the limit and the market order
    assert moved("jarvis_order_acks_total") >= 1  # at least the resting limit
    assert moved("jarvis_order_fills_total") >= 1  # the market order (maybe in parts)
    assert moved("jarvis_order_cancels_total") == 1
    assert after.by("jarvis_orders_terminal_total", "state").get("CANCELED") == 1
    assert after.by("jarvis_orders_terminal_total", "state").get("FILLED") == 1
    assert moved("jarvis_order_submit_to_ack_seconds_count") >= 1
    assert after.by("jarvis_position_quantity", "instrument")[str(BTC)] == pytest.approx(0.01)
    assert after.value("jarvis_exposure_usd") > 0
    assert after.value("jarvis_message_to_state_seconds_count") > 0
    assert after.value("jarvis_event_loop_lag_seconds") >= 0


def test_a_node_only_process_serves_metrics_and_logs_json(session: Session) -> None:
    scrape = session.scrapes["node only"]
    assert scrape.value("jarvis_node_up") == 1
    assert len(scrape.by("jarvis_feed_stream_healthy", "stream")) >= 12
    code, stdout, stderr = session.notes["node_only"]
    assert code == 0, stderr[-2000:]
    lines = [line for line in (stdout + stderr).splitlines() if line.strip()]
    not_json = [line for line in lines if not _is_json_object(line)]
    assert not not_json, not_json[:5]
    records = [json.loads(line) for line in lines]
    components = {r["component"] for r in records}
    assert {"jarvis", "DataClient-HYPERLIQUID", "NodeMetrics"} <= components
    assert any(r.get("instrument") == str(BTC) for r in records)
    assert all({"level", "component", "message"} <= r.keys() for r in records)


def test_every_sampling_tick_ran_cleanly(session: Session) -> None:
    log = session.notes["log"]
    assert "Prometheus metrics on http://127.0.0.1:" in log
    assert "Metrics sampling failed" not in log


def test_the_sidecar_serves_the_node_metrics(session: Session) -> None:
    sidecar = session.scrapes["sidecar"]
    assert sidecar.value("jarvis_sidecar_node_connected") == 1
    assert sidecar.value("jarvis_node_up") == 1
    assert sidecar.value("jarvis_positions_open") == 1


def test_acceptance_report_counts_the_window(session: Session) -> None:
    check = session.checks["acceptance"]
    assert check.passed, [item.line() for item in check.items]
    report = session.report
    assert report.startswith("# Jarvis acceptance: PASS")
    assert "- attempts 1, acks " in report  # only the closing order was sent in the window
    assert "| FILLED | 1 |" in report
    assert "## PnL (USD)" in report
    print(f"acceptance report: {session.notes['report_path']}")


def test_429s_fail_the_budget_alert(session: Session) -> None:
    code, output = session.exits["sim-fault 429"]
    assert code == 0, output
    problems = _failed(session.checks["alerts after 429"])
    assert "HTTP 429" in problems["budgets"], problems


def test_rejections_fail_the_reject_rate_and_trip_the_breaker(session: Session) -> None:
    scrape = session.scrapes["after rejects"]
    reasons = scrape.by("jarvis_order_rejections_total", "reason")
    assert reasons.get("TOO_FAR_FROM_ORACLE") == BREAKER_AFTER
    assert scrape.value("jarvis_circuit_breaker_trips_total") == 1
    assert scrape.by("jarvis_risk_guard_mode", "mode")["REDUCE_ONLY"] == 1
    problems = _failed(session.checks["alerts after rejects"])
    assert f"TOO_FAR_FROM_ORACLE {BREAKER_AFTER}" in problems["reject rate"]
    assert problems["circuit breaker"] == "tripped: node close-only"


def test_dropped_sockets_count_reconnects_and_resubscriptions(session: Session) -> None:
    before = session.scrapes["after rejects"]
    after = session.scrapes["after drop"]
    reconnects = after.by("jarvis_ws_reconnects_total", "client")
    assert before.total("jarvis_ws_reconnects_total") == 0
    assert reconnects["data"] >= 1
    assert reconnects["exec"] >= 1
    # The data client watches 4 streams per coin (l2Book, bbo, trades, asset context) at least.
    streams = len(before.by("jarvis_feed_stream_healthy", "stream"))
    resubscribed = after.by("jarvis_ws_resubscriptions_total", "client")["data"]
    assert resubscribed >= streams >= 12


def test_a_stalled_stream_fails_smoke_and_alerts(session: Session) -> None:
    smoke_problems = _failed(session.checks["smoke stalled"])
    assert "l2Book:BTC" in smoke_problems["feed fresh"]
    assert "l2Book:BTC" in _failed(session.checks["alerts stalled"])["stale streams"]
    code, output = session.exits["smoke stalled"]
    assert code == 2, output
    assert "FAIL feed fresh: not OK: l2Book:BTC" in output
