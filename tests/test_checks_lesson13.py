"""The lesson 13 exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest
import tensorflow as tf
from test_checks import Answers, answer_cases, judge

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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda folder: _write(folder), "returned None"),
        (lambda folder: (_write(folder, texts=False), load_own_data(folder))[1], "caption file with the same name"),
        (
            lambda folder: (_write(folder, captions=("a red square", "")), load_own_data(folder))[1],
            "caption of b.png is empty",
        ),
        (lambda folder: (_write(folder, names=("a",)), load_own_data(folder))[1], "1 example"),
        (lambda folder: (_write(folder), load_own_data(folder).images)[1], "should return what load_own_data returns"),
    ],
)
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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda m, x, y, n: _replica_gradients(m, x, y, n, reduce=np.sum), "summed over the replicas"),
        (lambda m, x, y, n: _replica_gradients(m, x, y, n, shards=1), "differs from the full-batch gradient"),
        (lambda m, x, y, n: _replica_gradients(m, x, y, n)[:2], "got 2 gradients for 4"),
        (lambda m, x, y, n: None, "returned None"),
    ],
)
def test_replica_gradients_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_replica_gradients(wrong)


def test_caption_at_temperatures_reference_passes(capsys):
    check_caption_at_temperatures(
        lambda fn, image, audio, temperatures: {t: widgets.describe(fn, image, audio, t, 1) for t in temperatures}
    )
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda fn, image, audio, ts: [widgets.describe(fn, image, audio, t, 1) for t in ts], "should return a dict"),
        (lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, 0.0, 1) for t in ts}, "own temperature"),
        (lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, t, 3) for t in ts}, "beam width of 1"),
        (lambda fn, image, audio, ts: {str(t): "x" for t in ts}, "should be the temperatures"),
    ],
)
def test_caption_at_temperatures_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_caption_at_temperatures(wrong)


def folder_with_pil(folder):
    from PIL import Image

    Image.new("RGB", (16, 16), (0, 200, 0)).save(folder / "a.png")
    Image.new("RGB", (40, 24), (250, 250, 0)).save(folder / "b.png")
    (folder / "a.txt").write_text("a green square")
    (folder / "b.txt").write_text("a yellow rectangle")
    return load_own_data(folder)


def tape_over_shards(model, x, y, n_replicas):
    size = len(x) // n_replicas
    total = None
    for r in range(n_replicas):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x[r * size : (r + 1) * size]) - y[r * size : (r + 1) * size]))
        grads = tape.gradient(loss, model.trainable_weights)
        total = grads if total is None else [t + g for t, g in zip(total, grads)]
    return tuple(t / n_replicas for t in total)  # tensors in a tuple


def describe_all(fn, image, audio, temperatures):
    captions = {}
    for t in temperatures:
        captions[t] = widgets.describe(fn, image, audio, temperature=t, beam_width=1)
    return captions


ANSWERS = {
    "check_own_folder": Answers(
        run=check_own_folder,
        right=lambda folder: (_write(folder), load_own_data(folder))[1],
        alternative=folder_with_pil,
        constant=lambda folder: 2,
        wrong_type=lambda folder: {"a.png": "a red square", "b.png": "a blue square"},
        wrong_type_message="should return what load_own_data returns",
        wrong=(
            (lambda folder: (_write(folder, texts=False), load_own_data(folder))[1], "caption file"),
            (lambda folder: (_write(folder), load_own_data(folder).images)[1], "but it returned an array"),
            (lambda folder: (_write(folder), open(folder / "missing.txt"))[1], "raised FileNotFoundError|failed"),
        ),
    ),
    "check_replica_gradients": Answers(
        run=check_replica_gradients,
        right=_replica_gradients,
        alternative=tape_over_shards,
        constant=lambda m, x, y, n: [np.zeros((3, 4)), np.zeros(4), np.zeros((4, 1)), np.zeros(1)],
        wrong_type=lambda m, x, y, n: {w.name: g for w, g in zip(m.trainable_weights, _replica_gradients(m, x, y, n))},
        wrong=(
            (lambda m, x, y, n: _replica_gradients(m, x, y, n, reduce=np.sum), "summed over the replicas"),
            (lambda m, x, y, n: _replica_gradients(m, x, y, n, shards=1), "differs from the full-batch"),
            (
                lambda m, x, y, n: np.concatenate([g.ravel() for g in _replica_gradients(m, x, y, n)]),
                "list of gradients",
            ),
        ),
    ),
    "check_caption_at_temperatures": Answers(
        run=check_caption_at_temperatures,
        right=lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, t, 1) for t in ts},
        alternative=describe_all,
        constant=lambda fn, image, audio, ts: {0.0: "caption at 0.00", 0.5: "caption at 0.50", 2.0: "caption at 2.00"},
        wrong_type=lambda fn, image, audio, ts: [(t, widgets.describe(fn, image, audio, t, 1)) for t in ts],
        wrong=(
            (
                lambda fn, image, audio, ts: {str(t): widgets.describe(fn, image, audio, t, 1) for t in ts},
                "keys .* should be the temperatures",
            ),
            (
                lambda fn, image, audio, ts: {**{t: widgets.describe(fn, image, audio, t, 1) for t in ts}, "x": "y"},
                "keys",
            ),
            (
                lambda fn, image, audio, ts: {t: widgets.describe(fn, image, audio, 0.0, 1) for t in ts},
                "own temperature",
            ),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
