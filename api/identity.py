"""Identity: bearer JWTs (ES256 or RS256, the format Privy and similar providers issue) verified
against a configured public key or JWKS file, and mapped to an internal user with roles.

PyJWT does the verification; this module only decides which keys, algorithms and claims count.
A verified token is remembered (keyed by the token string itself, bounded, until its ``exp``), so
a client calling again with the same token costs a dictionary look-up, not a signature check;
an expired token is refused from the cache exactly as PyJWT would refuse it.
The ``roles`` claim (a list) names roles; only ``trader`` and ``operator`` mean anything, a token
without it is a trader. Subjects listed in ``operator_subjects`` are operators whatever the token
says (a provider that cannot add custom claims can still name the operators).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.settings import state_dir

__all__ = [
    "ALGORITHMS",
    "ROLES",
    "AuthError",
    "Identity",
    "LocalSigningKey",
    "TokenVerifier",
]

ALGORITHMS: Final[list[str]] = ["ES256", "RS256"]
ROLES: Final[frozenset[str]] = frozenset({"trader", "operator"})
LOCAL_ISSUER: Final[str] = "jarvis-local"
# Verified tokens remembered at most (oldest dropped first); a few per active client.
VERIFIED_CACHE_SIZE: Final[int] = 4096


class AuthError(Exception):
    """A token that does not prove who is calling; the message is safe to show the caller."""


@dataclass(frozen=True, slots=True)
class Identity:
    """A verified caller: the token's subject and roles (the internal user id is added later)."""

    subject: str
    roles: tuple[str, ...]


class TokenVerifier:
    """Verifies bearer tokens against one PEM public key and/or the keys of a JWKS file."""

    def __init__(
        self,
        *,
        public_key_pem: bytes | None = None,
        jwks: dict[str, Any] | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        operator_subjects: tuple[str, ...] = (),
        cache_size: int = VERIFIED_CACHE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size}")
        self._keys: list[tuple[str | None, Any]] = []
        if public_key_pem is not None:
            self._keys.append((None, serialization.load_pem_public_key(public_key_pem)))
        for entry in (jwks or {}).get("keys", []):
            key = jwt.PyJWK.from_dict(entry)
            self._keys.append((entry.get("kid"), key.key))
        if not self._keys:
            raise ValueError("identity: give jwt_public_key_file or jwks_file (no key to verify)")
        self._issuer = issuer
        self._audience = audience
        self._operators = frozenset(operator_subjects)
        self._cache_size = cache_size
        self._clock = clock
        self._lock = threading.Lock()
        # token -> (identity, exp): only tokens that verified in full; insertion order is age.
        self._verified: dict[str, tuple[Identity, int]] = {}

    @classmethod
    def from_files(
        cls,
        public_key_file: Path | None,
        jwks_file: Path | None,
        **kwargs: Any,
    ) -> TokenVerifier:
        """Load the key files named in the settings."""
        pem = public_key_file.read_bytes() if public_key_file is not None else None
        jwks = json.loads(jwks_file.read_text()) if jwks_file is not None else None
        return cls(public_key_pem=pem, jwks=jwks, **kwargs)

    def verify(self, token: str) -> Identity:
        """The identity a token proves, or AuthError saying (safely) why not.

        A token verified before is answered from memory until its ``exp`` (then refused as
        expired, as PyJWT does: expired when ``exp <= now``); anything else is verified in full.
        """
        hit = self._verified.get(token)
        if hit is not None:
            identity, exp = hit
            if exp > self._clock():
                return identity
            with self._lock:
                self._verified.pop(token, None)
            raise AuthError("the token has expired")
        identity, exp = self._verify(token)
        if self._cache_size:
            with self._lock:
                while len(self._verified) >= self._cache_size:
                    del self._verified[next(iter(self._verified))]
                self._verified[token] = (identity, exp)
        return identity

    def _verify(self, token: str) -> tuple[Identity, int]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("the bearer token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(f"the token's algorithm must be one of {', '.join(ALGORITHMS)}")
        kid = header.get("kid")
        candidates = [key for k, key in self._keys if kid is None or k is None or k == kid]
        if not candidates:
            raise AuthError("the token's key id is not one of the configured keys")
        last: jwt.PyJWTError | None = None
        for key in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=ALGORITHMS,
                    issuer=self._issuer,
                    audience=self._audience,
                    options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
                )
            except jwt.InvalidSignatureError as exc:
                last = exc
                continue
            except jwt.ExpiredSignatureError:
                raise AuthError("the token has expired") from None
            except jwt.MissingRequiredClaimError as exc:
                raise AuthError(f"the token has no {exc.claim!r} claim") from None
            except jwt.InvalidIssuerError:
                raise AuthError("the token's issuer is not accepted") from None
            except jwt.InvalidAudienceError:
                raise AuthError("the token's audience is not accepted") from None
            except jwt.PyJWTError:
                raise AuthError("the token is not valid") from None
            return self._identity(claims), int(claims["exp"])
        del last
        raise AuthError("the token's signature does not verify")

    def _identity(self, claims: dict[str, Any]) -> Identity:
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise AuthError("the token's 'sub' claim must be a non-empty string")
        raw = claims.get("roles", ["trader"])
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            raise AuthError("the token's 'roles' claim must be a list of strings")
        roles = {r for r in raw if r in ROLES}
        if subject in self._operators:
            roles.add("operator")
        if not roles:
            raise AuthError("the token grants no role (trader or operator)")
        return Identity(subject=subject, roles=tuple(sorted(roles)))


class LocalSigningKey:
    """A locally generated ES256 key for `jarvis token` (kept in the state directory, outside the
    repository, readable by its owner only). For local use; production verifies the provider's."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir()
        self.private_path = self.directory / "sidecar_signing_key.pem"
        self.public_path = self.directory / "sidecar_signing_key.pub.pem"

    def ensure(self) -> None:
        """Create the key pair on first use."""
        if self.private_path.exists() and self.public_path.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.private_path.touch(mode=0o600)
        self.private_path.write_bytes(private)
        self.public_path.write_bytes(public)

    def mint(self, subject: str, roles: tuple[str, ...], ttl_secs: int = 3600) -> str:
        """A signed token for ``subject`` with ``roles``, valid ``ttl_secs``."""
        if ttl_secs <= 0:
            raise ValueError(f"ttl_secs must be positive, got {ttl_secs}")
        unknown = set(roles) - ROLES
        if unknown:
            raise ValueError(f"roles: unknown {sorted(unknown)} (known: {sorted(ROLES)})")
        self.ensure()
        now = int(time.time())
        claims = {
            "sub": subject,
            "roles": list(roles),
            "iss": LOCAL_ISSUER,
            "iat": now,
            "exp": now + ttl_secs,
        }
        return jwt.encode(claims, self.private_path.read_bytes(), algorithm="ES256")
