"""Replay validation of all three rulebook strategies (issues 10 and 11) on the recorded regime
schedule (tests/resources/recordings/schedule: quiet -> trend -> cascade -> quiet on BTC and ETH)
with config/sim_backtest_schedule.toml (Geometry, Kinematics, Cascade per coin, risk guard).

The recording is run twice through ``jarvis backtest`` (catalog -> BacktestNode) and replayed
twice straight from its frames through the live frame handler into a BacktestEngine
(``run_recording_in_engine``): every run's decision log has the same three digests, the
regime changes equal ``jarvis regime``'s replay of the recording, and no decision used data
stamped after it. What must have happened is read off the schedule (a quiet phase is SIDEWAYS,
the trend EXPANSION), never off a previous run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.model.data import MarkPriceUpdate
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price

from backtests.catalog import build_catalog
from backtests.decisions import DecisionLog
from backtests.decisions import DecisionLogConfig
from backtests.decisions import compare_decision_logs
from backtests.decisions import load_decision_digest
from backtests.recording import load_recording
from backtests.regime import regime_timeline
from backtests.run import BacktestSettings
from backtests.run import run_backtest
from backtests.run import run_recording_in_engine
from common.nautilus import custom_data_topic
from config.loading import CONFIG_DIR
from config.loading import load_node_config
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import Regime
from controllers.protocol import new_regime_change
from jarvis.cli import main

RECORDING = Path(__file__).resolve().parents[1] / "resources" / "recordings" / "schedule"
CONFIG = CONFIG_DIR / "sim_backtest_schedule.toml"
DIGESTS = ("decisions_sha256", "orders_sha256", "executions_sha256")


def _lines(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("schedule")
    catalog = root / "cat"
    build_catalog(RECORDING, catalog)
    loaded = load_node_config(CONFIG)
    dirs: list[Path] = []
    for index in range(2):
        settings = BacktestSettings(
            catalog=str(catalog), run_dir=str(root / f"node{index}"), progress=False
        )
        dirs.append(run_backtest(loaded, settings).run_dir)
    for index in range(2):
        settings = BacktestSettings(
            catalog=str(catalog), run_dir=str(root / f"replay{index}"), progress=False
        )
        dirs.append(run_recording_in_engine(loaded, RECORDING, settings))
    return dirs


def test_two_backtests_and_two_replays_give_identical_decision_and_order_digests(
    runs: list[Path],
) -> None:
    digests = [load_decision_digest(run) for run in runs]
    for name in DIGESTS:
        assert len({d[name] for d in digests}) == 1, (name, [d[name] for d in digests])
    assert len({json.dumps(d["counts"], sort_keys=True) for d in digests}) == 1
    assert len({json.dumps(d["sequence_sha256"], sort_keys=True) for d in digests}) == 1
    assert len({(run / "decisions.jsonl").read_text() for run in runs}) == 1


def test_the_schedule_makes_all_three_strategies_act(runs: list[Path]) -> None:
    lines = _lines(runs[0])
    regimes = {(r["instrument_id"], r["regime"]) for r in lines if r["kind"] == "RegimeChange"}
    for coin in ("BTC", "ETH"):
        assert (f"{coin}-USD-PERP.HYPERLIQUID", "SIDEWAYS") in regimes, regimes
        assert (f"{coin}-USD-PERP.HYPERLIQUID", "EXPANSION") in regimes, regimes
    enabled = {g["strategy_id"] for g in lines if g["kind"] == "StrategyGate" and g["enabled"]}
    assert {s.split("-")[0] for s in enabled} == {"Geometry", "Kinematics", "Cascade"}, enabled
    orders = [o for o in lines if o["kind"] == "Order"]
    assert orders, "no strategy ordered anything on the schedule"
    # Mutual exclusion from the published stream: never a sideways and an expansion strategy
    # enabled at once on one instrument.
    sides = {"Geometry": "SIDEWAYS", "Kinematics": "SIDEWAYS", "Cascade": "EXPANSION"}
    enabled_now: dict[str, set[str]] = {}
    for gate in (g for g in lines if g["kind"] == "StrategyGate"):
        on = enabled_now.setdefault(gate["instrument_id"], set())
        if gate["action"] == "ENABLE":
            on.add(gate["strategy_id"])
        elif gate["action"] == "DISABLE":
            on.discard(gate["strategy_id"])
        assert len({sides[s.split("-")[0]] for s in on}) <= 1, (gate, on)


def test_the_regime_changes_are_those_jarvis_regime_replays(runs: list[Path]) -> None:
    config = load_node_config(CONFIG)
    builder = next(a.config for a in config.node.actors if "MarketStateBuilder" in a.actor_path)
    assert config.node.controller is not None
    controller = {
        k: v
        for k, v in config.node.controller.config.items()
        if k not in ("strategies", "instrument_ids", "component_id")
    }
    replay = regime_timeline(
        RECORDING,
        builder={k: v for k, v in builder.items() if k not in ("component_id", "instrument_id")},
        controller=controller,
        instrument_ids=[
            InstrumentId.from_str(i) for i in config.node.controller.config["instrument_ids"]
        ],
    )
    replayed = [
        (c.ts_event, str(c.instrument_id), c.previous, c.regime, c.inputs) for c in replay.changes
    ]
    logged = [
        (r["ts"], r["instrument_id"], r["previous"], r["regime"], r["inputs"])
        for r in _lines(runs[0])
        if r["kind"] == "RegimeChange"
    ]
    assert logged
    assert logged == replayed


def test_no_decision_used_data_from_its_future_and_the_digest_is_the_logs(
    runs: list[Path],
) -> None:
    digest = load_decision_digest(runs[0])
    assert digest["input_audit"]["violations"] == 0, digest["input_audit"]["examples"]
    assert digest["input_audit"]["inputs_seen"] > 10_000
    # decisions_sha256 is SHA-256 over the decision lines (regime changes, gates, states).
    lines = (runs[0] / "decisions.jsonl").read_text().splitlines()
    kinds = ("RegimeChange", "StrategyGate", "StrategyState")
    expected = hashlib.sha256()
    for line in lines:
        if json.loads(line)["kind"] in kinds:
            expected.update(line.encode() + b"\n")
    assert digest["decisions_sha256"] == expected.hexdigest()
    assert sum(digest["counts"].get(k, 0) for k in kinds) > 0


def test_the_audit_counts_a_decision_stamped_before_data_it_had_seen(tmp_path: Path) -> None:
    engine = BacktestEngine()
    try:
        log = DecisionLog(DecisionLogConfig(directory=str(tmp_path)))
        engine.add_actor(log)
        log.start()
        btc = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
        sideways, disabled = Regime.SIDEWAYS, Regime.DISABLED
        bus = engine.kernel.msgbus
        topic = custom_data_topic(REGIME_CHANGE_DATA_TYPE)

        def change(ts: int) -> object:
            return new_regime_change(btc, disabled, sideways, "r", "i", ts_event=ts, ts_init=ts)

        mark = MarkPriceUpdate(btc, Price.from_str("80000"), ts_event=190, ts_init=200)
        bus.publish("data.mark_prices.HYPERLIQUID.BTC-USD-PERP", mark)  # an input stamped 200
        bus.publish(topic, change(300))  # after it: fine
        bus.publish(topic, change(250))  # before a decision, not before an input: fine
        bus.publish(topic, change(100))  # before the input it had seen: a violation
        log.stop()
    finally:
        engine.dispose()
    audit = load_decision_digest(tmp_path)["input_audit"]
    assert audit["inputs_seen"] == 1
    assert audit["violations"] == 1
    assert audit["examples"] == [{"kind": "RegimeChange", "ts_event": 100, "newest_input_ts": 200}]


def test_a_run_cut_at_a_decision_reproduces_every_decision_up_to_it(
    runs: list[Path], tmp_path: Path
) -> None:
    """No decision depends on anything stamped after it: replaying only up to a decision's own
    time (no data, no timer later) gives exactly the decisions and orders up to that time. Cut
    at the first ARMED and at the first order."""
    kinds = ("RegimeChange", "StrategyGate", "StrategyState", "Order")
    full = [line for line in _lines(runs[0]) if line["kind"] in kinds]
    armed = next(s for s in full if s["kind"] == "StrategyState" and s["state"] == "ARMED")
    order = next(o for o in full if o["kind"] == "Order")
    loaded = load_node_config(CONFIG)
    catalog = runs[0].parent / "cat"
    for index, cut in enumerate((armed["ts"], order["ts"])):
        end = pd.Timestamp(cut, unit="ns", tz="UTC").isoformat()
        settings = BacktestSettings(
            catalog=str(catalog), run_dir=str(tmp_path / f"cut{index}"), end=end, progress=False
        )
        cut_lines = [
            line
            for line in _lines(run_recording_in_engine(loaded, RECORDING, settings))
            if line["kind"] in kinds
        ]
        assert cut_lines == [line for line in full if line["ts"] <= cut], cut


def _write_log(run_dir: Path, lines: list[dict[str, Any]]) -> Path:
    run_dir.mkdir()
    (run_dir / "decisions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    digest = {"decisions_sha256": "x", "orders_sha256": "y", "input_audit": {"violations": 0}}
    (run_dir / "decisions.json").write_text(json.dumps(digest))
    return run_dir


def test_parity_compares_sequences_per_strategy_not_stamps_or_interleaving(tmp_path: Path) -> None:
    def state(ts: int, sid: str, previous: str, new: str) -> dict[str, Any]:
        return {"kind": "StrategyState", "ts": ts, "strategy_id": sid, "previous": previous,
                "state": new}  # fmt: skip

    live = [state(10, "G", "DISABLED", "SCANNING"), state(11, "C", "DISABLED", "SCANNING"),
            state(12, "G", "SCANNING", "ARMED")]  # fmt: skip
    # Other stamps, C before G, a re-announcement and a refused grant in between: the same.
    backtest = [state(5, "C", "DISABLED", "SCANNING"), state(6, "G", "DISABLED", "SCANNING"),
                state(6, "G", "SCANNING", "SCANNING"),
                {"kind": "StrategyGate", "ts": 6, "strategy_id": "G", "action": "REFUSE"},
                state(7, "G", "SCANNING", "ARMED")]  # fmt: skip
    a, b = _write_log(tmp_path / "a", live), _write_log(tmp_path / "b", backtest)
    same = compare_decision_logs(a, b)
    assert same["same"]["strategy_states"] and same["first_difference"] == {}
    assert same["sequence_sha256"]["a"] == same["sequence_sha256"]["b"]
    differs = _write_log(tmp_path / "c", [*backtest[:-1], state(7, "G", "SCANNING", "DISABLED")])
    result = compare_decision_logs(a, differs)
    assert not result["same"]["strategy_states"]
    a_hashes, c_hashes = result["sequence_sha256"]["a"], result["sequence_sha256"]["b"]
    assert a_hashes["strategy_states"] != c_hashes["strategy_states"]
    assert a_hashes["regime_changes"] == c_hashes["regime_changes"]  # none in either
    assert result["first_difference"]["strategy_states"] == {
        "strategy_id": "G",
        "index": 1,
        "a": ["SCANNING", "ARMED"],
        "b": ["SCANNING", "DISABLED"],
    }


def test_parity_leaves_out_the_end_where_a_decision_can_fall_either_side(tmp_path: Path) -> None:
    """The recording ends at 100; the last 3 are not compared. Live (a) decides up to a timer
    period before or after the backtest (b), so a decision near the end may be in one log only;
    anywhere earlier, a missing or an extra decision is a difference."""

    def gate(ts: int, action: str) -> dict[str, Any]:
        return {"kind": "StrategyGate", "ts": ts, "strategy_id": "G", "action": action}

    def compare(live: list[dict[str, Any]], backtest: list[dict[str, Any]]) -> dict[str, Any]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        a, b = _write_log(folder / "a", live), _write_log(folder / "b", backtest)
        return compare_decision_logs(a, b, until_ns=100, end_window_ns=3)

    # The CI case: the backtest's GRANT 1 before the end, live's after it.
    both = [gate(10, "ENABLE"), gate(50, "GRANT"), gate(60, "RELEASE")]
    result = compare([*both, gate(101, "GRANT")], [*both, gate(99, "GRANT")])
    assert result["same"]["gates"], result["first_difference"]
    assert result["sequence_sha256"]["a"] == result["sequence_sha256"]["b"]
    # Live a moment behind the backtest on its last compared decision, and ahead on one the
    # backtest made after the cut: the same.
    result = compare([*both, gate(97, "GRANT")], [*both[:2], gate(59, "RELEASE")])
    assert result["same"]["gates"], result["first_difference"]
    result = compare([*both[:2], gate(98, "RELEASE")], [*both[:2], gate(96, "RELEASE")])
    assert result["same"]["gates"], result["first_difference"]
    # An extra live decision well before the end, and a missing one: differences.
    result = compare([*both, gate(80, "GRANT")], both)
    assert not result["same"]["gates"]
    assert result["first_difference"]["gates"] == {
        "strategy_id": "G", "index": 3, "a": ["GRANT"], "b": None}  # fmt: skip
    result = compare(both[:2], both)
    assert not result["same"]["gates"]
    assert result["first_difference"]["gates"]["b"] == ["RELEASE"]
    assert result["sequence_sha256"]["a"]["gates"] != result["sequence_sha256"]["b"]["gates"]


def test_the_schedule_recording_is_small_and_covers_the_whole_schedule() -> None:
    """scripts/record_corpus.py --scenario schedule: quiet:90,trend:120,cascade:60,quiet:120 on
    BTC and ETH, under 1 MB in the repo."""
    size = sum(f.stat().st_size for f in RECORDING.rglob("*") if f.is_file())
    assert size < 1_000_000, size
    recorded = load_recording(RECORDING)
    coins = {str(getattr(d, "instrument_id", "")) for d in recorded.data} - {""}
    assert coins == {"BTC-USD-PERP.HYPERLIQUID", "ETH-USD-PERP.HYPERLIQUID"}
    assert (recorded.end_ns - recorded.start_ns) / 1e9 >= 90 + 120 + 60 + 120


def test_jarvis_backtest_prints_the_decision_digests_of_its_run(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "cli"
    catalog = runs[0].parent / "cat"
    args = ["backtest", "--catalog", str(catalog), "--config", str(CONFIG)]
    assert main([*args, "--run-dir", str(run_dir), "--no-progress"]) == 0
    out = capsys.readouterr().out
    digest = load_decision_digest(run_dir)
    assert digest["decisions_sha256"] == load_decision_digest(runs[0])["decisions_sha256"]
    assert f"decisions_sha256 {digest['decisions_sha256']}" in out
    assert f"orders_sha256 {digest['orders_sha256']}" in out
    assert "input audit: 0 decision(s) on later data" in out
