"""``make run`` (``jarvis serve-demo``): a newcomer gets a URL, a token and a curl that works, and
a terminal a trader can read.

The whole first minute as the README shows it: the printed curl compiles a plan, the plan
becomes a strategy, it starts and fills on the simulator next to the demo's rulebook strategies
(Geometry on BTC and SOL, ETH left to the user), and the terminal shows the status block, not
NautilusTrader's INFO log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

DEADLINE_SECS = 120.0


def _wait(check: Any, what: str, lines: list[str]) -> Any:
    deadline = time.monotonic() + DEADLINE_SECS
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; output:\n{''.join(lines)[-3000:]}")


def test_serve_demo_first_minute_from_the_printed_curl_to_a_fill(tmp_path: Path) -> None:
    env = {**os.environ, "JARVIS_STATE_DIR": str(tmp_path / "state")}
    env.pop("DATABASE_URL", None)
    env.pop("HYPERLIQUID_SIM_PRIVATE_KEY", None)
    cmd = [sys.executable, "-m", "jarvis.cli", "serve-demo", "--port", "0",
           "--duration-secs", "90"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait(lambda: any("curl -s -X POST" in line for line in lines), "the curl", lines)
        text = "".join(lines)
        url_match = re.search(r"sidecar on (http://127\.0\.0\.1:\d+)", text)
        token = re.search(r"export JARVIS_TOKEN=(\S+)", text)
        assert url_match and token, text[-2000:]
        url = url_match.group(1)
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            # No new risk before every feed has sent data (the guard refuses it while the node
            # is REDUCING), as the printed hint says.
            _wait(
                lambda: http.get("/status").json().get("risk_engine") == "ACTIVE",
                "the node ACTIVE",
                lines,
            )
            plan = http.post("/intents", json={"text": "buy 0.01 ETH"})
            assert plan.status_code == 201, plan.text
            created = http.post("/strategies", json={"plan_id": plan.json()["plan_id"]})
            assert created.status_code == 201, created.text
            sid = created.json()["strategy_id"]
            started = http.post(f"/strategies/{sid}/start")
            assert started.status_code == 200, started.text
            detail = _wait(
                lambda: (d := http.get(f"/strategies/{sid}").json())["position"] and d,
                "the fill",
                lines,
            )
            health = http.get("/health").json()
        _wait(lambda: any("positions: ETH +0.01" in line for line in lines), "the block", lines)
        # The user's strategy next to its coin (templates publish no StrategyState).
        _wait(
            lambda: any(re.match(r"  ETH .* DirectBuy-\S+ RUNNING", line) for line in lines),
            "the user's strategy in the block",
            lines,
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        reader.join(timeout=10)
    output = "".join(lines)
    assert plan.json()["template"] == "DirectBuy"
    assert started.json()["state"] == "running", started.json()
    assert detail["position"]["side"] == "LONG", detail
    assert detail["position"]["quantity"] == "0.0100", detail
    assert health["database_reachable"] is True
    assert health["node_connected"] is True
    # What a trader reads: the status block with the regime per coin and the demo's strategies,
    # not NautilusTrader's INFO lines; and never the throwaway key's variable.
    assert re.search(r"^== \d\d:\d\d:\d\d UTC  trading ACTIVE", output, re.M), output[-3000:]
    assert re.search(r"^  BTC .* Geometry-BTC ", output, re.M), output[-3000:]
    assert "[INFO]" not in output
    assert "HYPERLIQUID_SIM_PRIVATE_KEY" not in output
