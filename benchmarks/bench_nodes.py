"""
Benchmark of the multi-node set; prints ONE JSON object as its last line.

For 1 and then 2 node processes (``jarvis serve-node``, each a real TradingNode on the local
simulator, joined through the real Redis on 127.0.0.1:6379), driven through ``RedisNodeLink``
(the sidecar's link, without HTTP in front):

1. ``starts_per_s_*``: strategies added and started per second (resting price-limit buys,
   compiled by the intent compiler), from 8 threads, users spread over the nodes by the link's
   own routing. A start is answered once the node's controller has started the strategy; the
   order it places follows on the node's loop and is not waited for.
2. ``status_per_s_*``: ``status`` round trips per second (sidecar -> command stream -> the node's
   loop -> reply), from 16 threads for 5 s.

The figure of merit is the ratio 2 nodes / 1 node measured in the same run. This machine has 2
cores shared with the simulator, Redis and the driver, so expect well under 2x and ±30 % noise.

Run: ``.venv/bin/python benchmarks/bench_nodes.py`` (about 90 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from adapters.hyperliquid.signing import address_from_private_key
from api.events import EventHub
from api.redis_link import RedisNodeLink
from config.loading import CONFIG_DIR
from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.schema import PriceLimitIntent
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.testkit import fund_test_account
from jarvis.testkit import venue_info
from simulator.app import SimConfig
from simulator.app import SimThread

REDIS_URL = "redis://127.0.0.1:6379/0"
KEY = "0x" + "7b" * 32
STARTS = 64
START_THREADS = 8
STATUS_THREADS = 16
STATUS_SECS = 5.0
CONTROLLER = """
[node.controller]
controller_path = "controllers.regime:RegimeController"
config_path = "controllers.regime:RegimeControllerConfig"
[node.controller.config]
"""


def node_file(directory: Path, base_url: str, trader: str) -> Path:
    text = (CONFIG_DIR / "sim_trading.toml").read_text().replace("http://127.0.0.1:3001", base_url)
    text = text.replace('trader_id = "JARVIS-SIM"', f'trader_id = "{trader}-SIM"')
    text = text.replace('coins = ["BTC", "ETH", "SOL"]', 'coins = ["ETH"]')
    text = text.replace("leverage = { BTC = 10, ETH = 5, SOL = 3 }", "leverage = { ETH = 5 }")
    text = text.replace('isolated_coins = ["SOL"]', "isolated_coins = []")
    text = text.replace('log_level = "INFO"', 'log_level = "ERROR"')
    path = directory / f"{trader}.toml"
    path.write_text(text + CONTROLLER)
    return path


def measure(
    sim: SimThread, nodes: int, directory: Path, configs: list[dict[str, Any]]
) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6].upper()
    namespace, trader = f"bench-nodes-{tag}", f"BN{tag}"
    config = node_file(directory, sim.base_url, trader)
    command = [sys.executable, "-c", "import sys; from jarvis.cli import main; sys.exit(main())"]
    children = [
        subprocess.Popen(
            [
                *command,
                "serve-node",
                "--config",
                str(config),
                "--node",
                str(i),
                "--redis",
                REDIS_URL,
                "--namespace",
                namespace,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(nodes)
    ]
    link = RedisNodeLink(REDIS_URL, nodes, EventHub(), namespace, timeout_secs=30)
    try:
        deadline = time.monotonic() + 90
        while not link.connected():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{nodes} node(s) not ready within 90 s")
            time.sleep(0.2)
        users = [f"bench-user-{i}" for i in range(len(configs))]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(START_THREADS) as pool:
            sids = list(pool.map(lambda c_u: link.start(c_u[0], c_u[1], None),
                                 zip(configs, users, strict=True)))  # fmt: skip
        starts_s = time.perf_counter() - t0
        count = [0] * STATUS_THREADS
        stop = time.monotonic() + STATUS_SECS

        def poll(n: int) -> None:
            while time.monotonic() < stop:
                assert link.status(sids[(n + count[n]) % len(sids)]) is not None
                count[n] += 1

        threads = [threading.Thread(target=poll, args=(n,)) for n in range(STATUS_THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {"starts_per_s": len(configs) / starts_s, "status_per_s": sum(count) / STATUS_SECS}
    finally:
        link.close()
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        for pattern in (f"{namespace}:*", f"trader-{trader}-N*"):
            keys = list(client.scan_iter(match=pattern))
            if keys:
                client.delete(*keys)


def config_of(mark: Decimal, snapshot: Any, offset: int) -> dict[str, Any]:
    """A resting buy's strategy config as the sidecar stores it (a distinct price, so a distinct
    config hash and strategy id)."""
    price = (mark * Decimal("0.8")).quantize(Decimal(1)) - offset
    intent = PriceLimitIntent(coin="ETH", size_coin=Decimal("0.01"), buy_price_usd=price)
    cfg = compile_intent(intent, snapshot, UserProfile(), now_ms=0).strategy_config
    return {"strategy_path": cfg.strategy_path, "config_path": cfg.config_path,
            "config": cfg.config}  # fmt: skip


def main() -> None:
    os.environ["HYPERLIQUID_SIM_PRIVATE_KEY"] = KEY
    address = address_from_private_key(KEY).lower()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, SimThread(SimConfig(coins=("ETH",), seed=5)) as sim:
        os.environ["JARVIS_STATE_DIR"] = str(Path(tmp) / "state")
        fund_test_account(sim, address, 1_000_000)
        payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
        snapshot = snapshot_from_meta_and_ctxs(payload, source="sim", taken_at_ms=0)
        mark = Decimal(payload[1][0]["markPx"])
        for nodes in (1, 2):
            configs = [config_of(mark, snapshot, i + 100 * nodes) for i in range(STARTS)]
            results[nodes] = measure(sim, nodes, Path(tmp), configs)
    one, two = results[1], results[2]
    print(
        json.dumps(
            {
                "bench": "nodes",
                "starts_per_s_1_node": round(one["starts_per_s"], 2),
                "starts_per_s_2_nodes": round(two["starts_per_s"], 2),
                "starts_ratio": round(two["starts_per_s"] / one["starts_per_s"], 2),
                "status_per_s_1_node": round(one["status_per_s"], 1),
                "status_per_s_2_nodes": round(two["status_per_s"], 1),
                "status_ratio": round(two["status_per_s"] / one["status_per_s"], 2),
                "machine": f"{os.cpu_count()} cores shared with the simulator, Redis, the driver",
            }
        )
    )


if __name__ == "__main__":
    main()
