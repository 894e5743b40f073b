"""``/health``: alive always; ready only with node, feed and database."""

from __future__ import annotations

import httpx

from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar


def test_health_without_a_node_is_alive_but_not_ready(sidecar: Sidecar) -> None:
    response = httpx.get(f"{sidecar.url}/health", timeout=30)

    assert response.status_code == 503
    assert response.json() == {
        "alive": True,
        "ready": False,
        "node_connected": False,
        "feed_healthy": False,
        "database_reachable": True,
    }


def test_health_with_a_node_is_ready(node_sidecar: NodeSidecar) -> None:
    response = httpx.get(f"{node_sidecar.sidecar.url}/health", timeout=30)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "alive": True,
        "ready": True,
        "node_connected": True,
        "feed_healthy": True,
        "database_reachable": True,
    }
