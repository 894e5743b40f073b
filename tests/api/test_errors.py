"""An unexpected error answers 500 "internal error" with nothing else, and neither the response
nor any log line carries its message or a stack trace (the message could hold a secret)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from tests.api.conftest import Sidecar
from tests.api.conftest import make_settings
from tests.api.conftest import serve

SECRET = "0xsupersecretvalue0123456789"


class _Boom:
    def __call__(self) -> object:
        raise RuntimeError(f"venue said no for key {SECRET}")


@pytest.fixture
def failing_url(db_url: str, tmp_path: Path) -> Iterator[tuple[str, LocalSigningKey]]:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    app = create_app(make_settings(db_url), verifier=verifier, snapshot=_Boom())  # type: ignore[arg-type]
    for url in serve(app):
        yield url, keys


def test_internal_error_is_a_bare_500_and_no_log_line_has_its_message_or_a_trace(
    failing_url: tuple[str, LocalSigningKey],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    url, keys = failing_url
    caplog.set_level(logging.DEBUG)
    token = keys.mint("alice", ("trader",))

    response = httpx.post(
        f"{url}/intents",
        json={"text": "buy 0.01 BTC at 60000"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error", "problems": []}
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "internal error RuntimeError on POST /intents" in logged
    assert SECRET not in logged
    assert "Traceback" not in logged
    assert token not in logged


def test_a_rejected_token_is_not_echoed(sidecar_factory: Callable[..., object]) -> None:
    sidecar = sidecar_factory()
    bad = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

    response = httpx.get(
        f"{sidecar.url}/strategies",  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {bad}"},
        timeout=30,
    )

    assert response.status_code == 401
    assert bad not in response.text


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/intents", {"text": "buy 0.01 BTC\x00 at 60000"}, "text"),
        ("POST", "/strategies", {"plan_id": "abc\x00def"}, "plan_id"),
        ("POST", "/control", {"mode": "HALT", "reason": "venue\x00 incident"}, "reason"),
        ("GET", "/strategies/abc%00def", None, "strategy_id"),
        ("POST", "/strategies/abc%00def/start", None, "strategy_id"),
    ],
)
def test_a_nul_character_is_a_422_naming_the_field_not_a_database_error(
    sidecar: Sidecar, method: str, path: str, body: dict[str, str] | None, field: str
) -> None:
    # PostgreSQL text cannot hold NUL: it must be refused at the door, on both databases.
    with sidecar.client("alice", ("trader", "operator")) as client:
        response = client.request(method, path, json=body)

    assert response.status_code == 422, response.text
    assert field in response.text
