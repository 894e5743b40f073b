"""Bearer tokens: ES256 and RS256 verify against a PEM key or a JWKS file; anything else is
refused with a reason that names the problem (and never echoes the token)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa

from api.identity import AuthError
from api.identity import LocalSigningKey
from api.identity import TokenVerifier


def _claims(**extra: object) -> dict[str, object]:
    return {"sub": "user-1", "exp": int(time.time()) + 60, **extra}


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_local_key_mints_a_token_the_verifier_accepts_with_its_roles(tmp_path: Path) -> None:
    keys = LocalSigningKey(tmp_path)
    token = keys.mint("alice", ("trader", "operator"))
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())

    identity = verifier.verify(token)

    assert (identity.subject, identity.roles) == ("alice", ("operator", "trader"))
    assert keys.private_path.stat().st_mode & 0o077 == 0


def test_rs256_token_verifies_against_a_jwks_file(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "k1"
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    verifier = TokenVerifier.from_files(None, tmp_path / "jwks.json")
    token = jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "k1"})

    assert verifier.verify(token).roles == ("trader",)


def test_token_signed_by_another_key_is_refused() -> None:
    mine = ec.generate_private_key(ec.SECP256R1())
    theirs = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(mine))

    with pytest.raises(AuthError, match="signature does not verify"):
        verifier.verify(jwt.encode(_claims(), theirs, algorithm="ES256"))


def test_hs256_token_is_refused_naming_the_algorithms() -> None:
    verifier = TokenVerifier(public_key_pem=_pem(ec.generate_private_key(ec.SECP256R1())))

    with pytest.raises(AuthError, match="ES256, RS256"):
        verifier.verify(jwt.encode(_claims(), "secret-secret-secret-secret-32b!", "HS256"))


def test_expired_token_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key))
    token = jwt.encode(_claims(exp=int(time.time()) - 10), key, algorithm="ES256")

    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


def test_token_without_subject_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key))
    token = jwt.encode({"exp": int(time.time()) + 60}, key, algorithm="ES256")

    with pytest.raises(AuthError, match="'sub'"):
        verifier.verify(token)


def test_unknown_roles_are_dropped_and_none_left_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key))
    token = jwt.encode(_claims(roles=["admin"]), key, algorithm="ES256")

    with pytest.raises(AuthError, match="no role"):
        verifier.verify(token)


def test_operator_subjects_are_operators_whatever_the_token_says() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key), operator_subjects=("user-1",))

    identity = verifier.verify(jwt.encode(_claims(), key, algorithm="ES256"))

    assert identity.roles == ("operator", "trader")


def test_issuer_and_audience_are_enforced_when_configured() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key), issuer="privy.io", audience="app-1")
    good = jwt.encode(_claims(iss="privy.io", aud="app-1"), key, algorithm="ES256")
    wrong_aud = jwt.encode(_claims(iss="privy.io", aud="other"), key, algorithm="ES256")

    assert verifier.verify(good).subject == "user-1"
    with pytest.raises(AuthError, match="audience"):
        verifier.verify(wrong_aud)


def test_verifier_without_any_key_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="jwt_public_key_file or jwks_file"):
        TokenVerifier()


def test_garbage_is_not_a_jwt() -> None:
    verifier = TokenVerifier(public_key_pem=_pem(ec.generate_private_key(ec.SECP256R1())))

    with pytest.raises(AuthError, match="not a JWT"):
        verifier.verify("not-a-token")
