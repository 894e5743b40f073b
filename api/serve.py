"""``jarvis serve --config FILE``: the node and the sidecar in one process, and ``jarvis token``.

The node runs on the main thread's event loop (as ``jarvis node`` does: signals stop it); the
sidecar's uvicorn runs on its own thread and hands commands to the node's loop through the
in-process link. Without a configured public key or JWKS file the sidecar verifies tokens of the
local signing key (``jarvis token`` mints them), and says so.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.settings import ApiSettings
    from config.loading import LoadedNodeConfig

__all__ = ["add_cli_commands", "local_verifier", "run_serve"]

SNAPSHOT_MAX_AGE_SECS = 60.0


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jarvis serve`` and ``jarvis token``."""
    p = subparsers.add_parser(
        "serve",
        help="run a node and the HTTP sidecar (intents, strategies, events) in one process",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", required=True, help="node config file (with a controller)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8700)
    p.add_argument("--duration-secs", type=float, default=None, help="stop after this long")
    p.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="run N node processes behind the sidecar, joined through Redis streams "
        "(default: one node inside this process)",
    )
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="broker for --nodes")
    p.add_argument("--namespace", default="jarvis", help="Redis key prefix for --nodes")
    p.set_defaults(handler=_cmd_serve)
    d = subparsers.add_parser(
        "serve-demo",
        help="start the simulator, a trading node on it and the sidecar; print a token and a curl",
    )
    d.add_argument("--port", type=int, default=8700, help="the sidecar's port")
    d.add_argument("--duration-secs", type=float, default=None, help="stop after this long")
    d.set_defaults(handler=_cmd_serve_demo)
    t = subparsers.add_parser(
        "token",
        help="mint a bearer token for the local sidecar (local signing key)",
        description="Prints a JWT signed with the local key in the state directory.",
    )
    t.add_argument("subject", nargs="?", default="local-trader")
    t.add_argument("--operator", action="store_true", help="also grant the operator role")
    t.add_argument("--ttl-secs", type=int, default=24 * 3600)
    t.set_defaults(handler=_cmd_token)


def _cmd_token(args: argparse.Namespace) -> int:
    from api.identity import LocalSigningKey

    roles = ("trader", "operator") if args.operator else ("trader",)
    try:
        print(LocalSigningKey().mint(args.subject, roles, args.ttl_secs))
    except ValueError as exc:
        print(f"jarvis token: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api.settings import ApiSettings
    from config.loading import ConfigError
    from jarvis.node import load_for_run

    try:
        loaded = load_for_run(args.config)
        settings = ApiSettings()
    except (ConfigError, ValidationError, OSError) as exc:
        print(f"jarvis serve: {exc}", file=sys.stderr)
        return 2
    if loaded.node.controller is None:
        print(f"jarvis serve: {loaded.source} has no controller to add strategies through",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.nodes is not None:
        from api.multinode import run_set

        if args.nodes < 1:
            print(f"jarvis serve: --nodes must be >= 1, was {args.nodes}", file=sys.stderr)
            return 2
        urls = [getattr(c, "http_url", None) for c in loaded.node.data_clients.values()]
        return run_set(args, settings, next((u for u in urls if u), None))

    def announce(url: str, _: FastAPI) -> None:
        print(f"jarvis serve: sidecar on {url} (OpenAPI: {url}/docs; status page: {url}/)",
              flush=True)  # fmt: skip

    run_serve(loaded, settings, args.host, args.port, args.duration_secs, announce)
    return 0


# The demo node: the rulebook chain of ``jarvis demo`` (market state, regime controller,
# Geometry, risk guard; NautilusTrader's log kept to warnings, a status block every 5 s) ...
DEMO_CONFIG = "sim_strategies.toml"  # in config/
# ... with ETH left to the user: the first intent a newcomer sends ("buy 0.01 ETH") would
# otherwise be refused, the node's account already trading ETH through Geometry.
DEMO_USER_INSTRUMENT = "ETH-USD-PERP.HYPERLIQUID"


def _demo_node(loaded: LoadedNodeConfig) -> LoadedNodeConfig:
    """``loaded`` without the rulebook strategy on the instrument left to the user."""
    import dataclasses

    import msgspec

    controller = loaded.node.controller
    assert controller is not None
    config = dict(controller.config)
    config["strategies"] = [
        entry
        for entry in config.get("strategies", [])
        if entry["strategy"]["config"].get("instrument_id") != DEMO_USER_INSTRUMENT
    ]
    controller = msgspec.structs.replace(controller, config=config)
    return dataclasses.replace(
        loaded, node=msgspec.structs.replace(loaded.node, controller=controller)
    )


def _cmd_serve_demo(args: argparse.Namespace) -> int:
    """The newcomer's first minute: simulator + trading node + sidecar, a token and a curl."""
    import os
    import secrets

    from adapters.hyperliquid.signing import address_from_private_key
    from api.identity import LocalSigningKey
    from api.settings import ApiSettings
    from config.loading import CONFIG_DIR
    from jarvis.node import NodeOverrides
    from jarvis.node import load_for_run
    from simulator.app import SimConfig
    from simulator.app import SimThread
    from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD

    # A throwaway key for the simulator only, made here and never printed or written.
    key = "0x" + secrets.token_hex(32)
    os.environ["HYPERLIQUID_SIM_PRIVATE_KEY"] = key
    with SimThread(SimConfig(port=0)) as sim:
        sim.fund(address_from_private_key(key).lower(), 100_000,
                 volume_usd=SCHEDULE_CANCEL_MIN_VOLUME_USD)  # fmt: skip
        loaded = _demo_node(
            load_for_run(CONFIG_DIR / DEMO_CONFIG, NodeOverrides(http_url=sim.base_url))
        )
        token = LocalSigningKey().mint("demo-trader", ("trader", "operator"), 24 * 3600)

        def announce(url: str, _: FastAPI) -> None:
            print(
                f"jarvis serve-demo: simulator at {sim.base_url}; sidecar on {url} "
                f"(OpenAPI: {url}/docs; status page: {url}/ with the token below)\n"
                f"  export JARVIS_TOKEN={token}\n"
                f'  curl -s -X POST {url}/intents -H "Authorization: Bearer $JARVIS_TOKEN" '
                "-H 'Content-Type: application/json' -d '{\"text\": \"buy 0.01 ETH\"}'\n"
                "  Trading opens (ACTIVE in the status block below) once every feed has sent "
                "data, a few seconds; an order sent before is refused, saying why.",
                flush=True,
            )

        run_serve(loaded, ApiSettings(), "127.0.0.1", args.port, args.duration_secs, announce)
    return 0


def run_serve(
    loaded: LoadedNodeConfig,
    settings: ApiSettings,
    host: str,
    port: int,
    duration_secs: float | None = None,
    on_ready: Callable[[str, FastAPI], None] | None = None,
    verifier: Any = None,
) -> None:
    """Build and run the node on this thread with the sidecar on another; returns when the node
    has stopped (signal, ``duration_secs`` or ``node.stop`` from a test) and both are closed."""
    import uvicorn

    from api.app import create_app
    from api.events import EventHub
    from api.inprocess import InProcessNodeLink
    from jarvis.node import build_node

    if verifier is None:
        verifier = local_verifier(settings)
    if settings.venue_http_url is None:
        # Node files hold each client's config as a dict inside an ImportableConfig entry.
        urls = [_http_url(c) for c in loaded.node.data_clients.values()]
        url = next((u for u in urls if u), None)
        settings = settings.model_copy(update={"venue_http_url": url})
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = build_node(loaded, loop)
    hub = EventHub(settings.event_history_per_user)
    link = InProcessNodeLink(node, hub)
    app = create_app(
        settings, link=link, hub=hub, verifier=verifier, snapshot=_node_snapshot(node, link)
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="jarvis-sidecar", daemon=True)

    async def start_sidecar_when_running() -> None:
        while not node.trader.is_running:
            await asyncio.sleep(0.05)
        thread.start()
        while not server.started and thread.is_alive():
            await asyncio.sleep(0.02)
        if server.started and on_ready is not None:
            bound = server.servers[0].sockets[0].getsockname()[1]
            on_ready(f"http://{host}:{bound}", app)

    task = loop.create_task(start_sidecar_when_running())
    if duration_secs is not None:
        loop.call_later(duration_secs, node.stop)
    try:
        node.run()
    finally:
        server.should_exit = True
        if thread.is_alive():
            thread.join(timeout=30)
        if not task.done():
            task.cancel()
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for pending_task in pending:
            pending_task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        node.dispose()
        asyncio.set_event_loop(None)


def _http_url(entry: Any) -> str | None:
    config = getattr(entry, "config", entry)
    url = config.get("http_url") if isinstance(config, dict) else getattr(config, "http_url", None)
    return str(url) if url else None


def local_verifier(settings: ApiSettings) -> Any:
    """Without a configured public key or JWKS file: a verifier of the local signing key's
    tokens (``jarvis token``), said out loud; else None (the app reads the configured files)."""
    from api.identity import LocalSigningKey
    from api.identity import TokenVerifier

    if settings.jwt_public_key_file is not None or settings.jwks_file is not None:
        return None
    keys = LocalSigningKey()
    keys.ensure()
    print(f"jarvis serve: verifying tokens of the local key {keys.public_path}", flush=True)
    return TokenVerifier(
        public_key_pem=keys.public_path.read_bytes(),
        operator_subjects=settings.operator_subjects,
    )


def _node_snapshot(node: Any, link: Any) -> Callable[[], Any]:
    """Plans compile against the instruments and prices the running node knows (refreshed at
    most every minute); before the node knows any, against the shipped snapshot."""
    from intents.venue import SHIPPED_SNAPSHOT
    from intents.venue import load_snapshot
    from jarvis.intent_cli import cache_node_metadata

    cached: dict[str, Any] = {"at": 0.0, "snapshot": None}
    lock = threading.Lock()

    def snapshot() -> Any:
        with lock:
            if (
                cached["snapshot"] is None
                or time.monotonic() - cached["at"] > SNAPSHOT_MAX_AGE_SECS
            ):
                path: Path | None = link._call(lambda: cache_node_metadata(node, "jarvis serve"))
                if path is not None:
                    cached["snapshot"] = load_snapshot(path)
                    cached["at"] = time.monotonic()
            return cached["snapshot"] or load_snapshot(SHIPPED_SNAPSHOT)

    return snapshot
