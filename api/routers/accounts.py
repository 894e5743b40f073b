"""``/accounts``: register and list your agent wallets. Keys go in; they never come out. There
is no withdrawal or transfer endpoint, and none will be added here."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import HTTPException

from api.deps import CurrentUser
from api.deps import State
from api.schemas import AccountRequest
from api.schemas import AccountResponse
from api.schemas import ErrorResponse
from api.services.accounts import WalletRefused
from api.services.accounts import register_wallet
from api.storage.models import AgentWalletRow

router = APIRouter(prefix="/accounts", tags=["accounts"])


def _view(row: AgentWalletRow) -> AccountResponse:
    return AccountResponse(
        wallet_id=row.id,
        account_address=row.account_address,
        agent_address=row.agent_address,
        created_at_ms=row.created_at_ms,
    )


@router.post(
    "",
    status_code=201,
    response_model=AccountResponse,
    responses={
        422: {"model": ErrorResponse, "description": "refused (master key, not approved ...)"},
        503: {"model": ErrorResponse, "description": "secret store or venue not configured"},
    },
)
def post_account(body: AccountRequest, user: CurrentUser, state: State) -> AccountResponse:
    """Register an agent wallet (API key approved by your account), checked at the venue."""
    if state.secrets is None:
        raise HTTPException(503, "secret store not configured: set JARVIS_SECRETS_KEY")
    if state.venue_http_url is None:
        raise HTTPException(503, "no venue configured to check agent wallets against")
    try:
        row = register_wallet(
            state.store,
            state.secrets,
            user.id,
            body.account_address,
            body.agent_private_key.get_secret_value(),
            state.venue_http_url,
            state.clock_ms(),
        )
    except WalletRefused as exc:
        raise HTTPException(422, str(exc)) from None
    return _view(row)


@router.get("", response_model=list[AccountResponse])
def list_accounts(user: CurrentUser, state: State) -> list[AccountResponse]:
    """Your agent wallets (addresses only)."""
    return [_view(row) for row in state.store.wallets(user.id)]
