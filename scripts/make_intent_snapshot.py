"""Write the venue snapshot the intent compiler uses when no venue is reachable.

Usage::

    python scripts/make_intent_snapshot.py --url http://127.0.0.1:3001 [--out FILE]
    python scripts/make_intent_snapshot.py --file SAVED_META_AND_ASSET_CTXS.json

``--url`` asks a venue (the real one, testnet, or ``jarvis sim``) for ``metaAndAssetCtxs``;
``--file`` reads a saved answer. The snapshot records where it came from and when. The default
output is the snapshot shipped with the project (``intents/snapshots/hyperliquid.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

from intents.venue import SHIPPED_SNAPSHOT
from intents.venue import save_snapshot
from intents.venue import snapshot_from_meta_and_ctxs


def main(argv: list[str] | None = None) -> int:
    """Fetch or read ``metaAndAssetCtxs`` and write the snapshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="venue base URL (POST /info)")
    source.add_argument("--file", type=Path, help="a saved metaAndAssetCtxs answer")
    parser.add_argument("--label", default=None, help="what the source is, for the plan")
    parser.add_argument("--out", type=Path, default=SHIPPED_SNAPSHOT)
    args = parser.parse_args(argv)
    now_ms = time.time_ns() // 1_000_000
    if args.url:
        request = urllib.request.Request(
            args.url.rstrip("/") + "/info",
            data=json.dumps({"type": "metaAndAssetCtxs"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = json.loads(response.read())
        label = args.label or f"metaAndAssetCtxs from {args.url}"
    else:
        payload = json.loads(args.file.read_text())
        label = args.label or f"metaAndAssetCtxs saved in {args.file}"
    snapshot = snapshot_from_meta_and_ctxs(payload, source=label, taken_at_ms=now_ms)
    save_snapshot(snapshot, args.out)
    print(f"{args.out}: {len(snapshot.instruments)} perps from {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
