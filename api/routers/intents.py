"""``POST /intents``: text or structured intent -> compiled plan, stored. Nothing runs.

The endpoint is ``async``: its blocking work (one small read, the parse and compile, three
INSERTs) is handed to the database thread as one write (``Database.write``), off the event loop,
and the intents arriving together are committed together -- one thread hop per request instead of
one per dependency and endpoint in FastAPI's thread pool, and one COMMIT per batch."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser
from api.deps import State
from api.errors import ProblemError
from api.schemas import ErrorResponse
from api.schemas import IntentRequest
from api.schemas import PlanResponse
from api.services.intents import store_intent
from intents.schema import IntentError

router = APIRouter(prefix="/intents", tags=["intents"])


@router.post(
    "",
    status_code=201,
    response_model=PlanResponse,
    responses={422: {"model": ErrorResponse, "description": "refused: every problem, by field"}},
)
async def post_intent(body: IntentRequest, user: CurrentUser, state: State) -> PlanResponse:
    """Compile an intent into a plan for the caller and store both; nothing runs yet."""
    try:
        stored = await store_intent(
            state.store, user.id, body.text, body.intent, state.snapshot, state.clock_ms()
        )
    except IntentError as exc:
        prefix = "body.text" if body.text is not None else "body.intent"
        problems = [(f"{prefix}.{p.field}" if p.field else prefix, p.message) for p in exc.problems]
        raise ProblemError(422, "intent refused", problems) from None
    f = stored.figures
    return PlanResponse(
        plan_id=stored.plan.id,
        intent_id=stored.intent.id,
        template=f["template"],
        coin=f["coin"],
        instrument_id=f["instrument_id"],
        live=f["live"],
        config_hash=f["config_hash"],
        notional_usd=f["notional_usd"],
        fees_usd=f["fees_usd"],
        worst_case_loss=f["worst_case_loss"],
        leverage=f["leverage"],
        schedule=f["schedule"],
        notes=f["notes"],
        rendered=f["rendered"],
    )
