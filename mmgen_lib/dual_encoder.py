"""The dual encoder of cross-modal matching (lesson 06).

Two encoders project two modalities into one space where a pair's cosine similarity is high
and a non-pair's low, trained with the symmetric InfoNCE loss of ``mmgen_lib.losses``.
"""

from __future__ import annotations

import keras
from keras import ops

from mmgen_lib import validation
from mmgen_lib.losses import InfoNCELoss, SimilarityLogits, l2_normalize


@keras.saving.register_keras_serializable(package="mmgen_lib")
class DualEncoder(keras.Model):
    """Two encoders -> one shared, L2-normalized embedding space, trained contrastively. Lesson 06.

    ``z_a = norm(P_a(E_a(x_a)))`` and ``z_b = norm(P_b(E_b(x_b)))``, with a linear projection
    ``P`` per modality; matching pairs should have a high cosine ``z_a . z_b``. ``fit`` minimises
    the symmetric InfoNCE loss of each batch (CLIP, Radford et al. 2021) with a learnable
    temperature, so no ``loss`` is passed to ``compile`` and the data holds inputs only.
    Any two modalities work: pass the two encoders and name them.

    Retrieval with it: relevance should be attribute-match (see :mod:`mmgen_lib.retrieval`),
    because many ShapesWorld examples share every attribute both modalities carry.

    Args:
        encoder_a, encoder_b: Keras layers mapping each modality to a vector (e.g. a
            :class:`~mmgen_lib.encoders.TextEncoder` and an :class:`~mmgen_lib.encoders.ImageEncoder`).
        modalities: the two names, also the keys of the input dict, e.g. ``("text", "image")``.
        embed_dim: size of the shared embedding space.
        temperature: initial softmax temperature (CLIP: 0.07).
        learn_temperature: train the temperature (True) or keep it fixed.

    Call arguments:
        inputs: dict ``{modalities[0]: x_a, modalities[1]: x_b}`` (or a pair ``(x_a, x_b)``).
        training: Python bool.

    Output shape:
        dict ``{modalities[0]: (batch, embed_dim), modalities[1]: (batch, embed_dim)}``, unit rows.
    """

    def __init__(
        self,
        encoder_a,
        encoder_b,
        modalities=("text", "image"),
        embed_dim=32,
        temperature=0.07,
        learn_temperature=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, encoder in (("encoder_a", encoder_a), ("encoder_b", encoder_b)):
            if not isinstance(encoder, keras.layers.Layer):
                raise TypeError(f"{name} must be a Keras layer. Received: {type(encoder).__name__}")
        if (
            isinstance(modalities, str)
            or len(modalities) != 2
            or len(set(modalities)) != 2
            or not all(isinstance(m, str) and m for m in modalities)
        ):
            raise ValueError(f"modalities must be two different names. Received: modalities={modalities!r}")
        validation.positive_int(embed_dim, "embed_dim")
        self.encoder_a, self.encoder_b = encoder_a, encoder_b
        self.modalities, self.embed_dim = tuple(modalities), int(embed_dim)
        self.temperature, self.learn_temperature = float(temperature), bool(learn_temperature)
        self.projection_a = keras.layers.Dense(self.embed_dim, name=f"projection_{modalities[0]}")
        self.projection_b = keras.layers.Dense(self.embed_dim, name=f"projection_{modalities[1]}")
        self.similarity = SimilarityLogits(self.temperature, learnable=self.learn_temperature, name="similarity")
        self.contrastive_loss = InfoNCELoss()

    def _split(self, inputs):
        if isinstance(inputs, dict):
            missing = [m for m in self.modalities if m not in inputs]
            if missing:
                raise ValueError(f"DualEncoder inputs lack {missing}. Received keys: {sorted(inputs)}")
            return inputs[self.modalities[0]], inputs[self.modalities[1]]
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            return inputs
        raise ValueError(f"DualEncoder takes a dict with keys {self.modalities} or a pair of inputs")

    def build(self, input_shape):
        shape_a, shape_b = self._split(input_shape)
        for name, encoder, projection, shape in (
            ("encoder_a", self.encoder_a, self.projection_a, shape_a),
            ("encoder_b", self.encoder_b, self.projection_b, shape_b),
        ):
            if not encoder.built:  # an encoder loaded from a config may already be built
                encoder.build(tuple(shape))
            output_shape = encoder.compute_output_shape(tuple(shape))
            self._check_vector(name, encoder, output_shape)
            if not projection.built:
                projection.build(output_shape)
        self._input_shapes = {self.modalities[0]: list(shape_a), self.modalities[1]: list(shape_b)}
        self.built = True

    @staticmethod
    def _check_vector(name, encoder, output_shape):
        is_shape = isinstance(output_shape, (list, tuple)) and all(
            d is None or isinstance(d, int) for d in output_shape
        )
        if not is_shape or len(output_shape) != 2:
            raise ValueError(
                f"{name} must return one vector per example, (batch, dim); an encoder that also "
                f"returns a grid or sequence (return_grid=True / return_sequences=True) needs it "
                f"switched off. Received: {name}={type(encoder).__name__} with output shape "
                f"{output_shape}"
            )

    def get_build_config(self):
        return {"input_shape": self._input_shapes} if self.built else None

    def build_from_config(self, config):
        if config and "input_shape" in config:
            self.build(config["input_shape"])

    def encode(self, x, modality, training=False):
        """Unit embeddings of one modality only: (batch, ...) -> (batch, embed_dim)."""
        if modality not in self.modalities:
            raise ValueError(f"modality must be one of {self.modalities}. Received: modality={modality!r}")
        encoder, projection = (
            (self.encoder_a, self.projection_a)
            if modality == self.modalities[0]
            else (self.encoder_b, self.projection_b)
        )
        features = encoder(x, training=training)
        if isinstance(features, (list, tuple, dict)) or len(features.shape) != 2:
            shape = features.shape if hasattr(features, "shape") else type(features).__name__
            self._check_vector("encoder_a" if modality == self.modalities[0] else "encoder_b", encoder, shape)
        return l2_normalize(projection(features))  # (batch, embed_dim)

    def call(self, inputs, training=False):
        x_a, x_b = self._split(inputs)
        return {
            self.modalities[0]: self.encode(x_a, self.modalities[0], training),
            self.modalities[1]: self.encode(x_b, self.modalities[1], training),
        }

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_a, z_b = y_pred[self.modalities[0]], y_pred[self.modalities[1]]
        logits = self.similarity((z_a, z_b))  # (batch, batch): pair i is on the diagonal
        return self.contrastive_loss(ops.arange(ops.shape(logits)[0]), logits)

    @property
    def current_temperature(self) -> float:
        """The temperature now (``1 / exp(log_scale)``, clipped as in the forward pass)."""
        return float(1.0 / ops.convert_to_numpy(self.similarity.scale))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder_a": keras.saving.serialize_keras_object(self.encoder_a),
            "encoder_b": keras.saving.serialize_keras_object(self.encoder_b),
            "modalities": list(self.modalities),
            "embed_dim": self.embed_dim,
            "temperature": self.temperature,
            "learn_temperature": self.learn_temperature,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder_a", "encoder_b"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
