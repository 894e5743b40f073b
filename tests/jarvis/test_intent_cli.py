"""``jarvis intent``: a plan on stdout and exit 0, or every problem on stderr and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.loading import CONFIG_DIR
from intents.venue import load_snapshot
from jarvis.cli import main
from jarvis.intent_cli import EXIT_REFUSED
from jarvis.testkit import VENUE_CAPTURES


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_dca_text_prints_its_plan_from_the_shipped_snapshot(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["intent", "DCA $500 into ETH over 10 hours every 30m"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Plan: DCA on ETH-USD-PERP.HYPERLIQUID" in out
    assert "BUY $25.00 of ETH at market, 20 times" in out
    assert "DRY-RUN: paper trading" in out
    assert "prices from: shipped snapshot: the simulator's /info metaAndAssetCtxs" in out
    assert "config hash: " in out


def test_unreadable_text_prints_every_problem_and_exits_non_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["intent", "DCA into"])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED
    assert "budget_usd: missing: how much" in err
    assert "coin: missing: which coin" in err
    assert "interval_secs: missing: how often" in err


def test_intent_the_compiler_refuses_exits_non_zero_with_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["intent", "DCA $50 into ETH over 10 hours every 30m"])
    assert code == EXIT_REFUSED
    assert "below the venue's $10 minimum" in capsys.readouterr().err


def test_json_intent_and_an_explicit_snapshot_are_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from intents.venue import save_snapshot
    from intents.venue import snapshot_from_meta_and_ctxs

    payload = json.loads((VENUE_CAPTURES / "info_metaAndAssetCtxs.json").read_text())
    snap_file = tmp_path / "snap.json"
    save_snapshot(
        snapshot_from_meta_and_ctxs(payload, source="mainnet capture", taken_at_ms=0), snap_file
    )
    intent_file = tmp_path / "intent.json"
    intent_file.write_text(
        json.dumps(
            {
                "template": "twap",
                "coin": "BTC",
                "side": "SELL",
                "size_coin": "0.01",
                "horizon_secs": 600,
            }
        )
    )
    code = main(["intent", "--json", str(intent_file), "--snapshot", str(snap_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert "SELL 0.01000 BTC" in out
    assert "prices from: mainnet capture" in out


def test_profile_limits_apply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "me.toml"
    profile.write_text('user_id = "ann"\nmax_intent_notional_usd = "100"\n')
    code = main(["intent", "--profile", str(profile), "DCA $500 into ETH over 10h every 30m"])
    assert code == EXIT_REFUSED
    assert "above your per-intent cap $100.00" in capsys.readouterr().err


def test_run_without_a_node_config_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["intent", "--run", "buy 0.01 ETH"]) == EXIT_REFUSED
    assert "--run: give the node" in capsys.readouterr().err


def test_config_fetches_fresh_metadata_from_its_venue_and_caches_it(
    tmp_path: Path, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from simulator.app import SimConfig
    from simulator.app import SimThread

    with SimThread(SimConfig(coins=("BTC", "ETH"), seed=5)) as sim:
        url = sim.base_url
        text = (CONFIG_DIR / "sim.toml").read_text()
        cfg = tmp_path / "sim.toml"
        cfg.write_text(text.replace("http://127.0.0.1:3001", url))
        code = main(["intent", "--config", str(cfg), "buy 0.01 ETH"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"prices from: fresh from {url}" in out
    cached = load_snapshot(state_dir / "venue_snapshot.json")
    assert cached.source.startswith(f"cached from {url}")
    code = main(["intent", "buy 0.01 ETH"])  # no venue now: the cache is used
    assert code == 0
    assert f"prices from: cached from {url}" in capsys.readouterr().out


def test_dry_run_plan_is_not_run_on_a_node_trading_a_real_venue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from intents.venue import SHIPPED_SNAPSHOT

    code = main(["intent", "--config", str(CONFIG_DIR / "testnet.toml"), "--snapshot",
                 str(SHIPPED_SNAPSHOT), "--run", "buy 0.01 ETH"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == EXIT_REFUSED
    assert "DRY-RUN: paper trading" in captured.out
    assert "this plan is a dry run" in captured.err
    assert "trades on testnet: run it on a paper or simulator config" in captured.err
