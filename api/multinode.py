"""Several node processes behind one sidecar, joined through Redis streams.

* ``jarvis serve-node --config FILE --node I --redis URL``: node ``I`` of the set.
* ``jarvis serve-sidecar --nodes N --redis URL``: the HTTP sidecar routing to ``N`` nodes.
* ``jarvis serve --config FILE --nodes N``: the whole set on one machine (``N`` node processes
  as children and the sidecar in this process), for trying it out.

Across machines the same processes run where they fit (one node process per core), every one
pointed at the same Redis (``--redis``) and namespace (README "More than one node").
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from api.settings import ApiSettings

__all__ = ["add_cli_commands", "run_set", "run_sidecar"]

DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jarvis serve-node`` and ``jarvis serve-sidecar``."""
    n = subparsers.add_parser(
        "serve-node",
        help="run one node of a multi-node set (commands and events over Redis streams)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    n.add_argument("--config", required=True, help="node config file (with a controller)")
    n.add_argument("--node", type=int, required=True, help="this node's index, 0..N-1")
    n.add_argument("--redis", default=DEFAULT_REDIS, help=f"the shared broker ({DEFAULT_REDIS})")
    n.add_argument("--namespace", default="jarvis", help="Redis key prefix of the set")
    n.add_argument("--duration-secs", type=float, default=None, help="stop after this long")
    n.set_defaults(handler=_cmd_serve_node)
    s = subparsers.add_parser(
        "serve-sidecar",
        help="run the HTTP sidecar in front of N node processes (Redis streams)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--nodes", type=int, required=True, help="how many nodes the set has")
    s.add_argument("--redis", default=DEFAULT_REDIS, help=f"the shared broker ({DEFAULT_REDIS})")
    s.add_argument("--namespace", default="jarvis", help="Redis key prefix of the set")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8700)
    s.set_defaults(handler=_cmd_serve_sidecar)


def _cmd_serve_node(args: argparse.Namespace) -> int:
    import redis
    from pydantic import ValidationError

    from api.node_worker import run_node_worker
    from api.secrets import SecretStoreError
    from config.loading import ConfigError
    from jarvis.node import load_for_run

    if args.node < 0:
        print(f"jarvis serve-node: --node must be >= 0, was {args.node}", file=sys.stderr)
        return 2
    try:
        loaded = load_for_run(args.config)
    except (ConfigError, OSError) as exc:
        print(f"jarvis serve-node: {exc}", file=sys.stderr)
        return 2
    if loaded.node.controller is None:
        print(f"jarvis serve-node: {loaded.source} has no controller to add strategies through",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        run_node_worker(loaded, args.redis, args.node, args.namespace, args.duration_secs)
    except redis.RedisError as exc:
        print(f"jarvis serve-node: Redis at {args.redis}: {exc}", file=sys.stderr)
        return 2
    except (ValidationError, SecretStoreError) as exc:  # the secret store's settings
        print(f"jarvis serve-node: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_serve_sidecar(args: argparse.Namespace) -> int:
    import redis
    from pydantic import ValidationError

    from api.settings import ApiSettings

    if args.nodes < 1:
        print(f"jarvis serve-sidecar: --nodes must be >= 1, was {args.nodes}", file=sys.stderr)
        return 2
    try:
        settings = ApiSettings()
    except ValidationError as exc:
        print(f"jarvis serve-sidecar: {exc}", file=sys.stderr)
        return 2
    try:
        run_sidecar(settings, args.redis, args.nodes, args.namespace, args.host, args.port)
    except redis.RedisError as exc:
        print(f"jarvis serve-sidecar: Redis at {args.redis}: {exc}", file=sys.stderr)
        return 2
    return 0


def run_sidecar(
    settings: ApiSettings,
    redis_url: str,
    nodes: int,
    namespace: str,
    host: str,
    port: int,
    stop: threading.Event | None = None,
) -> None:
    """The sidecar over a ``RedisNodeLink`` until Ctrl-C / SIGTERM (or ``stop`` is set)."""
    import uvicorn

    from api.app import create_app
    from api.events import EventHub
    from api.redis_link import RedisNodeLink
    from api.serve import local_verifier

    hub = EventHub(settings.event_history_per_user)
    link = RedisNodeLink(
        redis_url, nodes, hub, namespace, queue_ttl_secs=settings.queued_command_ttl_secs
    )
    snapshot = _venue_snapshot(settings.venue_http_url) if settings.venue_http_url else None
    app = create_app(
        settings, link=link, hub=hub, verifier=local_verifier(settings), snapshot=snapshot
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    if stop is not None:

        def stop_when_set() -> None:
            stop.wait()
            server.should_exit = True

        threading.Thread(target=stop_when_set, daemon=True).start()
    print(f"jarvis serve: sidecar on http://{host}:{port} in front of {nodes} node(s) "
          f"(Redis {redis_url}, namespace {namespace})", flush=True)  # fmt: skip
    server.run()


def _venue_snapshot(venue_http_url: str) -> Callable[[], Any]:
    """Plans compile against the venue's own instruments and prices (``metaAndAssetCtxs``,
    refreshed at most every minute); the shipped snapshot while the venue does not answer. The
    nodes are other processes here, so the sidecar asks the venue itself."""
    import httpx

    from api.serve import SNAPSHOT_MAX_AGE_SECS
    from intents.venue import SHIPPED_SNAPSHOT
    from intents.venue import load_snapshot
    from intents.venue import snapshot_from_meta_and_ctxs

    shipped = load_snapshot(SHIPPED_SNAPSHOT)
    cached: dict[str, Any] = {"at": 0.0, "snapshot": None}
    lock = threading.Lock()

    def snapshot() -> Any:
        with lock:
            if time.monotonic() - cached["at"] > SNAPSHOT_MAX_AGE_SECS:
                try:
                    answer = httpx.post(
                        f"{venue_http_url}/info", json={"type": "metaAndAssetCtxs"}, timeout=5
                    )
                    answer.raise_for_status()
                    cached["snapshot"] = snapshot_from_meta_and_ctxs(
                        answer.json(), source=venue_http_url, taken_at_ms=int(time.time() * 1000)
                    )
                    cached["at"] = time.monotonic()
                except (httpx.HTTPError, ValueError, KeyError, TypeError):
                    pass  # the last good snapshot (or the shipped one) until the venue answers
            return cached["snapshot"] or shipped

    return snapshot


def run_set(args: argparse.Namespace, settings: ApiSettings, venue_url: str | None) -> int:
    """``jarvis serve --nodes N``: N ``serve-node`` children and the sidecar here; the children
    are stopped (SIGTERM, then killed after 20 s) when the sidecar stops. ``venue_url``: the
    config's venue, for the sidecar's own reads (plans, accounts)."""
    command = [sys.executable, "-c", "import sys; from jarvis.cli import main; sys.exit(main())"]
    children: list[subprocess.Popen[Any]] = []
    for node in range(args.nodes):
        node_args = ["--config", args.config, "--node", str(node), "--redis", args.redis]
        node_args += ["--namespace", args.namespace]
        children.append(subprocess.Popen([*command, "serve-node", *node_args]))
    if settings.venue_http_url is None:
        settings = settings.model_copy(update={"venue_http_url": venue_url})
    stop = threading.Event()
    if args.duration_secs is not None:
        timer = threading.Timer(args.duration_secs, stop.set)
        timer.daemon = True
        timer.start()
    try:
        run_sidecar(settings, args.redis, args.nodes, args.namespace, args.host, args.port, stop)
    finally:
        stop.set()
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 0
