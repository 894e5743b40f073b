"""`jarvis regime` inputs: override files and bad values fail with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.recording import RecordedData
from backtests.regime import load_overrides
from backtests.regime import regime_timeline
from jarvis.cli import main


def test_overrides_file_gives_builder_and_controller_tables(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text(
        "[builder]\nwindows_secs = [1, 5, 30, 60]\n[controller]\nexit_confirm_secs = 4\n"
    )
    assert load_overrides(path) == {
        "builder": {"windows_secs": [1, 5, 30, 60]},
        "controller": {"exit_confirm_secs": 4},
    }
    assert load_overrides(None) == {"builder": {}, "controller": {}}


def test_an_unknown_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.toml"
    path.write_text("[controler]\nexit_confirm_secs = 4\n")
    with pytest.raises(ValueError, match=r"unknown table.*controler"):
        load_overrides(path)


def test_a_bad_controller_value_names_the_field() -> None:
    empty = RecordedData(instruments=[], data=[])
    with pytest.raises(Exception, match="enter_confirm_secs"):
        regime_timeline(empty, controller={"enter_confirm_secs": -1.0})


def test_jarvis_regime_without_a_recording_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["regime", "--recording", "/nonexistent/recording"])
    assert code == 1
    assert "no recording at /nonexistent/recording" in capsys.readouterr().err
