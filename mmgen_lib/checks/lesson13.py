"""Exercise checks of lesson 13 (studio and scale)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mmgen_lib.checks import fail, passed

__all__ = ["check_own_folder", "check_replica_gradients", "check_caption_at_temperatures"]


def check_own_folder(make_folder) -> None:
    """Exercise 1: ``make_folder(folder)`` writes two images and captions, and loads them."""
    from mmgen_lib.own_data import OwnDataset

    if not callable(make_folder):
        fail(f"`make_folder` should be a function, but it is a {type(make_folder).__name__}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            own = make_folder(folder)
        except FileNotFoundError as error:
            fail(f"loading the folder failed: {error}",
                 "each image needs a caption file with the same name: a.png + a.txt, b.png + b.txt")
        except ValueError as error:
            fail(f"loading the folder failed: {error}", "read the message: it names the file that is wrong")
        files = sorted(p.name for p in folder.iterdir())
    if own is None:
        fail("`make_folder` returned None", "return `load_own_data(folder)`")
    if not isinstance(own, OwnDataset):
        fail(f"`make_folder` should return what load_own_data returns, not a {type(own).__name__}")
    if len(own) != 2:
        fail(f"the folder holds {len(own)} example(s) ({files}), expected 2",
             "write a.png, a.txt, b.png and b.txt")
    if own.images.shape != (2, 32, 32, 3):
        fail(f"images have shape {own.images.shape}, expected (2, 32, 32, 3)", "keep the default image_size")
    if np.allclose(own.images[0], own.images[1]):
        fail("the two images are identical", "give them different colours so a model could tell them apart")
    passed(f"{files} load as 2 examples with captions {own.captions}")


def check_replica_gradients(replica_gradients) -> None:
    """Exercise 2: the mean of the per-shard gradients equals the full-batch gradient."""
    import keras
    import tensorflow as tf

    if not callable(replica_gradients):
        fail(f"`replica_gradients` should be a function, but it is a {type(replica_gradients).__name__}")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3)).astype("float32")
    y = rng.normal(size=(12, 1)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    expected = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    answer = replica_gradients(model, x, y, 3)
    if answer is None:
        fail("`replica_gradients` returned None", "return the list of averaged gradients")
    answer = [np.asarray(g) for g in answer]
    if len(answer) != len(expected):
        fail(f"got {len(answer)} gradients for {len(expected)} weight tensors",
             "one gradient per entry of model.trainable_weights")
    for k, (a, e) in enumerate(zip(answer, expected)):
        if a.shape != e.shape:
            fail(f"gradient {k} has shape {a.shape}, expected {e.shape}")
        if np.allclose(a, 3 * e, atol=1e-5) and not np.allclose(e, 0):
            fail("the gradients are 3x too large: they were summed over the replicas",
                 "the all-reduce of MirroredStrategy averages: divide by n_replicas")
        if not np.allclose(a, e, atol=1e-5):
            fail(f"gradient {k} differs from the full-batch gradient by up to {np.abs(a - e).max():.3g}",
                 "split x AND y into n_replicas equal shards, take the mean loss on each shard, "
                 "and average the shards' gradients")
    passed("the mean of 3 replicas' gradients equals the full-batch gradient")


def check_caption_at_temperatures(caption_at_temperatures) -> None:
    """Exercise 3: one caption per temperature, through ``widgets.describe``."""
    if not callable(caption_at_temperatures):
        fail(f"`caption_at_temperatures` should be a function, not a {type(caption_at_temperatures).__name__}")
    calls = []

    def fake_captioner(image, audio, temperature, beam_width):
        calls.append((temperature, beam_width))
        return f"caption at {temperature:.1f}"

    image, audio = np.zeros((32, 32, 3), np.float32), np.zeros(2000, np.float32)
    result = caption_at_temperatures(fake_captioner, image, audio, (0.0, 0.5, 2.0))
    if not isinstance(result, dict):
        fail(f"the result should be a dict temperature -> caption, not a {type(result).__name__}")
    if sorted(result) != [0.0, 0.5, 2.0]:
        fail(f"the keys should be the temperatures (0.0, 0.5, 2.0); got {sorted(result)}")
    wrong = {t: c for t, c in result.items() if c != f"caption at {t:.1f}"}
    if wrong:
        fail(f"these captions were not made at their own temperature: {wrong}",
             "pass each temperature to widgets.describe(captioner_fn, image, audio, temperature, 1)")
    if any(beam != 1 for _, beam in calls):
        fail("use a beam width of 1")
    passed("one caption per temperature")
