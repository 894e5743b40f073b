"""``jarvis token`` mints a token the local key verifies; ``jarvis serve`` refuses a config it
cannot serve, naming why, before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from config.loading import CONFIG_DIR
from jarvis.cli import main


def test_jarvis_token_mints_a_token_verified_by_the_local_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path))

    code = main(["token", "carol", "--operator"])

    token = capsys.readouterr().out.strip()
    assert code == 0
    verifier = TokenVerifier(public_key_pem=LocalSigningKey(tmp_path).public_path.read_bytes())
    identity = verifier.verify(token)
    assert (identity.subject, identity.roles) == ("carol", ("operator", "trader"))
    assert not any(p.suffix == ".pem" for p in Path.cwd().iterdir())


def test_jarvis_token_refuses_a_non_positive_ttl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path))

    code = main(["token", "carol", "--ttl-secs", "0"])

    assert code == 2
    assert "ttl_secs must be positive" in capsys.readouterr().err


def test_jarvis_serve_refuses_a_config_without_a_controller(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", "0x" + "4f" * 32)

    code = main(["serve", "--config", str(CONFIG_DIR / "sim_trading.toml")])

    assert code == 2
    assert "has no controller to add strategies through" in capsys.readouterr().err
