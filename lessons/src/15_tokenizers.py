# %% [markdown]
# # 15 · Tokenizers for images and sound: the VQ-VAE
#
# **Objectives**
# - turn a picture and a sound into short sequences of integers — *tokens* — so that one
#   transformer can later read and write every modality (lesson 16);
# - build a vector quantizer step by step: nearest-codebook lookup, the straight-through
#   estimator, the codebook and commitment losses;
# - watch codebook usage during training: dead codes, their restart, perplexity;
# - check that what matters survives tokenization: the attribute probe on reconstructed
#   images, an audio classifier on reconstructed sounds.
#
# **Prerequisites**: lessons 03–04 (image and audio encoders), 09 (compositing decoder,
# shift-tolerant loss, the attribute probe).
#
# **Expected run time**: 20–45 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.tokens` (`VectorQuantizer`, `ImageTokenizer`, `SoundTokenizer`,
# `train_tokenizer`, `codebook_perplexity`, `load_tokenizers`).

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from mmgen_lib import viz
from mmgen_lib.classifiers import attribute_accuracy, attribute_classifier, predict_in_batches
from mmgen_lib.data import load_split
from mmgen_lib.encoders import AudioEncoder
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.probe import load_probe, probe_accuracy
from mmgen_lib.tokens import (
    ImageTokenizer,
    VectorQuantizer,
    code_usage,
    codebook_perplexity,
    load_tokenizers,
    train_tokenizer,
)
from mmgen_lib.utils import report, set_seed

SEED = 0
LIVE_EXAMPLES, LIVE_EPOCHS = 1000, 4  # the small image tokenizer trained live in section 3
AUDIO_EPOCHS = 2  # the audio classifier that judges reconstructed sounds

set_seed(SEED)
viz.use_course_style()

train, test = load_split("train"), load_split("test")
tr, te = split_arrays(train), split_arrays(test)
probe = load_probe()
image_tokenizer, sound_tokenizer = load_tokenizers()  # shipped in data/tokenizers/, sha256-checked
print(f"train {len(train)}, test {len(test)}; images {te['image'].shape[1:]}, log-mels {te['spectrogram'].shape[1:]}")

# %% [markdown]
# ## 1. Why tokens, and what a VQ-VAE is
#
# A text transformer predicts the next word id from a vocabulary. To let the *same* model write
# a picture or a sound (DALL·E, Parti, Chameleon, AnyGPT), those must become ids too. A
# **vector-quantised autoencoder** (VQ-VAE, van den Oord et al., 2017) learns that translation:
#
# 1. an encoder $E$ maps the input to a few vectors $z_1, \dots, z_n \in \mathbb{R}^D$;
# 2. each $z_i$ is replaced by its nearest entry of a learned **codebook** $e_1, \dots, e_K$:
#    $k_i = \arg\min_j \lVert z_i - e_j \rVert^2$ — the **token** is the integer $k_i$;
# 3. a decoder $D$ rebuilds the input from $e_{k_1}, \dots, e_{k_n}$.
#
# The argmin has no gradient. The **straight-through estimator** writes the decoder's input as
# $\tilde z = z + \mathrm{sg}(e_k - z)$, with $\mathrm{sg}$ = stop-gradient: forward it *is* $e_k$,
# backward the gradient passes to $z$ as if quantisation were the identity. Two extra terms
# train the codebook and keep the encoder close to it:
#
# $$\mathcal{L} = \mathcal{L}_{\text{rec}}\big(x, D(\tilde z)\big)
#   + \underbrace{\lVert \mathrm{sg}(z) - e_k \rVert^2}_{\text{codebook}}
#   + \beta\,\underbrace{\lVert z - \mathrm{sg}(e_k) \rVert^2}_{\text{commitment}}, \qquad \beta = 0.25 .$$
#
# | tensor | image tokenizer | sound tokenizer |
# |---|---|---|
# | input $x$ | (batch, 32, 32, 3) | (batch, 28 frames, 40 mel bins) |
# | encoder output $z$ | (batch, 17, $D$): a 4×4 grid of shape vectors (one per 8×8 patch) + 1 colour vector | (batch, 8, $D$): one per ~32 ms |
# | token ids $k$ | (batch, 17) ints in $[0, K)$ | (batch, 8) ints in $[0, K)$ |
# | reconstruction $D(\tilde z)$ | (batch, 32, 32, 3) | (batch, 28, 40) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Nearest-code lookup
#
# Squared distances from every vector to every code, expanded as
# $\lVert z \rVert^2 - 2\,z\cdot e + \lVert e \rVert^2$ (one matrix product instead of a
# (n, K, D) difference tensor), then an argmin over the codes.

# %%
rng = np.random.default_rng(SEED)
codebook = rng.normal(size=(5, 2)).astype("float32")  # K = 5 codes in D = 2
z = rng.normal(size=(8, 2)).astype("float32")  # 8 encoder vectors
distances = (z**2).sum(1, keepdims=True) - 2 * z @ codebook.T + (codebook**2).sum(1)  # (8, 5)
ids = distances.argmin(axis=1)  # (8,)

quantizer = VectorQuantizer(codebook_size=5, code_dim=2)
quantizer.build((None, 2))
_ = quantizer.codebook.assign(codebook)  # the toy codebook

# %%
# NBVAL_CHECK_OUTPUT
library_ids = keras.ops.convert_to_numpy(quantizer.nearest_codes(z))
np.testing.assert_array_equal(ids, library_ids)
print("token ids:", ids.tolist(), "- the same as VectorQuantizer.nearest_codes")

# %% [markdown]
# ### 2.2 The straight-through estimator
#
# Through the argmin and the lookup alone, no gradient reaches $z$. With
# $\tilde z = z + \mathrm{sg}(e_k - z)$ the value is the code and the gradient is copied.

# %%
z_var = tf.Variable(z)
with tf.GradientTape(persistent=True) as tape:
    codes = tf.gather(codebook, tf.argmin(tf.reduce_sum((z_var[:, None] - codebook) ** 2, -1), axis=1))
    hard = tf.reduce_sum(codes)  # quantise, then use the codes: no path back to z
    z_tilde = z_var + tf.stop_gradient(codes - z_var)  # straight-through
    soft = tf.reduce_sum(z_tilde)
print("gradient through the argmin alone:", tape.gradient(hard, z_var))
print("straight-through forward equals the codes:", bool(np.allclose(z_tilde.numpy(), codebook[ids])))

# %%
# NBVAL_CHECK_OUTPUT
gradient = tape.gradient(soft, z_var).numpy()
np.testing.assert_allclose(gradient, np.ones_like(z))  # d sum / d z = 1 everywhere: the identity
with tf.GradientTape() as tape:
    library_sum = tf.reduce_sum(quantizer(z_var)["quantized"])
np.testing.assert_allclose(tape.gradient(library_sum, z_var).numpy(), gradient)
print("gradient reaching z:", gradient[0].tolist(), "... for every vector, as in the library's quantizer")

# %% [markdown]
# ### 2.3 Codebook and commitment losses
#
# Both terms are the same squared distance; only *which side is frozen* differs. The codebook
# term moves the codes towards the encoder's vectors; the commitment term (weighted by $\beta$)
# keeps the encoder from drifting away from its codes. The library averages both over each
# example's vectors and dimensions and returns one loss per example.

# %%
beta = quantizer.beta
squared = ((z - codebook[ids]) ** 2).mean()  # both terms have this value; they differ in their gradients
vq_loss = squared + beta * squared
library_loss = keras.ops.convert_to_numpy(quantizer(z[None])["loss"])  # z as one example of 8 vectors

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(library_loss, [vq_loss], rtol=1e-5)
print(f"codebook + {beta} x commitment = {vq_loss:.4f}, as the library computes it")

# %% [markdown]
# ### 2.4 Dead codes, their restart, and perplexity
#
# Codes start as tiny random vectors near the origin; the encoder's vectors are elsewhere, so the
# few codes nearest to them win every lookup and the rest never receive a gradient — **dead
# codes**. The fix used here (as in many VQ codebases, e.g. Jukebox): after each epoch, re-seed
# every dead code with a randomly chosen encoder output. Codebook usage is summarised by the
# **perplexity** $\exp\big(-\sum_k p_k \log p_k\big)$ of the token frequencies $p_k$: the number
# of equally used codes with the same entropy, between 1 and $K$.

# %%
clusters = rng.normal(size=(6, 2)) * 3.0
points = (clusters[rng.integers(0, 6, 600)] + 0.3 * rng.normal(size=(600, 2))).astype("float32")  # (600, 2)
toy = VectorQuantizer(codebook_size=12, code_dim=2, seed=SEED)
toy.build((None, 2))
before = toy.codebook.numpy().copy()
counts_before = code_usage(keras.ops.convert_to_numpy(toy.nearest_codes(points)), 12)
restarted = toy.restart_dead_codes(points, counts_before, seed=SEED)
counts_after = code_usage(keras.ops.convert_to_numpy(toy.nearest_codes(points)), 12)

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, book, counts, name in (
    (axes[0], before, counts_before, "initial codebook"),
    (axes[1], toy.codebook.numpy(), counts_after, "after one restart"),
):
    ax.scatter(points[:, 0], points[:, 1], s=4, c="0.7", label="encoder outputs")
    ax.scatter(
        book[:, 0],
        book[:, 1],
        c=np.where(counts == 0, "tab:red", "tab:blue"),
        marker="x",
        s=60,
        label="codes (red = dead)",
    )
    ax.set_title(f"{name}: {int((counts == 0).sum())} dead of 12")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.legend(loc="lower right", fontsize=7)
fig.tight_layout()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
assert (counts_before == 0).sum() > (counts_after == 0).sum()
print(
    f"dead codes {int((counts_before == 0).sum())} -> {int((counts_after == 0).sum())} after restarting "
    f"{restarted}; perplexity {codebook_perplexity(np.repeat(np.arange(12), counts_before), 12):.2f} -> "
    f"{codebook_perplexity(np.repeat(np.arange(12), counts_after), 12):.2f} of 12"
)

# %% [markdown]
# ## 3. Train an image tokenizer and watch its codebook
#
# `ImageTokenizer` puts these pieces together, with three lessons from earlier in the course:
#
# - **shape tokens are colour-blind**, like the probe's shape branch (lesson 09): three stride-2
#   convolutions (32 → 16 → 8 → 4) read the per-pixel channel maximum and give one vector per
#   8×8 patch, 16 in all. A **17th token** carries the colour (1×1 colour detectors, max over the
#   image). Were colour mixed into every patch code, each piece of silhouette would need a code
#   per colour: a tokenizer built that way, with as many codes, rebuilt colour, size and
#   position but blurred circles, squares and triangles into look-alike blobs (lesson 09 shows the
#   same blur with plain MSE);
# - the decoder **composites** (lesson 09): the shape tokens paint a per-pixel mask, the colour
#   token gives one object colour and one background colour;
# - the loss is lesson 09's **shift-tolerant, area-normalised** error: a small triangle counts
#   as much as a large one, and the tokens need not spend codes on the ±2 px jitter.
#
# `train_tokenizer` trains epoch by epoch; before each epoch it encodes a sample of the training
# images, records the codebook's usage and perplexity, and restarts the dead codes. Here a
# small run on part of the training set shows the mechanics; the tokenizer we evaluate in
# section 4 is the shipped one, trained by the same function with the full recipe
# (`python -m mmgen_lib.tokens --out data/tokenizers --force`, a few minutes).

# %% tags=["nbval-ignore-output"]
live = ImageTokenizer(codebook_size=image_tokenizer.codebook_size, code_dim=image_tokenizer.code_dim, seed=SEED)
live_history = train_tokenizer(
    live, tr["image"][:LIVE_EXAMPLES], epochs=LIVE_EPOCHS, seed=SEED, progress="image tokenizer"
)
print(f"{live.count_params():,} parameters; loss per epoch", np.round(live_history["loss"], 3).tolist())
print("dead codes before each epoch and at the end:", live_history["dead_codes"])

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
steps = np.arange(LIVE_EPOCHS + 1)
axes[0].plot(steps, live_history["perplexity"], marker="o", label="perplexity")
axes[0].plot(steps, live_history["dead_codes"], marker="s", label="dead codes")
axes[0].axhline(live.codebook_size, color="0.6", linestyle="--", label=f"codebook size K = {live.codebook_size}")
axes[0].set_xlabel("epochs trained")
axes[0].set_ylabel("codes")
axes[0].set_title("Codebook usage during training")
axes[0].legend(fontsize=8)
usage = live_history["usage"]
order = np.argsort(-usage[-1])
for row, label in ((0, "before training"), (-1, f"after {LIVE_EPOCHS} epochs")):
    axes[1].plot(usage[row][order] / usage[row].sum(), label=label)
axes[1].set_xlabel("code (sorted by final usage)")
axes[1].set_ylabel("share of tokens")
axes[1].set_title("Token frequencies")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the left panel from left to right. Before training, the codes near the origin that
# happen to be closest take every token and most codes are dead; they are restarted on encoder
# outputs. During the first epoch the encoder moves fast, away from its codes, so again only a
# few codes win — this is why one restart is not enough. Restart after restart, the dead codes
# dwindle while the encoder settles and the perplexity climbs. Usage is never uniform (right
# panel): background patches are far more common than, say, the tip of a small triangle.

# %% [markdown]
# ## 4. The shipped tokenizers: what survives the round trip?
#
# ### 4.1 Images → 17 tokens → images
#
# Every test image becomes 17 ints and comes back; the attribute probe of lesson 09 then reads
# shape, colour, size and position off the reconstruction.

# %%
image_ids = image_tokenizer.encode(te["image"])  # (1000, 17) ints
reconstructions = image_tokenizer.decode(image_ids)  # (1000, 32, 32, 3)
image_probe = probe_accuracy(probe, reconstructions, te)
image_perplexity = codebook_perplexity(image_ids, image_tokenizer.codebook_size)
print("shape tokens of the first test image:\n", image_ids[0, :16].reshape(4, 4), "\ncolour token:", image_ids[0, 16])
print("probe on reconstructions:", "  ".join(f"{k} {v:.3f}" for k, v in image_probe.items()))
print(f"test-split perplexity {image_perplexity:.1f} of {image_tokenizer.codebook_size} codes")

# %%
pairs = np.concatenate([te["image"][:8], np.clip(reconstructions[:8], 0, 1)])
fig = viz.show_images(
    pairs,
    titles=[f"real {i}" for i in range(8)] + [f"17 tokens {i}" for i in range(8)],
    ncols=8,
    size=1.2,
    title="Test images (top) and their reconstructions from 17 tokens (bottom)",
)
plt.show()

# %% [markdown]
# ### 4.2 Sounds → 8 tokens → sounds
#
# The sound tokenizer works on the log-mel frames of lesson 04: 28 frames are padded to 32,
# two stride-2 convolutions over time leave 8 vectors, 8 tokens. To judge the reconstructions we
# train an audio classifier (lesson 04's `AudioEncoder`) on *real* training sounds and ask it
# what the reconstructed test sounds are made of.

# %%
sound_ids = sound_tokenizer.encode(te["spectrogram"])  # (1000, 8)
sound_reconstructions = sound_tokenizer.decode(sound_ids)  # (1000, 28, 40)
sound_perplexity = codebook_perplexity(sound_ids, sound_tokenizer.codebook_size)

keras.utils.set_random_seed(SEED)
audio_classifier = attribute_classifier(
    AudioEncoder(filters=(8, 16), output_dim=32), (28, 40), attributes=("material", "size"), metrics=False
)
audio_classifier.fit(
    tr["spectrogram"], {"material": tr["material"], "size": tr["size"]}, epochs=AUDIO_EPOCHS, batch_size=64, verbose=0
)
audio_real = attribute_accuracy(predict_in_batches(audio_classifier, te["spectrogram"]), te)
audio_reconstructed = attribute_accuracy(predict_in_batches(audio_classifier, sound_reconstructions), te)
print("tokens of the first test sound:", sound_ids[0].tolist())
print("audio classifier, real test sounds:   ", "  ".join(f"{k} {v:.3f}" for k, v in audio_real.items()))
print("audio classifier, reconstructed sounds:", "  ".join(f"{k} {v:.3f}" for k, v in audio_reconstructed.items()))
print(f"test-split perplexity {sound_perplexity:.1f} of {sound_tokenizer.codebook_size} codes")

# %%
fig, axes = plt.subplots(2, 3, figsize=(9, 4.2))
for col in range(3):
    attrs = test.attributes(col)
    for row, (spec, label) in enumerate(
        ((te["spectrogram"][col], "real"), (sound_reconstructions[col], "from 8 tokens"))
    ):
        axes[row, col].imshow(spec.T, origin="lower", aspect="auto", cmap="magma")
        axes[row, col].set_title(f"{label}: {attrs['size']} {attrs['material']}", fontsize=9)
        axes[row, col].set_xlabel("frame")
        axes[row, col].set_ylabel("mel bin")
fig.suptitle("Log-mel spectrograms: real (top) and reconstructed from 8 tokens (bottom)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Asserted result
#
# On the test split: the probe's minimum over the four visible attributes on reconstructed
# images, and the material accuracy of the audio classifier on reconstructed sounds, each
# ≥ 0.95; the codebook perplexities are reported.

# %%
image_tokenizer_probe_min = min(image_probe.values())
audio_tokenizer_material_acc = audio_reconstructed["material"]
assert image_tokenizer_probe_min >= 0.95, f"probe on reconstructed images: {image_probe}"
assert audio_tokenizer_material_acc >= 0.95, f"material of reconstructed sounds: {audio_reconstructed}"
assert audio_real["material"] >= 0.95, f"the audio classifier itself is not reliable: {audio_real}"
results = report(
    "15_tokenizers",
    {
        "image_tokenizer_probe_min": image_tokenizer_probe_min,
        "audio_tokenizer_material_acc": audio_tokenizer_material_acc,
        "audio_tokenizer_size_acc": audio_reconstructed["size"],
        "image_codebook_perplexity": image_perplexity,
        "audio_codebook_perplexity": sound_perplexity,
        "live_image_tokenizer_perplexity": live_history["perplexity"][-1],
    },
)

# %% [markdown]
# ## 6. Exercises
#
# **Exercise 1 — nearest-code lookup.** Write `nearest_code(z, codebook)` in NumPy: for `z` of
# shape (n, D) and `codebook` (K, D), return the (n,) integer index of each row's nearest code
# (smallest squared Euclidean distance).


# %% tags=["solution"]
# YOUR CODE HERE
def nearest_code(z, codebook):
    distances = (z**2).sum(1, keepdims=True) - 2 * z @ codebook.T + (codebook**2).sum(1)  # (n, K)
    return distances.argmin(axis=1)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson15 import check_nearest_code

check_nearest_code(nearest_code)

# %% [markdown]
# **Exercise 2 — straight through.** Write `straight_through(z, codes)` with TensorFlow ops: its
# value must equal `codes`, and the gradient of anything computed from it must reach `z`
# unchanged.


# %% tags=["solution"]
# YOUR CODE HERE
def straight_through(z, codes):
    return z + tf.stop_gradient(codes - z)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson15 import check_straight_through

check_straight_through(straight_through)

# %% [markdown]
# **Exercise 3 — perplexity.** Write `perplexity(counts)`: given how often each of the K codes
# was used (a (K,) array of ints, some of them 0), return $\exp(-\sum_k p_k \log p_k)$ with
# $p_k$ the share of code $k$.


# %% tags=["solution"]
# YOUR CODE HERE
def perplexity(counts):
    p = counts[counts > 0] / counts.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson15 import check_perplexity

check_perplexity(perplexity)

# %% [markdown]
# ## Summary
#
# - A VQ-VAE turns a continuous input into a few integers: encode, snap each vector to its
#   nearest codebook entry, decode from the entries.
# - The straight-through estimator $z + \mathrm{sg}(e_k - z)$ lets the decoder's gradient reach
#   the encoder; the codebook and commitment losses train the codes and keep the encoder near them.
# - Codes that no input picks never learn: restarting them from encoder outputs and watching the
#   perplexity keeps the vocabulary in use.
# - What survives tokenization is measured, not assumed: the probe on reconstructed images, an
#   audio classifier on reconstructed sounds.
#
# **Next**: lesson 16 feeds caption words, these 17 image tokens and 8 sound tokens to one
# decoder-only transformer that writes any of them from the others.
#
# ## References
#
# - van den Oord, Vinyals & Kavukcuoglu, *Neural Discrete Representation Learning* (VQ-VAE), NeurIPS 2017.
# - Razavi, van den Oord & Vinyals, *Generating Diverse High-Fidelity Images with VQ-VAE-2*, NeurIPS 2019.
# - Bengio, Léonard & Courville, *Estimating or Propagating Gradients Through Stochastic Neurons*, 2013 (straight-through).
# - Dhariwal et al., *Jukebox: A Generative Model for Music*, 2020 (codebook restarts).
# - Esser, Rombach & Ommer, *Taming Transformers for High-Resolution Image Synthesis* (VQGAN), CVPR 2021.
# - Ramesh et al., *Zero-Shot Text-to-Image Generation* (DALL·E), ICML 2021.
