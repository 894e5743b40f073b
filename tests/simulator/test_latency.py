"""The latency model: profiles, seeded jitter, and delays a client really sees on the wire.

Wall-clock checks here are lower bounds only (a delay is at least what was configured), which
load on the machine can never break.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from typing import Any

import pytest
from websockets.sync.client import connect

from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.latency import MAINNET_LIKE
from simulator.latency import NO_LATENCY
from simulator.latency import LatencyConfig
from simulator.latency import LatencyModel
from simulator.latency import latency_profile


def test_profiles_by_name_and_unknown_names_listed() -> None:
    assert latency_profile("none") is NO_LATENCY
    assert latency_profile("mainnet-like") is MAINNET_LIKE
    assert not NO_LATENCY.enabled and MAINNET_LIKE.enabled
    assert SimConfig().latency is NO_LATENCY  # unit tests run without latency
    with pytest.raises(ValueError, match="none, mainnet-like"):
        latency_profile("lunar")


def test_a_negative_delay_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="exchange_jitter_ms"):
        LatencyConfig(exchange_rtt_ms=100.0, exchange_jitter_ms=-1.0)
    with pytest.raises(ValueError, match=r"SimConfig\.latency"):
        SimConfig(latency="mainnet-like")  # type: ignore[arg-type]


def test_no_latency_draws_nothing() -> None:
    model = LatencyModel(NO_LATENCY, seed=1)

    assert model.request_s("exchange") == (0.0, 0.0)
    assert model.frame_s("l2Book") == 0.0


def test_delays_are_jittered_around_the_base_and_deterministic_per_seed() -> None:
    config = LatencyConfig(exchange_rtt_ms=200.0, exchange_jitter_ms=50.0, market_stream_ms=40.0)

    def draws(seed: int) -> list[float]:
        model = LatencyModel(config, seed=seed)
        return [sum(model.request_s("exchange")) for _ in range(2_000)]

    rtts = draws(3)
    assert rtts == draws(3)  # the same seed draws the same delays
    assert rtts != draws(4)
    assert min(rtts) >= 0.150 - 1e-9
    assert max(rtts) <= 0.250 + 1e-9
    assert statistics.mean(rtts) == pytest.approx(0.200, abs=0.005)
    assert len(set(rtts)) > 1_000  # jittered, not constant
    assert LatencyModel(config).frame_s("l2Book") == pytest.approx(0.040)  # no jitter: exact


def test_a_request_is_delayed_half_before_and_half_after_the_venue_handles_it() -> None:
    model = LatencyModel(LatencyConfig(info_rtt_ms=80.0), seed=0)

    assert model.request_s("info") == (0.040, 0.040)


def test_market_and_user_streams_have_their_own_delays() -> None:
    config = LatencyConfig(market_stream_ms=10.0, user_stream_ms=90.0)
    model = LatencyModel(config, seed=0)

    assert model.frame_s("trades") == pytest.approx(0.010)
    assert model.frame_s("orderUpdates") == pytest.approx(0.090)
    assert model.frame_s("userFills") == pytest.approx(0.090)


def _post_info(base_url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        base_url + "/info",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_server_delays_requests_and_frames_by_the_configured_latency() -> None:
    config = SimConfig(
        stepped=True,
        seed=2,
        latency=LatencyConfig(info_rtt_ms=400.0, market_stream_ms=300.0),
    )
    with SimThread(config) as sim, connect(sim.ws_url) as ws:
        assert ws.recv(timeout=10) == "Websocket connection established."
        t0 = time.monotonic()
        mids = _post_info(sim.base_url, {"type": "allMids"})
        request_s = time.monotonic() - t0
        t0 = time.monotonic()
        ws.send('{"method":"ping"}')
        pong = ws.recv(timeout=10)
        frame_s = time.monotonic() - t0

    assert "BTC" in mids
    assert request_s >= 0.400
    assert pong == '{"channel":"pong"}'
    assert frame_s >= 0.300


def test_jittered_frames_of_one_socket_arrive_in_order() -> None:
    config = SimConfig(
        stepped=True,
        seed=2,
        latency=LatencyConfig(info_rtt_ms=80.0, info_jitter_ms=80.0),
    )
    with SimThread(config) as sim, connect(sim.ws_url) as ws:
        ws.recv(timeout=10)
        ws.send(json.dumps({"method": "subscribe", "subscription": {"type": "allMids"}}))
        for i in range(60):
            ws.send(
                json.dumps(
                    {
                        "method": "post",
                        "id": i,
                        "request": {"type": "info", "payload": {"type": "allMids"}},
                    }
                )
            )
        ids: list[int] = []
        while len(ids) < 60:  # each recv waits at most 30 s: a deadline, not a sleep
            msg = json.loads(ws.recv(timeout=30))
            if msg["channel"] == "post":
                ids.append(msg["data"]["id"])
    assert ids == list(range(60))
