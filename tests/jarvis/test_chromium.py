"""The CDP client on the system's Chromium: a page's script runs and answers, a failing script
and a condition that never holds are errors naming them, and a browser that cannot start says
so instead of hanging."""

from __future__ import annotations

from pathlib import Path

import pytest

from jarvis.chromium import BrowserError
from jarvis.chromium import Chromium


def test_a_page_is_evaluated_waited_on_and_photographed(tmp_path: Path) -> None:
    with Chromium(width=400, height=300) as browser:
        browser.navigate("data:text/html,<p id=x>hello</p>")
        text = browser.evaluate("document.getElementById('x').textContent")
        later = browser.wait_for(
            "new Promise(r => setTimeout(() => r(document.title || 'late'), 50))"
        )
        with pytest.raises(BrowserError, match="script failed: ReferenceError: nope"):
            browser.evaluate("nope.at.all")
        with pytest.raises(BrowserError, match=r"not true within 0.3 s: 1 === 2"):
            browser.wait_for("1 === 2", timeout_secs=0.3)
        png = browser.screenshot(tmp_path / "shot.png")

    assert text == "hello"
    assert later == "late"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_browser_that_cannot_start_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_CHROMIUM", "/bin/false")

    with pytest.raises(BrowserError, match="Chromium exited with 1 at start"):
        Chromium(start_timeout_secs=10)
