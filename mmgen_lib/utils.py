"""Seeding, paths, the environment check and results reporting.

Taught in lesson 00 (``00_welcome.ipynb``). Nothing here runs at import time:
importing ``mmgen_lib`` never seeds, plots or changes TensorFlow's logging.
"""

from __future__ import annotations

import importlib
import json
import math
import numbers
import os
import platform
import random
import re
from pathlib import Path

import numpy as np

__all__ = [
    "set_seed",
    "repo_root",
    "data_dir",
    "DATA_ENV_VAR",
    "check_environment",
    "report",
    "RESULTS_ENV_VAR",
]

RESULTS_ENV_VAR = "MMGEN_RESULTS_DIR"

# (import name, pip name, minimum version, maximum version exclusive): mirrors pyproject.toml.
REQUIRED_PACKAGES = (
    ("tensorflow", "tensorflow", "2.21", "3"),
    ("keras", "keras", "3.15.1", "4"),
    ("numpy", "numpy", "1.26.4", "3"),
    ("matplotlib", "matplotlib", "3.8", "4"),
    ("ipywidgets", "ipywidgets", "8.1", "9"),
)


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy, TensorFlow and Keras in one call (lesson 00).

    Same seed, same results on one machine: every lesson calls this in its setup cell.

    Args:
        seed: a non-negative integer.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int. Received: seed={seed!r} of type {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0. Received: seed={seed}")
    import keras

    random.seed(int(seed))
    np.random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))  # also seeds TensorFlow's global generator


DATA_ENV_VAR = "MMGEN_DATA_DIR"


def repo_root() -> Path:
    """The course's top folder (the one holding ``lessons/`` and ``data/``).

    Found through the repository layout: right for a clone and for ``pip install -e .``;
    after a plain ``pip install .`` it is the install folder, which holds no ``data/``
    (``data_dir`` then says how to point at the data).
    """
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Where the canonical ShapesWorld files live: ``$MMGEN_DATA_DIR``, else ``<repo>/data`` (lesson 00).

    The data is not shipped inside the installed package (it is 12 MB, and lessons, tests and
    benchmarks read it from the repository). A clone or an editable install finds it by
    itself; any other install must set ``MMGEN_DATA_DIR``.

    Raises:
        FileNotFoundError: the folder does not exist; the message names ``MMGEN_DATA_DIR``
            and how to fill it.
    """
    override = os.environ.get(DATA_ENV_VAR)
    folder = Path(override) if override else repo_root() / "data"
    if not folder.is_dir():
        where = (
            f"{DATA_ENV_VAR}={override!r} is not a folder"
            if override
            else f"no ShapesWorld data folder at {folder} (mmgen_lib is installed outside its repository)"
        )
        raise FileNotFoundError(
            f"{where}. Set the environment variable {DATA_ENV_VAR} to the course's data folder "
            f"(the `data/` of a clone of the repository), e.g. `export {DATA_ENV_VAR}=/path/to/mmgen/data`, "
            f"or install the course editable from a clone (`pip install -e .`). The ShapesWorld files can be "
            f"regenerated with `python -m mmgen_lib.data --out DIR`."
        )
    return folder


def _version_tuple(version: str) -> tuple[int, ...]:
    """``"2.21.0rc1"`` -> ``(2, 21, 0)``: leading numeric parts only."""
    parts = []
    for piece in version.split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() < len(piece):
            break
    return tuple(parts)


def check_environment(packages=REQUIRED_PACKAGES) -> list[dict]:
    """Check Python and the course's packages (lesson 00).

    Returns:
        one dict per item with keys ``name``, ``version``, ``required`` and ``ok``.
        Missing packages are reported with ``version=None`` and ``ok=False``.
    """
    rows = [
        {
            "name": "python",
            "version": platform.python_version(),
            "required": ">=3.11,<3.13",
            "ok": (3, 11) <= tuple(int(p) for p in platform.python_version_tuple()[:2]) < (3, 13),
        }
    ]
    for module, pip_name, low, high in packages:
        try:
            version = importlib.import_module(module).__version__
        except ImportError:
            rows.append({"name": pip_name, "version": None, "required": f">={low},<{high}", "ok": False})
            continue
        ok = _version_tuple(low) <= _version_tuple(version) < _version_tuple(high)
        rows.append({"name": pip_name, "version": version, "required": f">={low},<{high}", "ok": ok})
    return rows


def _format_value(value) -> str:
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.4f}"


def report(lesson: str, metrics: dict) -> dict:
    """Show a lesson's asserted results as a table and, if asked, save them as JSON.

    When the environment variable ``MMGEN_RESULTS_DIR`` is set, the metrics are also
    written to ``$MMGEN_RESULTS_DIR/<lesson>.json`` (a flat object: name -> number),
    which is how ``benchmarks/run_course.py`` gathers the course's results table.

    Args:
        lesson: the lesson's stem, e.g. ``"05_fusion"``.
        metrics: metric name -> finite number (Python or NumPy scalar).

    Returns:
        the metrics as plain Python numbers.
    """
    if not isinstance(lesson, str) or not lesson.strip() or "/" in lesson or "\\" in lesson:
        raise ValueError(f"lesson must be a non-empty file stem such as '05_fusion'. Received: lesson={lesson!r}")
    if not isinstance(metrics, dict) or not metrics:
        raise TypeError(f"metrics must be a non-empty dict of name -> number. Received: {type(metrics).__name__}")
    clean = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"metric names must be non-empty strings. Received: {name!r}")
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"metric {name!r} must be a number. Received: {value!r} of type {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be finite. Received: {value}")
        clean[name] = int(value) if isinstance(value, numbers.Integral) else float(value)

    width = max(len(name) for name in clean)
    lines = [f"Results of {lesson}", f"{'metric'.ljust(width)}  value", f"{'-' * width}  ------"]
    lines += [f"{name.ljust(width)}  {_format_value(value)}" for name, value in clean.items()]
    print("\n".join(lines))

    out_dir = os.environ.get(RESULTS_ENV_VAR)
    if out_dir:
        path = Path(out_dir) / f"{lesson}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(clean, indent=2, sort_keys=True) + "\n")
    return clean
