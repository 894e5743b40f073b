"""Per-order signing time: the SDK's ``sign_l1_action`` versus ``HyperliquidSigner``.

Signing sits on every order's path, so it is measured for one realistic single-order ``order``
action (perp, ALO, with cloid). Three signers run in the same process, interleaved in rounds so that
machine noise hits them alike:

* ``sdk_default``: ``hyperliquid.utils.signing.sign_l1_action`` exactly as installed (eth_account;
  eth_keys picks its backend itself and this reports which one it picked);
* ``sdk_native``: the same SDK call with eth_keys forced onto its pure-Python backend through its
  ``ECC_BACKEND_CLASS`` environment variable (read on every key parse; eth_account's
  ``set_key_backend`` does not reach the keys it parses), i.e. the SDK without coincurve;
* ``ours``: ``HyperliquidSigner.sign_l1_action`` (coincurve, constant EIP-712 parts precomputed).

Also reported: ``recover_l1_signer`` (the simulator's per-request cost). Prints ONE JSON object as
the last line. Targets: ours p50 <= 150 µs and >= 5x faster than ``sdk_default`` in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_account import Account
from eth_keys.backends import get_backend
from hyperliquid.utils.signing import sign_l1_action

from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import recover_l1_signer

PRIVATE_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
IS_MAINNET = True
NATIVE_BACKEND = "eth_keys.backends.NativeECCBackend"
ROUNDS = 10
PER_ROUND = {"ours": 500, "recover": 300, "sdk_default": 150, "sdk_native": 20}
TARGET_OURS_P50_US = 150.0
TARGET_RATIO = 5.0


def order_action(nonce: int) -> dict[str, Any]:
    """One perp ALO buy with a cloid, the shape the execution client posts for a limit order."""
    return {
        "type": "order",
        "orders": [
            {
                "a": 0,
                "b": True,
                "p": "65000",
                "s": "0.001",
                "r": False,
                "t": {"limit": {"tif": "Alo"}},
                "c": "0x" + nonce.to_bytes(16, "big").hex(),
            }
        ],
        "grouping": "na",
    }


@contextmanager
def native_eth_keys() -> Iterator[None]:
    """Make eth_keys use its pure-Python backend for keys parsed inside the block."""
    previous = os.environ.get("ECC_BACKEND_CLASS")
    os.environ["ECC_BACKEND_CLASS"] = NATIVE_BACKEND
    try:
        yield
    finally:
        if previous is None:
            del os.environ["ECC_BACKEND_CLASS"]
        else:
            os.environ["ECC_BACKEND_CLASS"] = previous


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile of already collected samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Measure, check that all signers agree on the signature, and print one JSON line."""
    signer = HyperliquidSigner(PRIVATE_KEY, is_mainnet=IS_MAINNET)
    wallet = Account.from_key(PRIVATE_KEY)

    nonce0 = 1_717_000_000_000
    action0 = order_action(nonce0)
    ours_sig = signer.sign_l1_action(action0, nonce0)
    assert sign_l1_action(wallet, action0, None, nonce0, None, IS_MAINNET) == ours_sig
    default_backend = type(get_backend()).__name__
    with native_eth_keys():
        assert sign_l1_action(wallet, action0, None, nonce0, None, IS_MAINNET) == ours_sig
        native_backend = type(get_backend()).__name__

    def run_ours(nonce: int) -> None:
        signer.sign_l1_action(order_action(nonce), nonce)

    def run_recover(nonce: int) -> None:
        recover_l1_signer(action0, nonce0, None, None, IS_MAINNET, ours_sig)

    def run_sdk_default(nonce: int) -> None:
        sign_l1_action(wallet, order_action(nonce), None, nonce, None, IS_MAINNET)

    def run_sdk_native(nonce: int) -> None:
        with native_eth_keys():
            sign_l1_action(wallet, order_action(nonce), None, nonce, None, IS_MAINNET)

    runners: dict[str, Callable[[int], None]] = {
        "ours": run_ours,
        "recover": run_recover,
        "sdk_default": run_sdk_default,
        "sdk_native": run_sdk_native,
    }
    for name, run in runners.items():  # warm-up
        for i in range(3 if name == "sdk_native" else 50):
            run(nonce0 + i)

    samples: dict[str, list[float]] = {name: [] for name in runners}
    nonce = nonce0 + 1000
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for name, run in runners.items():
            out = samples[name]
            for _ in range(PER_ROUND[name]):
                nonce += 1
                t0 = time.perf_counter_ns()
                run(nonce)
                out.append((time.perf_counter_ns() - t0) / 1000.0)
    elapsed = time.perf_counter() - started

    stats = {
        name: {
            "p50_us": round(statistics.median(values), 1),
            "p99_us": round(percentile(values, 0.99), 1),
            "n": len(values),
        }
        for name, values in samples.items()
    }
    ours_p50 = stats["ours"]["p50_us"]
    ratio_default = stats["sdk_default"]["p50_us"] / ours_p50
    ratio_native = stats["sdk_native"]["p50_us"] / ours_p50
    result = {
        "benchmark": "signing",
        "action": "order: 1 perp ALO limit with cloid, no vault, no expiresAfter, mainnet",
        "sdk_default_eth_keys_backend": default_backend,
        "sdk_native_eth_keys_backend": native_backend,
        "ours_p50_us": ours_p50,
        "ours_p99_us": stats["ours"]["p99_us"],
        "sdk_default_p50_us": stats["sdk_default"]["p50_us"],
        "sdk_default_p99_us": stats["sdk_default"]["p99_us"],
        "sdk_native_p50_us": stats["sdk_native"]["p50_us"],
        "sdk_native_p99_us": stats["sdk_native"]["p99_us"],
        "ratio_sdk_default_over_ours_p50": round(ratio_default, 2),
        "ratio_sdk_native_over_ours_p50": round(ratio_native, 2),
        "recover_l1_signer_p50_us": stats["recover"]["p50_us"],
        "recover_l1_signer_p99_us": stats["recover"]["p99_us"],
        "samples": {name: s["n"] for name, s in stats.items()},
        "elapsed_s": round(elapsed, 1),
        "targets": {
            "ours_p50_le_150us": ours_p50 <= TARGET_OURS_P50_US,
            "ratio_sdk_default_ge_5x": ratio_default >= TARGET_RATIO,
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
