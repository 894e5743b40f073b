"""`jarvis sim` (run the local venue) and `jarvis sim-fault` (inject a fault into a running one).

Imported by `jarvis --help`, so it imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from typing import Any

SCENARIO_NAMES = ("quiet", "trend", "cascade", "thin")
LATENCY_NAMES = ("none", "mainnet-like")
FAULT_HELP = """\
faults:
  drop-ws                                 drop every WebSocket connection
  stall --channel l2Book [--coin BTC] [--secs 5]
                                          a stream stops while its socket stays open
  delay --ms 500 [--target http|ws|all]   delay responses (0 clears)
  http-error --status 429 [--count 3] [--path info|exchange]
                                          answer the next requests with an HTTP error
  skip --channel trades [--coin BTC] [--count 1]
                                          drop the next frame(s) of a stream
  reorder --channel trades [--coin BTC] [--count 1]
                                          deliver a frame after the stream's next one
  pause-market / resume-market            stop / restart background makers and takers
  jump-clock --ms 3600000                 jump venue time forward
  clear                                   remove every fault
  fund --user 0x... --usdc 10000 [--volume-usd 1000000]
                                          credit perp USDC (and lifetime traded volume, which
                                          the venue's scheduleCancel gate needs); not a fault
  state                                   print the simulator's state
"""


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `sim` and `sim-fault` on the `jarvis` command line."""
    p_sim = subparsers.add_parser(
        "sim",
        help="run the local Hyperliquid venue simulator",
        description="Serve /info, /exchange and /ws of a simulated Hyperliquid venue on one "
        "loopback port, with a living market and an /admin endpoint for faults.",
    )
    p_sim.add_argument("--host", default="127.0.0.1")
    p_sim.add_argument("--port", type=int, default=3001, help="0 picks a free port")
    p_sim.add_argument("--scenario", choices=SCENARIO_NAMES, default="quiet")
    p_sim.add_argument("--seed", type=int, default=7)
    p_sim.add_argument("--coins", default="BTC,ETH,SOL", help="comma separated")
    p_sim.add_argument("--speed", type=float, default=1.0, help="venue seconds per wall second")
    p_sim.add_argument("--stepped", action="store_true", help="move only on POST /admin/step")
    p_sim.add_argument("--step-ms", type=int, default=250, help="venue ms per market step")
    p_sim.add_argument("--no-market", action="store_true", help="no background traders")
    p_sim.add_argument(
        "--activity", type=float, default=1.0, help="multiplier on background taker activity"
    )
    p_sim.add_argument("--mainnet", action="store_true", help="verify signatures as mainnet")
    p_sim.add_argument(
        "--stress-book-fps",
        type=float,
        default=0.0,
        help="stress mode: this many extra (varied, not venue-true) l2Book frames a second on "
        "every subscribed book stream, for load tests (default 0: off)",
    )
    p_sim.add_argument(
        "--latency",
        choices=LATENCY_NAMES,
        default="none",
        help="request and stream delays with jitter (seeded by --seed)",
    )
    p_sim.add_argument(
        "--schedule-cancel-min-volume-usd",
        type=float,
        default=None,
        help="traded volume an account needs before scheduleCancel is accepted "
        "(default: the venue's 1000000; 0 turns the gate off)",
    )
    p_sim.add_argument(
        "--hunter", action="store_true", help="cascade only: a stop hunter shorts, then covers"
    )
    p_sim.add_argument(
        "--ground-truth", metavar="PATH", help="append the hunter's plan and orders (JSON lines)"
    )
    p_sim.set_defaults(handler=_cmd_sim)

    p_fault = subparsers.add_parser(
        "sim-fault",
        help="inject a fault into a running simulator",
        epilog=FAULT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p_fault.add_argument("--url", default="http://127.0.0.1:3001", help="simulator base URL")
    p_fault.add_argument("kind", help="fault name (see below)")
    p_fault.add_argument("--channel")
    p_fault.add_argument("--coin")
    p_fault.add_argument("--secs", type=float)
    p_fault.add_argument("--ms", type=int)
    p_fault.add_argument("--target", choices=("http", "ws", "all"))
    p_fault.add_argument("--status", type=int)
    p_fault.add_argument("--count", type=int)
    p_fault.add_argument("--path", choices=("info", "exchange"))
    p_fault.add_argument("--user")
    p_fault.add_argument("--usdc", type=float)
    p_fault.add_argument("--volume-usd", type=float, default=0.0)
    p_fault.set_defaults(handler=_cmd_sim_fault)


def _cmd_sim(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from simulator.app import SimConfig
    from simulator.app import SimServer
    from simulator.latency import latency_profile

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    gate: dict[str, Any] = {}
    if args.schedule_cancel_min_volume_usd is not None:
        gate["schedule_cancel_min_volume_usd"] = args.schedule_cancel_min_volume_usd
    try:
        config = SimConfig(
            host=args.host,
            port=args.port,
            scenario=args.scenario,
            seed=args.seed,
            coins=tuple(c.strip().upper() for c in args.coins.split(",") if c.strip()),
            speed=args.speed,
            stepped=args.stepped,
            step_ms=args.step_ms,
            market=not args.no_market,
            activity=args.activity,
            is_mainnet=args.mainnet,
            latency=latency_profile(args.latency),
            stress_book_fps=args.stress_book_fps,
            hunter=args.hunter,
            ground_truth_path=args.ground_truth,
            **gate,
        )
    except ValueError as exc:
        print(f"jarvis sim: {exc}", flush=True)
        return 2

    async def run() -> None:
        server = SimServer(config)
        await server.start()
        mode = "stepped" if config.stepped else f"speed x{config.speed:g}"
        print(
            f"jarvis sim: {server.base_url} (ws {server.ws_url}) scenario={config.scenario} "
            f"seed={config.seed} coins={','.join(config.coins)} {mode} latency={args.latency}"
            + (f" stress={config.stress_book_fps:g}/s" if config.stress_book_fps else ""),
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0


def build_fault_request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The admin path and JSON body for a `sim-fault` invocation."""
    params: dict[str, Any] = {}
    for name in ("channel", "coin", "secs", "ms", "target", "status", "count", "path"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    if args.kind == "fund":
        return "/admin/fund", {
            "user": args.user,
            "usdc": args.usdc,
            "volumeUsd": getattr(args, "volume_usd", 0.0) or 0.0,
        }
    if args.kind == "state":
        return "/admin/state", {}
    return f"/admin/fault/{args.kind}", params


def _cmd_sim_fault(args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request

    path, params = build_fault_request(args)
    url = args.url.rstrip("/") + path
    if args.kind == "state":
        request = urllib.request.Request(url, method="GET")
    else:
        data = json.dumps(params).encode()
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            print(response.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode())
        return 1
    except urllib.error.URLError as exc:
        print(f"sim-fault: cannot reach {url}: {exc.reason}")
        return 2
