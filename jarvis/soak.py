"""Soak runs: the simulator and a trading node as separate processes, their RSS sampled over time.

Why a module of its own: the soak test in the suite (a couple of minutes) and the longer soak
benchmark (`benchmarks/bench_soak.py`, MB/hour) must start, feed and measure the two processes in
exactly the same way, as a user runs them (`jarvis sim ...` and `jarvis node --config ...`), so
a leak shows the same way in both. Optional tracemalloc snapshots (``tracemalloc_dir``) are
dumped by each process on SIGUSR1: compare two of them to find what grows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from types import TracebackType
from typing import IO
from typing import Final

from adapters.hyperliquid.signing import HyperliquidSigner

__all__ = [
    "SOAK_KEY",
    "RssSample",
    "SoakConfig",
    "SoakRun",
    "rss_bytes",
    "slope_bytes_per_sec",
]

REPO_ROOT: Final[Path] = Path(__file__).resolve().parents[1]
# A throwaway test key for the simulator only (never a real one).
SOAK_KEY: Final[str] = "0x" + "5a" * 32
_KEY_ENV: Final[str] = "HYPERLIQUID_SIM_PRIVATE_KEY"
_PAGE_BYTES: Final[int] = os.sysconf("SC_PAGE_SIZE")

# Runs `jarvis.cli`; the first SIGUSR1 starts tracemalloc (start-up runs at full speed), each
# later one dumps a snapshot into argv[1]'s folder.
_TRACEMALLOC_BOOT: Final[str] = """
import itertools, os, signal, sys, tracemalloc
folder, name = sys.argv[1], sys.argv[2]
counter = itertools.count(1)
def dump(*_):
    if not tracemalloc.is_tracing():
        tracemalloc.start(6)
        return
    path = os.path.join(folder, f"{name}-{next(counter):03d}.snap")
    tracemalloc.take_snapshot().dump(path)
signal.signal(signal.SIGUSR1, dump)
sys.argv = ["jarvis", *sys.argv[3:]]
from jarvis.cli import main
sys.exit(main(sys.argv[1:]))
"""


def rss_bytes(pid: int) -> int:
    """Resident set size of a live process (Linux ``/proc/<pid>/statm``)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_BYTES


@dataclass(frozen=True)
class RssSample:
    """RSS of both processes at one moment (``t_secs`` since the node was RUNNING)."""

    t_secs: float
    node_bytes: int
    sim_bytes: int


def slope_bytes_per_sec(points: Sequence[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, bytes) points: the growth rate, robust to GC noise."""
    if len(points) < 2:
        raise ValueError("need at least two points for a slope")
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_b = sum(b for _, b in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        raise ValueError("points need different times")
    return sum((t - mean_t) * (b - mean_b) for t, b in points) / var


@dataclass(frozen=True)
class SoakConfig:
    """What to run: simulator scenario and speed, the node config, optional tracemalloc."""

    scenario: str = "cascade"
    speed: float = 10.0
    seed: int = 7
    node_config: Path = REPO_ROOT / "config" / "sim_trading.toml"
    fund_usdc: float = 100_000.0
    log_dir: Path | None = None
    tracemalloc_dir: Path | None = None
    start_timeout_secs: float = 90.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"SoakConfig.speed must be > 0, was {self.speed}")
        if not self.start_timeout_secs > 0:
            raise ValueError("SoakConfig.start_timeout_secs must be > 0")


def _jarvis_command(args: Sequence[str], name: str, tracemalloc_dir: Path | None) -> list[str]:
    if tracemalloc_dir is None:
        return [sys.executable, "-m", "jarvis.cli", *args]
    return [sys.executable, "-c", _TRACEMALLOC_BOOT, str(tracemalloc_dir), name, *args]


@dataclass
class SoakRun:
    """The simulator and a node running; ``sample()`` reads both RSS values.

    Use as a context manager: both processes are stopped (SIGINT, then SIGKILL) on exit.
    """

    config: SoakConfig
    sim: subprocess.Popen[str] | None = None
    node: subprocess.Popen[bytes] | None = None
    base_url: str = ""
    running_at: float = 0.0
    _node_log: IO[bytes] | None = field(default=None, repr=False)
    node_log_path: Path | None = None

    def __enter__(self) -> SoakRun:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> None:
        cfg = self.config
        sim_args = [
            "sim",
            "--port",
            "0",
            "--scenario",
            cfg.scenario,
            "--seed",
            str(cfg.seed),
            "--speed",
            f"{cfg.speed:g}",
        ]
        self.sim = subprocess.Popen(
            _jarvis_command(sim_args, "sim", cfg.tracemalloc_dir),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.sim.stdout is not None
        line = self.sim.stdout.readline()
        if not line.startswith("jarvis sim:"):
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.base_url = line.split()[2]
        address = HyperliquidSigner(SOAK_KEY, is_mainnet=False).address
        _post_json(f"{self.base_url}/admin/fund", {"user": address, "usdc": cfg.fund_usdc})
        log_dir = cfg.log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.node_log_path = log_dir / f"soak-node-{os.getpid()}-{time.time_ns()}.log"
        self._node_log = open(self.node_log_path, "wb")  # noqa: SIM115 - closed in close()
        node_args = ["node", "--config", str(cfg.node_config), "--http-url", self.base_url]
        self.node = subprocess.Popen(
            _jarvis_command(node_args, "node", cfg.tracemalloc_dir),
            cwd=REPO_ROOT,
            stdout=self._node_log,
            stderr=subprocess.STDOUT,
            env={**os.environ, _KEY_ENV: SOAK_KEY},
        )
        deadline = time.monotonic() + cfg.start_timeout_secs
        while b"RUNNING" not in self.node_log_path.read_bytes():
            if self.node.poll() is not None or time.monotonic() > deadline:
                tail = self.node_log_path.read_bytes()[-3000:].decode("utf-8", "replace")
                raise RuntimeError(f"the node did not reach RUNNING:\n{tail}")
            time.sleep(0.2)
        self.running_at = time.monotonic()

    def sample(self) -> RssSample:
        """RSS of node and simulator now; raises if either process has died."""
        assert self.sim is not None and self.node is not None
        for name, proc in (("simulator", self.sim), ("node", self.node)):
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited early with code {proc.returncode}")
        return RssSample(
            time.monotonic() - self.running_at, rss_bytes(self.node.pid), rss_bytes(self.sim.pid)
        )

    def dump_tracemalloc(self) -> None:
        """Start tracing (first call), then ask both processes for a snapshot each call."""
        if self.config.tracemalloc_dir is None:
            raise RuntimeError("tracemalloc is off: set SoakConfig.tracemalloc_dir")
        for proc in (self.sim, self.node):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGUSR1)

    def node_log(self) -> str:
        """The node's output so far."""
        if self.node_log_path is None or not self.node_log_path.exists():
            return ""
        return self.node_log_path.read_bytes().decode("utf-8", "replace")

    def close(self) -> None:
        """Stop the node, then the simulator (SIGTERM, SIGKILL after a grace period).

        SIGTERM, not SIGINT: a shell starts background jobs with SIGINT ignored, and children
        inherit that.
        """
        for proc in (self.node, self.sim):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.sim is not None and self.sim.stdout is not None:
            self.sim.stdout.close()
        if self._node_log is not None:
            self._node_log.close()
            self._node_log = None


def _post_json(url: str, body: dict[str, object]) -> object:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
