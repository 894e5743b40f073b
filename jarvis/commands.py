"""`jarvis node`, `jarvis record` and `jarvis demo`: a TradingNode from a config file.

Imported by `jarvis --help`, so it imports nothing heavy at module level (NautilusTrader, the
simulator and the loader are imported inside the handlers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from typing import Final

from simulator.cli import SCENARIO_HELP
from simulator.cli import scenario_schedule

__all__ = ["add_cli_commands"]

# Exit codes: 0 ok, 1 the run did not do its job (no data), 2 unusable config or arguments,
# 3 the node never started (its clients never connected before it was stopped by
# --duration-secs, SIGTERM or Ctrl-C, or reconciliation failed; an unreachable venue is retried
# with backoff for as long as the node runs).
EXIT_NO_DATA: Final[int] = 1
EXIT_BAD_CONFIG: Final[int] = 2
EXIT_NOT_STARTED: Final[int] = 3
EXIT_INTERRUPTED: Final[int] = 130

_DEFAULT_CONFIG: Final[Path] = (
    Path(__file__).resolve().parents[1] / "config" / "sim_strategies.toml"
)
_DEMO_FUNDING_USDC: Final[float] = 100_000.0

NODE_EPILOG = """\
examples:
  jarvis sim &                                   # the local simulator on 127.0.0.1:3001
  jarvis node --config config/sim.toml
  jarvis node --config config/testnet.toml --duration-secs 60
  jarvis node --check-config config/mainnet.toml   # validate only: exit 0 valid, 2 not
  jarvis record --config config/sim.toml --out recordings/sim --duration-secs 30

Secrets (private keys) are read from the environment only; a config file holding one is refused.
"""


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `node`, `record` and `demo` on the `jarvis` command line."""
    p_node = subparsers.add_parser(
        "node",
        help="run a trading node from a config file",
        description="Build a NautilusTrader TradingNode from a config file in config/ and run it "
        "until Ctrl-C (or --duration-secs).",
        epilog=NODE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_node_arguments(p_node, config_required=False)
    p_node.add_argument(
        "--check-config",
        metavar="FILE",
        help="validate FILE (tables, fields, environment variables, coins and instruments "
        "against the venue when reachable) without starting anything; exit 0 valid, 2 not",
    )
    p_node.add_argument(
        "--dry-run",
        action="store_true",
        help="trade on the paper execution client (simulated fills, nothing sent to the venue)",
    )
    p_node.add_argument(
        "--run-dir", help="write the run journal here at stop (then: jarvis report --run DIR)"
    )
    _add_metrics_argument(p_node)
    p_node.set_defaults(handler=_with_log_format(_cmd_node))

    p_record = subparsers.add_parser(
        "record",
        help="run a data-only node that records every raw frame",
        description="Run the config's node without execution clients or strategies and record "
        "every raw WebSocket frame and REST response of its Hyperliquid data clients.",
        epilog=NODE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_node_arguments(p_record)
    p_record.add_argument(
        "--out",
        help="recording folder (default: the config's recorder folder, else recordings/<env>)",
    )
    _add_metrics_argument(p_record)
    p_record.set_defaults(handler=_with_log_format(_cmd_record))

    p_demo = subparsers.add_parser(
        "demo",
        help="start the simulator and a trading node on it, and show what it decides",
        description="Start the local simulator and a node from config/sim_strategies.toml "
        "pointed at it (market state, regime controller, Geometry, risk guard, execution on the "
        "simulator); every few seconds it prints the regime per instrument, each strategy's "
        "state, positions and PnL. A throwaway key is made and funded on the simulator when "
        "the config's key variable is unset.",
    )
    p_demo.add_argument("--config", default=str(_DEFAULT_CONFIG), help="node config file")
    p_demo.add_argument("--port", type=int, default=0, help="simulator port (0: a free one)")
    p_demo.add_argument("--scenario", type=scenario_schedule, default="quiet", help=SCENARIO_HELP)
    p_demo.add_argument("--seed", type=int, default=7)
    p_demo.add_argument(
        "--duration-secs", type=float, help="stop by itself after this long (default: Ctrl-C)"
    )
    _add_metrics_argument(p_demo)
    p_demo.set_defaults(handler=_with_log_format(_cmd_demo))

    p_regime = subparsers.add_parser(
        "regime",
        help="print the regime timeline of a recording (one JSON line per change)",
        description="Replay a recording through the state builder and the regime controller in "
        "a BacktestEngine (nothing trades) and print every regime change as one JSON line.",
    )
    p_regime.add_argument("--recording", required=True, help="recording folder or file")
    p_regime.add_argument(
        "--config",
        help="TOML with [builder] (MarketStateBuilderConfig, e.g. windows_secs) and [controller] "
        "(RegimeControllerConfig, e.g. enter_confirm_secs) overrides",
    )
    p_regime.set_defaults(handler=_cmd_regime)


def _add_node_arguments(parser: argparse.ArgumentParser, config_required: bool = True) -> None:
    parser.add_argument(
        "--config", required=config_required, help="node config file, e.g. config/sim.toml"
    )
    parser.add_argument(
        "--http-url", help="point the Hyperliquid data clients at this base URL instead"
    )
    parser.add_argument(
        "--duration-secs", type=float, help="stop by itself after this long (default: Ctrl-C)"
    )


def _add_metrics_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=("human", "json"),
        default="human",
        help="json: one JSON object per line (component, instrument, strategy, order ids)",
    )
    parser.add_argument(
        "--metrics-port",
        type=_port,
        metavar="N",
        help="serve Prometheus metrics on http://127.0.0.1:N/metrics (jarvis check reads them)",
    )


def _with_log_format(handler: Any) -> Any:
    """``handler`` with its whole output as JSON lines when ``--log-format json`` is given."""

    def run(args: argparse.Namespace) -> int:
        if args.log_format != "json":
            return int(handler(args))
        from config.loading import ConfigError
        from jarvis.log_format import JsonLines
        from jarvis.node import load_for_run

        try:
            loaded = load_for_run(args.config) if args.config else None
        except ConfigError:
            loaded = None  # the handler says what is wrong, as JSON
        with JsonLines(_strategy_ids(loaded)):
            return int(handler(args))

    return run


def _strategy_ids(loaded: Any) -> list[str]:
    """The strategy ids a config names (their log component is the strategy id)."""
    strategies: list[str] = []
    for entry in getattr(getattr(loaded, "node", None), "strategies", None) or ():
        config = getattr(entry, "config", None)
        if isinstance(config, dict) and isinstance(config.get("strategy_id"), str):
            strategies.append(config["strategy_id"])
    return strategies


def _port(text: str) -> int:
    """argparse type of a TCP port (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, was {port}")
    return port


def _fail(command: str, message: str, code: int = EXIT_BAD_CONFIG) -> int:
    print(f"jarvis {command}: {message}", file=sys.stderr, flush=True)
    return code


def _check_duration(duration_secs: float | None) -> str | None:
    if duration_secs is not None and not duration_secs > 0:
        return f"--duration-secs must be > 0, was {duration_secs}"
    return None


def _preflight(command: str, loaded: Any) -> str | None:
    """Compare the config with what its venue lists; the problem, or None (module notes of
    ``jarvis.preflight``). An unreachable venue is said on stderr, not a failure."""
    from config.loading import ConfigError
    from jarvis.preflight import check_against_venue

    try:
        check = check_against_venue(loaded)
    except ConfigError as exc:
        return str(exc)
    for venue in check.unreachable:
        print(
            f"jarvis {command}: venue not reachable, coins and instruments not checked: {venue}",
            file=sys.stderr,
            flush=True,
        )
    return None


def _cmd_check_config(args: argparse.Namespace) -> int:
    from config.loading import ConfigError
    from jarvis.node import NodeOverrides
    from jarvis.node import check_client_environment
    from jarvis.node import load_for_run

    try:
        loaded = load_for_run(args.check_config, NodeOverrides(http_url=args.http_url))
        check_client_environment(loaded)
    except ConfigError as exc:
        return _fail("node", str(exc))
    problem = _preflight("node", loaded)
    if problem is not None:
        return _fail("node", problem)
    print(f"jarvis node: config {args.check_config} is valid", flush=True)
    return 0


def _cmd_node(args: argparse.Namespace) -> int:
    from config.loading import ConfigError
    from jarvis.node import NodeOverrides
    from jarvis.node import describe
    from jarvis.node import load_for_run
    from jarvis.node import run_node

    if args.check_config is not None:
        if args.config is not None:
            return _fail("node", "give --config FILE to run or --check-config FILE, not both")
        return _cmd_check_config(args)
    if args.config is None:
        return _fail("node", "--config FILE is required (or --check-config FILE)")
    problem = _check_duration(args.duration_secs)
    if problem:
        return _fail("node", problem)
    try:
        overrides = NodeOverrides(
            http_url=args.http_url, dry_run=args.dry_run, run_directory=args.run_dir
        )
        loaded = load_for_run(args.config, overrides)
    except ConfigError as exc:
        return _fail("node", str(exc))
    problem = _preflight("node", loaded)
    if problem is not None:
        return _fail("node", problem)
    print(f"jarvis node: {describe(loaded)}", flush=True)
    try:
        result = run_node(loaded, args.duration_secs, args.metrics_port)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except ConfigError as exc:  # e.g. a client's key variable unset, found before the build
        return _fail("node", str(exc))
    if result.start_failure is not None:
        return _fail("node", result.start_failure, EXIT_NOT_STARTED)
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from adapters.hyperliquid.recorder import iter_records
    from adapters.hyperliquid.recorder import recording_files
    from config.loading import ConfigError
    from jarvis.node import NodeOverrides
    from jarvis.node import describe
    from jarvis.node import load_for_run
    from jarvis.node import recording_directories
    from jarvis.node import run_node

    problem = _check_duration(args.duration_secs)
    if problem:
        return _fail("record", problem)
    try:
        loaded = load_for_run(args.config, NodeOverrides(http_url=args.http_url, data_only=True))
        out = args.out
        if out is None:
            existing = recording_directories(loaded)
            out = existing[0] if existing else f"recordings/{loaded.jarvis.environment}"
        loaded = load_for_run(
            args.config,
            NodeOverrides(http_url=args.http_url, record_directory=out, data_only=True),
        )
    except ConfigError as exc:
        return _fail("record", str(exc))
    problem = _preflight("record", loaded)
    if problem is not None:
        return _fail("record", problem)
    print(f"jarvis record: {describe(loaded)}", flush=True)
    try:
        result = run_node(loaded, args.duration_secs, args.metrics_port)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if result.start_failure is not None:
        return _fail("record", result.start_failure, EXIT_NOT_STARTED)
    # Reading one record proves the folder holds a readable recording without scanning it all.
    files = recording_files(out) if Path(out).is_dir() else []
    recorded = bool(files) and next(iter_records(out), None) is not None
    if not recorded:
        return _fail("record", f"nothing was recorded into {out}", EXIT_NO_DATA)
    print(f"jarvis record: recording in {out} ({len(files)} file(s))", flush=True)
    return 0


def _cmd_regime(args: argparse.Namespace) -> int:
    from backtests.regime import load_overrides
    from backtests.regime import regime_timeline
    from backtests.regime import timeline_lines

    if not Path(args.recording).exists():
        return _fail("regime", f"no recording at {args.recording}", EXIT_NO_DATA)
    try:
        overrides = load_overrides(args.config)
        run = regime_timeline(
            args.recording,
            builder=overrides["builder"],
            controller=overrides["controller"],
        )
    except (ValueError, OSError) as exc:
        return _fail("regime", str(exc))
    for line in timeline_lines(run.changes):
        print(line, flush=True)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from config.loading import ConfigError
    from jarvis.node import NodeOverrides
    from jarvis.node import load_for_run
    from jarvis.node import run_node
    from simulator.app import SimConfig
    from simulator.app import SimThread

    problem = _check_duration(args.duration_secs)
    if problem:
        return _fail("demo", problem)
    try:
        # Validate before starting anything; the real URL is known once the simulator runs.
        load_for_run(args.config)
        sim_config = SimConfig(port=args.port, scenario=args.scenario, seed=args.seed)
    except (ConfigError, ValueError) as exc:
        return _fail("demo", str(exc))
    try:
        sim = SimThread(sim_config).start()
    except (RuntimeError, OSError) as exc:
        return _fail("demo", f"simulator did not start: {exc}", EXIT_NO_DATA)
    try:
        _demo_account(args.config, sim)
        loaded = load_for_run(args.config, NodeOverrides(http_url=sim.base_url))
        until = (
            f"for {args.duration_secs:g} s" if args.duration_secs is not None else "until Ctrl-C"
        )
        print(
            f"jarvis demo: simulator at {sim.base_url} (scenario {sim_config.scenario}, seed "
            f"{sim_config.seed}, coins {','.join(sim_config.coins)}); node from {args.config} "
            f"on it, running {until}",
            flush=True,
        )
        if loaded.node.controller is not None:
            print(
                "jarvis demo: trading is held (REDUCING) until every feed has sent data, and "
                "each coin shows DISABLED until its regime inputs have filled the config's "
                "windows and the regime is confirmed. To watch the strategies take turns within "
                "a few minutes: jarvis demo --config config/sim_demo_schedule.toml --scenario "
                "quiet:150,trend:210,cascade:60,quiet:150",
                flush=True,
            )
        result = run_node(loaded, args.duration_secs, args.metrics_port)
    except ConfigError as exc:
        return _fail("demo", str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        sim.stop()
    if result.start_failure is not None:
        return _fail("demo", result.start_failure, EXIT_NOT_STARTED)
    seen = result.market_messages
    if seen == 0:
        return _fail("demo", "no market data arrived from the simulator", EXIT_NO_DATA)
    print(f"jarvis demo: done, {seen} market data messages received", flush=True)
    return 0


def _demo_account(config: str, sim: object) -> None:
    """For a simulator config whose key variable is unset: a throwaway key, funded on the sim.

    The key lives only in this process's environment (where the execution client reads it) and
    is never printed; only its address is.
    """
    import os
    import secrets

    from adapters.hyperliquid.signing import address_from_private_key
    from config.loading import read_config_file

    raw = read_config_file(config)
    jarvis = raw.get("jarvis", {})
    variable = (jarvis.get("secrets_env") or {}).get("private_key")
    if jarvis.get("environment") != "sim" or not variable or os.environ.get(variable):
        return
    key = "0x" + secrets.token_hex(32)
    os.environ[variable] = key
    address = address_from_private_key(key)
    sim.fund(address, _DEMO_FUNDING_USDC)  # type: ignore[attr-defined]
    print(
        f"jarvis demo: throwaway simulator account {address} funded with "
        f"{_DEMO_FUNDING_USDC:,.0f} USDC ({variable} set for this run only)",
        flush=True,
    )
