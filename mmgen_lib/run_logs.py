"""TensorBoard run folders: a fresh one per training run, and its scalars read back from the event files.

Taught in lesson 04 (``04_audio_encoder.ipynb``): the lesson passes
``keras.callbacks.TensorBoard(log_dir=new_run_dir("04_audio_encoder"))`` to ``fit``, reads the
logged losses and accuracies back with :func:`read_scalars` and plots them, and the learner
watches the same curves live with ``tensorboard --logdir runs`` from the repository's top folder.

Run folders live in ``<repository>/runs/<name>/<YYYYMMDD-HHMMSS>`` (git-ignored): inside the
learner's working copy, never elsewhere, and never reused, so two runs never mix their curves.

Keras 3 writes one subfolder per phase, ``train/`` and ``validation/``, each with event files
whose scalars are float tensors under tags such as ``epoch_loss`` and ``epoch_accuracy`` (one
value per epoch, steps 0, 1, ...), plus ``epoch_learning_rate`` in ``train/`` and
``evaluation_*_vs_iterations`` in ``validation/``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mmgen_lib.utils import repo_root

__all__ = ["Series", "runs_root", "new_run_dir", "read_scalars", "as_history"]

EVENT_FILE_PREFIX = "events.out.tfevents."


class Series(NamedTuple):
    """One scalar's logged values: ``steps`` (int64) and ``values`` (float64), in logging order."""

    steps: np.ndarray
    values: np.ndarray


def runs_root() -> Path:
    """``<repository>/runs``, where every lesson's TensorBoard runs go (git-ignored).

    Raises:
        FileNotFoundError: ``mmgen_lib`` is installed outside a clone of the course, where a
            default folder would be outside the learner's working copy; pass ``root=`` instead.
    """
    top = repo_root()
    if not ((top / "pyproject.toml").is_file() and (top / "lessons").is_dir()):
        raise FileNotFoundError(
            f"{top} is not a clone of the course (mmgen_lib is installed outside its repository), so there is "
            f"no working copy to log into. Pass a folder of your own: new_run_dir(name, root=...)."
        )
    return top / "runs"


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def new_run_dir(name: str, root: str | Path | None = None) -> Path:
    """Create and return a fresh, empty run folder ``<root>/<name>/<YYYYMMDD-HHMMSS>``.

    A folder that already exists is never reused: a second run in the same second gets
    ``-2``, then ``-3``... (created atomically, so parallel runs cannot collide either).

    Args:
        name: one folder name, e.g. the lesson's stem ``"04_audio_encoder"``.
        root: where runs are kept; default :func:`runs_root` (``<repository>/runs``).

    Returns:
        the new folder's path, to pass as ``keras.callbacks.TensorBoard(log_dir=...)``.
    """
    if not isinstance(name, str) or not name.strip() or name in (".", "..") or any(c in name for c in "/\\"):
        raise ValueError(f"name must be one folder name such as '04_audio_encoder'. Received: name={name!r}")
    parent = (runs_root() if root is None else Path(root)) / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = _timestamp()
    for attempt in range(1, 1000):
        folder = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise RuntimeError(f"could not create a fresh run folder in {parent}: 999 runs named {stamp} already exist")


def _read_folder(folder: Path) -> dict[str, Series]:
    """tag -> Series for the event files directly inside one folder (oldest file first).

    TensorBoard's own reader; the values it returns as tensors (Keras 3 writes scalars as float
    tensors, TF1-style ``simple_value`` summaries are converted) are kept when they are numeric
    scalars of the *scalars* plugin, so a model graph or a text summary is skipped.
    """
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()  # size 0 above: keep every value, not a sample
    logged = {}
    for tag in sorted(accumulator.Tags()["tensors"]):
        if accumulator.SummaryMetadata(tag).plugin_data.plugin_name != "scalars":
            continue
        events = accumulator.Tensors(tag)
        arrays = [tensor_util.make_ndarray(event.tensor_proto) for event in events]
        if all(array.ndim == 0 and np.issubdtype(array.dtype, np.number) for array in arrays):
            steps = np.array([event.step for event in events], np.int64)
            logged[tag] = Series(steps, np.array([float(array) for array in arrays], np.float64))
    return logged


def read_scalars(run_dir: str | Path, tags: Iterable[str] | None = None) -> dict[str, dict[str, Series]]:
    """Every scalar logged in a run folder, per subfolder and tag.

    Args:
        run_dir: the folder given to ``keras.callbacks.TensorBoard(log_dir=...)``.
        tags: keep only these tags (e.g. ``["epoch_loss"]``); default all.

    Returns:
        ``{subfolder: {tag: Series(steps, values)}}``, e.g.
        ``scalars["validation"]["epoch_loss"].values``; subfolders are named relative to
        ``run_dir`` (``"train"``, ``"validation"``; ``"."`` for files in ``run_dir`` itself).

    Raises:
        ValueError: ``run_dir`` is not a folder, holds no event files, or a requested tag
            is logged nowhere in it (the message lists the tags it has).
    """
    run_dir = Path(run_dir)
    if tags is not None:
        if isinstance(tags, str) or not isinstance(tags, Iterable):
            raise ValueError(f"tags must be a list of tag names such as ['epoch_loss']. Received: tags={tags!r}")
        tags = list(tags)
        if not all(isinstance(tag, str) for tag in tags):
            raise ValueError(f"tags must be a list of tag names such as ['epoch_loss']. Received: tags={tags!r}")
    if not run_dir.is_dir():
        raise ValueError(f"no run folder at {run_dir}. Received: run_dir={str(run_dir)!r}")
    folders = sorted({path.parent for path in run_dir.rglob(EVENT_FILE_PREFIX + "*") if path.is_file()})
    if not folders:
        raise ValueError(
            f"no TensorBoard event files ({EVENT_FILE_PREFIX}*) under {run_dir}: was it the log_dir of a "
            f"keras.callbacks.TensorBoard that has run?"
        )
    scalars = {folder.relative_to(run_dir).as_posix(): _read_folder(folder) for folder in folders}
    if tags is None:
        return scalars
    known = sorted({tag for series in scalars.values() for tag in series})
    for tag in tags:
        if tag not in known:
            raise ValueError(f"no scalar {tag!r} in {run_dir}; it has {known}. Received: tags={tags!r}")
    return {folder: {tag: series[tag] for tag in tags if tag in series} for folder, series in scalars.items()}


def as_history(scalars: dict[str, dict[str, Series]]) -> dict[str, list[float]]:
    """The per-epoch series in the form of ``keras.callbacks.History.history``.

    ``train``'s ``epoch_loss`` becomes ``"loss"``, ``validation``'s becomes ``"val_loss"``;
    values are ordered by epoch. Keras also logs ``epoch_learning_rate``, which the History
    does not hold: it comes back as ``"learning_rate"``.

    Args:
        scalars: the result of :func:`read_scalars`.
    """
    history = {}
    for folder, prefix in (("train", ""), ("validation", "val_")):
        for tag, (steps, values) in scalars.get(folder, {}).items():
            if tag.startswith("epoch_"):
                history[prefix + tag.removeprefix("epoch_")] = [
                    float(v) for v in values[np.argsort(steps, kind="stable")]
                ]
    if not history:
        raise ValueError(
            f"no epoch_* scalars in 'train' or 'validation': was the run logged by keras.callbacks.TensorBoard? "
            f"Received folders {sorted(scalars)}"
        )
    return history
