"""The lesson 13 exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest
import tensorflow as tf

from mmgen_lib import widgets
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson13 import check_caption_at_temperatures, check_own_folder, check_replica_gradients
from mmgen_lib.own_data import load_own_data


def _write(folder, names=("a", "b"), captions=("a red square", "a blue square"), texts=True):
    colors = ((255, 0, 0), (0, 0, 255))
    for name, color, caption in zip(names, colors, captions):
        image = np.zeros((20, 30, 3), np.uint8) + np.array(color, np.uint8)
        (folder / f"{name}.png").write_bytes(tf.io.encode_png(image).numpy())
        if texts:
            (folder / f"{name}.txt").write_text(caption)


def test_own_folder_reference_passes(capsys):
    def make_folder(folder):
        _write(folder)
        return load_own_data(folder)

    check_own_folder(make_folder)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda folder: _write(folder), "returned None"),
    (lambda folder: (_write(folder, texts=False), load_own_data(folder))[1], "caption file with the same name"),
    (lambda folder: (_write(folder, captions=("a red square", "")), load_own_data(folder))[1], "caption of b.png is empty"),
    (lambda folder: (_write(folder, names=("a",)), load_own_data(folder))[1], "1 example"),
    (lambda folder: (_write(folder), load_own_data(folder).images)[1], "should return what load_own_data returns"),
])
def test_own_folder_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_own_folder(wrong)


def _replica_gradients(model, x, y, n_replicas, reduce=np.mean, shards=None):
    per_replica = []
    for x_shard, y_shard in list(zip(np.split(x, n_replicas), np.split(y, n_replicas)))[:shards]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x_shard) - y_shard))
        per_replica.append(tape.gradient(loss, model.trainable_weights))
    return [reduce([g[k] for g in per_replica], axis=0) for k in range(len(model.trainable_weights))]


def test_replica_gradients_reference_passes(capsys):
    check_replica_gradients(_replica_gradients)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda m, x, y, n: _replica_gradients(m, x, y, n, reduce=np.sum), "summed over the replicas"),
    (lambda m, x, y, n: _replica_gradients(m, x, y, n, shards=1), "differs from the full-batch gradient"),
    (lambda m, x, y, n: _replica_gradients(m, x, y, n)[:2], "got 2 gradients for 4"),
    (lambda m, x, y, n: None, "returned None"),
])
def test_replica_gradients_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_replica_gradients(wrong)


def test_caption_at_temperatures_reference_passes(capsys):
    check_caption_at_temperatures(lambda fn, image, audio, temperatures: {
        t: widgets.describe(fn, image, audio, t, 1) for t in temperatures})
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda fn, image, audio, ts: [widgets.describe(fn, image, audio, t, 1) for t in ts], "should be a dict"),
    (lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, 0.0, 1) for t in ts}, "own temperature"),
    (lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, t, 3) for t in ts}, "beam width of 1"),
    (lambda fn, image, audio, ts: {str(t): "x" for t in ts}, "keys should be the temperatures"),
])
def test_caption_at_temperatures_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_caption_at_temperatures(wrong)
