"""Training helpers: state built before ``fit`` (every lesson), runs restarted from a saved state, ``tf.distribute`` (lesson 13).

:func:`build_before_fit` creates, before ``fit``, what Keras would otherwise create inside its
first traced training step (Adam's slots, one loss tracker per output, the compiled metrics):
TensorFlow traces a step again when variables appear while it is traced, so a model with
several outputs would be traced twice, seconds each time on a laptop CPU.
:func:`save_training_state` and :func:`restore_training_state` restart one compiled model from the
same weights and optimizer state for several runs (lessons 07, 08): a new model per run would be
traced again, while the restored model reuses its traced step.

The same three lines train a model on one CPU, on several logical CPUs, on GPUs or on
a TPU; only the *strategy* changes:

    configure_cpu_devices(2)                  # first thing in a fresh process (before any TF op)
    strategy = make_strategy("mirrored")      # one replica per device, gradients all-reduced
    model, history = train_model(build_fn, train_ds, strategy=strategy, epochs=3)

``build_fn`` is a function with no arguments that creates *and compiles* the model:
:func:`train_model` calls it inside ``strategy.scope()``, so that the variables (weights
and optimizer slots) are created as mirrored variables, one copy per replica. The
dataset's batch size is the *global* batch: each of the N replicas gets 1/N of it.
"""

from __future__ import annotations

from mmgen_lib import validation as _validation  # train_model has an argument named `validation`

__all__ = [
    "build_before_fit",
    "save_training_state",
    "restore_training_state",
    "configure_cpu_devices",
    "make_strategy",
    "global_batch_size",
    "train_model",
    "STRATEGY_KINDS",
]

STRATEGY_KINDS = ("default", "one_device", "mirrored")


def _require_compiled(model, action: str) -> None:
    """TypeError unless ``model`` is a keras.Model; ValueError unless it is compiled (``action`` names the caller)."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model. Received: {type(model).__name__}")
    if not model.compiled:
        raise ValueError(f"compile the model before {action}: {model.name!r} has no optimizer and loss yet.")


def build_before_fit(model, x, y) -> None:
    """Create the training state ``fit`` would create in its first step, so that it traces the step once.

    ``fit`` traces its training step into a TensorFlow graph on the first batch. Keras creates
    Adam's slot variables, a loss tracker per output and the compiled metrics lazily, during that
    trace, and TensorFlow traces a step again when variables appear inside it: a model with several
    outputs (one head per attribute) is traced twice. Built here, eagerly, on a couple of examples,
    they exist before ``fit`` starts. Nothing is trained: the weights, the optimizer's step count and
    the metrics' values are as before (``fit`` resets the metrics at every epoch anyway).

    Args:
        model: a compiled ``keras.Model``.
        x: the training inputs as ``fit`` receives them (an array, or a list or dict of arrays);
            only the first two examples are used.
        y: the training targets, likewise; None for a model that computes its loss from the inputs
            alone (a :class:`~mmgen_lib.dual_encoder.DualEncoder`, which contrasts pairs in a batch).
    """
    import keras

    _require_compiled(model, "build_before_fit")
    x = keras.tree.map_structure(lambda array: array[:2], x)
    y = None if y is None else keras.tree.map_structure(lambda array: array[:2], y)
    y_pred = model(x, training=False)  # builds the weights of a model that has not been called yet
    model.optimizer.build(model.trainable_variables)  # Adam's slots
    model.compute_loss(x=x, y=y, y_pred=y_pred)  # one loss tracker per output
    model.compute_metrics(x, y, y_pred)  # the compiled metrics
    model.reset_metrics()


def _training_variables(model, action: str) -> list:
    _require_compiled(model, action)
    if not model.optimizer.built:
        raise ValueError(
            f"{model.name!r}: its optimizer has no state yet; create it first "
            "(build_before_fit, or model.optimizer.build(model.trainable_variables))."
        )
    return [*model.variables, *model.optimizer.variables]


def save_training_state(model) -> list:
    """A copy of everything a run changes: the model's variables and its optimizer's (step count, moments).

    With :func:`restore_training_state`, several runs start from exactly the same state on *one*
    compiled model, so ``fit`` traces its training step once for all of them (lesson 07's ablation,
    lesson 08's two captioners). Variables that are not trained (e.g. batch-norm statistics) are
    included too.

    Args:
        model: a compiled ``keras.Model`` whose optimizer is built (see :func:`build_before_fit`).

    Returns:
        a list of NumPy arrays, in the order of ``model.variables + model.optimizer.variables``.
    """
    import keras

    return [keras.ops.convert_to_numpy(variable).copy() for variable in _training_variables(model, "saving its state")]


def restore_training_state(model, state) -> None:
    """Set the model's and its optimizer's variables back to ``state`` (from :func:`save_training_state`)."""
    variables = _training_variables(model, "restoring its state")
    state = list(state)
    if len(state) != len(variables):
        raise ValueError(
            f"the state holds {len(state)} arrays; the model and its optimizer have {len(variables)} variables "
            "(was it saved from another model?)"
        )
    for k, (variable, value) in enumerate(zip(variables, state)):
        if tuple(getattr(value, "shape", ())) != tuple(variable.shape):
            raise ValueError(
                f"array {k} has shape {tuple(getattr(value, 'shape', ()))}; the variable {variable.path!r} "
                f"has shape {tuple(variable.shape)} (was the state saved from another model?)"
            )
    for variable, value in zip(variables, state):
        variable.assign(value)


def configure_cpu_devices(n: int) -> list[str]:
    """Split the physical CPU into ``n`` logical CPU devices (lesson 13).

    This lets a laptop rehearse multi-device training: ``MirroredStrategy`` then sees
    ``n`` devices, as it would see ``n`` GPUs. TensorFlow fixes its devices when the
    first operation runs, so call this first in a fresh process (a lesson's setup cell).

    Args:
        n: number of logical CPU devices, >= 1.

    Returns:
        the logical CPU device names, e.g. ``["/device:CPU:0", "/device:CPU:1"]``.

    Raises:
        RuntimeError: TensorFlow is already initialised with a different number of devices
            (restart the kernel and call this before anything else).
    """
    import tensorflow as tf

    _validation.positive_int(n, "n")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
    except RuntimeError:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != n:
            raise RuntimeError(
                f"TensorFlow is already running with {len(existing)} logical CPU device(s), so it cannot be "
                f"split into {n} now: restart the kernel (or process) and call configure_cpu_devices({n}) "
                "before any other TensorFlow operation"
            ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def make_strategy(kind: str = "default", devices=None):
    """A ``tf.distribute`` strategy by name (lesson 13).

    Args:
        kind: ``"default"`` (no distribution: the strategy Keras uses anyway),
            ``"one_device"`` (everything placed on ``devices[0]``), or ``"mirrored"``
            (synchronous data parallelism: one replica per device, gradients summed
            with an all-reduce after every step).
        devices: device names; by default all GPUs, or all logical CPUs when there is no GPU.

    Returns:
        a ``tf.distribute.Strategy``.
    """
    import tensorflow as tf

    if kind not in STRATEGY_KINDS:
        raise ValueError(f"kind must be one of {STRATEGY_KINDS}. Received: kind={kind!r}")
    if isinstance(devices, str):
        raise TypeError("devices must be a list of device names, e.g. ['/cpu:0', '/cpu:1'], not one string")
    if kind == "default":
        return tf.distribute.get_strategy()
    if devices is None:
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    devices = list(devices)
    if not devices:
        raise ValueError("devices must name at least one device")
    if kind == "one_device":
        return tf.distribute.OneDeviceStrategy(devices[0])
    # Logical CPUs cannot use NCCL; a plain copy-and-add all-reduce works on any device.
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def global_batch_size(per_replica: int, strategy=None) -> int:
    """The batch size to give the dataset so that every replica gets ``per_replica`` examples."""
    import tensorflow as tf

    _validation.positive_int(per_replica, "per_replica")
    strategy = strategy or tf.distribute.get_strategy()
    return int(per_replica) * strategy.num_replicas_in_sync


def train_model(
    build_fn,
    train,
    validation=None,
    epochs: int = 1,
    strategy=None,
    batch_size: int | None = None,
    callbacks=None,
    verbose: int = 0,
    steps_per_epoch: int | None = None,
):
    """Build, compile and fit a Keras model, optionally under a ``tf.distribute`` strategy (lesson 13).

    Args:
        build_fn: a function with no arguments returning a *compiled* ``keras.Model``.
            It is called inside ``strategy.scope()``: create the layers, the optimizer and
            the metrics there, never before.
        train: a ``tf.data.Dataset`` of ``(inputs, targets)`` batches (the batch size is the
            global batch, split across replicas), or a tuple ``(x, y)`` of arrays/dicts.
        validation: optional validation data in the same form.
        epochs: number of passes over ``train``.
        strategy: a ``tf.distribute.Strategy``; ``None`` means the default (no distribution).
        batch_size: the global batch size when ``train`` is a tuple of arrays (default 32, as
            in Keras); a dataset is already batched, so it must be None then.
        callbacks: optional list of Keras callbacks.
        verbose: passed to ``fit`` (the lessons use 0).
        steps_per_epoch: batches per epoch, for a repeated (infinite) dataset. Keras then keeps one
            iterator for the whole run instead of making one per epoch, which under a strategy
            saves a distributed iterator per epoch. None: one pass over ``train`` per epoch.

    Returns:
        ``(model, history)``: the trained model and its ``keras.callbacks.History``.
    """
    import keras
    import tensorflow as tf

    if not callable(build_fn):
        raise TypeError(f"build_fn must be a function that returns a compiled model. Received: {build_fn!r}")
    _validation.positive_int(epochs, "epochs")
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(
            f"strategy must be a tf.distribute.Strategy (see make_strategy). Received: {type(strategy).__name__}"
        )
    _validation.positive_int(batch_size, "batch_size", allow_none=True)
    _validation.positive_int(steps_per_epoch, "steps_per_epoch", allow_none=True)
    if batch_size is not None and isinstance(train, tf.data.Dataset):
        raise ValueError(
            "batch_size applies to arrays only: a tf.data.Dataset is already batched "
            "(set the batch size in make_dataset)"
        )
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = build_fn()
        if not isinstance(model, keras.Model):
            raise TypeError(f"build_fn must return a keras.Model. Received: {type(model).__name__}")
        if getattr(model, "optimizer", None) is None:
            raise ValueError(
                "build_fn must compile the model (model.compile(optimizer=..., loss=...)) "
                "inside itself, so that the optimizer is created under the strategy"
            )
    if isinstance(train, tf.data.Dataset):
        # shuffle=False: a Dataset shuffles itself (make_dataset(..., shuffle=True)).
        history = model.fit(
            train,
            validation_data=validation,
            epochs=int(epochs),
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
            steps_per_epoch=None if steps_per_epoch is None else int(steps_per_epoch),
        )
    elif isinstance(train, tuple) and len(train) == 2:
        history = model.fit(
            *train,
            validation_data=validation,
            epochs=int(epochs),
            batch_size=batch_size,
            callbacks=callbacks,
            verbose=verbose,
        )
    else:
        raise TypeError(f"train must be a tf.data.Dataset or a tuple (x, y). Received: {type(train).__name__}")
    return model, history
