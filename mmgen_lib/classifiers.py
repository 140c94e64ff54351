"""Attribute classifiers: "what does this representation know?" (lessons 02-05, 12, 13).

An encoder followed by one linear head per ShapesWorld attribute, trained with a sparse
cross-entropy per head; the accuracy of each head says which facts the representation holds.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np

from mmgen_lib.training import build_before_fit


def attribute_classifier(
    encoder,
    input_shape,
    attributes=None,
    input_dtype="float32",
    input_name=None,
    learning_rate: float = 2e-3,
    metrics: bool = True,
) -> keras.Model:
    """An encoder followed by one linear head (logits) per attribute, compiled (lessons 02-04).

    The standard way the course asks "what does this representation know?": train the
    encoder with a sparse cross-entropy per attribute and read the accuracy of each head.

    Args:
        encoder: a layer mapping the input to a vector (batch, d), or to a tuple whose
            first element is that vector (encoders built with ``return_sequences`` /
            ``return_grid``).
        input_shape: shape of one example, e.g. ``(32, 32, 3)`` or ``(16,)`` for token ids.
        attributes: attribute names to predict (default: all five, ``data.ATTRIBUTE_NAMES``).
        input_dtype: ``"int32"`` for token ids, ``"float32"`` otherwise.
        learning_rate: Adam's learning rate.
        metrics: also track the accuracy of each head.

    Returns:
        a compiled ``keras.Model``: input -> dict attribute -> logits (batch, n_values).
    """
    from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES

    attributes = tuple(ATTRIBUTE_NAMES if attributes is None else attributes)
    unknown = [name for name in attributes if name not in ATTRIBUTES]
    if not attributes or unknown:
        raise ValueError(f"attributes must be a non-empty subset of {ATTRIBUTE_NAMES}. Received: {attributes}")
    if isinstance(input_shape, int) or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"input_shape must be a tuple of positive ints. Received: input_shape={input_shape!r}")
    inputs = keras.Input(tuple(input_shape), dtype=input_dtype, name=input_name)
    features = encoder(inputs)
    if isinstance(features, (tuple, list)):
        features = features[0]  # (batch, d): the vector, not the sequence
    outputs = {name: keras.layers.Dense(len(ATTRIBUTES[name]), name=name)(features) for name in attributes}
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in attributes},
        metrics={name: ["accuracy"] for name in attributes} if metrics else None,
    )
    example = np.zeros((2, *input_shape), input_dtype)  # two blank examples: enough to create the training state
    build_before_fit(model, example, {name: np.zeros(2, "int32") for name in attributes})  # fit traces once
    return model


def predict_in_batches(model, inputs, batch_size: int = 500):
    """Call a model or layer on NumPy inputs in batches, without ``predict``'s tracing (lessons 05, 12, 13).

    A direct call per batch is the cheapest way to run a small model once over a split:
    ``model.predict`` builds and traces a ``tf.function`` first, which costs more than the
    call itself for a few thousand examples.

    Args:
        model: a Keras model or layer.
        inputs: an array, or a list of arrays with the same first dimension (for models
            with several inputs).
        batch_size: examples per call, a positive int.

    Returns:
        the model's outputs as NumPy arrays, in the model's structure (an array, a list or a dict).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int. Received: batch_size={batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive. Received: batch_size={batch_size}")
    several = isinstance(inputs, (list, tuple))
    arrays = list(inputs) if several else [inputs]
    if not arrays:
        raise ValueError("inputs must hold at least one array. Received: inputs=[]")
    lengths = {len(x) for x in arrays}
    if len(lengths) != 1:
        raise ValueError(f"every input must have the same number of examples. Received: lengths {sorted(lengths)}")
    parts = []
    for start in range(0, lengths.pop(), int(batch_size)):
        chunk = [x[start : start + int(batch_size)] for x in arrays]
        outputs = model(chunk if several else chunk[0], training=False)
        parts.append(keras.tree.map_structure(keras.ops.convert_to_numpy, outputs))
    return keras.tree.map_structure(lambda *pieces: np.concatenate(pieces), *parts)


def attribute_accuracy(logits: dict, labels) -> dict:
    """Accuracy per attribute of a multi-head classifier's logits (lessons 02-05, 12, 13).

    Args:
        logits: dict attribute -> array (n, n_values), e.g. from ``predict_in_batches``.
        labels: anything indexable by attribute name giving (n,) integer labels
            (a dict, or a ``ShapesWorldSplit``).

    Returns:
        dict attribute -> accuracy (a float in [0, 1]), in the order of ``logits``.
    """
    accuracy = {}
    for name, values in logits.items():
        try:
            truth = np.asarray(labels[name])
        except (KeyError, AttributeError, TypeError):
            raise ValueError(
                f"no labels for {name!r}. Received: labels for {sorted(labels) if isinstance(labels, dict) else type(labels).__name__}"
            ) from None
        predicted = np.asarray(values).argmax(-1)
        if len(predicted) != len(truth):
            raise ValueError(f"{name}: {len(predicted)} predictions but {len(truth)} labels")
        accuracy[name] = float(np.mean(predicted == truth))
    return accuracy
