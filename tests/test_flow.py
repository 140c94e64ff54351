"""mmgen_lib.flow (lesson 14): the straight path, time embedding, velocity net, guidance, samplers, DDIM view."""

import keras
import numpy as np
import pytest

from mmgen_lib.flow import (
    ConditionalVelocityNet,
    FlowMatcher,
    SinusoidalTimeEmbedding,
    ddim_step,
    euler_sample,
    flow_matching_loss,
    guided_velocity,
    heun_sample,
    noise_to_velocity,
    sample_latents,
    straight_path,
    velocity_function,
    velocity_to_noise,
)


def inputs(n=5, d=4, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(n, d)).astype("float32"),
        rng.random(n).astype("float32"),
        rng.normal(size=(n, c)).astype("float32"),
    ]


# ----------------------------------------------------------------------------- objective
def test_straight_path_matches_numpy_and_ends():
    rng = np.random.default_rng(1)
    x0, x1, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), rng.random(6)
    x_t, v = straight_path(x0, x1, t)
    np.testing.assert_allclose(np.asarray(x_t), (1 - t[:, None]) * x0 + t[:, None] * x1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(v), x1 - x0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(straight_path(x0, x1, np.zeros(6))[0]), x0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(straight_path(x0, x1, np.ones(6))[0]), x1, atol=1e-6)


def test_flow_matching_loss_is_per_example_mse_to_the_velocity():
    rng = np.random.default_rng(2)
    x0, x1, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    loss = np.asarray(flow_matching_loss(v, x0, x1))
    np.testing.assert_allclose(loss, ((v - (x1 - x0)) ** 2).mean(axis=1), rtol=1e-5)
    assert np.allclose(np.asarray(flow_matching_loss(x1 - x0, x0, x1)), 0.0)


# ----------------------------------------------------------------------------- time embedding
def test_time_embedding_formula_shape_and_config():
    layer = SinusoidalTimeEmbedding(8, max_period=100.0, scale=10.0)
    t = np.array([0.0, 0.25, 1.0], "float32")
    out = np.asarray(layer(t))
    freqs = np.exp(-np.log(100.0) * np.arange(4) / 4)
    angles = 10.0 * t[:, None] * freqs
    np.testing.assert_allclose(out, np.concatenate([np.sin(angles), np.cos(angles)], 1), atol=1e-5)
    assert out.shape == (3, 8) and layer.count_params() == 0
    np.testing.assert_allclose(np.asarray(layer(t[:, None])), out, atol=1e-6)
    clone = SinusoidalTimeEmbedding.from_config(layer.get_config())
    assert (clone.dim, clone.max_period, clone.scale) == (8, 100.0, 10.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dim": 7}, "even"),
        ({"dim": 0}, "dim"),
        ({"dim": True}, "dim"),
        ({"dim": 8, "scale": 0}, "scale"),
        ({"dim": 8, "max_period": "x"}, "max_period"),
    ],
)
def test_time_embedding_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SinusoidalTimeEmbedding(**kwargs)


# ----------------------------------------------------------------------------- velocity net
def test_velocity_net_shape_parameter_count_and_reference():
    net = ConditionalVelocityNet(4, 3, hidden_units=8, num_layers=2, time_dim=6, seed=0)
    x, t, c = inputs()
    out = np.asarray(net([x, t, c]))
    assert out.shape == (5, 4)
    # null condition 3 + time dense 6*6+6 + hidden (4+6+3)*8+8, 8*8+8 + out 8*4+4
    assert net.count_params() == 3 + 42 + 112 + 72 + 36
    # NumPy reference of the forward pass
    w = {layer.name: [np.asarray(v) for v in layer.weights] for layer in [net.time_dense, *net.hidden, net.out]}
    silu = lambda a: a / (1 + np.exp(-a))  # noqa: E731
    emb = np.asarray(net.time_embedding(t))
    h = np.concatenate([x, silu(emb @ w["time_dense"][0] + w["time_dense"][1]), c], 1)
    for name in ("hidden0", "hidden1"):
        h = silu(h @ w[name][0] + w[name][1])
    np.testing.assert_allclose(out, h @ w["velocity"][0] + w["velocity"][1], rtol=1e-4, atol=1e-5)


def test_velocity_net_null_condition_replaces_dropped_rows_only():
    net = ConditionalVelocityNet(4, 3, hidden_units=8, num_layers=1, seed=0)
    x, t, c = inputs()
    net([x, t, c])
    net.null_condition.assign(np.array([5.0, -5.0, 2.0], "float32"))
    drop = np.array([1, 0, 1, 0, 0], "float32")
    mixed = np.asarray(net([x, t, c], drop_condition=drop))
    c_null = np.where(drop[:, None] == 1, np.asarray(net.null_condition)[None], c)
    np.testing.assert_allclose(mixed, np.asarray(net([x, t, c_null])), atol=1e-5)


def test_velocity_net_training_drops_conditions_at_the_given_rate():
    net = ConditionalVelocityNet(2, 3, hidden_units=4, num_layers=1, condition_dropout=0.3, seed=4)
    rng = np.random.default_rng(0)
    x, t = np.zeros((4000, 2), "float32"), np.full(4000, 0.5, "float32")
    c = rng.normal(size=(4000, 3)).astype("float32")
    net([x, t, c])
    net.null_condition.assign(np.full(3, 50.0, "float32"))  # far from every c: dropped rows stand out
    clean = np.asarray(net([x, t, c]))
    noisy = np.asarray(net([x, t, c], training=True))
    dropped = np.mean(np.any(np.abs(noisy - clean) > 1e-5, axis=1))
    assert 0.25 < dropped < 0.35
    assert np.allclose(np.asarray(net([x, t, c], training=False)), clean)


def test_velocity_net_unconditional_and_seeds():
    net = ConditionalVelocityNet(2, hidden_units=8, num_layers=2, seed=0)
    assert np.asarray(net([np.zeros((3, 2), "float32"), np.ones(3, "float32")])).shape == (3, 2)
    x, t, c = inputs()
    keras.utils.set_random_seed(7)
    a = np.asarray(ConditionalVelocityNet(4, 3, seed=1)([x, t, c]))
    keras.utils.set_random_seed(7)
    b = np.asarray(ConditionalVelocityNet(4, 3, seed=1)([x, t, c]))
    np.testing.assert_array_equal(a, b)


def test_velocity_net_config_and_keras_round_trip(tmp_path):
    x, t, c = inputs()
    xi, ti, ci = keras.Input((4,)), keras.Input(()), keras.Input((3,))
    net = ConditionalVelocityNet(4, 3, hidden_units=8, num_layers=2, time_dim=6, condition_dropout=0.2, seed=3)
    model = keras.Model([xi, ti, ci], net([xi, ti, ci]))
    config = net.get_config()
    for key in ("latent_dim", "condition_dim", "hidden_units", "num_layers", "time_dim", "condition_dropout", "seed"):
        assert config[key] == getattr(net, key)
    model.save(tmp_path / "velocity.keras")
    loaded = keras.saving.load_model(tmp_path / "velocity.keras")
    np.testing.assert_allclose(np.asarray(loaded([x, t, c])), np.asarray(model([x, t, c])), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"latent_dim": 2, "condition_dim": -1}, "condition_dim"),
        ({"latent_dim": 2, "hidden_units": 1.5}, "hidden_units"),
        ({"latent_dim": 2, "num_layers": 0}, "num_layers"),
        ({"latent_dim": 2, "condition_dropout": 1.0}, "condition_dropout"),
        ({"latent_dim": 2, "seed": -3}, "seed"),
    ],
)
def test_velocity_net_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConditionalVelocityNet(**kwargs)


def test_velocity_net_bad_inputs():
    x, t, c = inputs()
    with pytest.raises(ValueError, match="3 inputs"):
        ConditionalVelocityNet(4, 3)([x, t])
    with pytest.raises(ValueError, match="x_t must have 4"):
        ConditionalVelocityNet(4, 3)([x[:, :2], t, c])
    with pytest.raises(ValueError, match="c must have 3"):
        ConditionalVelocityNet(4, 3)([x, t, c[:, :1]])


# ----------------------------------------------------------------------------- guidance and samplers
def test_guidance_combines_conditional_and_unconditional():
    net = ConditionalVelocityNet(4, 3, hidden_units=8, num_layers=1, seed=0)
    x, t, c = inputs()
    v_c = np.asarray(net([x, t, c], drop_condition=np.zeros(5)))
    v_u = np.asarray(net([x, t, c], drop_condition=np.ones(5)))
    for w in (0.0, 1.0, 3.0):
        np.testing.assert_allclose(
            np.asarray(guided_velocity(net, x, t, c, w)), v_u + w * (v_c - v_u), rtol=1e-4, atol=1e-5
        )
    np.testing.assert_allclose(
        velocity_function(net, c, 2.0)(x, 0.3), np.asarray(guided_velocity(net, x, np.full(5, 0.3), c, 2.0)), atol=1e-5
    )
    with pytest.raises(TypeError, match="guidance"):
        velocity_function(net, c, "strong")


def test_euler_is_exact_for_a_constant_field_and_heun_for_a_linear_one():
    x0 = np.array([[1.0, -2.0]], "float32")
    np.testing.assert_allclose(euler_sample(lambda x, t: np.full_like(x, 3.0), x0, steps=1), x0 + 3.0, rtol=1e-6)
    # dx/dt = t: x(1) = x0 + 1/2; Euler with 2 steps gives x0 + 1/4, Heun is exact
    field = lambda x, t: np.full_like(x, t)  # noqa: E731
    np.testing.assert_allclose(euler_sample(field, x0, steps=2), x0 + 0.25, rtol=1e-6)
    np.testing.assert_allclose(heun_sample(field, x0, steps=2), x0 + 0.5, rtol=1e-6)
    final, path = euler_sample(field, x0, steps=4, return_path=True)
    assert path.shape == (5, 1, 2) and np.allclose(path[-1], final) and np.allclose(path[0], x0)
    with pytest.raises(ValueError, match="steps"):
        euler_sample(field, x0, steps=0)


def test_sample_latents_seeded_and_checked():
    net = ConditionalVelocityNet(4, 3, hidden_units=8, num_layers=1, seed=0)
    c = inputs()[2]
    a = sample_latents(net, c, steps=3, guidance=2.0, seed=5)
    np.testing.assert_array_equal(a, sample_latents(net, c, steps=3, guidance=2.0, seed=5))
    assert a.shape == (5, 4) and not np.allclose(a, sample_latents(net, c, steps=3, guidance=2.0, seed=6))
    assert sample_latents(net, c, steps=2, method="heun").shape == (5, 4)
    uncond = ConditionalVelocityNet(2, hidden_units=8, num_layers=1)
    assert sample_latents(uncond, n=7, steps=2).shape == (7, 2)
    with pytest.raises(ValueError, match="method"):
        sample_latents(net, c, method="rk4")


def test_flow_matcher_learns_a_shifted_gaussian():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(2000, 2)) * 0.3 + np.array([2.0, -1.0])).astype("float32")
    model = FlowMatcher(2, hidden_units=32, num_layers=2, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(data, epochs=15, batch_size=200, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    samples = sample_latents(model.velocity, n=1000, steps=20, seed=1)
    np.testing.assert_allclose(samples.mean(axis=0), [2.0, -1.0], atol=0.2)
    assert 0.15 < samples.std(axis=0).mean() < 0.5  # a distribution, not collapsed to the mean
    clone = FlowMatcher.from_config(model.get_config())
    assert clone.velocity.hidden_units == 32 and clone.seed == 0


def test_flow_matcher_keras_round_trip(tmp_path):
    model = FlowMatcher(3, condition_dim=2, hidden_units=8, num_layers=1, seed=1)
    model.compile(optimizer="adam")
    x = {"x1": np.ones((8, 3), "float32"), "condition": np.ones((8, 2), "float32")}
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "flow.keras")
    loaded = keras.saving.load_model(tmp_path / "flow.keras")
    probe = [np.zeros((2, 3), "float32"), np.full(2, 0.5, "float32"), np.ones((2, 2), "float32")]
    np.testing.assert_allclose(np.asarray(loaded.velocity(probe)), np.asarray(model.velocity(probe)), atol=1e-6)


# ----------------------------------------------------------------------------- noise-prediction view
def test_velocity_and_noise_parametrisations_convert_both_ways():
    rng = np.random.default_rng(3)
    x0, x1, t = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), rng.uniform(0.05, 1.0, 6)
    x_t = (1 - t[:, None]) * x0 + t[:, None] * x1
    eps_hat, x1_hat = velocity_to_noise(x_t, t, x1 - x0)  # the true velocity gives the true noise and data
    np.testing.assert_allclose(eps_hat, x0, atol=1e-10)
    np.testing.assert_allclose(x1_hat, x1, atol=1e-10)
    np.testing.assert_allclose(noise_to_velocity(x_t, t, x0), x1 - x0, atol=1e-10)
    with pytest.raises(ValueError, match="t must be > 0"):
        noise_to_velocity(x_t, 0.0, x0)


def test_ddim_step_equals_the_euler_step():
    rng = np.random.default_rng(4)
    x_t, v = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    for t, s in ((0.3, 0.55), (0.9, 1.0), (0.5, 0.25)):
        eps_hat, _ = velocity_to_noise(x_t, t, v)
        np.testing.assert_allclose(ddim_step(x_t, eps_hat, t, s), x_t + (s - t) * v, atol=1e-10)
    with pytest.raises(ValueError, match="0 < t"):
        ddim_step(x_t, x_t, 0.0, 0.5)
