"""The secret store encrypts at rest and reads back only with the same key."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from api.secrets import FernetFileSecretStore
from api.secrets import SecretStoreError

SECRET = "0x" + "c3" * 32


def test_secret_round_trips_and_is_not_stored_in_clear(tmp_path: Path) -> None:
    store = FernetFileSecretStore(tmp_path, Fernet.generate_key().decode())

    ref = store.put(SECRET)

    assert store.get(ref) == SECRET
    stored = (tmp_path / f"{ref}.secret").read_bytes()
    assert SECRET.encode() not in stored
    assert "c3c3" not in stored.decode()
    assert (tmp_path / f"{ref}.secret").stat().st_mode & 0o077 == 0


def test_another_key_cannot_read_it(tmp_path: Path) -> None:
    ref = FernetFileSecretStore(tmp_path, Fernet.generate_key().decode()).put(SECRET)
    other = FernetFileSecretStore(tmp_path, Fernet.generate_key().decode())

    with pytest.raises(SecretStoreError, match="does not decrypt") as raised:
        other.get(ref)
    assert SECRET not in str(raised.value)


def test_bad_key_fails_at_construction_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SecretStoreError, match="JARVIS_SECRETS_KEY"):
        FernetFileSecretStore(tmp_path, "not-a-key")
