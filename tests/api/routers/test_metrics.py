"""``/metrics``: Prometheus text without a token; the sidecar's view of its node."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar


def test_metrics_without_a_node_say_the_node_is_not_connected(sidecar: Sidecar) -> None:
    response = httpx.get(f"{sidecar.url}/metrics", timeout=30)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert values["jarvis_sidecar_up"] == 1.0
    assert values["jarvis_sidecar_node_connected"] == 0.0
    assert values["jarvis_sidecar_feed_healthy"] == 0.0
    # No node runs in this process, so no node metric is served.
    assert "jarvis_node_up" not in values


def test_metrics_are_not_in_the_openapi_schema(sidecar: Sidecar) -> None:
    spec = httpx.get(f"{sidecar.url}/openapi.json", timeout=30).json()

    assert "/metrics" not in spec["paths"]


def test_metrics_with_a_node_say_it_is_connected_and_its_feed_healthy(
    node_sidecar: NodeSidecar,
) -> None:
    response = httpx.get(f"{node_sidecar.sidecar.url}/metrics", timeout=30)

    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert values["jarvis_sidecar_node_connected"] == 1.0
    assert values["jarvis_sidecar_feed_healthy"] == 1.0
