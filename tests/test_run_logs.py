"""TensorBoard run folders: fresh per run, inside the working copy, and their scalars read back as logged."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from mmgen_lib import run_logs
from mmgen_lib.utils import repo_root, set_seed

EPOCHS = 3


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny classifier fitted with the TensorBoard callback: (run folder, History)."""
    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    run_dir = run_logs.new_run_dir("tiny", root=tmp_path_factory.mktemp("runs"))
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=16,
        verbose=0,
        validation_data=(x[:32], y[:32]),
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(run_dir))],
    )
    return run_dir, history


def test_keras_writes_train_and_validation_folders_with_epoch_tags(fitted):
    run_dir, _ = fitted
    scalars = run_logs.read_scalars(run_dir)
    assert set(scalars) == {"train", "validation"}
    for folder in ("train", "validation"):
        assert {"epoch_loss", "epoch_accuracy"} <= set(scalars[folder])
        steps, values = scalars[folder]["epoch_loss"]
        np.testing.assert_array_equal(steps, np.arange(EPOCHS))
        assert values.dtype == np.float64 and values.shape == (EPOCHS,)


def test_only_numeric_scalars_are_read(fitted):
    run_dir, _ = fitted
    tags = {tag for series in run_logs.read_scalars(run_dir).values() for tag in series}
    assert "keras" not in tags  # the model's config, a string tensor, is not a scalar


def test_values_read_back_equal_the_history_per_epoch(fitted):
    run_dir, history = fitted
    logged = run_logs.as_history(run_logs.read_scalars(run_dir))
    assert set(history.history) <= set(logged)
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(logged[name], history.history[name], rtol=1e-6, err_msg=name)


def test_series_unpacks_and_names_its_fields(fitted):
    run_dir, _ = fitted
    series = run_logs.read_scalars(run_dir)["train"]["epoch_loss"]
    steps, values = series
    assert steps is series.steps and values is series.values


def test_tags_select_series_and_an_unknown_tag_is_refused(fitted):
    run_dir, _ = fitted
    scalars = run_logs.read_scalars(run_dir, tags=["epoch_loss"])
    assert {folder: list(series) for folder, series in scalars.items()} == {
        "train": ["epoch_loss"],
        "validation": ["epoch_loss"],
    }
    with pytest.raises(ValueError, match=r"no scalar 'epoch_los'.*epoch_loss"):
        run_logs.read_scalars(run_dir, tags=["epoch_los"])
    for bad in ("epoch_loss", ["epoch_loss", 3], 3):
        with pytest.raises(ValueError, match="tags must be"):
            run_logs.read_scalars(run_dir, tags=bad)


def test_any_tf_summary_writer_is_read_and_only_numeric_scalars_kept(tmp_path):
    import tensorflow as tf

    with tf.summary.create_file_writer(str(tmp_path)).as_default():
        for step, value in enumerate([0.5, 0.25, 0.125]):
            tf.summary.scalar("custom/loss", value, step=10 * step)
        tf.summary.text("notes", "not a number", step=0)
        tf.summary.histogram("weights", [1.0, 2.0, 3.0], step=0)
    scalars = run_logs.read_scalars(tmp_path)
    assert list(scalars) == ["."] and list(scalars["."]) == ["custom/loss"]
    steps, values = scalars["."]["custom/loss"]
    np.testing.assert_array_equal(steps, [0, 10, 20])
    np.testing.assert_array_equal(values, [0.5, 0.25, 0.125])
    selected = run_logs.read_scalars(tmp_path, tags=(tag for tag in ["custom/loss"]))
    assert list(selected["."]) == ["custom/loss"]


def test_missing_folder_and_folder_without_event_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no run folder"):
        run_logs.read_scalars(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="no run folder"):
        run_logs.read_scalars(tmp_path / "file.txt")
    (tmp_path / "train").mkdir()
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        run_logs.read_scalars(tmp_path)


def test_as_history_needs_epoch_series():
    with pytest.raises(ValueError, match="no epoch_"):
        run_logs.as_history({"train": {"batch_loss": run_logs.Series(np.arange(2), np.ones(2))}})


def test_new_run_dirs_are_fresh_and_never_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(run_logs, "_timestamp", lambda: "20260101-120000")
    first = run_logs.new_run_dir("04_audio_encoder", root=tmp_path)
    (first / "train").mkdir()
    (first / "train" / "events.out.tfevents.1").write_bytes(b"old run")
    later = [run_logs.new_run_dir("04_audio_encoder", root=tmp_path) for _ in range(2)]
    assert [path.name for path in [first, *later]] == ["20260101-120000", "20260101-120000-2", "20260101-120000-3"]
    assert all(path.parent == tmp_path / "04_audio_encoder" and path.is_dir() for path in later)
    assert all(not any(path.iterdir()) for path in later)
    assert (first / "train" / "events.out.tfevents.1").read_bytes() == b"old run"  # untouched


def test_new_run_dirs_without_a_stub_are_distinct(tmp_path):
    paths = {run_logs.new_run_dir("lesson", root=tmp_path) for _ in range(3)}
    assert len(paths) == 3


@pytest.mark.parametrize("name", ["", "  ", ".", "..", "../up", "a/b", "a\\b", None, 4])
def test_bad_run_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="name must be"):
        run_logs.new_run_dir(name, root=tmp_path)
    assert not any(tmp_path.iterdir())


def test_runs_live_in_the_working_copy_and_are_git_ignored():
    assert run_logs.runs_root() == repo_root() / "runs"
    ignored = (repo_root() / ".gitignore").read_text().splitlines()
    assert "/runs/" in ignored


def test_runs_root_is_refused_outside_a_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(run_logs, "repo_root", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match="root="):
        run_logs.runs_root()
    with pytest.raises(FileNotFoundError, match="root="):
        run_logs.new_run_dir("lesson")
    assert not any(tmp_path.iterdir())
