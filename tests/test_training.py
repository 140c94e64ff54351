"""Tests of mmgen_lib.training: train_model with and without a tf.distribute strategy (lesson 13).

Splitting the CPU into logical devices must happen before TensorFlow runs any
operation, so the multi-device tests run in a fresh subprocess.
"""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from mmgen_lib.training import (
    build_before_fit,
    configure_cpu_devices,
    global_batch_size,
    make_strategy,
    restore_training_state,
    save_training_state,
    train_model,
)


def _data(n=128):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")).astype("float32")
    return x, y


def _build():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def test_train_model_default_strategy_learns():
    x, y = _data()
    model, history = train_model(_build, tf.data.Dataset.from_tensor_slices((x, y)).batch(32), epochs=5)
    assert isinstance(model, keras.Model)
    assert len(history.history["loss"]) == 5
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_train_model_accepts_arrays_and_validation():
    x, y = _data()
    _, history = train_model(_build, (x, y), validation=(x[:16], y[:16]), epochs=2)
    assert set(history.history) >= {"loss", "val_loss"}


def test_batch_size_sets_the_steps_per_epoch_for_arrays():
    x, y = _data()
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    steps = []
    train_model(_build, (x, y), epochs=1, batch_size=64, callbacks=[counter])
    assert len(steps) == 2  # 128 examples / 64


def test_steps_per_epoch_on_a_repeated_dataset_trains_like_one_pass_per_epoch():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # 4 batches
    _, per_pass = train_model(_build, ds, epochs=3)
    _, repeated = train_model(_build, ds.repeat(), epochs=3, steps_per_epoch=4)
    assert len(repeated.history["loss"]) == 3
    np.testing.assert_allclose(repeated.history["loss"], per_pass.history["loss"], rtol=1e-5)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        train_model(_build, ds, steps_per_epoch=0)


def test_same_seed_same_result():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    first = [w.numpy() for w in train_model(_build, ds, epochs=2)[0].weights]
    second = [w.numpy() for w in train_model(_build, ds, epochs=2)[0].weights]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_one_device_strategy_trains_like_default():
    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    plain = train_model(_build, ds, epochs=2)[0]
    placed = train_model(_build, ds, epochs=2, strategy=make_strategy("one_device", ["/cpu:0"]))[0]
    for a, b in zip(plain.weights, placed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_global_batch_size_default_is_per_replica():
    assert global_batch_size(32) == 32
    with pytest.raises(ValueError, match="per_replica must be a positive int"):
        global_batch_size(0)


def test_bad_arguments_raise():
    x, y = _data()
    with pytest.raises(TypeError, match="build_fn must be a function"):
        train_model(None, (x, y))
    with pytest.raises(TypeError, match="build_fn must return a keras.Model"):
        train_model(lambda: "model", (x, y))
    uncompiled = lambda: keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])  # noqa: E731
    with pytest.raises(ValueError, match="build_fn must compile the model"):
        train_model(uncompiled, (x, y))
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train_model(_build, (x, y), epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int or None"):
        train_model(_build, (x, y), batch_size=0)
    with pytest.raises(ValueError, match="a tf.data.Dataset is already batched"):
        train_model(_build, tf.data.Dataset.from_tensor_slices((x, y)).batch(8), batch_size=8)
    with pytest.raises(TypeError, match="strategy must be a tf.distribute.Strategy"):
        train_model(_build, (x, y), strategy="mirrored")
    with pytest.raises(TypeError, match="train must be a tf.data.Dataset or a tuple"):
        train_model(_build, [x, y])
    with pytest.raises(ValueError, match="kind must be one of"):
        make_strategy("tpu")
    with pytest.raises(TypeError, match="devices must be a list"):
        make_strategy("mirrored", devices="/cpu:0")
    with pytest.raises(ValueError, match="n must be a positive int"):
        configure_cpu_devices(0)


def test_configure_cpu_devices_after_start_explains_restart():
    tf.constant(1.0)  # TensorFlow is initialised in this process by now
    n = len(tf.config.list_logical_devices("CPU"))
    assert configure_cpu_devices(n) == [d.name for d in tf.config.list_logical_devices("CPU")]
    with pytest.raises(RuntimeError, match="restart the kernel"):
        configure_cpu_devices(n + 1)


MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    from mmgen_lib.training import configure_cpu_devices, global_batch_size, make_strategy, train_model
    devices = configure_cpu_devices(2)
    import keras, numpy as np, tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")).astype("float32")

    def build():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        return model

    strategy = make_strategy("mirrored")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(global_batch_size(16, strategy))
    mirrored, history = train_model(build, ds, epochs=3, strategy=strategy)
    plain, _ = train_model(build, ds, epochs=3)
    print(json.dumps({
        "devices": devices,
        "replicas": strategy.num_replicas_in_sync,
        "global_batch": global_batch_size(16, strategy),
        "variable_type": type(mirrored.weights[0].value).__name__,
        "losses": history.history["loss"],
        "max_weight_difference": max(float(np.abs(a.numpy() - b.numpy()).max())
                                     for a, b in zip(mirrored.weights, plain.weights)),
    }))
""")


def test_mirrored_strategy_over_two_logical_cpus_trains():
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    assert report["replicas"] == 2
    assert report["global_batch"] == 32
    assert report["variable_type"] == "MirroredVariable"
    assert report["losses"][-1] < 0.5 * report["losses"][0]
    # Synchronous data parallelism computes the same update as one device on the global batch.
    assert report["max_weight_difference"] < 1e-5


def _three_heads(metrics=True):
    keras.utils.set_random_seed(5)
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {name: keras.layers.Dense(3, name=name)(hidden) for name in ("a", "b", "c")})
    model.compile(
        keras.optimizers.Adam(1e-2),
        loss={name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in "abc"},
        metrics={name: ["accuracy"] for name in "abc"} if metrics else None,
    )
    return model


def _fit_counting_traces(model, x, y):
    traced, train_step = [], model.train_step

    def counted(data):
        traced.append(1)  # runs only while TensorFlow traces the step
        return train_step(data)

    model.train_step = counted
    batch_size = None if isinstance(x, tf.data.Dataset) else 32
    history = model.fit(x, y, batch_size=batch_size, epochs=2, shuffle=False, verbose=0)
    return len(traced), history.history


@pytest.mark.parametrize("metrics", [True, False])
def test_build_before_fit_makes_fit_trace_its_step_once_with_the_same_result(metrics):
    x, _ = _data(100)  # 100 = 3 batches of 32 + 4: the short last batch must not cost a trace either
    y = {name: (np.arange(100) + k) % 3 for k, name in enumerate("abc")}
    plain_traces, plain = _fit_counting_traces(_three_heads(metrics), x, y)
    model = _three_heads(metrics)
    build_before_fit(model, x, y)
    assert model.optimizer.iterations.numpy() == 0 and len(model.optimizer.variables) > 1  # Adam's slots, no step
    traces, history = _fit_counting_traces(model, x, y)
    assert traces == 1 and plain_traces >= traces  # Keras 3 traced twice here: its per-output loss trackers
    assert history.keys() == plain.keys()
    for name, values in plain.items():
        np.testing.assert_allclose(history[name], values, rtol=1e-6, err_msg=name)


def test_restored_training_state_repeats_a_run_exactly_without_a_new_trace():
    x, _ = _data(100)
    y = {name: (np.arange(100) + k) % 3 for k, name in enumerate("abc")}
    model = _three_heads(True)
    build_before_fit(model, x, y)
    start = save_training_state(model)  # weights, Adam's step count and moments
    traced, train_step = [], model.train_step
    model.train_step = lambda data: (traced.append(1), train_step(data))[1]  # counts traces
    first = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    assert model.optimizer.iterations.numpy() > 0
    restore_training_state(model, start)
    assert model.optimizer.iterations.numpy() == 0
    for variable, value in zip(model.variables + model.optimizer.variables, start):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)
    again = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    assert len(traced) == 1  # the second run reuses the first run's traced step
    for name, values in first.items():
        np.testing.assert_allclose(again[name], values, rtol=1e-6, err_msg=name)


def test_training_state_refuses_a_model_without_optimizer_state_or_another_models_state():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compile the model"):
        save_training_state(model)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="optimizer has no state yet"):
        save_training_state(model)
    build_before_fit(model, np.zeros((2, 4), "float32"), np.zeros((2, 1), "float32"))
    start = save_training_state(model)
    assert len(start) == 8  # kernel, bias; Adam: step count, learning rate, two moments per weight
    with pytest.raises(ValueError, match=r"holds 7 arrays; the model and its optimizer have 8 variables"):
        restore_training_state(model, start[:7])
    with pytest.raises(ValueError, match=r"array 1 has shape \(2,\); the variable .* has shape \(1,\)"):
        restore_training_state(model, [start[0], np.zeros(2, "float32"), *start[2:]])
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        save_training_state("model")


def test_build_before_fit_refuses_a_model_that_is_not_compiled():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compile the model before build_before_fit"):
        build_before_fit(model, np.zeros((2, 4), "float32"), np.zeros((2, 1), "float32"))
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        build_before_fit("model", np.zeros((2, 4)), np.zeros((2, 1)))


def test_build_before_fit_builds_an_uncalled_model_that_needs_no_targets():
    from mmgen_lib.dual_encoder import DualEncoder
    from mmgen_lib.encoders import AudioEncoder, ImageEncoder

    rng = np.random.default_rng(0)
    x = {"audio": rng.random((100, 28, 40)).astype("float32"), "image": rng.random((100, 32, 32, 3)).astype("float32")}
    runs = []
    for build_first in (False, True):
        keras.utils.set_random_seed(0)
        model = DualEncoder(
            AudioEncoder(filters=(4, 8), output_dim=8),
            ImageEncoder(filters=(4, 4, 4), output_dim=8, residual=False),
            modalities=("audio", "image"),
            embed_dim=8,
            temperature=0.1,
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        if build_first:
            build_before_fit(model, x, None)  # the model has no weights yet: the call creates them, then the slots
        runs.append(_fit_counting_traces(model, tf.data.Dataset.from_tensor_slices(x).batch(32), None))
    (plain_traces, plain), (traces, history) = runs
    assert traces == 1 and plain_traces >= traces
    np.testing.assert_allclose(history["loss"], plain["loss"], rtol=1e-6)
