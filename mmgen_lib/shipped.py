"""Shipped weights: folders of sha256-checked weight files (probe, tokenizers, encoders, generators).

The course ships a few trained models in ``data/`` so that a lesson can start from them
instead of training them again: the attribute probe (lesson 09), the image and sound
tokenizers (lesson 15), the image and audio encoders of lessons 03-04 (``pretrained``),
lesson 14's latent autoencoder (``latent``), caption encoder and flow (``latent_flow``), lesson
09's caption -> image generator, which lesson 13's studio draws with (``caption_to_image``), lesson
12's two captioners, the fused one of which lesson 13's studio captions with (``captioners``),
lesson 10's multimodal VAE (``vae``) and
lesson 16's transformer (``unified``).
Each lives in a folder with one ``.npz`` per model (weights in creation order, written with
fixed timestamps by ``data.npz_bytes``: same weights, same bytes) and one JSON file with each
file's sha256, so that a damaged or stale file is refused with the command that rebuilds it.
Nothing is ever overwritten without ``force``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

from mmgen_lib.data import npz_bytes

__all__ = [
    "weights_bytes",
    "sha256",
    "refuse_overwrite",
    "write_folder",
    "read_meta",
    "read_weights",
    "rebuild_hint",
    "history_record",
    "training_parser",
    "quick_run_record",
    "start_training",
    "recipe_command",
]


def weights_bytes(weights) -> bytes:
    """A list of weight arrays as ``.npz`` bytes (float32, keys ``w000``, ``w001``, ... in order)."""
    return npz_bytes({f"w{k:03d}": np.asarray(array, dtype=np.float32) for k, array in enumerate(weights)})


def sha256(payload: bytes) -> str:
    """Hex sha256 of ``payload``."""
    return hashlib.sha256(payload).hexdigest()


def refuse_overwrite(out_dir, names, force: bool) -> None:
    """Raise ``FileExistsError`` if any of ``names`` exists in ``out_dir`` and ``force`` is False."""
    out = Path(out_dir)
    existing = [name for name in names if (out / name).exists()]
    if existing and not force:
        raise FileExistsError(f"{out} already holds {existing}; pass force=True (--force) to overwrite them")


def write_folder(out_dir, payloads: dict, meta_file: str, meta: dict, force: bool = False) -> None:
    """Write ``payloads`` (file name -> bytes) and ``meta`` (as sorted, indented JSON) into ``out_dir``."""
    refuse_overwrite(out_dir, [*payloads, meta_file], force)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, payload in payloads.items():
        (out / name).write_bytes(payload)
    (out / meta_file).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def rebuild_hint(module: str, folder, what: str = "it") -> str:
    """How to rebuild a shipped folder, for the errors that refuse a missing or damaged one.

    ``rebuild_hint("vae", "data/vae")`` is "recreate it with `python -m mmgen_lib.vae --out data/vae --force`".
    """
    return f"recreate {what} with `python -m mmgen_lib.{module} --out {folder} --force`"


def read_meta(folder, meta_file: str, hint: str) -> dict:
    """The folder's JSON description; ``FileNotFoundError`` naming ``hint`` (how to rebuild) if absent."""
    path = Path(folder) / meta_file
    if not path.exists():
        raise FileNotFoundError(f"no {meta_file} in {Path(folder)}; {hint}")
    return json.loads(path.read_text())


def read_weights(path, expected_sha256: str, hint: str, verify: bool = True) -> list:
    """The weight arrays of one ``.npz``, after checking its sha256 (``ValueError`` on a mismatch)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; {hint}")
    payload = path.read_bytes()
    if verify and sha256(payload) != expected_sha256:
        raise ValueError(f"{path} does not match its recorded sha256; {hint}")
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        return [archive[name] for name in sorted(archive.files)]


def history_record(history) -> dict:
    """A fit's per-epoch values as plain floats (6 significant digits) for a shipped folder's JSON.

    ``history`` maps names to one number per epoch (``History.history``); every list must be as long
    as the others. Bad input is refused before anything is written.
    """
    if not isinstance(history, dict):
        raise TypeError(f"history must be a dict of name -> per-epoch values. Received: {type(history).__name__}")
    record = {}
    for name, values in history.items():
        values = list(values)
        if not all(isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) for v in values):
            raise TypeError(f"history[{name!r}] must hold numbers, one per epoch. Received: {values!r}")
        record[str(name)] = [float(f"{float(v):.6g}") for v in values]
    if len({len(values) for values in record.values()}) > 1:
        lengths = {name: len(values) for name, values in record.items()}
        raise ValueError(f"every history entry must have the same number of epochs. Received: {lengths}")
    return record


def training_parser(prog: str, description: str, what: str, quick_options: bool = False) -> argparse.ArgumentParser:
    """The command line every ``python -m mmgen_lib.<module>`` that trains shipped weights shares.

    ``--out`` (the folder, required), ``--seed`` and ``--force``; with ``quick_options`` also
    ``--epochs`` and ``--examples`` (a quick run: fewer epochs, the first N examples; the tests'
    byte-for-byte rebuilds use them). The caller adds its own options.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--out", required=True, help=f"folder to write {what} into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help=f"overwrite existing {what} in --out")
    if quick_options:
        parser.add_argument("--epochs", type=int, default=None, help="default: the shipped recipe's")
        parser.add_argument("--examples", type=int, default=None, help="train on the first N examples only")
    return parser


def quick_run_record(args) -> dict | None:
    """``{"epochs": ..., "examples": ...}`` when ``--epochs`` or ``--examples`` was given, for the metrics record."""
    if args.epochs is None and args.examples is None:
        return None
    return {"epochs": args.epochs, "examples": args.examples}


def start_training(args, names, op_determinism: bool = True) -> int | None:
    """Before a training command runs: refuse to overwrite ``names`` in ``args.out`` without ``--force``.

    Returns 2 (the exit code, after printing the reason) when it refuses; otherwise turns on
    TensorFlow's op determinism (same seed, same weights, same bytes) unless ``op_determinism`` is
    False, and returns None. A command that must reproduce a lesson's own training exactly passes
    False: the deterministic kernels round differently from the ones a lesson's kernel runs.
    """
    try:
        refuse_overwrite(args.out, names, args.force)
    except FileExistsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if op_determinism:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    return None


def recipe_command(prog: str, description: str, names, argv=None, op_determinism: bool = False):
    """The start of every ``python -m mmgen_lib.<module>`` that retrains a lesson's shipped model.

    Parses ``--out``, ``--seed``, ``--force``, ``--epochs`` and ``--examples`` (:func:`training_parser`),
    then refuses to overwrite ``names`` in ``--out`` without ``--force`` (:func:`start_training`). A
    command that reproduces a lesson's own training keeps ``op_determinism`` False: the lesson runs
    TensorFlow's default kernels, and so must the command for the shipped weights to be the lesson's
    own; on one CPU machine two runs still write the same bytes (each module's tests check it).

    Returns:
        ``(args, refused)``: the parsed arguments, and None, or the exit code 2 when it refused.
    """
    names = tuple(names)
    what = " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    args = training_parser(prog, description, what, quick_options=True).parse_args(argv)
    return args, start_training(args, names, op_determinism=op_determinism)
