"""Exercise checks of lesson 13 (studio and scale)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mmgen_lib.checks import ExerciseCheckFailed, as_array, call_answer, describe, expect_function, fail, passed, show

__all__ = ["check_own_folder", "check_replica_gradients", "check_caption_at_temperatures"]


def check_own_folder(make_folder) -> None:
    """Exercise 1: ``make_folder(folder)`` writes two images and captions, and loads them."""
    from mmgen_lib.own_data import OwnDataset

    expect_function(make_folder, "make_folder", "make_folder(folder)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            own = call_answer(make_folder, "make_folder(folder)", folder)
        except ExerciseCheckFailed as failure:
            if isinstance(failure.__cause__, FileNotFoundError):
                fail(
                    "loading the folder failed: {error}",
                    "each image needs a caption file with the same name: a.png + a.txt, b.png + b.txt",
                    error=failure.__cause__,
                )
            if isinstance(failure.__cause__, ValueError):
                fail(
                    "loading the folder failed: {error}",
                    "read the message: it names the file that is wrong",
                    error=failure.__cause__,
                )
            raise
        files = sorted(p.name for p in folder.iterdir())
    if not isinstance(own, OwnDataset):
        fail(
            "`make_folder` should return what load_own_data returns (an OwnDataset), but it returned {got}",
            "return `load_own_data(folder)`",
            got=describe(own),
        )
    if len(own) != 2:
        fail(
            "the folder holds {n} example(s) ({files}), expected 2",
            "write a.png, a.txt, b.png and b.txt",
            n=len(own),
            files=files,
        )
    if own.images.shape != (2, 32, 32, 3):
        fail("images have shape {got}, expected (2, 32, 32, 3)", "keep the default image_size", got=own.images.shape)
    if np.allclose(own.images[0], own.images[1]):
        fail("the two images are identical", "give them different colours so a model could tell them apart")
    passed("{files} load as 2 examples with captions {captions}", files=files, captions=own.captions)


def _gradient_list(answer, count, call):
    """The learner's gradients as a list of arrays (one per weight tensor), or a message."""
    if isinstance(answer, (dict, str)) or not hasattr(answer, "__len__") or hasattr(answer, "shape"):
        fail(
            "{call} should return a list of gradients (one array per weight tensor), but it returned {got}",
            "return [mean of the shards' gradients for weight k, for k in range(len(model.trainable_weights))]",
            call=call,
            got=describe(answer),
        )
    if len(answer) != count:
        fail(
            "got {n} gradients for {count} weight tensors",
            "one gradient per entry of model.trainable_weights",
            n=len(answer),
            count=count,
        )
    return [as_array(g, f"gradient {k}") for k, g in enumerate(answer)]


def check_replica_gradients(replica_gradients) -> None:
    """Exercise 2: the mean of the per-shard gradients equals the full-batch gradient."""
    import keras
    import tensorflow as tf

    expect_function(replica_gradients, "replica_gradients", "replica_gradients(model, x, y, n_replicas)")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3)).astype("float32")
    y = rng.normal(size=(12, 1)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    expected = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
    for n_replicas in (3, 4):
        call = f"replica_gradients(model, x, y, {n_replicas})"
        answer = _gradient_list(
            call_answer(replica_gradients, call, model, x.copy(), y.copy(), n_replicas), len(expected), call
        )
        for k, (a, e) in enumerate(zip(answer, expected)):
            if a.shape != e.shape:
                fail(
                    "gradient {k} has shape {got}, expected {expected}",
                    "one gradient per weight, in the order of model.trainable_weights",
                    k=k,
                    got=a.shape,
                    expected=e.shape,
                )
            if np.allclose(a, n_replicas * e, atol=1e-5) and not np.allclose(e, 0):
                fail(
                    "with {n} replicas the gradients are {n}x too large: they were summed over the replicas",
                    "the all-reduce of MirroredStrategy averages: divide by n_replicas",
                    n=n_replicas,
                )
            if not np.allclose(a, e, atol=1e-5):
                fail(
                    "{call}: gradient {k} differs from the full-batch gradient by up to {diff}",
                    "split x AND y into n_replicas equal shards, take the mean loss on each shard, "
                    "and average the shards' gradients",
                    call=call,
                    k=k,
                    diff=show(np.abs(a - e).max(), 3),
                )
    passed("the mean of 3 (and of 4) replicas' gradients equals the full-batch gradient")


def check_caption_at_temperatures(caption_at_temperatures) -> None:
    """Exercise 3: one caption per temperature, through ``widgets.describe``."""
    expect_function(
        caption_at_temperatures,
        "caption_at_temperatures",
        "caption_at_temperatures(captioner_fn, image, audio, temperatures)",
    )
    calls = []

    def fake_captioner(image, audio, temperature, beam_width):
        calls.append((temperature, beam_width))
        return f"caption at {temperature:.2f}"

    image, audio = np.zeros((32, 32, 3), np.float32), np.zeros(2000, np.float32)
    for temperatures in ((0.0, 0.5, 2.0), (0.25, 1.5)):
        call = f"caption_at_temperatures(captioner_fn, image, audio, {temperatures})"
        result = call_answer(caption_at_temperatures, call, fake_captioner, image, audio, temperatures)
        if not isinstance(result, dict):
            fail(
                "{call} should return a dict temperature -> caption, but it returned {got}",
                "build it with {{t: widgets.describe(...) for t in temperatures}}",
                call=call,
                got=describe(result),
            )
        if set(result) != set(temperatures):
            fail(
                "the keys of {call} should be the temperatures {expected}; got {got}",
                "use each temperature itself (a float) as the key",
                call=call,
                expected=show(temperatures),
                got=show(list(result)),
            )
        wrong = {t: c for t, c in result.items() if c != f"caption at {t:.2f}"}
        if wrong:
            fail(
                "these captions were not made at their own temperature: {wrong}",
                "pass each temperature to widgets.describe(captioner_fn, image, audio, temperature, 1)",
                wrong=show(wrong),
            )
    if any(beam != 1 for _, beam in calls):
        fail("use a beam width of 1", "widgets.describe(captioner_fn, image, audio, temperature, 1)")
    passed("one caption per temperature")
