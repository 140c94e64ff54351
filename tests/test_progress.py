"""mmgen_lib.progress: one compact line per epoch (or per fit), so no training cell is silent."""

import re

import keras
import numpy as np
import pytest

from mmgen_lib.progress import ProgressLine


def tiny_fit(callback, epochs=2, validation=True, metrics=None):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics)
    return model.fit(
        x,
        y,
        epochs=epochs,
        batch_size=32,
        verbose=0,
        validation_data=(x, y) if validation else None,
        callbacks=[callback],
    )


def test_one_line_per_epoch_with_the_history_values(capsys):
    history = tiny_fit(ProgressLine("tiny"), epochs=3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines):
        assert line.startswith(f"tiny · epoch {epoch + 1}/3 · loss {history.history['loss'][epoch]:.4g} · ")
        assert f"val_loss {history.history['val_loss'][epoch]:.4g}" in line
        assert re.search(r"· \d+\.\d s$", line), line


def test_every_kth_epoch_and_the_last(capsys):
    tiny_fit(ProgressLine("tiny", every=2), epochs=5)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" · ")[1] for line in lines] == ["epoch 2/5", "epoch 4/5", "epoch 5/5"]


def test_one_line_per_fit(capsys):
    history = tiny_fit(ProgressLine("tiny", per_epoch=False), epochs=3)
    (line,) = capsys.readouterr().out.splitlines()
    loss = history.history["loss"]
    assert line.startswith(f"tiny · 3 epochs · loss {loss[0]:.4g} → {loss[-1]:.4g} · val_loss ")
    assert re.search(r"· \d+\.\d s$", line), line


def test_chosen_keys_and_no_validation(capsys):
    history = tiny_fit(
        ProgressLine("tiny", keys=("loss", "accuracy")), epochs=1, validation=False, metrics=["accuracy"]
    )
    (line,) = capsys.readouterr().out.splitlines()
    assert f"accuracy {history.history['accuracy'][0]:.4g}" in line and "val_" not in line


def test_a_key_the_fit_does_not_log_is_refused():
    with pytest.raises(ValueError, match=r"'val_acuracy' is not among this fit's logs \(loss"):
        tiny_fit(ProgressLine("tiny", keys=("loss", "val_acuracy")), epochs=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"label": ""}, ValueError, "label"),
        ({"label": 3}, TypeError, "label"),
        ({"label": "x", "keys": "loss"}, TypeError, "keys"),
        ({"label": "x", "keys": ()}, ValueError, "keys"),
        ({"label": "x", "every": 0}, ValueError, "every"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        ProgressLine(**kwargs)
