"""pyproject.toml and environment.yml list the same packages with the same bounds."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}


def _environment_pip_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1:] if line.strip().startswith("- ")]
    return {_normalise(r) for r in pip_lines if not r.startswith("-e")}


def test_environment_yml_and_pyproject_agree():
    assert _environment_pip_requirements() == _pyproject_requirements()


def test_every_dependency_has_an_upper_bound():
    for requirement in _pyproject_requirements():
        assert "<" in requirement, f"{requirement} has no upper bound: a future major release could break lessons"


def test_environment_yml_pins_python_311_and_installs_the_course():
    text = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in text and "name: mmgen" in text and "- -e ." in text


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"```bash\n# 3\. test.*?\n(.+?)\n```", readme, re.S).group(1).strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines
