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


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_is_refused_once_its_exp_has_passed() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    exp = int(time.time()) + 60
    clock = _Clock(time.time())
    verifier = TokenVerifier(public_key_pem=_pem(key), clock=clock)
    token = jwt.encode(_claims(exp=exp), key, algorithm="ES256")
    assert verifier.verify(token).subject == "user-1"

    clock.now = exp - 1
    assert verifier.verify(token).subject == "user-1"  # from memory, still valid
    clock.now = exp  # PyJWT's rule: expired when exp <= now
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


def test_only_verified_tokens_are_remembered_and_the_memory_is_bounded() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key), cache_size=2)
    forged = jwt.encode(_claims(), other, algorithm="ES256")
    for _ in range(2):  # a refused token is checked again every time, never remembered
        with pytest.raises(AuthError, match="signature does not verify"):
            verifier.verify(forged)
    tokens = [jwt.encode(_claims(sub=f"user-{n}"), key, algorithm="ES256") for n in range(3)]

    assert [verifier.verify(t).subject for t in tokens] == ["user-0", "user-1", "user-2"]
    assert list(verifier._verified) == tokens[1:]  # the oldest dropped first
    assert verifier.verify(tokens[0]).subject == "user-0"  # verified again in full


def test_a_remembered_token_keeps_its_roles_and_a_new_token_is_verified_on_its_own() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(public_key_pem=_pem(key))
    trader = jwt.encode(_claims(roles=["trader"]), key, algorithm="ES256")
    operator = jwt.encode(_claims(roles=["operator"]), key, algorithm="ES256")

    assert verifier.verify(trader).roles == ("trader",)
    assert verifier.verify(operator).roles == ("operator",)
    assert verifier.verify(trader).roles == ("trader",)
