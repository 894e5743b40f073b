"""``jarvis intent``: text (or JSON) -> a plan to read, or every problem; ``--run`` starts it.

Instrument metadata, in this order: ``--config FILE`` fetches it fresh from that config's venue
(and caches it); otherwise the cache left by the last fetch; otherwise the snapshot shipped with
the project. The plan says which, and how old. Exit codes: 0 plan printed (and run), 2 refused
(every problem printed), 3 the node could not run it.

``--run`` needs ``--config`` naming a node config with a controller: the strategy is added
through that controller (``add_strategy_from_config`` of the regime controller when it is the
one configured, NautilusTrader's ``create_strategy_from_config`` otherwise), never straight
into the trader. A dry-run plan is refused on a node trading a real venue (testnet, mainnet).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import Final

if TYPE_CHECKING:
    from config.loading import LoadedNodeConfig
    from intents.compiler import UserProfile
    from intents.plan import Plan
    from intents.venue import VenueSnapshot

__all__ = ["add_cli_commands", "cache_dir", "cache_node_metadata"]

EXIT_REFUSED: Final[int] = 2
EXIT_RUN_FAILED: Final[int] = 3
REAL_VENUES: Final[frozenset[str]] = frozenset({"testnet", "mainnet"})
TWAP_ALGORITHM: Final[dict[str, Any]] = {
    "exec_algorithm_path": "nautilus_trader.examples.algorithms.twap:TWAPExecAlgorithm",
    "config_path": "nautilus_trader.examples.algorithms.twap:TWAPExecAlgorithmConfig",
    "config": {},
}


def cache_dir() -> Path:
    """Where ``jarvis intent`` keeps the metadata cache and the user's intent history."""
    base = os.environ.get("JARVIS_STATE_DIR") or str(Path.home() / ".cache" / "jarvis")
    return Path(base)


def cache_node_metadata(node: Any, source: str) -> Path | None:
    """Write the Hyperliquid perps a node knew (sizes, leverage, fees, last mark or mid) to the
    cache ``jarvis intent`` reads when no venue is asked; None when the node knew none."""
    from decimal import Decimal

    from intents.venue import InstrumentMeta
    from intents.venue import VenueSnapshot
    from intents.venue import save_snapshot

    cache = node.kernel.cache
    found: dict[str, InstrumentMeta] = {}
    for instrument in cache.instruments():
        info = instrument.info or {}
        if "szDecimals" not in info or "maxLeverage" not in info or info.get("dex"):
            continue  # only the main dex's perps
        if not instrument.id.symbol.value.endswith("-PERP"):
            continue
        mark = cache.mark_price(instrument.id)
        quote = cache.quote_tick(instrument.id)
        px: Decimal | None = None
        if mark is not None:
            px = mark.value.as_decimal()
        elif quote is not None:
            px = (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2
        found[info["coin"]] = InstrumentMeta(
            coin=info["coin"],
            sz_decimals=int(info["szDecimals"]),
            max_leverage=int(info["maxLeverage"]),
            mark_px_usd=px,
            maker_fee=Decimal(str(instrument.maker_fee)),
            taker_fee=Decimal(str(instrument.taker_fee)),
        )
    if not found:
        return None
    path = cache_dir() / "venue_snapshot.json"
    snapshot = VenueSnapshot(
        source=f"cached by the last node run ({source})",
        taken_at_ms=node.kernel.clock.timestamp_ms(),
        instruments=found,
    )
    save_snapshot(snapshot, path)
    return path


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jarvis intent``."""
    p = subparsers.add_parser(
        "intent",
        help="turn a trading instruction into a checked plan (and run it with --run)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", help='e.g. "DCA $500 into ETH over 10 hours every 30m"')
    p.add_argument(
        "--json", dest="json_file", help="read the intent as JSON from FILE ('-': stdin)"
    )
    p.add_argument("--config", help="node config: fetch fresh metadata from its venue")
    p.add_argument("--snapshot", help="use this venue snapshot file")
    p.add_argument("--profile", help="TOML file with the user's limits (UserProfile fields)")
    p.add_argument("--llm", help="TOML file of an OpenAI-compatible endpoint (LLMConfig)")
    p.add_argument("--run", action="store_true", help="start it on the --config node")
    p.add_argument("--duration-secs", type=float, default=None, help="with --run: stop after")
    p.add_argument("--show-config", action="store_true", help="also print the strategy config")
    p.set_defaults(handler=_cmd_intent)


def _refuse(problems: list[Any], what: str = "refused") -> int:
    print(f"jarvis intent: {what}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_REFUSED


def _fetch_snapshot(loaded: LoadedNodeConfig) -> VenueSnapshot:
    from intents.venue import save_snapshot
    from intents.venue import snapshot_from_meta_and_ctxs

    urls = [
        getattr(entry.create() if hasattr(entry, "create") else entry, "http_url", None)
        for entry in loaded.node.data_clients.values()
    ]
    url = next((u for u in urls if u), None)
    if url is None:
        raise ValueError(f"{loaded.source}: no data client with an http_url to ask")
    request = urllib.request.Request(
        url.rstrip("/") + "/info",
        data=json.dumps({"type": "metaAndAssetCtxs"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = json.loads(response.read())
    snapshot = snapshot_from_meta_and_ctxs(
        payload,
        source=f"fresh from {url} ({loaded.source})",
        taken_at_ms=time.time_ns() // 1_000_000,
    )
    cached = snapshot_from_meta_and_ctxs(
        payload,
        source=f"cached from {url} ({loaded.source})",
        taken_at_ms=snapshot.taken_at_ms,
    )
    save_snapshot(cached, cache_dir() / "venue_snapshot.json")
    return snapshot


def _snapshot(args: argparse.Namespace, loaded: LoadedNodeConfig | None) -> VenueSnapshot:
    from intents.venue import SHIPPED_SNAPSHOT
    from intents.venue import load_snapshot

    if args.snapshot:
        return load_snapshot(Path(args.snapshot))
    if loaded is not None:
        return _fetch_snapshot(loaded)
    cached = cache_dir() / "venue_snapshot.json"
    if cached.exists():
        return load_snapshot(cached)
    return load_snapshot(SHIPPED_SNAPSHOT)


def _history_path() -> Path:
    return cache_dir() / "intent_history.json"


def _profile(args: argparse.Namespace) -> UserProfile:
    import msgspec

    from intents.compiler import UserProfile

    values: dict[str, Any] = {}
    if args.profile:
        with open(args.profile, "rb") as f:
            values = tomllib.load(f)
    history = _history_path()
    if history.exists():
        traded = json.loads(history.read_text()).get(values.get("user_id", "local"), [])
        values["coins_traded"] = sorted(set(values.get("coins_traded", [])) | set(traded))
    return msgspec.convert(values, UserProfile, strict=False)


def _remember(user_id: str, coin: str) -> None:
    path = _history_path()
    data = json.loads(path.read_text()) if path.exists() else {}
    data[user_id] = sorted(set(data.get(user_id, [])) | {coin})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def _read_intent(args: argparse.Namespace) -> Any:
    from intents.parser import parse_intent
    from intents.schema import decode_intent

    if args.json_file:
        raw = sys.stdin.read() if args.json_file == "-" else Path(args.json_file).read_text()
        return decode_intent(raw)
    if not args.text:
        from intents.schema import IntentError
        from intents.schema import Problem

        raise IntentError([Problem("text", "give the instruction, or --json FILE")])
    if args.llm:
        import msgspec

        from intents.llm import LLMConfig
        from intents.llm import parse_with_llm

        with open(args.llm, "rb") as f:
            llm = msgspec.convert(tomllib.load(f), LLMConfig)
        return parse_with_llm(args.text, llm)
    return parse_intent(args.text)


def _cmd_intent(args: argparse.Namespace) -> int:
    from config.loading import ConfigError
    from intents.compiler import compile_intent
    from intents.schema import IntentError
    from jarvis.node import load_for_run

    if args.run and not args.config:
        return _refuse(["--run: give the node to run it on with --config FILE"])
    loaded = None
    try:
        if args.config:
            loaded = load_for_run(args.config)
        intent = _read_intent(args)
        snapshot = _snapshot(args, loaded)
        user = _profile(args)
        plan = compile_intent(intent, snapshot, user, now_ms=time.time_ns() // 1_000_000)
    except IntentError as exc:
        return _refuse(exc.problems)
    except (ConfigError, ValueError, OSError) as exc:
        return _refuse([str(exc)], "cannot compile")
    print(plan.render(), flush=True)
    if args.show_config:
        print(json.dumps(plan.strategy_config.config, indent=1, sort_keys=True))
    if not args.run:
        return 0
    assert loaded is not None
    return _run(plan, loaded, user, args.duration_secs)


def _run(plan: Plan, loaded: LoadedNodeConfig, user: UserProfile, duration: float | None) -> int:
    """Start the node of ``loaded`` and add the plan's strategy through its controller."""
    import msgspec
    from nautilus_trader.config import ImportableExecAlgorithmConfig

    from jarvis.node import build_node

    environment = loaded.jarvis.environment
    if not plan.live and environment in REAL_VENUES:
        return _refuse(
            [
                f"this plan is a dry run; {loaded.source} trades on {environment}: "
                "run it on a paper or simulator config"
            ],
            "not run",
        )
    if loaded.node.controller is None:
        return _refuse([f"{loaded.source} has no controller: --run adds strategies through it"])
    node_config = loaded.node
    if plan.template == "TWAPTemplate" and not any(
        "TWAPExecAlgorithm" in a.exec_algorithm_path for a in node_config.exec_algorithms
    ):
        algorithms = [*node_config.exec_algorithms, ImportableExecAlgorithmConfig(**TWAP_ALGORITHM)]
        node_config = msgspec.structs.replace(node_config, exec_algorithms=algorithms)
    import dataclasses

    loaded = dataclasses.replace(loaded, node=node_config)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = build_node(loaded, loop)
    outcome: list[str] = []

    async def add_when_running() -> None:
        while not node.trader.is_running:
            await asyncio.sleep(0.05)
        controller: Any = node.kernel._controller  # type: ignore[attr-defined]
        config = plan.strategy_config
        if hasattr(controller, "add_strategy_from_config"):
            controller.add_strategy_from_config(config)
        else:
            controller.create_strategy_from_config(config, start=True)
        tag = f"-{config.config['order_id_tag']}"
        started = [s.id.value for s in node.trader.strategies() if s.id.value.endswith(tag)]
        outcome.extend(started)
        for strategy_id in started:
            print(f"jarvis intent: started {strategy_id} through {type(controller).__name__}")

    try:
        task = loop.create_task(add_when_running())
        if duration is not None:
            loop.call_later(duration, node.stop)
        node.run()
        if task.done() and not task.cancelled() and task.exception() is not None:
            print(f"jarvis intent: could not add the strategy: {task.exception()}", file=sys.stderr)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for pending_task in pending:
            pending_task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        node.dispose()
        asyncio.set_event_loop(None)
    if not outcome:
        print("jarvis intent: the strategy was not started", file=sys.stderr)
        return EXIT_RUN_FAILED
    _remember(user.user_id, plan.coin)
    return 0
