"""Per-user rate limit and body size limit, on a live sidecar."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator

from api.limits import RateLimiter
from tests.api.conftest import Sidecar


def test_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(per_min=60, clock=lambda: now[0])

    allowed = [limiter.allow("u") == 0 for _ in range(61)]
    now[0] += 1.0

    assert allowed.count(True) == 60 and allowed[-1] is False
    assert limiter.allow("u") == 0
    assert limiter.allow("other") == 0


def test_a_user_over_the_rate_limit_gets_429_and_another_user_does_not(
    sidecar_factory: Callable[..., Sidecar],
) -> None:
    sidecar = sidecar_factory(rate_limit_per_min=5)
    with sidecar.client("alice") as alice, sidecar.client("bob") as bob:
        codes = [alice.get("/strategies").status_code for _ in range(6)]
        bob_code = bob.get("/strategies").status_code
        limited = alice.get("/strategies")

    assert codes == [200] * 5 + [429]
    assert bob_code == 200
    assert limited.status_code == 429
    assert "rate limit" in limited.json()["detail"]
    assert int(limited.headers["Retry-After"]) >= 1


def test_body_over_the_limit_is_413_naming_the_limit(
    sidecar_factory: Callable[..., Sidecar],
) -> None:
    sidecar = sidecar_factory(max_body_bytes=1024)
    with sidecar.client("alice") as alice:
        response = alice.post("/intents", json={"text": "x" * 2000})

    assert response.status_code == 413
    assert response.json()["detail"] == "request body larger than 1024 bytes"


def test_chunked_body_over_the_limit_is_413(sidecar_factory: Callable[..., Sidecar]) -> None:
    sidecar = sidecar_factory(max_body_bytes=1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 500

    with sidecar.client("alice") as alice:
        response = alice.post(
            "/intents", content=chunks(), headers={"Content-Type": "application/json"}
        )

    assert response.status_code == 413
