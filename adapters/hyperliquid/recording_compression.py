"""Compressing closed recording files, in a child process.

Why a child process: pyarrow's zstd stream (and ``gzip``) hold the GIL for part of every chunk,
so compressing a closed file on the recorder's writer thread took the interpreter away from the
ingesting thread in switch-interval slices (5 ms) for as long as the compression ran: measured,
a spinning main thread lost 22 % of its time to gaps over 1 ms, and in ``bench_peer`` at 30,000
book frames/s a rotation (256 MB) during a ladder step showed as an 88 ms p99. A child process
has its own interpreter and lowers its own CPU priority (nice 10), so ingest keeps its core; the
writer thread only starts it and, later, reads its exit status.

Crash safety is unchanged: ``compress_file`` writes a temporary name and renames it, so a crash
or a killed child leaves the raw file (read as is) or a complete compressed copy (preferred by
``recording_files`` when both exist). If a child cannot be started, the file is compressed on
the calling thread as before, with a warning.

Run as ``python -m adapters.hyperliquid.recording_compression zstd|gzip FILE...`` from the
repository root (the package imports nothing, so the child loads only this module and pyarrow).
"""

from __future__ import annotations

import contextlib
import gzip
import os
import subprocess
import sys
from pathlib import Path
from typing import Final

__all__ = ["GZIP_SUFFIX", "RAW_SUFFIX", "ZSTD_SUFFIX", "ChildCompressor", "compress_file"]

RAW_SUFFIX: Final[str] = ".jrec"
ZSTD_SUFFIX: Final[str] = ".jrec.zst"
GZIP_SUFFIX: Final[str] = ".jrec.gz"
_COPY_CHUNK: Final[int] = 1024 * 1024
_ROOT: Final[Path] = Path(__file__).resolve().parents[2]
_CHILD_NICE: Final[int] = 10


def compress_file(path: Path, compression: str) -> Path:
    """Compress a closed ``.jrec`` file next to itself and delete the original.

    Written to a temporary name first, so a crash leaves either the raw file or a complete
    compressed one (the reader prefers the compressed one when both exist).
    """
    if compression == "none":
        return path
    suffix = ZSTD_SUFFIX if compression == "zstd" else GZIP_SUFFIX
    target = path.with_name(path.name.removesuffix(RAW_SUFFIX) + suffix)
    tmp = target.with_name(target.name + ".tmp")
    with open(path, "rb") as source:
        if compression == "zstd":
            import pyarrow as pa

            with pa.CompressedOutputStream(pa.OSFile(str(tmp), "wb"), "zstd") as sink:
                while chunk := source.read(_COPY_CHUNK):
                    sink.write(chunk)
        else:
            with gzip.open(tmp, "wb", compresslevel=6) as gz:
                while chunk := source.read(_COPY_CHUNK):
                    gz.write(chunk)
    os.replace(tmp, target)
    path.unlink()
    return target


class ChildCompressor:
    """Compresses files in child processes; one child per file (files close rarely: on
    rotation, hourly or every 256 MB, and at stop). Used from one thread (the writer)."""

    def __init__(self, compression: str) -> None:
        self._compression = compression
        self._running: list[tuple[Path, subprocess.Popen[bytes]]] = []

    @property
    def running(self) -> int:
        """Children not yet reaped."""
        return len(self._running)

    def submit(self, path: Path) -> str | None:
        """Start compressing ``path``; a warning when no child could be started (then the file
        is compressed here, before returning; an error there propagates)."""
        if self._compression == "none":
            return None
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", __name__, self._compression, str(path.resolve())],
                cwd=_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # a Ctrl-C of the node's terminal does not cut it short
            )
        except OSError as exc:
            compress_file(path, self._compression)
            return f"could not start a compression process ({exc}); compressed {path} in-process"
        self._running.append((path, child))
        return None

    def reap(self, timeout_secs: float | None = 0.0) -> list[str]:
        """Collect finished children (waiting up to ``timeout_secs`` for all of them; None:
        without limit). Returns one message per child that failed or is still running after a
        wait; their raw files stay readable."""
        problems: list[str] = []
        still: list[tuple[Path, subprocess.Popen[bytes]]] = []
        for path, child in self._running:
            try:
                code = child.wait(timeout_secs) if timeout_secs != 0.0 else child.poll()
            except subprocess.TimeoutExpired:
                code = None
            if code is None:
                still.append((path, child))
                if timeout_secs != 0.0:
                    problems.append(f"compression of {path} still running (left to finish)")
                continue
            err = child.stderr.read().decode(errors="replace").strip() if child.stderr else ""
            if child.stderr:
                child.stderr.close()
            if code != 0:
                problems.append(f"compressing {path} failed (exit {code}): {err[-500:]}")
        self._running = still
        return problems


def _main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("zstd", "gzip"):
        print("usage: recording_compression zstd|gzip FILE...", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):
        os.nice(_CHILD_NICE)  # ingest in the parent comes first
    for name in argv[1:]:
        compress_file(Path(name), argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
