"""The sidecar's settings: one pydantic-settings class read from ``JARVIS_API_*`` variables.

``DATABASE_URL`` (no prefix, the usual name) picks the database; without it the sidecar keeps an
embedded SQLite file in the state directory, so nothing has to be installed to try it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices
from pydantic import Field
from pydantic_settings import BaseSettings
from pydantic_settings import SettingsConfigDict

__all__ = ["ApiSettings", "state_dir"]


def state_dir() -> Path:
    """Where local state lives (database, signing key, secrets): outside the repository."""
    base = os.environ.get("JARVIS_STATE_DIR") or str(Path.home() / ".cache" / "jarvis")
    return Path(base)


class ApiSettings(BaseSettings):
    """Everything the sidecar is configured with; bad values fail at start-up naming the field."""

    model_config = SettingsConfigDict(
        env_prefix="JARVIS_API_", frozen=True, extra="forbid", populate_by_name=True
    )

    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "JARVIS_API_DATABASE_URL"),
        description="SQLAlchemy URL; empty: SQLite in the state directory",
    )
    jwt_public_key_file: Path | None = Field(
        default=None, description="PEM public key (ES256 or RS256) that verifies bearer tokens"
    )
    jwks_file: Path | None = Field(default=None, description="JWKS file of verifying keys")
    jwt_issuer: str | None = Field(default=None, description="required `iss` claim, if set")
    jwt_audience: str | None = Field(default=None, description="required `aud` claim, if set")
    operator_subjects: tuple[str, ...] = Field(
        default=(), description="token subjects that always have the operator role"
    )
    rate_limit_per_min: int = Field(default=600, gt=0, description="requests per user a minute")
    max_body_bytes: int = Field(default=64 * 1024, gt=0, description="largest request body")
    event_history_per_user: int = Field(
        default=1000, gt=0, description="events kept per user for Last-Event-ID replay"
    )
    venue_http_url: str | None = Field(
        default=None, description="venue /info base URL for checking agent wallets"
    )
    queued_command_ttl_secs: float = Field(
        default=600.0,
        gt=0,
        description="with --redis: how long a stop/cancel sent while its node is down may still "
        "run when the node returns (older ones are refused and the user told)",
    )
    secrets_dir: Path | None = Field(
        default=None, description="where encrypted secrets live (default: state dir/secrets)"
    )
    secrets_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JARVIS_SECRETS_KEY", "JARVIS_API_SECRETS_KEY"),
        description="Fernet key encrypting agent-wallet keys at rest",
    )

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        path = state_dir() / "sidecar.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
