"""Test kit: the system's headless Chromium driven over the DevTools protocol (CDP).

Our own ~100 lines over ``websockets`` instead of Playwright or Selenium: those download or pin
a browser build at install time, while the tests need only navigate, evaluate a script, wait for
a condition and take a screenshot in the Debian ``chromium`` the machine already has
(``.ci/run`` installs it when missing).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from typing import Final

from websockets.sync.client import ClientConnection
from websockets.sync.client import connect

__all__ = ["BrowserError", "Chromium", "find_chromium"]

CANDIDATES: Final[tuple[str, ...]] = ("chromium", "chromium-browser", "google-chrome")


class BrowserError(Exception):
    """The browser could not be started, or a page command failed; the message says which."""


def find_chromium() -> str | None:
    """``$JARVIS_CHROMIUM`` or the first Chromium on the PATH."""
    chosen = os.environ.get("JARVIS_CHROMIUM")
    if chosen:
        return chosen
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class Chromium:
    """One headless Chromium process and a CDP session on its first page.

    ``with Chromium() as browser: browser.navigate(url); browser.screenshot(path)``.
    """

    def __init__(self, width: int = 1400, height: int = 1000, start_timeout_secs: float = 30.0):
        binary = find_chromium()
        if binary is None:
            raise BrowserError(
                "no Chromium found: install Debian's package (apt-get install -y chromium) or "
                "set JARVIS_CHROMIUM to a Chromium binary"
            )
        self._profile = tempfile.TemporaryDirectory(prefix="jarvis-chromium-")
        self._process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",  # the tests may run as root in a container
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._session = contextlib.ExitStack()
        self.events: list[dict[str, Any]] = []
        try:
            port = self._port(start_timeout_secs)
            self._ws: ClientConnection = self._session.enter_context(
                connect(self._page_ws(port), max_size=None)
            )
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _port(self, timeout_secs: float) -> int:
        """Chromium writes its chosen port into DevToolsActivePort in the profile."""
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_secs
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrowserError(f"Chromium exited with {self._process.returncode} at start")
            if marker.exists():
                first = marker.read_text().splitlines()[:1]
                if first and first[0].isdigit():
                    return int(first[0])
            time.sleep(0.05)
        raise BrowserError(f"Chromium did not open its DevTools port within {timeout_secs:g} s")

    @staticmethod
    def _page_ws(port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        for target in targets:
            if target.get("type") == "page":
                return str(target["webSocketDebuggerUrl"])
        raise BrowserError("Chromium has no page target")

    def send(self, method: str, timeout_secs: float = 30.0, **params: Any) -> dict[str, Any]:
        """One CDP command; its result (events that arrive meanwhile go to ``events``)."""
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_secs
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no answer within {timeout_secs:g} s")
            message = json.loads(self._ws.recv(timeout=left))
            if message.get("id") != message_id:
                self.events.append(message)
                del self.events[:-1000]
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait until its document has loaded."""
        answer = self.send("Page.navigate", url=url)
        if answer.get("errorText"):
            raise BrowserError(f"navigate {url}: {answer['errorText']}")
        self.wait_for("document.readyState === 'complete'", timeout_secs=30)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        answer = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"script failed: {text}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout_secs: float = 30.0, poll_secs: float = 0.1) -> Any:
        """Poll ``expression`` until it is truthy; its value, or BrowserError on timeout."""
        deadline = time.monotonic() + timeout_secs
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"not true within {timeout_secs:g} s: {expression}")
            time.sleep(poll_secs)

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page into ``path``."""
        answer = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(answer["data"]))
        return path

    def close(self) -> None:
        """Close the session and stop the browser."""
        self._session.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
