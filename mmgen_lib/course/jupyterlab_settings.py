"""JupyterLab settings for the course's environment: no news pop-up over the first lesson.

On its first launch JupyterLab asks "Would you like to get notified about official Jupyter news?"
in a pop-up that covers the lesson, and it checks for updates online (the course runs offline).
Both are front-end settings of ``@jupyterlab/apputils-extension:notification``. JupyterLab reads
defaults for every user of an environment from ``<sys.prefix>/share/jupyter/lab/settings/overrides.json``;
an editable install (``pip install -e .``) cannot place files there, so the quickstart runs::

    python -m mmgen_lib.course jupyterlab-settings

which merges the two settings into that file (other settings in it are kept) and prints its path.
A learner's own choices (in their user settings) still win over these defaults.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["QUIET", "overrides_path", "quiet_jupyterlab"]

QUIET = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def overrides_path(prefix: str | Path | None = None) -> Path:
    """``<prefix>/share/jupyter/lab/settings/overrides.json`` (``prefix`` defaults to this environment)."""
    return Path(sys.prefix if prefix is None else prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def quiet_jupyterlab(prefix: str | Path | None = None) -> Path:
    """Merge :data:`QUIET` into the environment's ``overrides.json``; return its path.

    Settings already in the file are kept (only the two notification keys are set). A file that is
    not a JSON object is refused with a ``ValueError`` naming it, and left untouched.
    """
    path = overrides_path(prefix)
    current = {}
    if path.exists():
        try:
            current = json.loads(path.read_text(encoding="utf-8") or "{}")
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON ({error}); fix or remove it first") from error
        if not isinstance(current, dict):
            raise ValueError(f"{path} must hold a JSON object of settings. Received: {type(current).__name__}")
    for plugin, values in QUIET.items():
        section = current.setdefault(plugin, {})
        if not isinstance(section, dict):
            raise ValueError(f"{path}: the settings of {plugin} must be a JSON object. Received: {section!r}")
        section.update(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path
