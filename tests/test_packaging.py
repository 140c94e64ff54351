"""Packaging: pyproject.toml and environment.yml agree; a non-editable install works or says what to do."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}


def _environment_pip_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip_lines = [line.strip()[2:] for line in lines[start + 1 :] if line.strip().startswith("- ")]
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


def _setuptools_is_new_enough() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    build_requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    minimum = next(re.search(r">=([\d.]+)", r).group(1) for r in build_requires if r.startswith("setuptools"))
    as_tuple = lambda v: tuple(int(p) for p in re.findall(r"\d+", v)[:2])  # noqa: E731
    return as_tuple(setuptools.__version__) >= as_tuple(minimum)


_INSTALLED_CHECK = """
import os, sys
import mmgen_lib, mmgen_lib.course, mmgen_lib.checks
from mmgen_lib import data, utils
assert os.path.realpath(mmgen_lib.__file__).startswith(os.path.realpath(sys.prefix)), mmgen_lib.__file__
if len(sys.argv) > 1:
    print("LOADED", len(data.load_split("val", verify=True)))
else:
    for call in (utils.data_dir, lambda: data.load_split("val")):
        try:
            call()
        except FileNotFoundError as error:
            print("REFUSED", error)
        else:
            print("NO ERROR")
"""


@pytest.mark.slow
def test_a_non_editable_install_names_mmgen_data_dir_and_uses_it(tmp_path):
    """`pip install .` (not -e) into a fresh venv: the data is not shipped, the error says how to point at it."""
    source = tmp_path / "src"  # a copy: building in place would leave build/ and *.egg-info in the repository
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "mmgen_lib", source / "mmgen_lib", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the test environment's packages (numpy, setuptools...) without its editable mmgen: a plain path line
    # in a .pth adds the folder but does not run the .pth files inside it
    Path(purelib, "test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MMGEN_DATA_DIR")}
    isolation = ["--no-build-isolation"] if _setuptools_is_new_enough() else []  # else pip fetches the backend
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", *isolation, str(source)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (Path(purelib) / "mmgen_lib" / "course" / "__main__.py").exists(), "subpackages must be installed"

    run = lambda *args, **extra: subprocess.run(  # noqa: E731
        [str(python), "-c", _INSTALLED_CHECK, *args], capture_output=True, text=True, cwd=tmp_path, env={**env, **extra}
    )
    refused = run()
    assert refused.returncode == 0, refused.stderr
    lines = refused.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["REFUSED", "REFUSED"], refused.stdout
    assert all("MMGEN_DATA_DIR" in line and "pip install -e" in line for line in lines), refused.stdout
    loaded = run("load", MMGEN_DATA_DIR=str(ROOT / "data"))
    assert loaded.returncode == 0 and loaded.stdout.startswith("LOADED "), loaded.stdout + loaded.stderr
    assert int(loaded.stdout.split()[1]) > 0
