"""Attribute classifiers: "what does this representation know?" (lessons 02-05, 12, 13).

An encoder followed by one linear head per ShapesWorld attribute, trained with a sparse
cross-entropy per head; the accuracy of each head says which facts the representation holds.
"""

from __future__ import annotations

import keras


def attribute_classifier(encoder, input_shape, attributes=None, input_dtype="float32", input_name=None,
                         learning_rate: float = 2e-3, metrics: bool = True) -> keras.Model:
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
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss={name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in attributes},
                  metrics={name: ["accuracy"] for name in attributes} if metrics else None)
    return model
