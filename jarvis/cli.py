"""The `jarvis` command line.

Each subcommand lives in its own small function that imports what it needs lazily, so that
`jarvis --help` stays fast and never starts a runtime.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from collections.abc import Sequence

from jarvis import __version__

Handler = Callable[[argparse.Namespace], int]

DESCRIPTION = """\
Jarvis — a trading node for the Hyperliquid exchange, built on NautilusTrader.

It ingests Hyperliquid market data, records every raw frame for replay, builds market
state, lets a regime controller decide which strategies may run, and turns their intents
into signed orders under hard risk limits.
"""

EPILOG = """\
examples:
  jarvis demo
      start the simulator and a node on it; watch market data flow (Ctrl-C stops)
  jarvis node --config config/sim.toml
      run a trading node from a config file
  jarvis version
      print the Jarvis and NautilusTrader versions

Secrets (private keys) are read from the environment only, never from files in the repo.
"""


def _cmd_version(args: argparse.Namespace) -> int:
    from importlib.metadata import version

    print(f"jarvis {__version__}")
    print(f"nautilus_trader {version('nautilus_trader')}")
    print(f"hyperliquid-python-sdk {version('hyperliquid-python-sdk')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; subcommands register themselves here."""
    parser = argparse.ArgumentParser(
        prog="jarvis",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jarvis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_version = sub.add_parser("version", help="print component versions")
    p_version.set_defaults(handler=_cmd_version)

    _register_optional_commands(sub)
    return parser


# Modules that contribute subcommands through an `add_cli_commands(subparsers)` function.
# They must import cheaply: heavy imports belong inside their handlers.
CLI_MODULES: tuple[str, ...] = (
    "simulator.cli",
    "jarvis.commands",
    "jarvis.intent_cli",
    "api.serve",
    "api.multinode",
    "jarvis.ctl",
    "jarvis.backtest_cli",
    "jarvis.check_cli",
)


def _register_optional_commands(sub: argparse._SubParsersAction) -> None:
    """Let each package own its subcommands instead of growing this file."""
    import importlib

    for name in CLI_MODULES:
        importlib.import_module(name).add_cli_commands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jarvis` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
