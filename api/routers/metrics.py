"""``GET /metrics``: Prometheus text exposition of the sidecar and its in-process node.

No token, like ``/health``: Prometheus scrapers carry none, and the sidecar binds loopback by
default (put it behind the same network rules as the node's own metrics port). The node's
metrics come from its ``NodeMetricsActor`` (``jarvis.metrics``), rendered from their registry
without touching the node's thread. Left out of the OpenAPI schema: it is not JSON.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Response

from api.deps import State
from jarvis.metrics import CONTENT_TYPE
from jarvis.metrics import sidecar_exposition

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def get_metrics(state: State) -> Response:
    """The sidecar's view of its node, then every running node's metrics in this process."""
    body = sidecar_exposition(state.link.connected(), state.link.feed_healthy())
    return Response(content=body, media_type=CONTENT_TYPE)
