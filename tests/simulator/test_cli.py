"""`jarvis sim-fault fund --volume-usd` gives a running simulator's account traded volume."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from jarvis.cli import main as jarvis_main
from simulator.app import SimConfig
from simulator.app import SimThread

USER = "0x" + "6e" * 20


def test_sim_fault_fund_credits_usdc_and_volume(capsys: pytest.CaptureFixture[str]) -> None:
    with SimThread(SimConfig(stepped=True, market=False)) as sim:
        args = ["sim-fault", "--url", sim.base_url, "fund", "--user", USER, "--usdc", "250"]
        code = jarvis_main([*args, "--volume-usd", "1000000"])
        body = json.dumps({"type": "userRateLimit", "user": USER}).encode()
        request = urllib.request.Request(
            sim.base_url + "/info", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            limits: dict[str, Any] = json.loads(response.read())
        state = sim.call(lambda: sim.server.venue.engine.accounts[USER])  # type: ignore[union-attr]

    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"status": "ok"}
    assert limits["cumVlm"] == "1000000.0"
    assert state.usdc == 250.0
