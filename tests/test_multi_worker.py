"""Tests of mmgen_lib.multi_worker: the same training in worker processes on localhost (lesson 13).

One test starts two real workers (two Python processes importing TensorFlow, a few seconds);
the others check the pieces around it without starting TensorFlow in a subprocess.
"""

import json
import socket
import subprocess
import sys

import numpy as np
import pytest

from mmgen_lib import multi_worker
from mmgen_lib.multi_worker import LOSS_TOLERANCE, Recipe, free_ports, run_workers, tf_config, train_losses

RECIPE = Recipe(hidden_units=8, learning_rate=3e-2, global_batch=32, epochs=3)


def _data(n=128, features=12):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, features)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)  # 3 classes, learnable
    return x, y


def test_tf_config_names_the_cluster_and_this_workers_task():
    config = tf_config(["localhost:2222", "localhost:2223"], 1)
    assert config == {
        "cluster": {"worker": ["localhost:2222", "localhost:2223"]},
        "task": {"type": "worker", "index": 1},
    }
    assert json.loads(json.dumps(config)) == config  # what goes into the TF_CONFIG variable
    assert tf_config(("10.0.0.1:5000",), np.int64(0))["task"]["index"] == 0


@pytest.mark.parametrize(
    ("addresses", "index", "error", "match"),
    [
        ("localhost:2222", 0, TypeError, "addresses must be a non-empty list"),
        ([], 0, TypeError, "addresses must be a non-empty list"),
        (["localhost"], 0, ValueError, "'host:port'"),
        (["localhost:0"], 0, ValueError, r"port in \[1, 65535\]"),
        ([":2222"], 0, ValueError, "'host:port'"),
        ([2222], 0, ValueError, "'host:port'"),
        (["localhost:2222", "localhost:2222"], 0, ValueError, "addresses must be distinct"),
        (["localhost:2222", "localhost:2223"], 2, ValueError, r"index must be an int in \[0, 1\]"),
        (["localhost:2222"], -1, ValueError, "index must be an int"),
        (["localhost:2222"], True, ValueError, "index must be an int"),
    ],
)
def test_tf_config_refuses_bad_addresses_and_indices(addresses, index, error, match):
    with pytest.raises(error, match=match):
        tf_config(addresses, index)


def test_free_ports_are_distinct_and_can_be_bound():
    ports = free_ports(3)
    assert len(set(ports)) == 3 and all(0 < port < 65536 for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("localhost", port))
    with pytest.raises(ValueError, match="n must be a positive int. Received: n=0"):
        free_ports(0)


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"hidden_units": 0}, "hidden_units must be a positive int"),
        ({"learning_rate": 0.0}, "learning_rate must be a number > 0"),
        ({"global_batch": 0}, "global_batch must be a positive int"),
        ({"epochs": 0}, "epochs must be a positive int. Received: epochs=0"),
        ({"epochs": 2.0}, "epochs must be a positive int"),
        ({"seed": -1}, "seed must be an int >= 0"),
    ],
)
def test_recipe_refuses_bad_settings(setting, match):
    with pytest.raises(ValueError, match=match):
        Recipe(**setting)


def test_bad_data_and_arguments_are_refused_before_any_worker_starts():
    x, y = _data()
    with pytest.raises(ValueError, match="workers must be a positive int. Received: workers=0"):
        run_workers(x, y, RECIPE, workers=0)
    with pytest.raises(ValueError, match="global_batch must be divisible by the number of workers"):
        run_workers(x, y, RECIPE, workers=3)
    with pytest.raises(ValueError, match="timeout must be a number > 0"):
        run_workers(x, y, RECIPE, timeout=0)
    with pytest.raises(TypeError, match="recipe must be a multi_worker.Recipe"):
        run_workers(x, y, {"epochs": 1})
    with pytest.raises(ValueError, match=r"x must be a 2-D array of numbers"):
        train_losses(x.ravel(), y, RECIPE)
    with pytest.raises(ValueError, match=r"y must hold one class id .* shape \(128,\)"):
        train_losses(x, y[:-1], RECIPE)
    with pytest.raises(ValueError, match="y must hold one class id"):
        train_losses(x, y.astype("float32"), RECIPE)
    with pytest.raises(ValueError, match="at least one global batch"):
        train_losses(x[:16], y[:16], RECIPE)
    with pytest.raises(TypeError, match="strategy must be a tf.distribute.Strategy or None"):
        train_losses(x, y, RECIPE, strategy="multi_worker")


def test_one_process_training_is_deterministic_and_learns():
    x, y = _data()
    first, second = train_losses(x, y, RECIPE), train_losses(x, y, RECIPE)
    assert len(first) == RECIPE.epochs
    assert first == second  # seeded initial weights, no shuffling
    assert first[-1] < 0.7 * first[0]


def test_the_tolerance_separates_rounding_from_a_wrong_global_batch():
    # A worker that stepped on its own half-batch instead of its share of the global one
    # trains like a run with half the global batch: far outside the tolerance.
    x, y = _data()
    half = Recipe(**{**RECIPE.__dict__, "global_batch": RECIPE.global_batch // 2})
    gap = np.max(np.abs(np.array(train_losses(x, y, RECIPE)) - train_losses(x, y, half)))
    assert gap > 100 * LOSS_TOLERANCE


def test_two_workers_on_localhost_train_like_one_process():
    x, y = _data()
    reference = train_losses(x, y, RECIPE)
    run = run_workers(x, y, RECIPE, workers=2, timeout=300)
    assert run.workers == 2 and run.replicas == 2  # each worker saw the whole cluster
    assert len(run.addresses) == 2 and all(a.startswith("localhost:") for a in run.addresses)
    for losses in run.losses:  # worker 0 (chief) and worker 1 report the same global loss
        assert len(losses) == RECIPE.epochs
        np.testing.assert_allclose(losses, reference, rtol=0, atol=LOSS_TOLERANCE)
    assert 0 < run.train_seconds < run.seconds and 0 < run.startup_seconds < run.seconds


def _sleeper(seconds):
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_a_failing_worker_stops_the_others_and_shows_its_output(tmp_path):
    logs = [tmp_path / "worker_0.log", tmp_path / "worker_1.log"]
    logs[1].write_text("starting\nValueError: the worker's own error\n")
    waiting, failing = _sleeper(60), subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match=r"worker 1 of 2 exited with code 3(.|\n)*the worker's own error"):
        multi_worker._wait([waiting, failing], logs, timeout=60)
    assert waiting.poll() is not None  # stopped, not left running


def test_workers_that_never_finish_are_stopped_after_the_timeout(tmp_path):
    logs = [tmp_path / "worker_0.log"]
    sleeper = _sleeper(60)
    with pytest.raises(TimeoutError, match=r"worker\(s\) \[0\] of 1 did not finish within 0.5 s(.|\n)*no output"):
        multi_worker._wait([sleeper], logs, timeout=0.5)
    assert sleeper.poll() is not None


def test_worker_command_explains_a_missing_tf_config_or_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert multi_worker.main(["worker", "--folder", str(tmp_path)]) == 2
    assert "set TF_CONFIG" in capsys.readouterr().err
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config(["localhost:2222"], 0)))
    assert multi_worker.main(["worker", "--folder", str(tmp_path)]) == 2
    assert "must hold data.npz and recipe.json" in capsys.readouterr().err
