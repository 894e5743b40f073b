"""``--log-format json``: NautilusTrader's lines and the CLI's own become one JSON object each."""

from __future__ import annotations

import json
import subprocess
import sys

from jarvis.log_format import to_json_record

# Lines as NautilusTrader 1.231 writes them to the terminal (colours on).
SUBMITTED = (
    "\x1b[1m2026-12-05T07:08:50.553228940Z\x1b[0m [INFO] JARVIS-SIM.DRIVER-001: "
    "OrderSubmitted(instrument_id=BTC-USD-PERP.HYPERLIQUID, "
    "client_order_id=O-20261205-070850-001-001-1, account_id=HYPERLIQUID-master, ts_event=1)"
)
ACCEPTED = (
    "2026-12-05T07:08:50.563228940Z [INFO] JARVIS-SIM.ExecEngine: "
    "OrderAccepted(instrument_id=ETH-USD-PERP.HYPERLIQUID, client_order_id=O-1, "
    "venue_order_id=4711, strategy_id=Geometry-ETH)"
)


def test_a_nautilus_line_keeps_its_fields_and_names_ids() -> None:
    record = to_json_record(SUBMITTED, strategy_ids=("DRIVER-001",))

    assert record["ts"] == "2026-12-05T07:08:50.553228940Z"
    assert record["level"] == "INFO"
    assert record["trader_id"] == "JARVIS-SIM"
    assert record["component"] == "DRIVER-001"
    assert record["strategy"] == "DRIVER-001"
    assert record["instrument"] == "BTC-USD-PERP.HYPERLIQUID"
    assert record["client_order_id"] == "O-20261205-070850-001-001-1"
    assert record["message"].startswith("OrderSubmitted(")
    assert "\x1b" not in json.dumps(record)


def test_ids_named_in_the_message_win() -> None:
    record = to_json_record(ACCEPTED)

    assert record["component"] == "ExecEngine"
    assert record["strategy"] == "Geometry-ETH"
    assert record["venue_order_id"] == "4711"
    assert record["client_order_id"] == "O-1"
    assert record["instrument"] == "ETH-USD-PERP.HYPERLIQUID"


def test_other_lines_are_the_jarvis_component() -> None:
    record = to_json_record("jarvis demo: done, 313 market data messages received\n")
    assert record == {
        "level": "INFO",
        "component": "jarvis",
        "message": "jarvis demo: done, 313 market data messages received",
    }


def test_the_pump_turns_stdout_and_stderr_of_the_process_into_json_lines() -> None:
    # Written through Python and straight to the descriptors (as NautilusTrader's Rust logger).
    program = (
        "import os, sys\n"
        "from jarvis.log_format import JsonLines\n"
        "with JsonLines():\n"
        "    print('hello from print')\n"
        f"    os.write(1, {ACCEPTED.encode()!r} + b'\\n')\n"
        "    os.write(2, b'oops on stderr\\n')\n"
        "print('after: human again')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    out = done.stdout.splitlines()
    assert [json.loads(line)["message"] for line in out[:2]] == [
        "hello from print",
        ACCEPTED.split(": ", 1)[1],
    ]
    assert json.loads(out[1])["venue_order_id"] == "4711"
    assert out[2] == "after: human again"
    assert json.loads(done.stderr)["message"] == "oops on stderr"
