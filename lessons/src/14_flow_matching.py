# %% [markdown]
# # 14 · Flow matching and latent diffusion: caption → image, samples not the mean
#
# **Objectives**
# - derive the **flow-matching** objective on the straight path from noise to data, and see why
#   regressing a *velocity* learns a whole distribution where regressing the *image* learns its mean;
# - write an **Euler sampler** by hand, check it against `mmgen_lib.flow`, and see what fewer steps do;
# - build the **latent-diffusion recipe** in miniature: an autoencoder to a 16-d latent, a velocity
#   network in that latent conditioned on the caption through the course's `TextEncoder`, decoding;
# - steer sampling with **classifier-free guidance** and measure what it trades: diversity for fidelity;
# - score every generator the same way with `mmgen_lib.scoreboard`.
#
# **Prerequisites**: lessons 02 (text encoder), 09 (image decoder, probe, why MSE blurs), 10 (autoencoder recipe).
#
# **Expected run time**: 30–50 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.flow` (`straight_path`, `SinusoidalTimeEmbedding`, `ConditionalVelocityNet`,
# `FlowMatcher`, `guided_velocity`, `euler_sample`, `heun_sample`, `sample_latents`, `velocity_to_noise`,
# `ddim_step`), `mmgen_lib.scoreboard` (`score_generator`, `silhouette_iou_by_shape`, `scoreboard_markdown`);
# uses `mmgen_lib.latent` (the autoencoder) and `mmgen_lib.latent_flow` (the caption encoder and the flow of
# section 3, trained once and shipped: this lesson trains the first epoch of each).

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import data, viz
from mmgen_lib.data import ATTRIBUTES
from mmgen_lib.flow import (
    FlowMatcher,
    ddim_step,
    euler_sample,
    heun_sample,
    sample_latents,
    straight_path,
    velocity_function,
    velocity_to_noise,
)
from mmgen_lib.latent import RECIPE as AUTOENCODER_RECIPE
from mmgen_lib.latent import load_latent_autoencoder
from mmgen_lib.latent_flow import RECIPE as FLOW_RECIPE
from mmgen_lib.latent_flow import caption_variants, load_latent_flow, train_caption_encoder, train_flow
from mmgen_lib.probe import PROBE_ATTRIBUTES, load_probe, probe_accuracy, probe_predict
from mmgen_lib.progress import ProgressLine
from mmgen_lib.scoreboard import (
    normalised_entropy,
    omit_attributes,
    score_generator,
    scoreboard_markdown,
    silhouette_iou_by_shape,
)
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.utils import report, set_seed

SEED = 0
# Epochs trained here, of the shipped recipe's 2 (caption encoder) and 30 (flow); 2 and 30 train it all.
LIVE_TEXT_EPOCHS, LIVE_FLOW_EPOCHS = 0, 1  # 0: the caption encoder is loaded (tracing its step alone takes ~5 s)
GUIDANCE, STEPS, METHOD = 2.0, 10, "heun"  # the sampler's defaults for ShapesWorld (Heun: 2 calls per step)

set_seed(SEED)
viz.use_course_style()

train, test, heldout = data.load_split("train"), data.load_split("test"), data.load_split("heldout")
tokenizer = shapesworld_tokenizer(train)
probe = load_probe()
x_test = test.images / np.float32(255)
print(f"{len(train)} train / {len(test)} test / {len(heldout)} heldout; vocabulary {tokenizer.vocab_size}")

# %% [markdown]
# ## 1. Intuition and math
#
# Lesson 09 trained a decoder with a squared error and found that the best it can do is the
# **conditional mean** $\mathbb{E}[x_v \mid x_t]$: whatever the caption leaves open is averaged.
# "A red circle" without a position averages four places into four faint ghosts. Generation wants
# the opposite: one sharp circle, at a *different* place each time — a **sample** of
# $p(x_v \mid x_t)$.
#
# **A path from noise to data.** Draw noise $x_0 \sim \mathcal{N}(0, I)$ and a data point $x_1$ and
# join them by a straight line (rectified flow, Liu et al. 2023; flow matching, Lipman et al. 2023):
#
# $$x_\tau = (1 - \tau)\, x_0 + \tau\, x_1, \qquad \frac{d x_\tau}{d\tau} = x_1 - x_0, \qquad \tau \in [0, 1].$$
#
# (We write $\tau$ for time so as not to clash with the course's $x_t$ for text.) A network
# $v_\theta(x_\tau, \tau, c)$ learns the velocity by plain regression,
#
# $$\mathcal{L}_{\text{FM}} = \mathbb{E}_{x_0, x_1, \tau}\,\big\lVert v_\theta(x_\tau, \tau, c) - (x_1 - x_0)\big\rVert^2 .$$
#
# **Why this learns the distribution and not the mean.** The regression optimum is again a
# conditional mean — but of the *velocity* at a point: $v^\star(x, \tau) = \mathbb{E}[x_1 - x_0 \mid x_\tau = x]$.
# At $\tau = 0$ every $x_1$ is equally consistent, so $v^\star$ points at the data mean; a little later
# $x_\tau$ already leans towards one mode and $v^\star$ points at *that* mode. Integrating
# $dx/d\tau = v^\star$ from many noise points carries each of them to a different data point, and the
# transported noise has exactly the data's distribution (the continuity equation; Lipman et al. prove it).
# Averaging happens in the *direction*, not in the *result*.
#
# **Sampling** integrates the learned ODE, e.g. with Euler steps $x \leftarrow x + h\,v_\theta(x, \tau)$,
# $h = 1/\text{steps}$. Curved paths need more steps; a straight path is exact in one.
#
# **Classifier-free guidance** (Ho & Salimans 2022). Train with the caption replaced by a learned
# "null" condition $\varnothing$ 10 % of the time; then one network gives both $v_c = v_\theta(x, \tau, c)$
# and $v_u = v_\theta(x, \tau, \varnothing)$, and we sample with
# $v = v_u + w\,(v_c - v_u)$: $w = 0$ ignores the caption, $w = 1$ is the plain conditional model,
# $w > 1$ pushes further towards what the caption says.
#
# **The DDPM / DDIM view.** Reading $x_\tau = \tau\,x_1 + (1 - \tau)\,\varepsilon$ as "signal rate $\tau$,
# noise rate $1 - \tau$", a velocity gives the noise and data predictions of a diffusion model,
# $\hat\varepsilon = x_\tau - \tau v$ and $\hat x_1 = x_\tau + (1 - \tau) v$, and back $v = (x_\tau - \hat\varepsilon)/\tau$.
# A deterministic DDIM step to time $s$, $x_s = s\,\hat x_1 + (1 - s)\,\hat\varepsilon$, *is* the Euler step
# $x_\tau + (s - \tau)\,v$.
#
# **Latent diffusion** (Rombach et al. 2022). Pixels are expensive: a flow over 32×32×3 values
# needs a U-Net and minutes per epoch on a CPU. Instead an autoencoder compresses each image to a
# 16-d latent $z$ once; the flow generates $z$; the decoder $D$ draws the picture.
#
# | tensor | shape |
# |---|---|
# | toy data / noise $x_1, x_0$ | (batch, 2) |
# | image $x_v$ → probe features → latent $z$ | (batch, 32, 32, 3) → (batch, 80) → (batch, 16) |
# | caption ids $x_t$ → $c = E_t(x_t)$ | (batch, 16) → (batch, 64) |
# | time $\tau$ → sinusoidal embedding | (batch,) → (batch, 32) |
# | velocity $v_\theta([z_\tau; \text{emb}(\tau); c])$ | (batch, 16) |
# | decoded image $D(z)$ | (batch, 32, 32, 3) |

# %% [markdown]
# ## 2. Build it on a 2-D toy
#
# Eight Gaussian blobs on a ring. Their mean is the centre of the ring, where there is no data at
# all: a regression to $x_1$ would answer that point, always.

# %%
rng = np.random.default_rng(SEED)
angles = rng.integers(8, size=4000) * (2 * np.pi / 8)
ring = (2.0 * np.stack([np.cos(angles), np.sin(angles)], 1) + 0.12 * rng.standard_normal((4000, 2))).astype("float32")
x0_check = rng.standard_normal((5, 2)).astype("float32")
tau_check = np.linspace(0.1, 0.9, 5).astype("float32")
x_tau, v_target = (np.asarray(a) for a in straight_path(x0_check, ring[:5], tau_check))

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(x_tau, (1 - tau_check[:, None]) * x0_check + tau_check[:, None] * ring[:5], atol=1e-6)
np.testing.assert_allclose(v_target, ring[:5] - x0_check, atol=1e-6)
print("toy data", ring.shape, "| mean of the data (the regression answer):", np.round(ring.mean(axis=0), 1))
print("straight_path matches (1 - tau) x0 + tau x1, velocity x1 - x0")

# %% [markdown]
# Train a small unconditional velocity network on the ring (`FlowMatcher` draws $x_0$ and $\tau$ for
# every example and regresses $x_1 - x_0$).

# %% tags=["nbval-ignore-output"]
toy = FlowMatcher(2, hidden_units=64, num_layers=2, time_dim=16, seed=SEED)
toy.compile(
    optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-2, 24 * 10)), steps_per_execution=10
)
toy_history = toy.fit(ring, epochs=24, batch_size=400, shuffle=True, verbose=0)
print(
    f"toy flow-matching loss: first epoch {toy_history.history['loss'][0]:.3f}, "
    f"last {toy_history.history['loss'][-1]:.3f}"
)


# %% [markdown]
# ### 2.1 The Euler sampler, by hand
#
# Start at noise, take `steps` steps of size $h = 1/\text{steps}$, reading the velocity at the
# current point and the step's start time.


# %%
def euler_by_hand(velocity_fn, x0, steps):
    x, path = np.asarray(x0, "float32"), [np.asarray(x0, "float32")]
    for k in range(steps):
        x = x + (1.0 / steps) * velocity_fn(x, k / steps)  # (n, 2)
        path.append(x)
    return x, np.stack(path)  # (n, 2), (steps + 1, n, 2)


toy_velocity = velocity_function(toy.velocity)  # (x, tau) -> v, NumPy in and out
noise = np.random.default_rng(SEED + 1).standard_normal((1000, 2)).astype("float32")
ours, _ = euler_by_hand(toy_velocity, noise, 20)

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(ours, euler_sample(toy_velocity, noise, steps=20), atol=1e-5)
print("our Euler sampler matches mmgen_lib.flow.euler_sample")
eps_hat, x1_hat = velocity_to_noise(x_tau, tau_check, v_target)
np.testing.assert_allclose(eps_hat, x0_check, atol=1e-5)
tau0 = float(tau_check[0])  # one DDIM step from tau0 to tau0 + 0.25, with the noise predicted at tau0
np.testing.assert_allclose(
    ddim_step(x_tau[:1], eps_hat[:1], tau0, tau0 + 0.25), x_tau[:1] + 0.25 * v_target[:1], atol=1e-5
)
print("true velocity -> true noise (DDPM's epsilon); a DDIM step equals the Euler step")

# %% [markdown]
# ### 2.2 Trajectories: fewer steps, straighter — or wronger — paths

# %% tags=["nbval-ignore-output"]
fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
radius_of = {}
for ax, steps in zip(axes[:3], (1, 4, 20)):
    final, path = euler_by_hand(toy_velocity, noise, steps)
    radius_of[steps] = np.linalg.norm(final, axis=1)
    ax.scatter(*ring[:600].T, s=2, c="lightgrey", label="data")
    for i in range(25):
        ax.plot(path[:, i, 0], path[:, i, 1], lw=0.8, c="tab:blue", alpha=0.7)
    ax.scatter(*final[:300].T, s=3, c="tab:red", label="samples")
    ax.scatter(*ring.mean(axis=0), marker="*", s=150, c="k", label="data mean")
    ax.set_title(f"Euler, {steps} step{'s' if steps > 1 else ''}")
    ax.set_xlabel("$x^{(1)}$")
    ax.set_ylabel("$x^{(2)}$")
    ax.set_aspect("equal")
heun, _ = heun_sample(toy_velocity, noise, steps=4, return_path=True)
axes[3].scatter(*ring[:600].T, s=2, c="lightgrey", label="data")
axes[3].scatter(*heun[:300].T, s=3, c="tab:green", label="Heun samples")
axes[3].set_title("Heun, 4 steps (8 calls)")
axes[3].set_xlabel("$x^{(1)}$")
axes[3].set_aspect("equal")
axes[0].legend(fontsize=7, loc="lower left")
axes[3].legend(fontsize=7, loc="lower left")
fig.suptitle("Noise flowing onto a ring of 8 Gaussians")
fig.tight_layout()
plt.show()
for steps, radius in radius_of.items():
    print(
        f"{steps:2d} Euler steps: median distance of the samples from the centre {np.median(radius):.2f} "
        f"(data: {np.median(np.linalg.norm(ring, axis=1)):.2f})"
    )

# %% [markdown]
# With one step every noise point moves along the velocity at $\tau = 0$, which points to the data
# *mean*: the samples collapse onto the empty centre — lesson 09's blur, in two dimensions. A few
# steps bend the paths towards one blob each; twenty steps put the samples on the ring (compare the
# median distances printed above). Heun's method corrects each step with a second velocity read, at
# twice the network calls per step.
#
# ## 3. Latent diffusion on ShapesWorld
#
# ### 3.1 The autoencoder — the ceiling of the whole pipeline
#
# Whatever the flow generates is drawn by the decoder, so the generator can never beat the
# autoencoder's reconstructions. As in latent diffusion, the autoencoder is trained apart from the
# generator, once, and then frozen: the course ships it (`mmgen_lib.latent`, trained on the training
# split by lesson 10's recipe; `python -m mmgen_lib.latent --out my_latent` retrains it in about a
# minute). The encoder is the probe's convolutional trunk (trained on real images only; 80
# features) and a dense layer to the 16-d latent; the decoder is `ImageDecoder`'s alpha compositing,
# trained with the shift-tolerant, area-normalised loss (a plain MSE autoencoder draws ShapesWorld's
# shapes poorly: corners are what it averages away first); four attribute heads on the latent
# (lesson 07's multimodal loss) keep shape, colour, size and position legible in it.
#
# Honest caveat: the encoder shares its trunk with the probe that scores the images, so the section
# also reports the **silhouette IoU** — the overlap with the object ShapesWorld's own renderer draws
# for the same attributes — which no network of ours influences.

# %% tags=["nbval-ignore-output"]
autoencoder = load_latent_autoencoder(probe=probe)  # frozen: images <-> (n, 16)
LATENT_DIM = autoencoder.latent_dim  # what the flow generates
print("recipe:", AUTOENCODER_RECIPE)
print(f"autoencoder (dense to the latent + decoder): {autoencoder.count_params():,} trained parameters")
latents = {"train": autoencoder.encode(train.images), "test": autoencoder.encode(test.images)}  # (n, 16) each
z_mean, z_std = latents["train"].mean(0), latents["train"].std(0) + 1e-6  # the flow works on standardised z


def decode(z_standardised):
    """Standardised latents (n, 16) -> images (n, 32, 32, 3)."""
    return autoencoder.decode(np.asarray(z_standardised, "float32") * z_std + z_mean)


reconstructions = decode((latents["test"] - z_mean) / z_std)
ceiling = probe_accuracy(probe, reconstructions, test.labels)
ceiling_iou = silhouette_iou_by_shape(reconstructions, test.labels)  # {shape: mean IoU}
real_iou = silhouette_iou_by_shape(test.images, test.labels)
print("autoencoder ceiling, probe:", "  ".join(f"{k} {v:.3f}" for k, v in ceiling.items()))
for shape in ATTRIBUTES["shape"]:
    print(f"silhouette IoU {shape:8s}: reconstructions {ceiling_iou[shape]:.3f}, real images {real_iou[shape]:.3f}")

# %% [markdown]
# Real images do not reach an IoU of 1: the renderer varies each radius by ±8 % and the score
# compares with the nominal radius. Those figures are the yardstick for everything below.
#
# ### 3.2 The caption encoder, and captions that leave things out
#
# The flow is conditioned on the caption through the course's `TextEncoder` (lesson 02). To learn
# $p(z \mid \text{caption})$ also for captions that do **not** name everything, each training image gets
# three captions (`FLOW_RECIPE["caption_variants"]`): its own, and copies in which each visible
# attribute is left out with probability 0.3 (`FLOW_RECIPE["p_omit"]`; `omit_attributes` removes its
# words, and the whole phrase "at the top", since "at the" alone would still say top-or-bottom).
#
# The text encoder is trained by the simplest generator there is — a **regression** from the caption
# to the latent, decoded by the same decoder. That regression is lesson 09's deterministic mapping in
# latent space: it learns $\mathbb{E}[z \mid \text{caption}]$, and it is the comparison for the flow. As in
# lesson 09, small heads on $c$ must also say what the caption names — each attribute's value, or
# "not said" — so that every attribute is a clear direction in $c$ even when others are missing.
#
# The recipe (`mmgen_lib.latent_flow.train_caption_encoder`): a transformer `TextEncoder` (mean pooling,
# 64 units), then `Dense(128, silu)` to the 16-d latent, the heads weighted 0.3, 2 epochs. It was trained
# once with this lesson's seed and ships with the course: the cell after the next loads it (set
# `LIVE_TEXT_EPOCHS` to 1 or 2 to train it here and compare with the shipped run).

# %%
variant_captions, variant_said = caption_variants(train.captions, train.labels, seed=SEED)  # and what each names
variant_ids = tokenizer.encode_batch(variant_captions, 16)  # (3 * 5000, 16)
variant_z = np.tile((latents["train"] - z_mean) / z_std, (FLOW_RECIPE["caption_variants"], 1)).astype("float32")
print(train.captions[3], "->", variant_captions[len(train) + 3])
print("recipe:", FLOW_RECIPE)

# %% tags=["nbval-ignore-output"]
shipped, shipped_record = load_latent_flow()  # the same recipe and seed, every epoch
shipped_history = shipped_record["history"]  # loss per epoch of both networks
if LIVE_TEXT_EPOCHS:  # train the first epochs again and compare them with the shipped run's
    live_text, live_text_history = train_caption_encoder(
        variant_ids,
        variant_z,  # (15000, 16): the standardised latent of each variant's image
        variant_said,
        tokenizer.vocab_size,
        stop_after=LIVE_TEXT_EPOCHS,
        seed=SEED,
        callbacks=[ProgressLine("caption encoder", per_epoch=False)],
    )
    np.testing.assert_allclose(
        live_text_history["loss"], shipped_history["caption_encoder"]["loss"][:LIVE_TEXT_EPOCHS], rtol=0.02
    )
    print(f"loss per epoch: trained here {np.round(live_text_history['loss'], 4)}")
regression, caption_vectors = shipped.regression, shipped.caption_vectors  # ids -> z_hat; ids -> c (64)
print(f"loss per epoch, shipped run: {shipped_history['caption_encoder']['loss']}")
print(
    f"regression to the latent after {FLOW_RECIPE['text_epochs']} epochs: MSE "
    f"{shipped_history['caption_encoder']['z_hat_loss'][-1]:.3f} (1.0 = predicting the mean latent)"
)

# %% [markdown]
# ### 3.3 The conditional flow in the latent
#
# A 3×256 MLP velocity network, input $[z_\tau;\ \text{emb}(\tau);\ c]$, trained with the
# flow-matching loss for 30 epochs; the caption vector $c$ is replaced by the learned null condition
# with probability 0.1 (`FLOW_RECIPE["condition_dropout"]`), which is what makes guidance possible.
#
# Both networks of this section were trained once by `mmgen_lib.latent_flow`'s recipe with this
# lesson's seed and ship with the course (`python -m mmgen_lib.latent_flow --out data/latent_flow --force`
# rebuilds them in about 35 s); the cell above loaded the caption encoder. Here the flow's first epoch is
# trained again, on the shipped caption encoder's vectors and with the whole recipe's learning-rate
# schedule, and its loss checked against the shipped run's first epoch before we generate with the
# shipped weights. `LIVE_TEXT_EPOCHS, LIVE_FLOW_EPOCHS = 2, 30` trains both networks here, epoch by
# epoch against the shipped run.

# %% tags=["nbval-ignore-output"]
conditions = caption_vectors.predict(variant_ids, batch_size=1000, verbose=0)  # (15000, 64), frozen E_t
live_flow, live_flow_history = train_flow(
    variant_z,
    conditions,
    stop_after=LIVE_FLOW_EPOCHS,
    seed=SEED,
    callbacks=[ProgressLine("flow", every=10)],
)
flow_loss = shipped_history["flow"]["loss"]  # the shipped run, one value per epoch
np.testing.assert_allclose(live_flow_history["loss"], flow_loss[:LIVE_FLOW_EPOCHS], rtol=0.02)
flow = shipped.flow  # FlowMatcher; flow.velocity is what the samplers call

fig, ax = plt.subplots(figsize=(5.5, 3.0))
ax.plot(range(1, len(flow_loss) + 1), flow_loss, label="shipped run")
ax.plot(range(1, LIVE_FLOW_EPOCHS + 1), live_flow_history["loss"], "o", label="trained here")
ax.set_xlabel("epoch")
ax.set_ylabel("flow-matching loss")
ax.set_title("The conditional flow's training, epoch by epoch")
ax.legend()
plt.show()
print(
    f"velocity network: {flow.velocity.count_params():,} parameters; flow-matching loss of the first epoch: "
    f"trained here {live_flow_history['loss'][0]:.3f}, shipped run {flow_loss[0]:.3f}; "
    f"after {len(flow_loss)} epochs {flow_loss[-1]:.3f}"
)


# %% tags=["nbval-ignore-output"]
def generate(captions, guidance=GUIDANCE, steps=STEPS, method=METHOD, seed=SEED):
    """Captions -> images: E_t, then the guided flow from seeded noise, then the decoder."""
    condition = keras.ops.convert_to_numpy(caption_vectors(tokenizer.encode_batch(captions, 16)))  # (n, 64)
    return decode(sample_latents(flow.velocity, condition, steps=steps, guidance=guidance, method=method, seed=seed))


def regress(captions):
    """Captions -> images through the deterministic regression (the conditional mean of the latent)."""
    return decode(keras.ops.convert_to_numpy(regression(tokenizer.encode_batch(captions, 16))))


started = time.perf_counter()
flow_images = generate(test.captions)
flow_seconds = time.perf_counter() - started
flow_heldout = generate(heldout.captions)
flow_scores = probe_accuracy(probe, flow_images, test.labels)
heldout_scores = probe_accuracy(probe, flow_heldout, heldout.labels)
print("flow, test captions    :", "  ".join(f"{k} {v:.3f}" for k, v in flow_scores.items()))
print("flow, heldout combos   :", "  ".join(f"{k} {v:.3f}" for k, v in heldout_scores.items()))
print(f"{len(test)} images in {flow_seconds:.2f} s ({STEPS} {METHOD} steps, guidance w = {GUIDANCE})")
picks = list(range(8))
fig = viz.show_images(
    np.concatenate([x_test[picks], flow_images[picks]]),
    titles=[test.captions[i] for i in picks] + ["flow sample"] * 8,
    ncols=8,
    size=1.5,
    title="Test captions: real images (top) and the latent flow's samples (bottom)",
)
plt.show()

# %% [markdown]
# ### 3.4 Samples, not the mean
#
# Now the captions without their position ("a large red metal circle"). A generator that has
# learned the distribution should spread its objects over the four places and keep everything the
# caption names; a regression should put one averaged object wherever the mean latent decodes to.

# %% tags=["nbval-ignore-output"]
silent_captions = [omit_attributes(caption, "position") for caption in test.captions]
flow_silent = generate(silent_captions)
regression_silent = regress(silent_captions)
readings = {"flow": probe_predict(probe, flow_silent), "regression": probe_predict(probe, regression_silent)}
silent_entropy = {name: normalised_entropy(r["position"], 4) for name, r in readings.items()}
silent_named = {
    name: {a: float(np.mean(r[a] == test.label(a))) for a in ("shape", "color", "size")} for name, r in readings.items()
}
for name in readings:
    spread = np.bincount(readings[name]["position"], minlength=4) / len(test)
    print(
        f"{name:10s}: positions read {dict(zip(ATTRIBUTES['position'], np.round(spread, 2)))}, "
        f"normalised entropy {silent_entropy[name]:.3f}"
    )
    print(f"{'':10s}  named attributes: " + "  ".join(f"{a} {v:.3f}" for a, v in silent_named[name].items()))
same = [silent_captions[0]] * 8
fig = viz.show_images(
    np.concatenate([regress(same), generate(same, seed=SEED + 7)]),
    titles=["regression"] * 8 + ["flow sample"] * 8,
    ncols=8,
    size=1.4,
    title=f"'{silent_captions[0]}', eight times: the regression's one answer vs eight flow samples",
)
plt.show()

# %% [markdown]
# The regression answers the same picture every time — the conditional mean of the latent, decoded
# — and the probe reads it mostly at one or two places; averaging over positions also blurs what the caption
# *did* name (read its named-attribute accuracies). The flow gives a different object for each noise
# draw, spread over the four positions, and keeps the named attributes.
#
# ### 3.5 Guidance and steps: what each knob trades

# %% tags=["nbval-ignore-output"]
sweep_captions, sweep_labels = test.captions[:300], test.labels[:300]
sweep_silent = silent_captions[:300]
guidance_rows = {}
for w in (0.0, 1.0, 2.0, 4.0):
    scores = probe_accuracy(probe, generate(sweep_captions, guidance=w, steps=8, method="euler"), sweep_labels)
    silent_positions = probe_predict(probe, generate(sweep_silent, guidance=w, steps=8, method="euler"))["position"]
    guidance_rows[w] = {
        **scores,
        "probe_acc_min": min(scores.values()),
        "silent_entropy": normalised_entropy(silent_positions, 4),
    }
    print(f"w = {w:.0f}: " + "  ".join(f"{k} {v:.3f}" for k, v in guidance_rows[w].items()))
steps_rows = {}
for steps in (1, 2, 4, 8, 20):
    started = time.perf_counter()
    images = generate(sweep_captions, steps=steps, method="euler")
    steps_rows[steps] = {
        "probe_acc_min": min(probe_accuracy(probe, images, sweep_labels).values()),
        "seconds": time.perf_counter() - started,
    }

# %% tags=["nbval-ignore-output"]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
ws = list(guidance_rows)
left.plot(ws, [guidance_rows[w]["probe_acc_min"] for w in ws], marker="o", label="probe accuracy (min, full captions)")
left.plot(
    ws, [guidance_rows[w]["silent_entropy"] for w in ws], marker="s", label="position entropy (no-position captions)"
)
left.set_xlabel("guidance weight w")
left.set_ylabel("score")
left.set_title("Guidance: fidelity vs diversity (8 Euler steps)")
left.legend(fontsize=8)
steps_list = list(steps_rows)
right.plot(steps_list, [steps_rows[s]["probe_acc_min"] for s in steps_list], marker="o", label="probe accuracy (min)")
right.set_xscale("log")
right.set_xlabel("Euler steps")
right.set_ylabel("probe accuracy (min)")
right.set_title(f"Steps: accuracy and time for {len(sweep_captions)} images")
twin = right.twinx()
twin.plot(steps_list, [steps_rows[s]["seconds"] for s in steps_list], marker="^", c="tab:red", label="seconds")
twin.set_ylabel("seconds")
right.legend(loc="lower right", fontsize=8)
twin.legend(loc="center right", fontsize=8)
fig.tight_layout()
plt.show()
for steps, row in steps_rows.items():
    print(f"{steps:2d} steps: probe accuracy (min) {row['probe_acc_min']:.3f}, {row['seconds']:.2f} s")

# %% [markdown]
# Read the left panel: at $w = 0$ the samples ignore the caption (every attribute near chance); at
# $w = 1$ the caption is followed; larger $w$ pushes further towards what the caption says. Guidance
# narrows samples towards the condition; here the entropy of the unnamed position barely moves,
# because the caption says nothing about it at all — on richer data, where the condition correlates
# with everything, larger $w$ visibly costs diversity. Right: for *full* captions even one step
# scores well, since such a caption leaves almost nothing open and the mean latent is already a good
# one (the toy's one-step collapse needed eight distinct blobs). The seconds include encoding the
# captions and decoding the images, and are noisy on a shared machine; the network calls grow
# linearly with the steps.
#
# ## 4. The asserted result, on one scoreboard
#
# `score_generator` scores any generator's images the same way; lessons 09 and 10 can report
# through it too. Here: the flow, the regression in the same latent, and the autoencoder's
# reconstructions (the ceiling, not a generator).

# %% tags=["nbval-ignore-output"]
rows = [
    score_generator(
        f"14 latent flow (w={GUIDANCE:g}, {STEPS} {METHOD} steps)",
        flow_images,
        test.labels,
        probe,
        real_images=test.images,
        heldout=(flow_heldout, heldout.labels),
        silent=(flow_silent, test.labels, "position"),
        seconds=flow_seconds,
        parameters=flow.velocity.count_params()
        + shipped.text_trainer.get_layer("E_t").count_params()
        + autoencoder.count_params(),
    ),
    score_generator(
        "14 regression in the latent",
        regress(test.captions),
        test.labels,
        probe,
        real_images=test.images,
        heldout=(regress(heldout.captions), heldout.labels),
        silent=(regression_silent, test.labels, "position"),
        parameters=regression.count_params() + autoencoder.decoder.count_params(),
    ),
    score_generator("14 autoencoder ceiling", reconstructions, test.labels, probe, real_images=test.images),
]
print(scoreboard_markdown(rows))

# %% tags=["nbval-ignore-output"]
flow_row, regression_row, ceiling_row = rows
probe_acc_min = flow_row["probe_acc_min"]
probe_acc_heldout_combos = flow_row["probe_acc_heldout_combos"]
silent_position_entropy = flow_row["silent_position_entropy"]
silent_position_entropy_regression = regression_row["silent_position_entropy"]
assert probe_acc_min >= 0.90, f"caption -> image probe accuracy (min) {probe_acc_min:.3f} < 0.90"
assert probe_acc_heldout_combos >= 0.75, f"held-out combinations {probe_acc_heldout_combos:.3f} < 0.75"
assert silent_position_entropy >= 0.9, f"position entropy for captions without it {silent_position_entropy:.3f} < 0.9"
assert flow_row["silent_named_acc_min"] >= 0.9, f"named attributes drift: {flow_row['silent_named_acc_min']:.3f}"
assert silent_position_entropy_regression < silent_position_entropy, "the regression should not spread like the flow"
assert guidance_rows[0.0]["probe_acc_min"] < 0.6 <= guidance_rows[1.0]["probe_acc_min"], "w = 0 must ignore captions"
results = report(
    "14_flow_matching",
    {
        "probe_acc_min": probe_acc_min,
        "probe_acc_heldout_combos": probe_acc_heldout_combos,
        "silent_position_entropy": silent_position_entropy,
        "silent_position_entropy_regression": silent_position_entropy_regression,
        "silent_named_acc_min": flow_row["silent_named_acc_min"],
        "autoencoder_probe_acc_min": ceiling_row["probe_acc_min"],
        "autoencoder_silhouette_iou_min": ceiling_row["silhouette_iou_min"],
        **{f"silhouette_iou_{s}": flow_row[f"silhouette_iou_{s}"] for s in ATTRIBUTES["shape"]},
        "frechet_probe": flow_row["frechet_probe"],
        "frechet_probe_regression": regression_row["frechet_probe"],
        "guidance_w0_probe_acc_min": guidance_rows[0.0]["probe_acc_min"],
        "steps1_probe_acc_min": steps_rows[1]["probe_acc_min"],
        "seconds_per_100": flow_row["seconds_per_100"],
    },
)

# %% [markdown]
# Compare the flow's row with the ceiling's: its silhouettes are about as good as the autoencoder's
# reconstructions — better images now need a better autoencoder, not a better flow. (The probe reads
# the flow's samples at least as well as the reconstructions: those must copy every real test image,
# hard ones included, while samples may draw typical objects.) The regression row follows the full
# captions almost as well — a caption that names everything leaves little to average — and scores
# higher on the held-out combinations: its one answer per caption is the safest one, while some of
# the flow's samples stray for a combination it never saw. But it has no spread where the caption is
# silent, and its Fréchet distance is the higher one: the distribution of its averaged objects is
# further from the real images' than the flow's samples are. The silent-caption columns are where the
# two generators differ most.
#
# ## 5. Exercises
#
# **Exercise 1 — Euler's method.** Write `euler_sampler(velocity_fn, x0, steps)` returning the final
# points after `steps` Euler steps from $\tau = 0$ to 1 (`velocity_fn(x, tau)` returns an array like `x`).
# Try it without looking back at section 2.1.


# %% tags=["solution"]
# YOUR CODE HERE
def euler_sampler(velocity_fn, x0, steps):
    x, h = np.asarray(x0, "float32"), 1.0 / steps
    for k in range(steps):
        x = x + h * velocity_fn(x, k / steps)
    return x


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson14 import check_euler_sampler  # noqa: E402

check_euler_sampler(euler_sampler)

# %% [markdown]
# **Exercise 2 — the guidance combination.** Write `guide(v_cond, v_uncond, w)` returning the
# classifier-free guided velocity.


# %% tags=["solution"]
# YOUR CODE HERE
def guide(v_cond, v_uncond, w):
    return v_uncond + w * (v_cond - v_uncond)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson14 import check_guidance  # noqa: E402

check_guidance(guide)

# %% [markdown]
# **Exercise 3 — predict what $w = 0$ gives.** Before looking at the sweep's printout, predict the
# probe accuracy of each attribute for images sampled with $w = 0$ from full test captions, as a dict
# `{"shape": ..., "color": ..., "size": ..., "position": ...}`. The check compares with the sweep.

# %% tags=["solution"]
# YOUR CODE HERE
w0_prediction = {name: 1 / len(ATTRIBUTES[name]) for name in PROBE_ATTRIBUTES}  # the caption is ignored: chance
# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson14 import check_w0_prediction  # noqa: E402

check_w0_prediction(w0_prediction, guidance_rows[0.0])

# %% [markdown]
# ## Summary
#
# - Flow matching regresses the velocity $x_1 - x_0$ along straight noise-to-data paths; integrating
#   the learned field carries noise onto the data distribution — samples, not the conditional mean.
# - Euler and Heun samplers trade steps for accuracy; one step is the mean, a few steps are enough
#   for a 16-d latent. A velocity is a noise prediction in disguise: $\hat\varepsilon = x_\tau - \tau v$,
#   and DDIM's step is Euler's.
# - Classifier-free guidance needs only condition dropout in training; $w$ trades diversity for
#   fidelity, $w = 0$ ignores the caption.
# - Latent diffusion in miniature: the autoencoder sets the ceiling, the flow gets close to it, and
#   captions that leave an attribute out get a spread of answers instead of an average.
#
# **Next**: lesson 15 turns images and sounds into tokens (VQ-VAE), so that one transformer can
# generate any modality.
#
# ## References
#
# - Lipman, Chen, Ben-Hamu, Nickel & Le, *Flow Matching for Generative Modeling*, ICLR 2023.
# - Liu, Gong & Liu, *Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified Flow*, ICLR 2023.
# - Ho, Jain & Abbeel, *Denoising Diffusion Probabilistic Models*, NeurIPS 2020.
# - Song, Meng & Ermon, *Denoising Diffusion Implicit Models*, ICLR 2021.
# - Ho & Salimans, *Classifier-Free Diffusion Guidance*, NeurIPS 2021 Workshop (arXiv 2022).
# - Rombach, Blattmann, Lorenz, Esser & Ommer, *High-Resolution Image Synthesis with Latent Diffusion Models*, CVPR 2022.
# - Esser et al., *Scaling Rectified Flow Transformers for High-Resolution Image Synthesis*, ICML 2024.
