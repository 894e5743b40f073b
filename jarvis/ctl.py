"""``jarvis ctl halt|reduce-only|resume|status``: the node's trading mode from the shell, through
the sidecar's ``/control`` (the sidecar checks the operator role, logs and audits it).

The token comes from ``--token`` or ``JARVIS_TOKEN`` and is only ever sent in the Authorization
header, never printed. Exit codes as operators script them: 0 done, 2 refused or unreachable
(the message says which), 1 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from typing import Final

__all__ = ["add_cli_commands", "run_ctl"]

DEFAULT_URL: Final[str] = "http://127.0.0.1:8700"
MODES: Final[dict[str, str]] = {"halt": "HALT", "reduce-only": "REDUCE_ONLY", "resume": "RESUME"}


def add_cli_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``jarvis ctl``."""
    p = subparsers.add_parser(
        "ctl",
        help="HALT / REDUCE_ONLY / RESUME the node, or show its trading mode, via the sidecar",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=[*MODES, "status"])
    p.add_argument("--reason", help="why (required for halt, reduce-only and resume; audited)")
    p.add_argument(
        "--url",
        default=os.environ.get("JARVIS_URL", DEFAULT_URL),
        help=f"the sidecar's base URL (default: $JARVIS_URL or {DEFAULT_URL})",
    )
    p.add_argument("--token", help="operator bearer token (default: $JARVIS_TOKEN)")
    p.add_argument("--timeout-secs", type=float, default=15.0)
    p.set_defaults(handler=_cmd_ctl)


def _cmd_ctl(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("JARVIS_TOKEN")
    if not token:
        print(
            "jarvis ctl: no token: pass --token or set JARVIS_TOKEN "
            "(`jarvis token NAME --operator` mints one for a local sidecar)",
            file=sys.stderr,
        )
        return 1
    if args.action != "status" and (args.reason is None or len(args.reason.strip()) < 3):
        print(f"jarvis ctl {args.action}: --reason is required (3 to 500 characters)",
              file=sys.stderr)  # fmt: skip
        return 1
    code, text = run_ctl(args.action, args.url, token, args.reason, args.timeout_secs)
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def run_ctl(
    action: str, url: str, token: str, reason: str | None, timeout_secs: float = 15.0
) -> tuple[int, str]:
    """Do ``action`` against the sidecar at ``url``; the exit code and the line to print."""
    import httpx

    base = url.rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        if action == "status":
            response = httpx.get(f"{base}/control", headers=headers, timeout=timeout_secs)
        else:
            response = httpx.post(
                f"{base}/control",
                headers=headers,
                json={"mode": MODES[action], "reason": reason},
                timeout=timeout_secs,
            )
    except httpx.TimeoutException:
        return 2, f"jarvis ctl: the sidecar at {base} did not answer within {timeout_secs:g} s"
    except httpx.HTTPError as exc:
        return 2, f"jarvis ctl: cannot reach the sidecar at {base}: {exc or type(exc).__name__}"
    body = _json(response)
    if response.status_code == 200 and isinstance(body, dict) and "mode" in body:
        reason_part = f" ({body['reason']})" if body.get("reason") else ""
        node = "" if body.get("node_connected") else "; node not connected"
        return 0, f"trading mode: {body['mode']}{reason_part}{node}"
    detail = body.get("detail") if isinstance(body, dict) else None
    detail = detail or response.text[:200] or response.reason_phrase
    if response.status_code == 401:
        return 2, f"jarvis ctl: the sidecar refused the token (401): {detail}"
    if response.status_code == 403:
        return 2, f"jarvis ctl: the token is not an operator's (403): {detail}"
    if response.status_code == 503:
        return 2, f"jarvis ctl: the node cannot take it now (503): {detail}"
    return 2, f"jarvis ctl: the sidecar answered {response.status_code}: {detail}"


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
