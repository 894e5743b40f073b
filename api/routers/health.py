"""``GET /health``: liveness (the process answers) and readiness (node, feed, database)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Response

from api.deps import State
from api.schemas import HealthResponse

router = APIRouter(prefix="/health", tags=["health"])


@router.get(
    "",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "alive but not ready"}},
)
def get_health(state: State, response: Response) -> HealthResponse:
    """No token needed: load balancers and supervisors ask it. 200 ready, 503 not ready."""
    node = state.link.connected()
    feed = state.link.feed_healthy()
    database = state.database.reachable()
    ready = node and feed and database
    if not ready:
        response.status_code = 503
    return HealthResponse(
        alive=True,
        ready=ready,
        node_connected=node,
        feed_healthy=feed,
        database_reachable=database,
    )
