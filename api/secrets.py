"""The secret store: agent-wallet keys behind one interface, never returned by any endpoint.

``FernetFileSecretStore`` keeps each secret in its own file, encrypted at rest with a Fernet key
from the environment (``JARVIS_SECRETS_KEY``; ``Fernet.generate_key()`` makes one). A cloud
secret manager can implement the same two methods later.

``open_secret_store`` is the one way to open it from settings: the sidecar stores keys through it,
and a node in another process (``jarvis serve-node``) reads them through it from its own
environment (the same ``JARVIS_SECRETS_KEY`` and secrets directory), so a command over Redis
carries only a reference, never a key.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken

if TYPE_CHECKING:
    from api.settings import ApiSettings

__all__ = ["FernetFileSecretStore", "SecretStore", "SecretStoreError", "open_secret_store"]


class SecretStoreError(Exception):
    """A secret could not be stored or read; the message never contains the secret."""


class SecretStore(Protocol):
    """Put a secret, get a reference back; read it again by reference (the node only)."""

    def put(self, secret: str) -> str:
        """Store ``secret``; its reference."""
        ...

    def get(self, ref: str) -> str:
        """The secret stored under ``ref``."""
        ...


class FernetFileSecretStore:
    """Encrypted files in ``directory`` (created owner-only)."""

    def __init__(self, directory: Path, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise SecretStoreError(
                "JARVIS_SECRETS_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def put(self, secret: str) -> str:
        """Encrypt and write; the reference is a random id."""
        ref = uuid.uuid4().hex
        path = self.directory / f"{ref}.secret"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self._fernet.encrypt(secret.encode()))
        return ref

    def get(self, ref: str) -> str:
        """Read and decrypt."""
        if not ref.isalnum():
            raise SecretStoreError("bad secret reference")
        try:
            return self._fernet.decrypt((self.directory / f"{ref}.secret").read_bytes()).decode()
        except FileNotFoundError:
            raise SecretStoreError(f"no secret {ref}") from None
        except InvalidToken:
            raise SecretStoreError(f"secret {ref} does not decrypt with this key") from None


def open_secret_store(settings: ApiSettings) -> FernetFileSecretStore | None:
    """The store the settings name (``secrets_dir``, default the state directory's ``secrets``,
    encrypted with ``secrets_key``); None without a key (nothing can be stored or read)."""
    from api.settings import state_dir

    if not settings.secrets_key:
        return None
    return FernetFileSecretStore(
        settings.secrets_dir or state_dir() / "secrets", settings.secrets_key
    )
