"""The course's trained image and audio encoders, shipped in ``data/pretrained/`` (lessons 05, 08, 12, 13).

Lessons 03 and 04 teach how an image encoder ``E_v`` and an audio encoder ``E_a`` are trained:
as attribute classifiers, one linear head per attribute their modality shows. Lessons 05, 08,
12 and 13 need those encoders as *frozen* feature extractors. Training them again in each of
those lessons would spend most of its minute on lesson 03's topic, so the course trains them
once, by the recipe below and from the training split alone, and ships the weights:

    image_model = load_image_classifier()         # E_v + one head per visible attribute
    E_v = image_model.get_layer("E_v")            # (n, 32, 32, 3) -> (n, 64)
    audio_model = load_audio_classifier()         # E_a + heads for size and material
    E_a = audio_model.get_layer("E_a")            # (n, 28, 40) log-mel -> (n, 64)

Rebuild them with ``python -m mmgen_lib.pretrained --out data/pretrained --force`` (about a
minute on a CPU); ``pretrained.json`` records the recipe, each file's sha256 and the test
accuracy of every head.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np

from mmgen_lib import shipped, validation
from mmgen_lib.classifiers import attribute_accuracy, attribute_classifier, predict_in_batches
from mmgen_lib.data import AUDIBLE_ATTRIBUTES, VISIBLE_ATTRIBUTES
from mmgen_lib.encoders import AudioEncoder, ImageEncoder
from mmgen_lib.utils import data_dir as default_data_dir

__all__ = [
    "RECIPES",
    "train_classifier",
    "save_classifiers",
    "load_image_classifier",
    "load_audio_classifier",
    "default_pretrained_dir",
    "META_FILE",
    "WEIGHT_FILES",
]

META_FILE = "pretrained.json"
WEIGHT_FILES = {"image": "image_classifier.npz", "audio": "audio_classifier.npz"}
RECIPES = {
    "image": {
        "encoder": {"filters": (16, 32, 32), "output_dim": 64, "residual": True},
        "name": "E_v",
        "input": "image",
        "input_shape": (32, 32, 3),
        "attributes": VISIBLE_ATTRIBUTES,
        "epochs": 6,
        "batch_size": 64,
        "learning_rate": 2e-3,
    },
    "audio": {
        "encoder": {"filters": (16, 32), "output_dim": 64},
        "name": "E_a",
        "input": "spectrogram",
        "input_shape": (28, 40),
        "attributes": AUDIBLE_ATTRIBUTES,
        "epochs": 3,
        "batch_size": 64,
        "learning_rate": 2e-3,
    },
}
_ENCODERS = {"image": ImageEncoder, "audio": AudioEncoder}


def _recipe(modality: str) -> dict:
    if modality not in RECIPES:
        raise ValueError(f"modality must be one of {tuple(RECIPES)}. Received: modality={modality!r}")
    return RECIPES[modality]


def _build(modality: str, **encoder_options) -> keras.Model:
    """The recipe's untrained classifier: ``Input -> E -> {attribute: Dense}`` (lesson 02's attribute_classifier)."""
    recipe = _recipe(modality)
    encoder = _ENCODERS[modality](**recipe["encoder"], **encoder_options, name=recipe["name"])
    return attribute_classifier(
        encoder,
        recipe["input_shape"],
        recipe["attributes"],
        input_name=recipe["input"],
        learning_rate=recipe["learning_rate"],
        metrics=False,
    )


def train_classifier(
    modality: str, arrays: dict, epochs: int | None = None, seed: int = 0, examples: int | None = None
) -> keras.Model:
    """Train the image (or audio) classifier of :data:`RECIPES` on ``arrays`` (from ``split_arrays``).

    Args:
        modality: ``"image"`` or ``"audio"``.
        arrays: dict with the input array (``image`` or ``spectrogram``) and one label array per attribute.
        epochs: default: the recipe's.
        seed: same seed, same weights (on one machine).
        examples: train on the first N examples only (quick runs, tests).

    Returns:
        the trained classifier; its encoder is ``model.get_layer("E_v")`` (or ``"E_a"``).
    """
    recipe = _recipe(modality)
    if not isinstance(arrays, dict):
        raise TypeError(
            f"arrays must be a dict of arrays (from pipeline.split_arrays). Received: {type(arrays).__name__}"
        )
    epochs = validation.positive_int(recipe["epochs"] if epochs is None else epochs, "epochs")
    stop = None if examples is None else validation.positive_int(examples, "examples")
    keras.utils.set_random_seed(seed)  # layers draw their initial weights when constructed
    model = _build(modality)
    targets = {name: np.asarray(arrays[name])[:stop] for name in recipe["attributes"]}
    model.fit(
        np.asarray(arrays[recipe["input"]], np.float32)[:stop],
        targets,
        epochs=epochs,
        batch_size=recipe["batch_size"],
        shuffle=True,
        verbose=0,
    )
    return model


def default_pretrained_dir() -> Path:
    """Where the shipped encoders live: ``<data dir>/pretrained``."""
    return default_data_dir() / "pretrained"


def save_classifiers(image_model, audio_model, out_dir, accuracy: dict | None = None, force: bool = False) -> dict:
    """Write both classifiers' weights and ``pretrained.json`` (recipes, sha256, accuracy); never overwrites without ``force``."""
    payloads, meta = {}, {"accuracy": accuracy or {}, "models": {}}
    for modality, model in (("image", image_model), ("audio", audio_model)):
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"{modality}_model must be a keras.Model (from train_classifier). Received: {type(model).__name__}"
            )
        payloads[WEIGHT_FILES[modality]] = payload = shipped.weights_bytes(model.get_weights())
        recipe = json.loads(json.dumps(_recipe(modality)))  # tuples -> lists, as the JSON file holds them
        meta["models"][modality] = {"file": WEIGHT_FILES[modality], "sha256": shipped.sha256(payload), "recipe": recipe}
    shipped.write_folder(out_dir, payloads, META_FILE, meta, force=force)
    return meta


def _load(modality: str, path, verify: bool, **encoder_options) -> keras.Model:
    folder = Path(path) if path is not None else default_pretrained_dir()
    hint = shipped.rebuild_hint("pretrained", folder, what="them")
    entry = shipped.read_meta(folder, META_FILE, hint)["models"][modality]
    weights = shipped.read_weights(folder / entry["file"], entry["sha256"], hint, verify=verify)
    model = _build(modality, **encoder_options)
    model.set_weights(weights)
    return model


def load_image_classifier(path=None, return_grid: bool = False, verify: bool = True) -> keras.Model:
    """The shipped image classifier (lessons 05, 08, 12, 13): ``E_v`` + shape, color, size, position heads.

    Args:
        path: folder holding ``pretrained.json`` (default ``data/pretrained/``).
        return_grid: build ``E_v`` to return ``(vector, grid)`` (lesson 05's visual tokens).
        verify: check the weights' sha256 first.
    """
    return _load("image", path, verify, return_grid=bool(return_grid))


def load_audio_classifier(path=None, return_sequences: bool = False, verify: bool = True) -> keras.Model:
    """The shipped audio classifier (lessons 05, 08, 12, 13): ``E_a`` + size and material heads.

    Args:
        path: folder holding ``pretrained.json`` (default ``data/pretrained/``).
        return_sequences: build ``E_a`` to return ``(vector, frames)`` (lesson 05's audio frames).
        verify: check the weights' sha256 first.
    """
    return _load("audio", path, verify, return_sequences=bool(return_sequences))


def main(argv=None) -> int:
    args = shipped.training_parser(
        "python -m mmgen_lib.pretrained",
        "Train the course's image and audio encoders and save them.",
        "the weights and pretrained.json",
    ).parse_args(argv)
    if (refused := shipped.start_training(args, (*WEIGHT_FILES.values(), META_FILE))) is not None:
        return refused
    from mmgen_lib.data import load_split
    from mmgen_lib.pipeline import split_arrays

    train, test = split_arrays(load_split("train")), split_arrays(load_split("test"))
    models, accuracy = {}, {}
    for modality in ("image", "audio"):
        models[modality] = train_classifier(modality, train, seed=args.seed)
        predictions = predict_in_batches(models[modality], test[RECIPES[modality]["input"]])
        accuracy[modality] = {k: round(v, 4) for k, v in attribute_accuracy(predictions, test).items()}
        print(f"{modality}: test accuracy {accuracy[modality]}")
    meta = save_classifiers(models["image"], models["audio"], args.out, accuracy, force=True)
    for entry in meta["models"].values():
        print(f"wrote {entry['file']} (sha256 {entry['sha256'][:12]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
