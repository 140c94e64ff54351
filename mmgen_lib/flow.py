"""Flow matching on the straight path, classifier-free guidance and the noise-prediction view (lesson 14).

A flow model learns a **velocity field** v(x, t) that carries noise x_0 ~ N(0, I) at t = 0 to
data x_1 at t = 1. On the straight path (rectified flow, Liu et al. 2023; flow matching,
Lipman et al. 2023)

    x_t = (1 - t) * x_0 + t * x_1,     target velocity  dx_t/dt = x_1 - x_0,

and the network is trained by plain regression, ``|| v(x_t, t, c) - (x_1 - x_0) ||^2``.
Regression to the velocity is *not* regression to the data: for each (x_t, t) the
optimum is the average direction towards the data points consistent with x_t, and
following that field from many noise points reproduces the whole distribution of x_1,
not its mean (lesson 09's blur). Sampling integrates dx/dt = v with Euler or Heun steps.

Classifier-free guidance (Ho & Salimans 2022): while training, the condition c is
replaced by a learned "null" condition with probability ``condition_dropout``; while
sampling, ``v = v_u + w * (v_c - v_u)`` with w = 0 the unconditional model, w = 1 the
conditional one and w > 1 pushing further towards the condition.

The noise-prediction view (DDPM, Ho et al. 2020; DDIM, Song et al. 2021): with signal
rate alpha_t = t and noise rate sigma_t = 1 - t the same x_t reads x_t = alpha_t x_1 + sigma_t eps.
A velocity prediction v gives the noise and data predictions

    eps_hat = x_t - t * v,      x1_hat = x_t + (1 - t) * v,      and back  v = (x_t - eps_hat) / t,

and a deterministic DDIM step from t to s, x_s = s * x1_hat + (1 - s) * eps_hat, is exactly the
Euler step x_t + (s - t) * v (see :func:`ddim_step`).
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

__all__ = [
    "straight_path",
    "flow_matching_loss",
    "SinusoidalTimeEmbedding",
    "ConditionalVelocityNet",
    "FlowMatcher",
    "guided_velocity",
    "velocity_function",
    "euler_sample",
    "heun_sample",
    "sample_latents",
    "velocity_to_noise",
    "noise_to_velocity",
    "ddim_step",
    "SAMPLERS",
]

SAMPLERS = ("euler", "heun")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int. Received: {name}={value!r}")
    return int(value)


def _rate(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def _check_seed(seed) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None or an int >= 0. Received: seed={seed!r}")


def straight_path(x0, x1, t):
    """The point x_t = (1 - t) x_0 + t x_1 and its velocity x_1 - x_0 (lesson 14).

    Args:
        x0: noise (batch, dim); x1: data (batch, dim); t: times (batch,) or (batch, 1) in [0, 1].

    Returns:
        (x_t, velocity), both (batch, dim).
    """
    x0, x1 = ops.convert_to_tensor(x0, "float32"), ops.convert_to_tensor(x1, "float32")
    t = ops.reshape(ops.convert_to_tensor(t, "float32"), (-1, 1))  # (batch, 1)
    return (1.0 - t) * x0 + t * x1, x1 - x0


def flow_matching_loss(velocity_pred, x0, x1):
    """Per-example flow-matching loss: mean over features of (v_pred - (x_1 - x_0))^2 (lesson 14). Shape (batch,)."""
    target = ops.convert_to_tensor(x1, "float32") - ops.convert_to_tensor(x0, "float32")
    return ops.mean(ops.square(ops.convert_to_tensor(velocity_pred, "float32") - target), axis=-1)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class SinusoidalTimeEmbedding(keras.layers.Layer):
    """Time t in [0, 1] -> [sin(s t f_k), cos(s t f_k)] with geometric frequencies f_k (lesson 14).

    As the Transformer's position encoding: f_k = max_period ** (-k / half) for k < half,
    and t is first scaled by ``scale`` so that t in [0, 1] spans many periods.

    Args:
        dim: output size (even).
        max_period: the slowest period, in units of ``scale * t``.
        scale: multiplies t before the sines (1000 as in DDPM's integer time steps).

    Call arguments:
        inputs: times (batch,) or (batch, 1).

    Input shape: (batch,) or (batch, 1). Output shape: (batch, dim).
    """

    def __init__(self, dim=32, max_period=10000.0, scale=1000.0, **kwargs):
        super().__init__(**kwargs)
        self.dim = _positive_int(dim, "dim")
        if self.dim % 2:
            raise ValueError(f"dim must be even (half sines, half cosines). Received: dim={dim!r}")
        for name, value in (("max_period", max_period), ("scale", scale)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
                raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
        self.max_period, self.scale = float(max_period), float(scale)
        half = self.dim // 2
        self._frequencies = np.exp(-math.log(self.max_period) * np.arange(half) / half).astype("float32")

    def call(self, inputs):
        t = ops.reshape(ops.cast(inputs, "float32"), (-1, 1)) * self.scale  # (batch, 1)
        angles = t * self._frequencies[None, :]  # (batch, dim / 2)
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)  # (batch, dim)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period, "scale": self.scale}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ConditionalVelocityNet(keras.layers.Layer):
    """v(x_t, t, c): an MLP velocity field for latent vectors, with a learned null condition (lesson 14).

    ``concat[x_t, Dense(emb(t)), c] -> num_layers x Dense(hidden_units, silu) -> Dense(latent_dim)``.
    The condition is replaced, per example, by a learned vector ``null_condition`` where
    ``drop_condition`` is 1 — randomly with probability ``condition_dropout`` while training,
    everywhere for the unconditional velocity v_u of classifier-free guidance.

    Args:
        latent_dim: size of x (2 for the toy, 16 for the image latent).
        condition_dim: size of c (0: an unconditional field; then pass ``[x_t, t]``).
        hidden_units: width of the hidden layers.
        num_layers: number of hidden layers.
        time_dim: size of the sinusoidal time embedding.
        condition_dropout: training-time probability of dropping c (0 disables guidance training).
        seed: seed of the dropout draws.

    Call arguments:
        inputs: ``[x_t, t, c]`` (or ``[x_t, t]`` when condition_dim is 0).
        training: drop conditions at random when True.
        drop_condition: optional (batch,) 0/1 floats, 1 = use the null condition (overrides the random drop).

    Input shape: x_t (batch, latent_dim), t (batch,) or (batch, 1), c (batch, condition_dim).
    Output shape: (batch, latent_dim).
    """

    def __init__(
        self,
        latent_dim,
        condition_dim=0,
        hidden_units=256,
        num_layers=3,
        time_dim=32,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim = _positive_int(latent_dim, "latent_dim")
        if isinstance(condition_dim, bool) or not isinstance(condition_dim, numbers.Integral) or condition_dim < 0:
            raise ValueError(f"condition_dim must be an int >= 0. Received: condition_dim={condition_dim!r}")
        self.condition_dim = int(condition_dim)
        self.hidden_units = _positive_int(hidden_units, "hidden_units")
        self.num_layers = _positive_int(num_layers, "num_layers")
        self.time_dim = _positive_int(time_dim, "time_dim")
        self.condition_dropout = _rate(condition_dropout, "condition_dropout")
        _check_seed(seed)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.time_embedding = SinusoidalTimeEmbedding(self.time_dim, name="time_embedding")
        self.time_dense = keras.layers.Dense(self.time_dim, activation="silu", name="time_dense")
        self.hidden = [
            keras.layers.Dense(self.hidden_units, activation="silu", name=f"hidden{k}") for k in range(self.num_layers)
        ]
        self.out = keras.layers.Dense(self.latent_dim, name="velocity")

    def build(self, input_shape):
        expected = 3 if self.condition_dim else 2
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != expected
            or not isinstance(input_shape[0], (list, tuple))
        ):
            names = "[x_t, t, c]" if self.condition_dim else "[x_t, t]"
            raise ValueError(
                f"ConditionalVelocityNet expects {expected} inputs {names}. Received input shape {input_shape}"
            )
        if input_shape[0][-1] != self.latent_dim:
            raise ValueError(f"x_t must have {self.latent_dim} features. Received shape {tuple(input_shape[0])}")
        if self.condition_dim and input_shape[2][-1] != self.condition_dim:
            raise ValueError(f"c must have {self.condition_dim} features. Received shape {tuple(input_shape[2])}")
        if self.condition_dim:
            self.null_condition = self.add_weight(
                shape=(self.condition_dim,), initializer="zeros", name="null_condition"
            )
        self.time_dense.build((None, self.time_dim))
        width = self.latent_dim + self.time_dim + self.condition_dim
        for layer in self.hidden:
            layer.build((None, width))
            width = self.hidden_units
        self.out.build((None, self.hidden_units))

    def call(self, inputs, training=False, drop_condition=None):
        x, t = inputs[0], inputs[1]  # (batch, latent_dim), (batch,) or (batch, 1)
        parts = [x, self.time_dense(self.time_embedding(t))]
        if self.condition_dim:
            c = inputs[2]  # (batch, condition_dim)
            if drop_condition is None and training and self.condition_dropout > 0:
                draws = keras.random.uniform((ops.shape(x)[0],), seed=self.seed_generator)
                drop_condition = ops.cast(draws < self.condition_dropout, "float32")
            if drop_condition is not None:
                drop = ops.reshape(ops.cast(drop_condition, "float32"), (-1, 1))  # (batch, 1)
                c = (1.0 - drop) * c + drop * self.null_condition[None, :]
            parts.append(c)
        h = ops.concatenate(parts, axis=-1)  # (batch, latent_dim + time_dim + condition_dim)
        for layer in self.hidden:
            h = layer(h)  # (batch, hidden_units)
        return self.out(h)  # (batch, latent_dim)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.latent_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "condition_dim": self.condition_dim,
            "hidden_units": self.hidden_units,
            "num_layers": self.num_layers,
            "time_dim": self.time_dim,
            "condition_dropout": self.condition_dropout,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class FlowMatcher(keras.Model):
    """Trains a :class:`ConditionalVelocityNet` with the flow-matching loss: ``fit(x)`` and no targets (lesson 14).

    Each training step draws noise x_0 ~ N(0, I) and t ~ U(0, 1) per example, builds x_t on the
    straight path and regresses the velocity x_1 - x_0.

    Args: those of :class:`ConditionalVelocityNet` (the network is ``self.velocity``).

    Call arguments:
        inputs: data ``x_1`` (batch, latent_dim), or a dict ``{"x1": ..., "condition": ...}``.

    Returns: a dict ``velocity`` (predicted) and ``target`` (x_1 - x_0), both (batch, latent_dim).
    """

    def __init__(
        self,
        latent_dim,
        condition_dim=0,
        hidden_units=256,
        num_layers=3,
        time_dim=32,
        condition_dropout=0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.velocity = ConditionalVelocityNet(
            latent_dim, condition_dim, hidden_units, num_layers, time_dim, condition_dropout, seed, name="velocity_net"
        )
        self.seed = seed
        self.noise_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)

    def call(self, inputs, training=False):
        if isinstance(inputs, dict):
            x1, condition = inputs["x1"], inputs.get("condition")
        else:
            x1, condition = inputs, None
        x1 = ops.convert_to_tensor(x1, "float32")
        batch = ops.shape(x1)[0]
        x0 = keras.random.normal(ops.shape(x1), seed=self.noise_seed)  # (batch, latent_dim)
        t = keras.random.uniform((batch,), seed=self.noise_seed)  # (batch,)
        x_t, target = straight_path(x0, x1, t)
        args = [x_t, t] if condition is None else [x_t, t, condition]
        return {"velocity": self.velocity(args, training=training), "target": target}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.mean(ops.square(y_pred["velocity"] - y_pred["target"]))

    def get_config(self):
        v = self.velocity
        return {
            **super().get_config(),
            "latent_dim": v.latent_dim,
            "condition_dim": v.condition_dim,
            "hidden_units": v.hidden_units,
            "num_layers": v.num_layers,
            "time_dim": v.time_dim,
            "condition_dropout": v.condition_dropout,
            "seed": self.seed,
        }


def guided_velocity(net, x, t, condition, guidance=1.0):
    """Classifier-free guidance: v_u + w (v_c - v_u), both from one batched call of ``net`` (lesson 14).

    w = 0 is the unconditional field, w = 1 the conditional one, w > 1 extrapolates past it.
    """
    x = ops.convert_to_tensor(x, "float32")
    n = ops.shape(x)[0]
    t = ops.broadcast_to(ops.reshape(ops.convert_to_tensor(t, "float32"), (-1,)), (n,))
    both = net(
        [ops.concatenate([x, x], 0), ops.concatenate([t, t], 0), ops.concatenate([condition, condition], 0)],
        drop_condition=ops.concatenate([ops.zeros((n,)), ops.ones((n,))], 0),
    )  # (2 n, latent_dim)
    v_c, v_u = both[:n], both[n:]
    return v_u + guidance * (v_c - v_u)


def velocity_function(net, condition=None, guidance=1.0):
    """A NumPy function ``(x, t) -> v`` for the samplers: unconditional, conditional or guided."""
    if isinstance(guidance, bool) or not isinstance(guidance, numbers.Real):
        raise TypeError(f"guidance must be a number. Received: guidance={guidance!r}")
    if condition is not None:
        condition = ops.convert_to_tensor(condition, "float32")

    def fn(x, t):
        x = ops.convert_to_tensor(np.asarray(x, "float32"))
        times = ops.full((ops.shape(x)[0],), float(t))
        if condition is None:
            return ops.convert_to_numpy(net([x, times]))
        if guidance == 1.0:
            return ops.convert_to_numpy(net([x, times, condition]))
        return ops.convert_to_numpy(guided_velocity(net, x, times, condition, float(guidance)))

    return fn


def _check_steps(steps) -> int:
    return _positive_int(steps, "steps")


def euler_sample(velocity_fn, x0, steps=20, return_path=False):
    """Integrate dx/dt = v(x, t) from t = 0 to 1 with ``steps`` Euler steps: x <- x + h v(x, t) (lesson 14).

    Args:
        velocity_fn: ``(x (n, d) array, t float) -> (n, d) array``.
        x0: starting noise (n, d).
        steps: number of steps (one network call each).
        return_path: also return the (steps + 1, n, d) trajectory.
    """
    steps = _check_steps(steps)
    x = np.asarray(x0, "float32")
    path = [x]
    for k in range(steps):
        t, h = k / steps, 1.0 / steps
        x = x + h * np.asarray(velocity_fn(x, t), "float32")
        path.append(x)
    return (x, np.stack(path)) if return_path else x


def heun_sample(velocity_fn, x0, steps=10, return_path=False):
    """Heun's method (trapezoid, 2 network calls per step; the last step is Euler-free only where t < 1) (lesson 14).

    x' = x + h v(x, t);  x <- x + h/2 (v(x, t) + v(x', t + h)).
    """
    steps = _check_steps(steps)
    x = np.asarray(x0, "float32")
    path = [x]
    for k in range(steps):
        t, h = k / steps, 1.0 / steps
        v = np.asarray(velocity_fn(x, t), "float32")
        guess = x + h * v
        x = x + 0.5 * h * (v + np.asarray(velocity_fn(guess, t + h), "float32"))
        path.append(x)
    return (x, np.stack(path)) if return_path else x


def sample_latents(net, condition=None, n=None, steps=20, guidance=1.0, method="euler", seed=0):
    """Draw x_0 ~ N(0, I) (seeded) and integrate the (guided) flow to t = 1 (lesson 14).

    Args:
        net: a :class:`ConditionalVelocityNet`.
        condition: (n, condition_dim) conditions, or None for an unconditional net (then give ``n``).
        steps: sampler steps; method: ``"euler"`` or ``"heun"``; guidance: w of classifier-free guidance.
        seed: seed of the starting noise (same seed, same samples).

    Returns:
        (n, latent_dim) float32 samples.
    """
    if method not in SAMPLERS:
        raise ValueError(f"method must be one of {SAMPLERS}. Received: method={method!r}")
    _check_seed(seed)
    if condition is None:
        n = _positive_int(n, "n")
    else:
        condition = np.asarray(condition, "float32")
        n = len(condition)
    x0 = np.random.default_rng(seed).standard_normal((n, net.latent_dim)).astype("float32")
    sampler = euler_sample if method == "euler" else heun_sample
    return sampler(velocity_function(net, condition, guidance), x0, steps)


def velocity_to_noise(x_t, t, velocity):
    """The noise and data predictions of a velocity: (eps_hat, x1_hat) = (x_t - t v, x_t + (1 - t) v) (lesson 14)."""
    x_t, v = np.asarray(x_t, "float64"), np.asarray(velocity, "float64")
    t = np.reshape(np.asarray(t, "float64"), (-1, 1)) if np.ndim(t) else float(t)
    return x_t - t * v, x_t + (1.0 - t) * v


def noise_to_velocity(x_t, t, noise):
    """The velocity of a noise prediction: v = (x_t - eps_hat) / t, for t > 0 (lesson 14)."""
    t_array = np.asarray(t, "float64")
    if np.any(t_array <= 0):
        raise ValueError(f"t must be > 0: at t = 0, x_t is pure noise and says nothing about v. Received: t={t!r}")
    t = np.reshape(t_array, (-1, 1)) if np.ndim(t) else float(t)
    return (np.asarray(x_t, "float64") - np.asarray(noise, "float64")) / t


def ddim_step(x_t, noise, t, s):
    """Deterministic DDIM step from time t to s (signal rate t, noise rate 1 - t) (lesson 14).

    x1_hat = (x_t - (1 - t) eps_hat) / t, then x_s = s x1_hat + (1 - s) eps_hat. With
    eps_hat = x_t - t v this equals the Euler step x_t + (s - t) v.
    """
    if not 0 < float(t) <= 1 or not 0 <= float(s) <= 1:
        raise ValueError(f"need 0 < t <= 1 and 0 <= s <= 1. Received: t={t!r}, s={s!r}")
    x_t, eps = np.asarray(x_t, "float64"), np.asarray(noise, "float64")
    x1_hat = (x_t - (1.0 - t) * eps) / t
    return s * x1_hat + (1.0 - s) * eps
