"""Plot helpers return figures with titles and labels, and reject malformed input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mmgen_lib import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_show_images_grid_and_titles():
    fig = viz.show_images(np.zeros((5, 32, 32, 3), np.uint8), titles=list("abcde"), ncols=3, title="grid")
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "a"


def test_plot_history_has_train_and_validation():
    fig = viz.plot_history({"loss": [2, 1], "val_loss": [2.5, 1.5]})
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "validation"]
    assert fig.axes[0].get_xlabel() == "epoch"


def test_plot_confusion_counts():
    fig = viz.plot_confusion([0, 1, 1], [0, 1, 0], ["a", "b"])
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["0", "1", "1", "1"]


def test_plot_grouped_bars_with_chance():
    fig = viz.plot_grouped_bars({"m1": [0.5, 1.0], "m2": [0.9, 0.2]}, ["x", "y"], "t", chance=[0.5, 0.25])
    assert fig.axes[0].get_title() == "t" and len(fig.axes[0].patches) == 4


def test_plot_spectrogram_axes():
    fig = viz.plot_spectrogram(np.zeros((28, 40)))
    assert fig.axes[0].get_xlabel() == "time (s)"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: viz.show_images(np.zeros((32, 32, 3))), "must be \\(n, height, width"),
        (lambda: viz.show_images(np.zeros((2, 8, 8, 3)), titles=["a"]), "1 titles for 2 images"),
        (lambda: viz.plot_history({"loss": [1]}, metrics=("acc",)), "has no \\['acc'\\]"),
        (lambda: viz.plot_confusion([0, 1], [0], ["a", "b"]), "same shape"),
        (lambda: viz.plot_grouped_bars({"m": [1]}, ["x", "y"], "t"), "1 values for 2 groups"),
        (lambda: viz.plot_spectrogram(np.zeros(5)), "must be \\(frames, bins\\)"),
    ],
)
def test_bad_inputs_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
