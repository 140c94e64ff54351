"""Lesson 14's caption -> latent generator, trained once and shipped in ``data/latent_flow/``.

Lesson 14 generates images in the 16-d latent space of the shipped autoencoder
(``mmgen_lib.latent``) with two trained networks:

- the **caption encoder** ``E_t`` (a transformer ``TextEncoder``, mean pooling, 64 units),
  trained by a regression from the caption to the standardised latent plus four small heads that
  say what the caption names (each visible attribute's value, or "not said"), on three captions
  per training image: its own and two copies that leave attributes out (:func:`caption_variants`);
- the **conditional flow**: a :class:`~mmgen_lib.flow.FlowMatcher` (a 3 x 256 velocity MLP) on the
  standardised latents, conditioned on the frozen ``E_t``'s caption vectors, the caption dropped
  10 % of the time so that one network gives guided samples.

Training them takes two thirds of the lesson's budget, so the lesson trains the first epoch of
each live (:func:`train_caption_encoder`, :func:`train_flow`, with the whole recipe's learning-rate
schedule and the lesson's seed), checks each loss against the shipped run's first epoch and loads
the rest from here:

    models = load_latent_flow()                    # sha256-checked, well under a second
    c = models.caption_vectors(ids)                # (n, 16) ids -> (n, 64) caption vectors
    z = sample_latents(models.flow.velocity, c)    # (n, 16) standardised latents

Rebuild with ``python -m mmgen_lib.latent_flow --out data/latent_flow --force`` (about 35 s on a
CPU); ``latent_flow.json`` records the recipe, the seed, the sha256, the loss of every epoch of
both networks and the test split's probe accuracy of the flow's images.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from mmgen_lib import shipped, validation
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES
from mmgen_lib.encoders import TextEncoder
from mmgen_lib.flow import FlowMatcher
from mmgen_lib.probe import PROBE_ATTRIBUTES
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import data_dir, set_seed

__all__ = [
    "RECIPE",
    "CaptionFlow",
    "caption_variants",
    "build_caption_encoder",
    "train_caption_encoder",
    "build_flow",
    "train_flow",
    "save_latent_flow",
    "load_latent_flow",
    "default_latent_flow_dir",
    "META_FILE",
    "WEIGHTS_FILE",
]

META_FILE = "latent_flow.json"
WEIGHTS_FILE = "latent_flow.npz"
SEQ_LEN = 16  # caption ids per caption
RECIPE = {
    "caption_variants": 3,  # copies of the train captions
    "p_omit": 0.3,  # chance that a variant leaves out a visible attribute
    "text_units": 64,
    "said_weight": 0.3,  # weight of the heads that say what the caption names
    "text_epochs": 2,
    "text_batch_size": 256,
    "text_learning_rate": 4e-3,
    "flow_hidden_units": 256,
    "flow_num_layers": 3,
    "condition_dropout": 0.1,  # the null condition, for guidance
    "flow_epochs": 30,
    "flow_batch_size": 256,
    "flow_learning_rate": 2e-3,
}


@dataclass(frozen=True)
class CaptionFlow:
    """Lesson 14's trained networks: the caption encoder's three views and the flow.

    Attributes:
        text_trainer: ids (n, 16) -> [z_hat, shape, color, size, position]: what was trained.
        regression: ids -> z_hat (n, latent_dim): the deterministic caption -> latent baseline.
        caption_vectors: ids -> c (n, 64): the frozen ``E_t``, the flow's condition.
        flow: the :class:`~mmgen_lib.flow.FlowMatcher`; ``flow.velocity`` is what the samplers call.
    """

    text_trainer: keras.Model
    regression: keras.Model
    caption_vectors: keras.Model
    flow: FlowMatcher | None


def caption_variants(captions, labels, seed: int = 0):
    """Each training caption ``RECIPE["caption_variants"]`` times: itself, then copies that leave attributes out.

    In every copy after the first, each of the four visible attributes is left out with probability
    ``RECIPE["p_omit"]`` (``scoreboard.omit_attributes`` removes its words).

    Args:
        captions: the n training captions.
        labels: (n, 5) attribute ids, in ``data.ATTRIBUTE_NAMES`` order.
        seed: seeds the draws (a fresh NumPy generator).

    Returns:
        ``(variant_captions, said)``: the 3n captions, variant by variant, and a dict attribute ->
        (3n,) int array: the value the caption names, or ``len(values)`` for "not said".
    """
    from mmgen_lib.scoreboard import omit_attributes

    captions, labels = list(captions), np.asarray(labels)
    if labels.ndim != 2 or labels.shape != (len(captions), len(ATTRIBUTE_NAMES)):
        raise ValueError(
            f"labels must be (n, {len(ATTRIBUTE_NAMES)}) attribute ids for the n = {len(captions)} captions. "
            f"Received shape {labels.shape}"
        )
    rng = np.random.default_rng(validation.integer(seed, "seed", minimum=0))
    variant_captions, said = [], {a: [] for a in PROBE_ATTRIBUTES}
    for variant in range(RECIPE["caption_variants"]):
        for caption, row in zip(captions, labels):
            omitted = [a for a in PROBE_ATTRIBUTES if variant > 0 and rng.random() < RECIPE["p_omit"]]
            variant_captions.append(omit_attributes(caption, omitted) if omitted else caption)
            for a in PROBE_ATTRIBUTES:
                said[a].append(len(ATTRIBUTES[a]) if a in omitted else int(row[ATTRIBUTE_NAMES.index(a)]))
    return variant_captions, {a: np.array(values) for a, values in said.items()}


def build_caption_encoder(vocab_size, latent_dim) -> CaptionFlow:
    """The untrained caption encoder: ``E_t`` -> c (64) -> Dense(128, silu) -> z_hat, and the four "said" heads."""
    ids_in = keras.Input((SEQ_LEN,), dtype="int32", name="caption_ids")
    text_encoder = TextEncoder(vocab_size, units=RECIPE["text_units"], kind="transformer", pooling="mean", name="E_t")
    c = text_encoder(ids_in)  # (batch, 64)
    z_hat = keras.layers.Dense(latent_dim, name="z_hat")(keras.layers.Dense(128, activation="silu")(c))
    said = [keras.layers.Dense(len(ATTRIBUTES[a]) + 1, activation="softmax", name=a)(c) for a in PROBE_ATTRIBUTES]
    return CaptionFlow(
        text_trainer=keras.Model(ids_in, [z_hat, *said], name="text_trainer"),
        regression=keras.Model(ids_in, z_hat, name="regression"),
        caption_vectors=keras.Model(ids_in, c, name="E_t_model"),
        flow=None,
    )


def _fit_epochs(epochs, stop_after, recipe_epochs: int) -> tuple[int, int]:
    """(epochs the schedule spans, epochs to run): stop_after trains the first epochs of a longer schedule."""
    epochs = validation.positive_int(recipe_epochs if epochs is None else epochs, "epochs")
    run = epochs if stop_after is None else validation.integer(stop_after, "stop_after", minimum=1, maximum=epochs)
    return epochs, run


def train_caption_encoder(
    ids, z, said: dict, vocab_size, epochs=None, stop_after=None, seed: int = 0, callbacks=None
) -> tuple:
    """Train the caption encoder by :data:`RECIPE`, as lesson 14 does: ``set_seed(seed)`` first.

    Args:
        ids: (n, 16) caption ids of the variant captions.
        z: (n, latent_dim) standardised latents of their images.
        said: dict attribute -> (n,) ids named by each caption (``caption_variants``).
        vocab_size: the caption tokenizer's vocabulary size.
        epochs: the length of the learning-rate schedule (default: the recipe's).
        stop_after: train only the first ``stop_after`` epochs of that schedule (lesson 14's live epoch).
        seed: same seed, same weights (on one machine).
        callbacks: Keras callbacks for ``fit``.

    Returns:
        ``(models, history)``: a :class:`CaptionFlow` without a flow, and a dict of per-epoch values.
    """
    if not isinstance(said, dict) or set(said) != set(PROBE_ATTRIBUTES):
        raise ValueError(f"said must be a dict with the keys {PROBE_ATTRIBUTES}. Received: {said!r}")
    n = validation.paired_arrays(ids=ids, z=z, **{f"said[{a!r}]": said[a] for a in PROBE_ATTRIBUTES})
    epochs, run = _fit_epochs(epochs, stop_after, RECIPE["text_epochs"])
    set_seed(seed)
    models = build_caption_encoder(vocab_size, z.shape[1])
    steps = epochs * math.ceil(n / RECIPE["text_batch_size"])
    models.text_trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(RECIPE["text_learning_rate"], steps)),
        loss=["mse", *["sparse_categorical_crossentropy"] * len(PROBE_ATTRIBUTES)],
        loss_weights=[1.0, *[RECIPE["said_weight"]] * len(PROBE_ATTRIBUTES)],
        steps_per_execution=10,
    )
    targets = [z, *[said[a] for a in PROBE_ATTRIBUTES]]
    build_before_fit(models.text_trainer, ids, targets)  # optimizer and loss state now: one trace
    history = models.text_trainer.fit(
        ids,
        targets,
        epochs=run,
        batch_size=RECIPE["text_batch_size"],
        shuffle=True,
        verbose=0,
        callbacks=list(callbacks or []),
    )
    return models, history.history


def build_flow(latent_dim, condition_dim, seed: int = 0) -> FlowMatcher:
    """The untrained conditional flow of the recipe's sizes (its dropout and noise seeded by ``seed``)."""
    return FlowMatcher(
        latent_dim,
        condition_dim,
        hidden_units=RECIPE["flow_hidden_units"],
        num_layers=RECIPE["flow_num_layers"],
        condition_dropout=RECIPE["condition_dropout"],
        seed=seed,
    )


def train_flow(z, conditions, epochs=None, stop_after=None, seed: int = 0, callbacks=None) -> tuple:
    """Train the conditional flow by :data:`RECIPE`, as lesson 14 does: ``set_seed(seed)`` first.

    Args:
        z: (n, latent_dim) standardised latents.
        conditions: (n, condition_dim) caption vectors of the frozen ``E_t`` for the same examples.
        epochs, stop_after, seed, callbacks: as in :func:`train_caption_encoder`.

    Returns:
        ``(flow, history)``: the :class:`~mmgen_lib.flow.FlowMatcher` and a dict of per-epoch values.
    """
    n = validation.paired_arrays(z=z, conditions=conditions)
    epochs, run = _fit_epochs(epochs, stop_after, RECIPE["flow_epochs"])
    set_seed(seed)
    flow = build_flow(z.shape[1], conditions.shape[1], seed=seed)
    steps = epochs * math.ceil(n / RECIPE["flow_batch_size"])
    flow.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(RECIPE["flow_learning_rate"], steps)),
        steps_per_execution=15,
    )
    history = flow.fit(
        {"x1": z, "condition": conditions},
        epochs=run,
        batch_size=RECIPE["flow_batch_size"],
        shuffle=True,
        verbose=0,
        callbacks=list(callbacks or []),
    )
    return flow, history.history


def default_latent_flow_dir() -> Path:
    """Where the shipped caption encoder and flow live: ``<data dir>/latent_flow``."""
    return data_dir() / "latent_flow"


def save_latent_flow(
    models: CaptionFlow, out_dir, histories: dict | None = None, metrics=None, seed=None, force=False
) -> dict:
    """Write both networks' weights and ``latent_flow.json``; overwrite only with ``force``.

    Args:
        models: a :class:`CaptionFlow` with its flow (trained: call the flow once first so it is built).
        out_dir: the folder to write into.
        histories: optional dict ``{"caption_encoder": ..., "flow": ...}`` of per-epoch values.
        metrics: figures measured on the models, recorded as they are.
        seed: the seed they were trained with.
        force: overwrite existing files.
    """
    if not isinstance(models, CaptionFlow) or not isinstance(models.flow, FlowMatcher):
        raise TypeError(f"models must be a CaptionFlow with a trained flow. Received: {models!r}")
    if not models.flow.velocity.built:
        raise ValueError("the flow is not built yet: train it (train_flow) before saving it")
    velocity = models.flow.velocity
    text_weights = models.text_trainer.get_weights()
    payload = shipped.weights_bytes([*text_weights, *velocity.get_weights()])
    meta = {
        "file": WEIGHTS_FILE,
        "sha256": shipped.sha256(payload),
        "recipe": dict(RECIPE),
        "vocab_size": int(models.text_trainer.get_layer("E_t").vocab_size),
        "latent_dim": velocity.latent_dim,
        "condition_dim": velocity.condition_dim,
        "text_weights": len(text_weights),
        "metrics": metrics or {},
        "seed": seed,
    }
    if histories is not None:
        unknown = sorted(set(histories) - {"caption_encoder", "flow"})
        if unknown:
            raise ValueError(f"histories takes the keys 'caption_encoder' and 'flow'. Received: {unknown}")
        meta["history"] = {name: shipped.history_record(history) for name, history in histories.items()}
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_latent_flow(folder=None, verify: bool = True) -> tuple:
    """The shipped caption encoder and flow (lesson 14) and their record, in well under a second.

    Args:
        folder: folder holding ``latent_flow.json`` (default ``data/latent_flow/``).
        verify: check the weights' sha256 first.

    Returns:
        ``(models, meta)``: a :class:`CaptionFlow` and the folder's record (``meta["history"]``: the
        loss of every epoch of both networks). Loading draws nothing and sets no seed.
    """
    folder = Path(folder) if folder is not None else default_latent_flow_dir()
    hint = shipped.rebuild_hint("latent_flow", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    weights = shipped.read_weights(folder / meta["file"], meta["sha256"], hint, verify=verify)
    parts = build_caption_encoder(meta["vocab_size"], meta["latent_dim"])
    flow = build_flow(meta["latent_dim"], meta["condition_dim"], seed=meta["seed"])
    flow.velocity.build([(None, meta["latent_dim"]), (None,), (None, meta["condition_dim"])])
    split = meta["text_weights"]
    if len(weights) != len(parts.text_trainer.weights) + len(flow.velocity.weights) or split != len(
        parts.text_trainer.weights
    ):
        raise ValueError(f"{folder / meta['file']} does not hold lesson 14's two networks; {hint}")
    parts.text_trainer.set_weights(weights[:split])
    flow.velocity.set_weights(weights[split:])
    return CaptionFlow(parts.text_trainer, parts.regression, parts.caption_vectors, flow), meta


def train_latent_flow(latents, captions, labels, tokenizer, epochs=None, seed: int = 0, callbacks=None):
    """Lesson 14's whole recipe on the training split: variants, caption encoder, then the flow.

    Args:
        latents: (n, latent_dim) latents of the training images (the shipped autoencoder's ``encode``).
        captions, labels: the training captions and their (n, 5) attribute ids.
        tokenizer: the caption tokenizer.
        epochs: optional ``{"caption_encoder": k, "flow": m}``, for quick runs.
        seed, callbacks: as in :func:`train_caption_encoder`.

    Returns:
        ``(models, histories)``.
    """
    epochs = epochs or {}
    z_mean, z_std = latents.mean(0), latents.std(0) + 1e-6
    variant_captions, said = caption_variants(captions, labels, seed=seed)
    ids = tokenizer.encode_batch(variant_captions, SEQ_LEN)
    z = np.tile((latents - z_mean) / z_std, (RECIPE["caption_variants"], 1)).astype("float32")
    models, text_history = train_caption_encoder(
        ids, z, said, tokenizer.vocab_size, epochs=epochs.get("caption_encoder"), seed=seed, callbacks=callbacks
    )
    conditions = models.caption_vectors.predict(ids, batch_size=1000, verbose=0)  # the frozen E_t
    flow, flow_history = train_flow(z, conditions, epochs=epochs.get("flow"), seed=seed, callbacks=callbacks)
    models = CaptionFlow(models.text_trainer, models.regression, models.caption_vectors, flow)
    return models, {"caption_encoder": text_history, "flow": flow_history}


def main(argv=None) -> int:
    import time

    args, refused = shipped.recipe_command(
        "python -m mmgen_lib.latent_flow",
        "Train lesson 14's caption encoder and conditional flow on the train split and save them.",
        (WEIGHTS_FILE, META_FILE),
        argv,
    )
    if refused is not None:
        return refused
    from mmgen_lib.data import load_split
    from mmgen_lib.flow import sample_latents
    from mmgen_lib.latent import load_latent_autoencoder
    from mmgen_lib.probe import load_probe, probe_accuracy
    from mmgen_lib.tokenizer import shapesworld_tokenizer

    train, test = load_split("train"), load_split("test")
    tokenizer, probe = shapesworld_tokenizer(train), load_probe()
    autoencoder = load_latent_autoencoder(probe=probe)
    latents = autoencoder.encode(train.images)
    captions, labels = train.captions, train.labels
    if args.examples is not None:
        n = validation.positive_int(args.examples, "--examples")
        latents, captions, labels = latents[:n], captions[:n], labels[:n]
    epochs = {"caption_encoder": args.epochs, "flow": args.epochs} if args.epochs is not None else None
    started = time.perf_counter()
    models, histories = train_latent_flow(latents, captions, labels, tokenizer, epochs=epochs, seed=args.seed)
    seconds = time.perf_counter() - started
    z_mean, z_std = latents.mean(0), latents.std(0) + 1e-6
    condition = models.caption_vectors.predict(tokenizer.encode_batch(test.captions, SEQ_LEN), verbose=0)
    z = sample_latents(models.flow.velocity, condition, steps=10, guidance=2.0, method="heun", seed=args.seed)
    images = autoencoder.decode(z * z_std + z_mean)
    metrics = {
        "test": {"flow_probe_accuracy": {k: round(v, 4) for k, v in probe_accuracy(probe, images, test.labels).items()}}
    }
    if (quick_run := shipped.quick_run_record(args)) is not None:
        metrics["quick_run"] = quick_run
    flow_loss = histories["flow"]["loss"]
    print(
        f"trained in {seconds:.1f} s; flow loss {flow_loss[0]:.4g} -> {flow_loss[-1]:.4g}; "
        f"test probe accuracy (w = 2, 10 Heun steps) {metrics['test']['flow_probe_accuracy']}"
    )
    meta = save_latent_flow(models, args.out, histories, metrics, seed=args.seed, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
