"""Shared pytest configuration of the test suite, and fixtures more than one test file uses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "student_edition: executes the student edition of one lesson (as slow as the lesson itself); "
        "select with -m student_edition, skip with -m 'not student_edition'",
    )
    config.addinivalue_line(
        "markers",
        "slow: takes more than 30 s (for instance a real pip install); runs by default, skip with -m 'not slow'",
    )


@pytest.fixture
def quick_retrain():
    """``run(module, out)``: ``python -m <module> --out OUT --epochs 1 --examples 256`` in a fresh process.

    The shipped models' tests (tokens, caption_to_image) check the byte-for-byte property of their
    rebuild command on this small run instead of the full recipe, which takes minutes.
    """

    def run(module: str, out) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, "-m", module, "--out", str(out), "--epochs", "1", "--examples", "256"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    return run


@pytest.fixture
def rebuilds_byte_for_byte(quick_retrain, tmp_path):
    """``check(module, names)``: two quick rebuilds (``quick_retrain``) write the same bytes to every file in ``names``.

    Returns the folder of the first run, for further checks (e.g. that a third run into it is refused).
    """

    def check(module: str, names) -> Path:
        for run in ("a", "b"):
            result = quick_retrain(module, tmp_path / run)
            assert result.returncode == 0, result.stderr[-2000:]
        for name in names:
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        return tmp_path / "a"

    return check
