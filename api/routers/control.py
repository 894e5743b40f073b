"""``POST /control`` (operator only) and ``GET /control``: the node's trading mode."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from api.deps import CurrentUser
from api.deps import Operator
from api.deps import State
from api.schemas import ControlRequest
from api.schemas import ControlResponse
from api.schemas import ErrorResponse

router = APIRouter(prefix="/control", tags=["control"])
log = logging.getLogger("jarvis.api.control")


@router.get("", response_model=ControlResponse)
def get_control(user: CurrentUser, state: State) -> ControlResponse:
    """The node's trading mode and why."""
    now = state.link.control_state()
    return ControlResponse(
        mode=now.mode,  # type: ignore[arg-type]
        reason=now.reason,
        node_connected=state.link.connected(),
    )


@router.post(
    "",
    response_model=ControlResponse,
    responses={
        403: {"model": ErrorResponse, "description": "not an operator"},
        503: {"model": ErrorResponse, "description": "node not connected"},
    },
)
def post_control(body: ControlRequest, user: Operator, state: State) -> ControlResponse:
    """HALT, REDUCE_ONLY or RESUME the whole node, with a reason (audited and logged)."""
    log.warning("control %s asked by %s: %s", body.mode, user.subject, body.reason)
    now = state.link.control(body.mode, body.reason)
    log.warning("control %s by %s applied: mode %s", body.mode, user.subject, now.mode)
    state.store.audit(
        state.clock_ms(), user.id, f"control.{body.mode.lower()}", None, {"reason": body.reason}
    )
    return ControlResponse(
        mode=now.mode,  # type: ignore[arg-type]
        reason=now.reason,
        node_connected=state.link.connected(),
    )
