"""The code base passes its own pre-commit hooks: ruff's lint and format checks, a valid config.

The hooks (``.pre-commit-config.yaml``) run the project's own tools (``repo: local``), so this test
holds the same bar as ``pre-commit run --all-files`` without needing a git checkout.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".pre-commit-config.yaml"


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "command", [("ruff", "check", "."), ("ruff", "format", "--check", ".")], ids=["lint", "format"]
)
def test_ruff_passes(command):
    result = run(*command)
    assert result.returncode == 0, f"`{' '.join(command)}` failed:\n{result.stdout}{result.stderr}"


def test_pre_commit_config_is_valid_and_downloads_nothing():
    result = run("pre_commit", "validate-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    text = CONFIG.read_text()
    assert "repo: local" in text and "https://" not in text, "hooks must run the venv's own tools"
    for hook in ("ruff check", "ruff format", "tools/build_notebooks.py --check", "tools/translations.py status"):
        assert hook in text, f"missing hook: {hook}"


def test_ruff_finds_a_planted_problem(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")  # F401: unused import
    result = run("ruff", "check", "--config", str(ROOT / "pyproject.toml"), str(bad))
    assert result.returncode == 1 and "F401" in result.stdout
