"""``make serve`` (``jarvis serve-demo``): a newcomer gets a URL, a token and a curl that works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

DEADLINE_SECS = 120.0


def test_serve_demo_prints_a_url_token_and_curl_that_compile_a_plan(tmp_path: Path) -> None:
    env = {**os.environ, "JARVIS_STATE_DIR": str(tmp_path / "state")}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "jarvis.cli", "serve-demo", "--port", "0",
           "--duration-secs", "60"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + DEADLINE_SECS
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "curl -s -X POST" in line:
                break
        text = "".join(lines)
        url = re.search(r"sidecar on (http://127\.0\.0\.1:\d+)", text)
        token = re.search(r"export JARVIS_TOKEN=(\S+)", text)
        assert url and token, text[-2000:]
        response = httpx.post(
            f"{url.group(1)}/intents",
            json={"text": "buy 0.01 ETH"},
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=30,
        )
        health = httpx.get(f"{url.group(1)}/health", timeout=30).json()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert response.status_code == 201, response.text
    assert response.json()["template"] == "DirectBuy"
    assert health["database_reachable"] is True
    assert health["node_connected"] is True
    assert "HYPERLIQUID_SIM_PRIVATE_KEY" not in text
