"""The frozen-encoder captioners of lessons 12 and 13, trained once and shipped in ``data/captioners/``.

Lesson 12 attacks two captioners, lesson 13's studio captions with the first of them. Both are
lesson 08's captioner in miniature: a :class:`~mmgen_lib.decoders.TextDecoder` (embeddings of 32,
a GRU of 128 units) on the frozen image and audio encoders of lessons 03-04
(``mmgen_lib.pretrained``), their features standardised one by one (raw, their scales are far
from 1, which slows the decoder's training down), trained with teacher forcing:

- ``"fused"`` reads ``[E_v(x_v); E_a(x_a)]`` (n, 128): it sees the image and hears the sound;
- ``"image_only"`` reads ``E_v(x_v)`` (n, 64): it must guess the material.

Training them takes a third of lesson 12's minute, and the lesson is about attacking them, so
lesson 12 trains the fused captioner's first epoch live (:func:`train_captioner`, the recipe
:data:`RECIPE` with the lesson's seed), checks its loss against the shipped run's first epoch
(:func:`load_captioner_history`) and loads both from here:

    standardize, decoder = load_captioner("fused")        # sha256-checked, well under a second
    context = standardize(captioner_features("fused", E_v, E_a, arrays))   # (n, 128)
    ids = greedy_decode(decoder, context)                  # (n, 15) caption ids

Rebuild with ``python -m mmgen_lib.captioners --out data/captioners --force`` (about 30 s on a
CPU); ``captioners.json`` records the recipe, the seed, each file's sha256, the loss of every
epoch and each captioner's attribute accuracy on the test split.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np

from mmgen_lib import shipped, validation
from mmgen_lib.classifiers import predict_in_batches
from mmgen_lib.decoders import TextDecoder
from mmgen_lib.generation import greedy_decode
from mmgen_lib.metrics import caption_attribute_accuracy
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.utils import data_dir, set_seed

__all__ = [
    "KINDS",
    "RECIPE",
    "captioner_features",
    "train_captioner",
    "caption_accuracy",
    "save_captioners",
    "load_captioner",
    "load_captioner_history",
    "default_captioners_dir",
    "META_FILE",
    "WEIGHT_FILES",
]

KINDS = ("fused", "image_only")
FEATURE_DIMS = {"fused": 128, "image_only": 64}  # [E_v; E_a] or E_v alone
META_FILE = "captioners.json"
WEIGHT_FILES = {"fused": "fused_captioner.npz", "image_only": "image_only_captioner.npz"}
RECIPE = {"embed_dim": 32, "units": 128, "learning_rate": 2e-3, "epochs": 4, "batch_size": 125}


def _kind(kind) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}. Received: kind={kind!r}")
    return kind


def captioner_features(kind: str, image_encoder, audio_encoder, arrays) -> np.ndarray:
    """What a captioner of ``kind`` reads: ``[E_v(x_v); E_a(x_a)]`` (n, 128) or ``E_v(x_v)`` (n, 64).

    ``arrays`` is a split's ``pipeline.split_arrays`` output (``"image"``, ``"spectrogram"``).
    """
    parts = [predict_in_batches(image_encoder, arrays["image"])]
    if _kind(kind) == "fused":
        parts.append(predict_in_batches(audio_encoder, arrays["spectrogram"]))
    return np.concatenate(parts, axis=1)


def _parts(kind: str, vocab_size) -> tuple:
    """An untrained (standardiser, decoder) pair of the recipe's sizes."""
    standardize = keras.layers.Normalization(name="standardize")
    decoder = TextDecoder(
        vocab_size, embed_dim=RECIPE["embed_dim"], units=RECIPE["units"], context_dim=FEATURE_DIMS[kind], name="D_t"
    )
    return standardize, decoder


def train_captioner(kind: str, features, caption_ids, vocab_size, epochs: int | None = None, seed=0, callbacks=None):
    """Train a captioner of ``kind`` by :data:`RECIPE`, as lesson 12 does: ``set_seed(seed)`` first.

    Args:
        kind: ``"fused"`` or ``"image_only"``.
        features: (n, 128) or (n, 64) float array from :func:`captioner_features`.
        caption_ids: (n, 16) caption ids with ``<start>`` (``split_arrays(...)["caption_ids"]``).
        vocab_size: the caption tokenizer's vocabulary size.
        epochs: default: the recipe's.
        seed: same seed, same weights (on one machine).
        callbacks: Keras callbacks for ``fit`` (e.g. a ``ProgressLine``).

    Returns:
        ``(standardize, decoder, history)``: the adapted ``Normalization`` layer, the trained
        ``TextDecoder`` and a dict of per-epoch values (``"loss"``).
    """
    kind = _kind(kind)
    epochs = validation.positive_int(RECIPE["epochs"] if epochs is None else epochs, "epochs")
    validation.paired_arrays(features=features, caption_ids=caption_ids)
    if features.ndim != 2 or features.shape[1] != FEATURE_DIMS[kind]:
        raise ValueError(
            f"a {kind} captioner reads features of shape (n, {FEATURE_DIMS[kind]}). Received: {features.shape}"
        )
    if caption_ids.ndim != 2:
        raise ValueError(f"caption_ids must be (n, seq_len) token ids. Received shape {caption_ids.shape}")
    set_seed(seed)
    standardize, decoder = _parts(kind, vocab_size)
    standardize.adapt(features)
    context_in, ids_in = keras.Input((features.shape[1],)), keras.Input((None,), dtype="int32")
    model = keras.Model([context_in, ids_in], decoder([standardize(context_in), ids_in]))
    model.compile(
        keras.optimizers.Adam(RECIPE["learning_rate"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.optimizer.build(model.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
    history = model.fit(
        [features, caption_ids[:, :-1]],
        caption_ids[:, 1:],
        epochs=epochs,
        batch_size=RECIPE["batch_size"],
        verbose=0,
        callbacks=list(callbacks or []),
    )
    return standardize, decoder, history.history


def caption_accuracy(standardize, decoder, features, labels, tokenizer=None) -> dict:
    """Attribute accuracy of the greedy captions for ``features`` against the (n, 5) ``labels``."""
    tokenizer = tokenizer or shapesworld_tokenizer()
    ids = greedy_decode(decoder, standardize(np.asarray(features, "float32")))
    return caption_attribute_accuracy([tokenizer.decode(row) for row in ids], labels)


def default_captioners_dir() -> Path:
    """Where the shipped captioners live: ``<data dir>/captioners``."""
    return data_dir() / "captioners"


def save_captioners(captioners: dict, out_dir, metrics: dict | None = None, seed=None, force: bool = False) -> dict:
    """Write both captioners and ``captioners.json``; overwrite only with ``force``.

    Args:
        captioners: dict kind -> ``(standardize, decoder, history)`` for both :data:`KINDS`
            (history: the dict :func:`train_captioner` returns, or None).
        out_dir: the folder to write into.
        metrics: figures measured on the captioners, recorded as they are.
        seed: the seed they were trained with.
        force: overwrite existing files.
    """
    if not isinstance(captioners, dict):
        raise TypeError(f"captioners must be a dict kind -> (standardize, decoder, history). Received: {captioners!r}")
    if set(captioners) != set(KINDS):
        raise ValueError(f"captioners needs exactly the kinds {KINDS}. Received: {sorted(captioners)}")
    payloads, records, vocab_sizes = {}, {}, set()
    for kind in KINDS:
        standardize, decoder, history = captioners[kind]
        if not isinstance(decoder, TextDecoder) or not isinstance(standardize, keras.layers.Normalization):
            raise TypeError(f"captioners[{kind!r}] must hold a Normalization layer and a TextDecoder")
        payload = shipped.weights_bytes([*standardize.get_weights(), *decoder.get_weights()])
        payloads[WEIGHT_FILES[kind]] = payload
        records[kind] = {"file": WEIGHT_FILES[kind], "sha256": shipped.sha256(payload)}
        if history is not None:
            records[kind]["history"] = shipped.history_record(history)
        vocab_sizes.add(decoder.vocab_size)
    if len(vocab_sizes) != 1:
        raise ValueError(f"both captioners must share one vocabulary. Received sizes {sorted(vocab_sizes)}")
    meta = {
        "recipe": dict(RECIPE),
        "captioners": records,
        "vocab_size": vocab_sizes.pop(),
        "metrics": metrics or {},
        "seed": seed,
    }
    shipped.write_folder(out_dir, payloads, META_FILE, meta, force=force)
    return meta


def _read(kind: str, folder) -> tuple:
    """(folder, the folder's record, captioner ``kind``'s record, the rebuild hint); ``kind`` is checked first."""
    _kind(kind)
    folder = Path(folder) if folder is not None else default_captioners_dir()
    hint = shipped.rebuild_hint("captioners", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    return folder, meta, meta["captioners"][kind], hint


def load_captioner(kind: str, folder=None, verify: bool = True) -> tuple:
    """The shipped captioner ``kind`` (``"fused"`` or ``"image_only"``), in well under a second.

    Args:
        kind: which of the two.
        folder: folder holding ``captioners.json`` (default ``data/captioners/``).
        verify: check the weights' sha256 first.

    Returns:
        ``(standardize, decoder)``: the ``Normalization`` layer for the (n, 128) or (n, 64)
        features and the ``TextDecoder``. Loading draws nothing and sets no seed.
    """
    folder, meta, record, hint = _read(kind, folder)
    weights = shipped.read_weights(folder / record["file"], record["sha256"], hint, verify=verify)
    standardize, decoder = _parts(kind, meta["vocab_size"])
    standardize.build((None, FEATURE_DIMS[kind]))
    n_standardize = len(standardize.weights)
    if len(weights) != n_standardize + len(decoder.weights):
        raise ValueError(f"{folder / record['file']} does not hold a {kind} captioner's weights; {hint}")
    # the npz keeps the scalar example count as shape (1,): back to each variable's own shape
    standardize.set_weights([np.reshape(w, v.shape) for w, v in zip(weights, standardize.weights)])
    standardize.finalize_state()  # mean and variance from the loaded statistics
    decoder.set_weights(weights[n_standardize:])
    return standardize, decoder


def load_captioner_history(kind: str, folder=None) -> dict:
    """The loss of every epoch of the shipped run that made captioner ``kind`` (lesson 12 compares its live epoch)."""
    folder, _, record, hint = _read(kind, folder)
    if "history" not in record:
        raise ValueError(f"{folder / META_FILE} has no training history for the {kind} captioner; {hint}")
    return record["history"]


def main(argv=None) -> int:
    import time

    args, refused = shipped.recipe_command(
        "python -m mmgen_lib.captioners",
        "Train the fused and the image-only captioners of lessons 12 and 13 on the train split and save them.",
        (*WEIGHT_FILES.values(), META_FILE),
        argv,
    )
    if refused is not None:
        return refused
    from mmgen_lib import pretrained
    from mmgen_lib.data import load_split
    from mmgen_lib.pipeline import split_arrays

    train, test = load_split("train"), load_split("test")
    tokenizer = shapesworld_tokenizer(train)
    encoders = pretrained.load_image_classifier().get_layer("E_v"), pretrained.load_audio_classifier().get_layer("E_a")
    train_arrays, test_arrays = split_arrays(train, tokenizer), split_arrays(test, tokenizer)
    ids = train_arrays["caption_ids"]
    if args.examples is not None:
        n = validation.positive_int(args.examples, "--examples")
        train_arrays = {name: train_arrays[name][:n] for name in ("image", "spectrogram")}
        ids = ids[:n]
    trained, metrics = {}, {"test": {}}
    for kind in KINDS:
        started = time.perf_counter()
        features = captioner_features(kind, *encoders, train_arrays)
        trained[kind] = train_captioner(kind, features, ids, tokenizer.vocab_size, epochs=args.epochs, seed=args.seed)
        seconds = time.perf_counter() - started
        test_features = captioner_features(kind, *encoders, test_arrays)
        accuracy = caption_accuracy(*trained[kind][:2], test_features, test.labels, tokenizer)
        metrics["test"][kind] = {name: round(value, 4) for name, value in accuracy.items()}
        loss = trained[kind][2]["loss"]
        print(f"{kind}: trained in {seconds:.1f} s; loss {loss[0]:.4g} -> {loss[-1]:.4g}; test {metrics['test'][kind]}")
    if (quick_run := shipped.quick_run_record(args)) is not None:
        metrics["quick_run"] = quick_run
    meta = save_captioners(trained, args.out, metrics, seed=args.seed, force=True)
    for kind in KINDS:
        print(f"wrote {WEIGHT_FILES[kind]} (sha256 {meta['captioners'][kind]['sha256'][:12]}...)", end="; ")
    print(f"and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
