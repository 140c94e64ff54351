"""The hosted CI (.github/workflows/): valid workflow files, pinned actions, honest lowest versions.

- every workflow validates against GitHub's workflow schema (check-jsonschema's vendored copy
  of SchemaStore's schema: nothing is downloaded; `check-jsonschema` is in the `[dev]` extra);
- every `uses:` is pinned to a 40-hex commit SHA with the tag in a comment;
- the workflow runs the README's test command on push, pull request and a weekly schedule, for
  each Python that `requires-python` allows, and once at the lowest versions;
- `.github/constraints-lowest.txt` pins every dependency of pyproject.toml (and of `[dev]`) at its
  lower bound.
"""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
CONSTRAINTS = ROOT / ".github" / "constraints-lowest.txt"
TESTS = ROOT / ".github" / "workflows" / "tests.yml"


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    if True in workflow:  # YAML 1.1 reads the key `on` as a boolean
        workflow["on"] = workflow.pop(True)
    return workflow


def _steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_there_is_a_workflow():
    assert TESTS in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_is_valid_for_github(path):
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_action_is_pinned_to_a_commit_sha_with_its_tag_in_a_comment(path):
    uses = [step["uses"] for step in _steps(_load(path)) if "uses" in step]
    assert uses, f"{path.name} uses no action"
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), f"{action} is not pinned to a commit SHA"
    for line in path.read_text().splitlines():
        if re.match(r"\s*-?\s*uses:", line):
            assert re.search(r"@[0-9a-f]{40}\s+#\s*v\d", line), f"write the tag in a comment: {line.strip()}"


def test_the_readme_test_command_runs_on_push_pull_request_and_weekly():
    workflow = _load(TESTS)
    assert {"push", "pull_request", "schedule"} <= set(workflow["on"])
    cron = workflow["on"]["schedule"][0]["cron"].split()
    assert len(cron) == 5 and cron[2] == "*" and cron[3] == "*" and cron[4] != "*", "the schedule is weekly"
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"```bash\n# 3\. test.*?\n(.+?)\n```", readme, re.S).group(1).strip()
    assert command in [step.get("run", "").strip() for step in _steps(workflow)]


def test_the_matrix_covers_every_claimed_python_and_a_lowest_versions_run():
    job = next(iter(_load(TESTS)["jobs"].values()))
    matrix = job["strategy"]["matrix"]
    pythons = set(matrix["python-version"]) | {row["python-version"] for row in matrix.get("include", [])}
    requires = _project()["requires-python"]
    claimed = {f"3.{minor}" for minor in range(8, 20) if Version(f"3.{minor}") in Requirement(f"x{requires}").specifier}
    assert pythons == claimed
    assert any(row.get("versions") == "lowest" for row in matrix.get("include", []))
    setup = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    installs = " ".join(step.get("run", "") for step in job["steps"])
    assert f"-c {CONSTRAINTS.relative_to(ROOT)}" in installs


def test_the_lowest_constraints_pin_every_dependency_at_its_lower_bound():
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = Version(version.strip())
    project = _project()
    requirements = [Requirement(r) for r in project["dependencies"]]
    # Not [classroom]: nbgrader 0.9.6 needs JupyterLab >= 4.2, so the lowest job leaves it out.
    requirements += [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    for requirement in requirements:
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert lower, f"{requirement} has no lower bound"
        name = requirement.name.lower()
        assert name in pins, f"{CONSTRAINTS.name} does not pin {name}"
        assert pins[name] == lower[0], f"{name}: the lower bound is {lower[0]} but CI tests {pins[name]}"


def test_the_library_environment_check_uses_the_bounds_of_pyproject():
    from mmgen_lib.utils import REQUIRED_PACKAGES

    bounds = {}
    for text in _project()["dependencies"]:
        requirement = Requirement(text)
        bounds[requirement.name.lower()] = {s.operator: Version(s.version) for s in requirement.specifier}
    for _, pip_name, low, high in REQUIRED_PACKAGES:
        assert bounds[pip_name] == {">=": Version(low), "<": Version(high)}, pip_name
