"""No source file grows past 1,000 lines: past that a module does more than one job."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 1_000
SKIPPED_PARTS = {".venv", "build", "__pycache__", ".git"}


def long_files(root: Path, max_lines: int) -> list[str]:
    """Every ``.py`` file under ``root`` (outside virtualenvs and build output) over the limit."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if SKIPPED_PARTS & set(path.relative_to(root).parts):
            continue
        lines = len(path.read_text(errors="replace").splitlines())
        if lines > max_lines:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_source_file_is_over_a_thousand_lines() -> None:
    assert long_files(REPO_ROOT, MAX_LINES) == []


def test_the_size_check_names_a_long_file(tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text("x = 1\n" * 3)
    (tmp_path / "long.py").write_text("x = 1\n" * 4)

    assert long_files(tmp_path, 3) == ["long.py: 4 lines"]
