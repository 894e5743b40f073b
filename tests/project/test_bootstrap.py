"""The set-up script finds a Python >= 3.12 itself, or fails saying what to do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = REPO_ROOT / "scripts" / "bootstrap.sh"


def _run_bootstrap(tmp_path: Path, path_dirs: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join(str(d) for d in path_dirs),
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "JARVIS_VENV": str(tmp_path / "venv"),
    }
    return subprocess.run(
        ["/bin/bash", str(BOOTSTRAP)], env=env, capture_output=True, text=True, timeout=60
    )


def test_bootstrap_fails_clearly_when_only_an_old_python_exists(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old_python = bin_dir / "python3"
    old_python.write_text("#!/bin/sh\nexec /usr/bin/env -i /bin/false\n")
    old_python.chmod(0o755)

    result = _run_bootstrap(tmp_path, [bin_dir, Path("/bin")])

    assert result.returncode == 1
    assert "needs Python >= 3.12" in result.stderr
    assert "JARVIS_PYTHON" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_bootstrap_finds_a_suitable_python_named_by_jarvis_python(tmp_path: Path) -> None:
    import sys

    env_probe = subprocess.run(
        [
            "/bin/bash",
            "-c",
            f"source <(sed -n '/^is_suitable()/,/^}}/p' {BOOTSTRAP}); "
            f"MIN_MINOR=12; is_suitable {sys.executable} && echo suitable; "
            "is_suitable /bin/false || echo unsuitable",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert env_probe.stdout.split() == ["suitable", "unsuitable"]
