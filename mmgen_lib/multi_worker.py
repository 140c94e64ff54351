"""The same training in N worker processes under ``MultiWorkerMirroredStrategy`` (lesson 13).

``MirroredStrategy`` (``mmgen_lib.training``) keeps its replicas inside one process. Across
machines, each machine runs one *worker* process with the same program, and the workers find
each other through the ``TF_CONFIG`` environment variable, one per worker::

    {"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", "index": 1}}

``tf.distribute.MultiWorkerMirroredStrategy()`` reads it, connects the workers over gRPC and,
after every step, all-reduces the gradients across the processes with collective ops. Worker 0
is the *chief*, the one that would write checkpoints. This module rehearses that on one
machine, with the workers on localhost ports::

    reference = train_losses(x, y, Recipe())        # one process, the default strategy
    run = run_workers(x, y, Recipe(), workers=2)    # two processes, one replica each
    run.losses[0]                                   # the chief's per-epoch losses, ~ reference

Every worker sees the same global batches as the single process (each gets its half of every
batch), so both compute the same updates up to floating-point rounding. The training loop is
written with ``strategy.run`` rather than ``model.fit``: with Keras 3.15.1 and TensorFlow 2.21,
``fit`` under ``MultiWorkerMirroredStrategy`` stops in Keras' symbolic build ("Attempt to
convert a value (PerReplica...)").

Each worker is this module's command line, which is also what every machine of a real cluster
would run (with its own ``TF_CONFIG``, and ``--folder`` on a shared filesystem)::

    TF_CONFIG='{...}' python -m mmgen_lib.multi_worker worker --folder DIR
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from mmgen_lib import validation

__all__ = [
    "Recipe",
    "MultiWorkerRun",
    "free_ports",
    "tf_config",
    "build_classifier",
    "train_losses",
    "run_workers",
    "LOSS_TOLERANCE",
]

# Largest per-epoch loss difference accepted between N workers and one process. Both sum the
# same float32 gradients in another order (relative rounding ~1e-7 per addition, growing a
# little over the steps); a real mistake (a worker training on the whole batch, unsharded data,
# gradients not all-reduced) changes the losses by 1e-2 or more (tests/test_multi_worker.py).
LOSS_TOLERANCE = 1e-4

DATA_FILE, RECIPE_FILE = "data.npz", "recipe.json"
REPO = Path(__file__).resolve().parent.parent  # the folder holding mmgen_lib: the workers import this copy


@dataclass(frozen=True)
class Recipe:
    """The small classifier and how it trains (lesson 13): Dense(hidden, relu) -> Dense(classes), Adam.

    Attributes:
        hidden_units: width of the hidden layer.
        learning_rate: Adam's step size.
        global_batch: examples per step over all workers; each of N workers gets ``global_batch / N``.
        epochs: passes over the data (a last partial batch is dropped, so all workers step together).
        seed: seeds the initial weights: every worker starts from the same ones.
    """

    hidden_units: int = 32
    learning_rate: float = 3e-4
    global_batch: int = 64
    epochs: int = 5
    seed: int = 0

    def __post_init__(self):
        validation.positive_int(self.hidden_units, "hidden_units")
        validation.number(self.learning_rate, "learning_rate", minimum=0, include_minimum=False)
        validation.positive_int(self.global_batch, "global_batch")
        validation.positive_int(self.epochs, "epochs")
        validation.integer(self.seed, "seed", minimum=0)


@dataclass(frozen=True)
class MultiWorkerRun:
    """What :func:`run_workers` measured (lesson 13).

    Attributes:
        losses: per worker (worker 0 = chief first), the per-epoch training losses.
        replicas: ``num_replicas_in_sync`` as every worker saw it (one replica per worker here).
        addresses: the workers' ``host:port``, in ``TF_CONFIG`` order.
        startup_seconds: from launch until the last worker had imported TensorFlow and created its strategy.
        train_seconds: the slowest worker's training time.
        seconds: wall time of the whole run.
    """

    losses: tuple[tuple[float, ...], ...]
    replicas: int
    addresses: tuple[str, ...]
    startup_seconds: float
    train_seconds: float
    seconds: float

    @property
    def workers(self) -> int:
        return len(self.losses)


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports that are free on localhost right now (lesson 13).

    The sockets are all held open until every port is chosen, so the ports differ; another
    program could still take one before a worker binds it (the workers then fail to connect).
    """
    n = validation.positive_int(n, "n")
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))  # port 0: the system picks a free one
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(addresses, index: int) -> dict:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers at ``addresses`` (lesson 13).

    Args:
        addresses: every worker's ``"host:port"``, in the same order on every machine.
        index: this worker's position in ``addresses``; worker 0 is the chief.

    Returns:
        ``{"cluster": {"worker": [...]}, "task": {"type": "worker", "index": index}}``, to be
        JSON-encoded into the worker's ``TF_CONFIG`` environment variable.

    >>> tf_config(["localhost:12345", "localhost:12346"], 1)
    {'cluster': {'worker': ['localhost:12345', 'localhost:12346']}, 'task': {'type': 'worker', 'index': 1}}
    """
    if isinstance(addresses, (str, bytes)) or not isinstance(addresses, (list, tuple)) or not addresses:
        raise TypeError(
            f"addresses must be a non-empty list of 'host:port' strings, one per worker. Received: addresses={addresses!r}"
        )
    for address in addresses:
        host, _, port = address.rpartition(":") if isinstance(address, str) else ("", "", "")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"each address must be 'host:port' with a port in [1, 65535]. Received: {address!r}")
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"addresses must be distinct (one port per worker). Received: addresses={addresses!r}")
    index = validation.integer(index, "index", minimum=0, maximum=len(addresses) - 1)
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def _check_data(x, y, recipe: Recipe, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(n, features) float32 and (n,) int32 class ids, refused with a clear message otherwise."""
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a multi_worker.Recipe. Received: {type(recipe).__name__}")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"x must be a 2-D array of numbers (examples, features). Received: shape {x.shape}, {x.dtype}")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer) or (len(y) and y.min() < 0):
        raise ValueError(
            f"y must hold one class id (an int >= 0) per row of x, shape ({len(x)},). Received: shape {y.shape}, {y.dtype}"
        )
    if recipe.global_batch % workers:
        raise ValueError(
            f"global_batch must be divisible by the number of workers, so that every worker gets the same share. "
            f"Received: global_batch={recipe.global_batch}, workers={workers}"
        )
    if len(x) < recipe.global_batch:
        raise ValueError(f"x must hold at least one global batch ({recipe.global_batch} examples). Received: {len(x)}")
    return x.astype(np.float32), y.astype(np.int32)


def build_classifier(input_dim: int, num_classes: int, recipe: Recipe):
    """The Dense classifier of ``recipe``, with seeded initial weights (logits out) (lesson 13)."""
    import keras

    seed = recipe.seed
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(
                recipe.hidden_units, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
            ),
            keras.layers.Dense(num_classes, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
        ]
    )


def train_losses(x, y, recipe: Recipe = Recipe(), strategy=None) -> list[float]:
    """Train :func:`build_classifier` on ``(x, y)`` under ``strategy``; the per-epoch mean losses (lesson 13).

    The same function trains one process (``strategy=None``: the default strategy) and each
    worker of :func:`run_workers` (a ``MultiWorkerMirroredStrategy``): the model and optimizer
    are created inside ``strategy.scope()``, each global batch is split into one shard per
    replica, and each replica's loss is its examples' loss summed and divided by the *global*
    batch, so that the all-reduced (summed) gradients are those of the global batch's mean loss.

    Args:
        x: (n, features) numbers; y: (n,) class ids >= 0.
        recipe: the :class:`Recipe`.
        strategy: a ``tf.distribute.Strategy``, or None for the default.

    Returns:
        ``recipe.epochs`` floats: the mean over each epoch's steps of the global batch's loss.
    """
    x, y = _check_data(x, y, recipe)
    import keras
    import tensorflow as tf

    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(f"strategy must be a tf.distribute.Strategy or None. Received: {type(strategy).__name__}")
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_classifier(x.shape[1], int(y.max()) + 1, recipe)
        optimizer = keras.optimizers.Adam(recipe.learning_rate)
        optimizer.build(model.trainable_weights)
    per_example_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    options = tf.data.Options()
    # DATA: every worker reads the same batches and keeps its own share of each; the default
    # (AUTO) would try to shard by file first and log that it cannot.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(recipe.global_batch, drop_remainder=True)
    # One iterator for the whole run: a distributed iterator costs tenths of a second to create.
    batches = iter(strategy.experimental_distribute_dataset(dataset.repeat().with_options(options)))
    steps_per_epoch = len(x) // recipe.global_batch

    def replica_step(x_shard, y_shard):  # (global_batch / replicas, features), (global_batch / replicas,)
        with tf.GradientTape() as tape:
            per_example = per_example_loss(y_shard, model(x_shard, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=recipe.global_batch)
        optimizer.apply(tape.gradient(loss, model.trainable_weights), model.trainable_weights)  # all-reduce, update
        return loss

    @tf.function
    def step(x_batch, y_batch):
        return strategy.reduce("SUM", strategy.run(replica_step, args=(x_batch, y_batch)), axis=None)

    return [float(np.mean([float(step(*next(batches))) for _ in range(steps_per_epoch)])) for _ in range(recipe.epochs)]


def _worker_env(addresses, index: int, folder: Path) -> dict:
    """The worker's environment: its TF_CONFIG, CPU only, quiet, and nothing written outside ``folder``."""
    return {
        **os.environ,
        "TF_CONFIG": json.dumps(tf_config(addresses, index)),
        "CUDA_VISIBLE_DEVICES": "",  # CPU only, as in the lessons
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "KERAS_BACKEND": "tensorflow",
        "KERAS_HOME": str(folder),  # where Keras would create its keras.json
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _wait(processes, logs, timeout: float) -> None:
    """Wait for every worker; on a failure or after ``timeout`` s, stop them all and say why."""
    deadline = time.monotonic() + timeout
    while True:
        codes = [process.poll() for process in processes]
        failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            _stop(processes)
            i = failed[0]
            raise RuntimeError(
                f"worker {i} of {len(processes)} exited with code {codes[i]}, so the others were stopped. "
                f"The end of its output:\n{_tail(logs[i])}"
            )
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            _stop(processes)
            waiting = [i for i, code in enumerate(codes) if code is None]
            raise TimeoutError(
                f"worker(s) {waiting} of {len(processes)} did not finish within {timeout:g} s and were stopped "
                "(a worker waits for every peer: a port taken by another program, or a slow machine, keeps it "
                f"waiting). The end of worker {waiting[0]}'s output:\n{_tail(logs[waiting[0]])}"
            )
        time.sleep(0.05)


def _stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_workers(x, y, recipe: Recipe = Recipe(), workers: int = 2, timeout: float = 180.0) -> MultiWorkerRun:
    """Train the same classifier in ``workers`` processes on localhost, one replica each (lesson 13).

    Writes ``(x, y)`` and ``recipe`` to a temporary folder, starts ``workers`` processes
    (``python -m mmgen_lib.multi_worker worker``), each with its own ``TF_CONFIG`` on free
    localhost ports, waits for them, reads each worker's result and deletes the folder.

    Args:
        x: (n, features) numbers; y: (n,) class ids >= 0; at least one global batch.
        recipe: the :class:`Recipe`; its ``global_batch`` must be divisible by ``workers``.
        workers: number of worker processes, >= 1.
        timeout: seconds to wait before stopping the workers.

    Returns:
        a :class:`MultiWorkerRun`.

    Raises:
        RuntimeError: a worker failed (the message ends with its last lines of output).
        TimeoutError: the workers did not finish in time.
    """
    workers = validation.positive_int(workers, "workers")
    x, y = _check_data(x, y, recipe, workers)
    timeout = validation.number(timeout, "timeout", minimum=0, include_minimum=False)
    addresses = [f"localhost:{port}" for port in free_ports(workers)]
    with tempfile.TemporaryDirectory(prefix="mmgen_multi_worker_") as name:
        folder = Path(name)
        np.savez(folder / DATA_FILE, x=x, y=y)
        (folder / RECIPE_FILE).write_text(json.dumps(asdict(recipe)))
        command = [sys.executable, "-m", "mmgen_lib.multi_worker", "worker", "--folder", str(folder)]
        logs = [folder / f"worker_{index}.log" for index in range(workers)]
        start, processes = time.time(), []
        try:
            for index, log in enumerate(logs):
                with log.open("w") as output:  # the worker keeps its own handle on the file
                    processes.append(
                        subprocess.Popen(
                            command,
                            env=_worker_env(addresses, index, folder),
                            cwd=folder,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                        )
                    )
            _wait(processes, logs, timeout)
        finally:
            _stop(processes)  # also when the caller interrupts (Ctrl-C, a stopped kernel)
        seconds = time.time() - start
        results = [json.loads((folder / f"worker_{index}.json").read_text()) for index in range(workers)]
    return MultiWorkerRun(
        losses=tuple(tuple(result["losses"]) for result in results),
        replicas=results[0]["replicas"],
        addresses=tuple(addresses),
        startup_seconds=max(result["ready"] for result in results) - start,
        train_seconds=max(result["done"] - result["ready"] for result in results),
        seconds=seconds,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mmgen_lib.multi_worker",
        description="Run one worker of a MultiWorkerMirroredStrategy cluster (lesson 13).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    worker = commands.add_parser("worker", help="train as the worker named by the TF_CONFIG environment variable")
    worker.add_argument(
        "--folder",
        required=True,
        help=f"folder holding {DATA_FILE} (arrays x, y) and {RECIPE_FILE}; the result goes to worker_<index>.json",
    )
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    try:
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    except (KeyError, TypeError, ValueError):
        print(
            "error: set TF_CONFIG to this worker's cluster and task, e.g. "
            + json.dumps(tf_config(["localhost:12345", "localhost:12346"], 0)),
            file=sys.stderr,
        )
        return 2
    if not (folder / DATA_FILE).exists() or not (folder / RECIPE_FILE).exists():
        print(f"error: {folder} must hold {DATA_FILE} and {RECIPE_FILE} (run_workers writes them)", file=sys.stderr)
        return 2
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()  # reads TF_CONFIG; first, before any other TF op
    with np.load(folder / DATA_FILE) as arrays:
        x, y = arrays["x"], arrays["y"]
    recipe = Recipe(**json.loads((folder / RECIPE_FILE).read_text()))
    ready = time.time()
    losses = train_losses(x, y, recipe, strategy)
    result = {"losses": losses, "replicas": strategy.num_replicas_in_sync, "ready": ready, "done": time.time()}
    (folder / f"worker_{index}.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
