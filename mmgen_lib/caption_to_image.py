"""Lesson 09's caption -> image generator, trained once and shipped in ``data/caption_to_image/``.

Lesson 09 teaches the generator, trains its first epoch live and loads the other four from here
(:func:`load_caption_to_image_history` has the shipped run's loss per epoch to compare with);
lesson 13's studio only needs to draw with it:

    model = load_caption_to_image()                        # sha256-checked, well under a second
    tokenizer = shapesworld_tokenizer()                    # the ids the model was trained on
    ids = tokenizer.encode_batch(["a large red circle at the top"], 16)  # (n, 16) int32
    images = model.predict(ids, verbose=0)                 # (n, 32, 32, 3) float32 in [0, 1]

The recipe (:data:`RECIPE`, :func:`train_caption_to_image`) is lesson 09's, step for step: the
Transformer text encoder ``E_t`` (mean pooling, 64 units) and the audio encoder ``E_a`` (16 units)
feed the alpha-compositing ``ImageDecoder`` (filters 32, 16, 8) with ``[z_t, on * z_a]``: half the
training examples hear their sound (``on = 1``), and half of those lose their size word, so that
the size must come from the sound. The loss is the shift-tolerant, area-normalised MSE plus three
small attribute heads on ``z_t`` (shape, colour, position; weight 0.1, lesson 07's multimodal
loss); Adam with a cosine decay, 5 epochs, batches of 64, seed 0 — the layers built and the
examples drawn in lesson 09's order, so the shipped weights are the ones lesson 09 trains. The
studio draws from captions alone: :class:`CaptionToImage` calls the decoder with the sound switched
off (``z_a = 0``), as lesson 09 does for its caption-only images. Rebuild with
``python -m mmgen_lib.caption_to_image --out data/caption_to_image --force`` (about half a minute
on a CPU); ``caption_to_image.json`` records the recipe, the seed, the sha256 and the test split's
probe accuracy and silhouette IoU per shape, and the loss of every epoch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np

from mmgen_lib import shipped, validation
from mmgen_lib.data import ATTRIBUTES
from mmgen_lib.decoders import ImageDecoder
from mmgen_lib.encoders import AudioEncoder, TextEncoder
from mmgen_lib.image_losses import ShiftTolerantMSE
from mmgen_lib.probe import _as_labels
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import data_dir as default_data_dir

__all__ = [
    "RECIPE",
    "AUX_ATTRIBUTES",
    "CaptionToImage",
    "build_caption_to_image",
    "train_caption_to_image",
    "save_caption_to_image",
    "load_caption_to_image",
    "load_caption_to_image_history",
    "default_caption_to_image_dir",
    "generator_metrics",
    "META_FILE",
    "WEIGHTS_FILE",
]

META_FILE = "caption_to_image.json"
WEIGHTS_FILE = "caption_to_image.npz"
AUX_ATTRIBUTES = ("shape", "color", "position")  # the heads on z_t (lesson 09, section 1)
RECIPE = {
    "caption_len": 16,
    "text_units": 64,
    "sound_units": 16,  # z_a; the studio calls the decoder with z_a = 0 (no sound)
    "sound_filters": [8, 16],
    "decoder_filters": [32, 16, 8],
    "p_sound": 0.5,  # share of training examples that also get their sound
    "p_no_size": 0.5,  # of those, share whose caption loses its size word
    "epochs": 5,
    "batch_size": 64,
    "learning_rate": 4e-3,
    "max_shift": 2,
    "aux_weight": 0.1,
}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class CaptionToImage(keras.Model):
    """Caption ids -> images: lesson 09's generator, its text encoder ``E_t``, audio encoder ``E_a`` and
    alpha-compositing ``ImageDecoder`` ``D``, drawing from captions alone (``D([z_t, 0])``: the sound off).

    Taught in lesson 09; trained once and shipped for lesson 13's studio (:func:`load_caption_to_image`).
    ``predict`` also checks concrete ids against the vocabulary.

    Args:
        vocab_size: the tokenizer's vocabulary size (``shapesworld_tokenizer().vocab_size``).
        caption_len: length of the padded caption ids.
        text_units: size of ``z_t``.
        sound_units: size of ``z_a``, the sound's part of the decoder's input (0: no sound branch).
        sound_filters: channels of ``E_a``'s convolutions (unused when ``sound_units`` is 0).
        decoder_filters: channels of the decoder's upsampling stages.

    Call arguments:
        inputs: integer caption ids (batch, caption_len), 0 = ``<pad>``.

    Input shape:
        (batch, caption_len), an integer dtype.

    Output shape:
        (batch, 32, 32, 3), values in [0, 1].
    """

    def __init__(
        self,
        vocab_size,
        caption_len=RECIPE["caption_len"],
        text_units=RECIPE["text_units"],
        sound_units=RECIPE["sound_units"],
        sound_filters=tuple(RECIPE["sound_filters"]),
        decoder_filters=tuple(RECIPE["decoder_filters"]),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = validation.positive_int(vocab_size, "vocab_size")
        self.caption_len = validation.positive_int(caption_len, "caption_len")
        self.text_units = validation.positive_int(text_units, "text_units")
        self.sound_units = validation.integer(sound_units, "sound_units", minimum=0)
        self.sound_filters = validation.positive_int_sequence(sound_filters, "sound_filters", 1, 4)
        self.decoder_filters = validation.positive_int_sequence(decoder_filters, "decoder_filters", 1, 5)
        # built in lesson 09's order (E_t, E_a, D): the same seed draws the same weights
        self.text_encoder = TextEncoder(
            self.vocab_size, units=self.text_units, kind="transformer", pooling="mean", name="E_t"
        )
        self.sound_encoder = (
            AudioEncoder(filters=self.sound_filters, output_dim=self.sound_units, name="E_a") if sound_units else None
        )
        self.decoder = ImageDecoder(filters=self.decoder_filters, name="D")

    def build(self, input_shape=None):
        if not self.text_encoder.built:
            self.text_encoder.build((None, self.caption_len))
        if self.sound_encoder is not None and not self.sound_encoder.built:
            self.sound_encoder.build((None, 28, 40))
        if not self.decoder.built:
            self.decoder.build((None, self.text_units + self.sound_units))
        self.built = True

    def _check_ids(self, shape, dtype):
        if shape is None or len(shape) != 2 or shape[1] != self.caption_len:
            raise ValueError(
                f"CaptionToImage expects caption ids of shape (n, {self.caption_len}), e.g. from "
                f"tokenizer.encode_batch(captions, {self.caption_len}). Received: ids with shape {shape}"
            )
        if "int" not in dtype:
            raise ValueError(f"CaptionToImage expects integer caption ids. Received: ids of dtype {dtype}")

    def predict(self, x, *args, **kwargs):
        """``Model.predict``, after checking concrete ids' shape, dtype and range (a clear error, not a trace)."""
        if isinstance(x, (np.ndarray, list, tuple)):
            ids = np.asarray(x)
            self._check_ids(ids.shape, ids.dtype.name)
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
                raise ValueError(
                    f"caption ids must lie in [0, {self.vocab_size}) (the tokenizer's vocabulary). "
                    f"Received: ids from {ids.min()} to {ids.max()}"
                )
        return super().predict(x, *args, **kwargs)

    def call(self, inputs, training=False):
        try:
            shape = tuple(inputs.shape)
        except ValueError:  # a tensor of unknown rank
            shape = None
        self._check_ids(shape, keras.backend.standardize_dtype(inputs.dtype))
        z_t = self.text_encoder(inputs, training=training)  # (batch, text_units)
        if self.sound_units:  # no sound: lesson 09's switch off, z_a = 0
            z_t = keras.ops.concatenate([z_t, keras.ops.zeros((keras.ops.shape(z_t)[0], self.sound_units))], axis=-1)
        return self.decoder(z_t, training=training)  # (batch, 32, 32, 3)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 32, 32, 3)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "caption_len": self.caption_len,
            "text_units": self.text_units,
            "sound_units": self.sound_units,
            "sound_filters": list(self.sound_filters),
            "decoder_filters": list(self.decoder_filters),
        }


def _model(vocab_size, recipe: dict, build: bool = True) -> CaptionToImage:
    """A :class:`CaptionToImage` with a recipe's sizes (its weights built unless ``build`` is False)."""
    model = CaptionToImage(
        vocab_size,
        caption_len=recipe["caption_len"],
        text_units=recipe["text_units"],
        sound_units=recipe["sound_units"],
        sound_filters=recipe["sound_filters"],
        decoder_filters=recipe["decoder_filters"],
        name="caption_to_image",
    )
    if build:
        model.build((None, recipe["caption_len"]))
    return model


def build_caption_to_image(vocab_size, seed: int | None = None) -> CaptionToImage:
    """A fresh :class:`CaptionToImage` with :data:`RECIPE`'s sizes, its weights built (drawn from ``seed``)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    return _model(vocab_size, RECIPE)


SIZE_WORDS = ("small", "little", "tiny", "large", "big")  # dropped from some training captions (lesson 09)


def _trainer(model: CaptionToImage) -> keras.Model:
    """[ids, log-mel, sound on] -> [image, shape, color, position]: lesson 09's trainer, built in its order."""
    ids_in = keras.Input((model.caption_len,), dtype="int32", name="caption_ids")
    spec_in = keras.Input((28, 40), name="spectrogram")
    on_in = keras.Input((1,), name="audio_on")
    z_t = model.text_encoder(ids_in)  # (batch, text_units)
    z = keras.layers.Concatenate(name="z")([z_t, model.sound_encoder(spec_in) * on_in])  # (batch, text + sound)
    image_out = model.decoder(z)  # (batch, 32, 32, 3)
    heads = [keras.layers.Dense(len(ATTRIBUTES[a]), activation="softmax", name=a)(z_t) for a in AUX_ATTRIBUTES]
    return keras.Model([ids_in, spec_in, on_in], [image_out, *heads], name="trainer")


def _drop_words(ids, word_ids):
    """Remove ``word_ids`` from each row of caption ids (the rest moves left; padding fills the end)."""
    out = np.zeros_like(ids)
    for row, sentence in enumerate(ids):
        kept = [t for t in sentence if t not in word_ids]
        out[row, : len(kept)] = kept
    return out


def train_caption_to_image(ids, images, spectrograms, labels, tokenizer, epochs: int | None = None, seed: int = 0):
    """Train a :class:`CaptionToImage` by :data:`RECIPE`: lesson 09's recipe, in lesson 09's order.

    Args:
        ids: (n, 16) caption ids of the training split (``split_arrays(train, tokenizer)["caption_ids"]``).
        images: (n, 32, 32, 3) uint8 or floats in [0, 1], the captions' images.
        spectrograms: (n, 28, 40) log-mel spectrograms of the examples' sounds (standardised here).
        labels: the split's labels ((n, 5) array or dict attribute -> (n,) ints); they train the heads.
        tokenizer: the :class:`~mmgen_lib.tokenizer.Tokenizer` of ``ids`` (its size words are dropped
            from some captions; its vocabulary sizes ``E_t``).
        epochs: default: the recipe's.
        seed: same seed, same weights (on one machine).

    Returns:
        ``(model, history)``, history a dict of per-epoch losses (``"D_loss"`` is the image loss).
    """
    from mmgen_lib.tokenizer import Tokenizer
    from mmgen_lib.utils import set_seed

    epochs = validation.positive_int(RECIPE["epochs"] if epochs is None else epochs, "epochs")
    x = validation.image_batch(images, "images", size=(32, 32))
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.shape != (len(x), RECIPE["caption_len"]) or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"ids must be integer caption ids of shape ({len(x)}, {RECIPE['caption_len']}), one row per image. "
            f"Received: ids with shape {ids.shape} and dtype {ids.dtype}"
        )
    spectrograms = np.asarray(spectrograms)
    if spectrograms.shape != (len(x), 28, 40) or not np.issubdtype(spectrograms.dtype, np.floating):
        raise ValueError(
            f"spectrograms must be float log-mels of shape ({len(x)}, 28, 40), one per image. "
            f"Received: spectrograms with shape {spectrograms.shape} and dtype {spectrograms.dtype}"
        )
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer must be a mmgen_lib.tokenizer.Tokenizer. Received: {type(tokenizer).__name__}")
    targets = _as_labels(labels, len(x))
    rng = np.random.default_rng(seed)  # which examples hear their sound, which lose their size word
    sound_on = (rng.random(len(x)) < RECIPE["p_sound"]).astype("float32")[:, None]  # (n, 1)
    no_size = (sound_on[:, 0] == 1) & (rng.random(len(x)) < RECIPE["p_no_size"])
    train_ids = ids.copy()
    size_ids = [tokenizer.encode(word, add_start_end=False)[0] for word in SIZE_WORDS]
    train_ids[no_size] = _drop_words(train_ids[no_size], size_ids)
    spectrograms = (spectrograms - spectrograms.mean()) / spectrograms.std()  # standardised, as in lesson 09
    set_seed(seed)
    model = _model(tokenizer.vocab_size, RECIPE, build=False)
    trainer = _trainer(model)  # builds E_t, E_a, D and the heads, in lesson 09's order
    model.build((None, RECIPE["caption_len"]))
    steps = epochs * int(np.ceil(len(x) / RECIPE["batch_size"]))
    trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(RECIPE["learning_rate"], steps)),
        loss=[ShiftTolerantMSE(RECIPE["max_shift"]), *["sparse_categorical_crossentropy"] * len(AUX_ATTRIBUTES)],
        loss_weights=[1.0, *[RECIPE["aux_weight"]] * len(AUX_ATTRIBUTES)],
    )
    inputs, outputs = [train_ids.astype(np.int32), spectrograms, sound_on], [x, *[targets[a] for a in AUX_ATTRIBUTES]]
    build_before_fit(trainer, inputs, outputs)  # optimizer and loss state now: fit traces its step once
    history = trainer.fit(
        inputs,
        outputs,
        epochs=epochs,
        batch_size=RECIPE["batch_size"],
        shuffle=True,
        verbose=0,
    )
    return model, history.history


def default_caption_to_image_dir() -> Path:
    """Where the shipped generator lives: ``<data dir>/caption_to_image``."""
    return default_data_dir() / "caption_to_image"


def save_caption_to_image(
    model, out_dir, metrics: dict | None = None, seed: int | None = None, history=None, force=False
) -> dict:
    """Write the weights and ``caption_to_image.json`` (recipe, sha256, metrics, losses); overwrite only with ``force``.

    ``history`` (the dict :func:`train_caption_to_image` returns) is recorded so that lesson 09 can
    train the first epoch live, compare it with the shipped run's, and plot every epoch.
    """
    if not isinstance(model, CaptionToImage):
        raise TypeError(
            f"model must be a CaptionToImage (from train_caption_to_image). Received: {type(model).__name__}"
        )
    record = shipped.history_record(history) if history is not None else None
    payload = shipped.weights_bytes(model.get_weights())
    meta = {
        "file": WEIGHTS_FILE,
        "sha256": shipped.sha256(payload),
        "recipe": dict(RECIPE),
        "vocab_size": model.vocab_size,
        "metrics": metrics or {},
        "seed": seed,
    }
    if record is not None:
        meta["history"] = record
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_caption_to_image(folder=None, verify: bool = True) -> CaptionToImage:
    """The shipped caption -> image generator (lesson 13's studio), in well under a second.

    Args:
        folder: folder holding ``caption_to_image.json`` (default ``data/caption_to_image/``).
        verify: check the weights' sha256 first.

    Returns:
        a :class:`CaptionToImage`: caption ids (n, 16) int -> images (n, 32, 32, 3) in [0, 1].
    """
    folder = Path(folder) if folder is not None else default_caption_to_image_dir()
    hint = shipped.rebuild_hint("caption_to_image", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    weights = shipped.read_weights(folder / meta["file"], meta["sha256"], hint, verify=verify)
    model = _model(meta["vocab_size"], meta["recipe"])
    if len(weights) != len(model.weights):
        raise ValueError(f"{folder / meta['file']} holds {len(weights)} arrays, the model {len(model.weights)}; {hint}")
    model.set_weights(weights)
    return model


def load_caption_to_image_history(folder=None) -> dict:
    """The shipped run's loss per epoch (``"D_loss"``: the image loss; ``"loss"``: the weighted total)."""
    folder = Path(folder) if folder is not None else default_caption_to_image_dir()
    hint = shipped.rebuild_hint("caption_to_image", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    if not isinstance(meta.get("history"), dict):
        raise ValueError(f"{folder / META_FILE} records no loss history; {hint}")
    return {name: list(values) for name, values in meta["history"].items()}


def generator_metrics(model, ids, labels, probe) -> dict:
    """Probe accuracy per attribute and silhouette IoU per shape of the images ``model`` draws for ``ids``."""
    from mmgen_lib.classifiers import predict_in_batches
    from mmgen_lib.probe import probe_accuracy
    from mmgen_lib.scoreboard import silhouette_iou_by_shape

    images = predict_in_batches(model, np.asarray(ids, np.int32))  # (n, 32, 32, 3)
    return {
        "probe_accuracy": {k: round(v, 4) for k, v in probe_accuracy(probe, images, labels).items()},
        "silhouette_iou": {k: round(v, 4) for k, v in silhouette_iou_by_shape(images, labels).items()},
    }


def main(argv=None) -> int:
    args, refused = shipped.recipe_command(
        "python -m mmgen_lib.caption_to_image",
        "Train lesson 09's caption -> image generator on the train split and save it.",
        (WEIGHTS_FILE, META_FILE),
        argv,
    )
    if refused is not None:
        return refused
    import time

    from mmgen_lib.data import load_split
    from mmgen_lib.pipeline import split_arrays
    from mmgen_lib.probe import load_probe
    from mmgen_lib.tokenizer import shapesworld_tokenizer

    train, test = load_split("train"), load_split("test")
    tokenizer = shapesworld_tokenizer(train)
    n = len(train) if args.examples is None else validation.positive_int(args.examples, "--examples")
    arrays = split_arrays(train, tokenizer, caption_len=RECIPE["caption_len"])
    started = time.perf_counter()
    model, history = train_caption_to_image(
        arrays["caption_ids"][:n],
        arrays["image"][:n],
        arrays["spectrogram"][:n],
        train.labels[:n],
        tokenizer,
        epochs=args.epochs,
        seed=args.seed,
    )
    seconds = time.perf_counter() - started
    test_ids = tokenizer.encode_batch(test.captions, RECIPE["caption_len"])
    metrics = {"test": generator_metrics(model, test_ids, test.labels, load_probe())}
    if (quick_run := shipped.quick_run_record(args)) is not None:
        metrics["quick_run"] = quick_run
    print(
        f"trained in {seconds:.1f} s; image loss {history['D_loss'][0]:.4f} -> {history['D_loss'][-1]:.4f}; "
        f"test probe {metrics['test']['probe_accuracy']}; silhouette IoU {metrics['test']['silhouette_iou']}"
    )
    meta = save_caption_to_image(model, args.out, metrics, seed=args.seed, history=history, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
