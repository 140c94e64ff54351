# %% [markdown]
# # 06 · Cross-modal matching: one embedding space for text, images and sounds
#
# **Objectives**
# - compute cosine similarity by hand and see why the seed article's $1-\cos$ term alone cannot align two modalities;
# - derive and implement the symmetric contrastive loss (InfoNCE, as in CLIP) with a learnable temperature;
# - train a dual encoder that maps captions and images (then sounds and images) into one normalized space;
# - measure retrieval honestly: Recall@k and median rank with **attribute-match relevance**, next to their chance levels;
# - look inside the space: similarity heat-maps before and after training, retrieved images, a 2-D projection.
#
# **Prerequisites**: lessons 02–04 (the text, image and audio encoders $E_t, E_v, E_a$).
#
# **Expected run time**: 25–45 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.losses` (cosine, InfoNCE, learnable temperature), `mmgen_lib.retrieval`
# (Recall@k, median rank, chance levels), `mmgen_lib.dual_encoder.DualEncoder`.

# %%
import textwrap

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from mmgen_lib import losses, retrieval, viz
from mmgen_lib.data import ATTRIBUTES, load_split
from mmgen_lib.dual_encoder import DualEncoder
from mmgen_lib.encoders import AudioEncoder, ImageEncoder, TextEncoder
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import report, set_seed

SEED = 0
EMBED_DIM = 32  # size of the shared embedding space
TEMPERATURE = 0.07  # initial temperature (CLIP's); it is learned
LEARNING_RATE = 3e-3
# On a CPU an epoch costs about the same at any batch size here: smaller batches make more updates per epoch.
BATCH_SIZE = 64  # text <-> image dual encoder
TEXT_EPOCHS = 5
AUDIO_BATCH_SIZE = 32  # audio <-> image dual encoder (one shared fact, size: learned in one epoch)
AUDIO_EPOCHS = 1
set_seed(SEED)
viz.use_course_style()

train_split, test_split = load_split("train"), load_split("test")
tokenizer = shapesworld_tokenizer(train_split)
train, test = split_arrays(train_split, tokenizer), split_arrays(test_split, tokenizer)
print(
    f"train: {len(train_split)} examples, test: {len(test_split)} examples, vocabulary: {tokenizer.vocab_size} tokens"
)

# %% [markdown]
# ## 1. Cross-modal matching
#
# The seed article (§2.1) calls **cross-modal matching** "learning the relations between the
# modalities so that their data are aligned and matched". Concretely: two encoders map a caption
# $x_t$ and an image $x_v$ to vectors in **one shared space**, such that a caption lands near the
# images it describes,
#
# $$ z_t = \frac{P_t\,E_t(x_t)}{\lVert P_t\,E_t(x_t)\rVert}, \qquad z_v = \frac{P_v\,E_v(x_v)}{\lVert P_v\,E_v(x_v)\rVert}, \qquad
# \cos(z_t, z_v) = z_t^\top z_v \in [-1, 1], $$
#
# where $E_t, E_v$ are the encoders of lessons 02–03 and $P_t, P_v$ linear projections to the
# same size $d$. The seed's objective (§4.2) matches them with
# $\lambda\,\mathbb{E}\,[1-\cos(Y_t, Y_v)]$. Once trained, *retrieval* is a nearest-neighbour
# search: rank every image by $\cos(z_t, z_v)$.
#
# | tensor | shape | meaning |
# |---|---|---|
# | caption ids $x_t$ | (batch, 16) | padded token ids |
# | image $x_v$ | (batch, 32, 32, 3) | pixels in [0, 1] |
# | $E_t(x_t)$, $E_v(x_v)$ | (batch, 64) | encoder outputs |
# | $z_t$, $z_v$ | (batch, 32) | unit vectors in the shared space |
# | $S = z_t z_v^\top / \tau$ | (batch, batch) | similarity logits; pair $i$ on the diagonal |
#
# ## 2. Cosine similarity by hand
#
# $\cos(a, b) = \frac{a\cdot b}{\lVert a\rVert\,\lVert b\rVert}$ ignores length and keeps only
# direction. Compute it with NumPy for three pairs, then compare with the library.

# %%
a = np.array([[1.0, 2.0, 0.0], [1.0, 0.0, 0.0], [3.0, 1.0, -2.0]])
b = np.array([[2.0, 4.0, 0.0], [0.0, 5.0, 0.0], [-3.0, -1.0, 2.0]])
cos_by_hand = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(cos_by_hand, keras.ops.convert_to_numpy(losses.cosine_similarity(a, b)), atol=1e-12)
print("cos:", cos_by_hand.round(3), " 1 - cos:", (1 - cos_by_hand).round(3))
print("same direction -> 1, orthogonal -> 0, opposite -> -1: matches mmgen_lib.losses.cosine_similarity")

# %% [markdown]
# ## 3. Why $1-\cos$ alone is not enough: collapse, and the contrastive fix
#
# Minimising $\mathbb{E}[1-\cos(z_t, z_v)]$ over *matching pairs only* has a trivial solution:
# map **every** input to the same vector. Then every pair has cosine 1 and loss 0 — and the
# space is useless, since all images are equally similar to all captions. The loss must also
# push *non-matching* pairs apart.
#
# **InfoNCE** (van den Oord et al., 2018; CLIP, Radford et al., 2021) does this with the other
# examples of the batch as negatives. With logits $S_{ij} = \cos(z_t^{(i)}, z_v^{(j)})/\tau$, each
# caption must pick its own image among the $B$ images of the batch (a $B$-way classification
# whose right answer is on the diagonal), and each image its caption:
#
# $$ \mathcal{L}_{\text{InfoNCE}} = \frac{1}{2B}\sum_{i=1}^{B}\Big[-\log\frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}}
#    \;-\;\log\frac{e^{S_{ii}}}{\sum_j e^{S_{ji}}}\Big]. $$
#
# The numerator pulls the pair together (it is the seed's cosine term, inside a softmax); the
# denominator pushes the other pairs apart. The **temperature** $\tau$ sets how sharp the
# softmax is; CLIP learns $\log(1/\tau)$ (starting at $\tau=0.07$), which
# `losses.SimilarityLogits` holds as one trainable weight.
#
# Build the loss by hand in NumPy and check it against `losses.info_nce_loss`, on the collapsed
# solution and on random embeddings.


# %%
def info_nce_by_hand(z_a, z_b, temperature):
    z_a = z_a / np.linalg.norm(z_a, axis=1, keepdims=True)
    z_b = z_b / np.linalg.norm(z_b, axis=1, keepdims=True)
    logits = z_a @ z_b.T / temperature  # (B, B)
    log_p_rows = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))  # caption i -> which image?
    log_p_cols = logits - np.log(np.exp(logits).sum(axis=0, keepdims=True))  # image j -> which caption?
    return -(np.diag(log_p_rows).mean() + np.diag(log_p_cols).mean()) / 2


rng = np.random.default_rng(SEED)
collapsed = np.ones((8, 4))  # every input mapped to the same vector
random_a, random_b = rng.normal(size=(2, 8, 4))

# %%
# NBVAL_CHECK_OUTPUT
for name, (z_a, z_b) in {"collapsed": (collapsed, collapsed), "random": (random_a, random_b)}.items():
    mine = info_nce_by_hand(z_a, z_b, TEMPERATURE)
    np.testing.assert_allclose(mine, float(losses.info_nce_loss(z_a, z_b, TEMPERATURE)), rtol=1e-6)
    one_minus_cos = float(np.mean(keras.ops.convert_to_numpy(losses.cosine_similarity_loss(z_a, z_b))))
    print(f"{name:9s}: mean(1 - cos) = {one_minus_cos:.3f}   InfoNCE = {mine:.3f}")
print(f"InfoNCE of the collapsed space = log(batch) = log(8) = {np.log(8):.3f}: no better than guessing")

# %% [markdown]
# $1-\cos$ calls the collapsed space perfect (0.000); InfoNCE scores it at $\log B$, the loss of
# a uniform guess. Both match the library.
#
# ## 4. Measuring retrieval honestly: attribute-match relevance
#
# **Recall@k** is the fraction of queries whose top $k$ results contain a right answer; the
# **median rank** is the median position of the first right answer (1 is perfect). But which
# answers are "right"? In ShapesWorld many test images share every visible attribute, and a
# caption cannot tell them apart (the $\pm 2$ px jitter is not in the text). So we use
# **attribute-match relevance**: a gallery item is relevant when it has the same values as the
# query *on the attributes both modalities carry* (`retrieval.shared_attributes`):
#
# - text → image: shape, color, size, position (the image does not show material);
# - audio → image: size only (a sound carries size and material, an image shape, color, size, position).
#
# Chance levels are exact expectations for a random ranking: Recall@1 by chance is the mean
# fraction of relevant items $R_i/N$, Recall@k is $1-\binom{N-R_i}{k}/\binom{N}{k}$ averaged over queries.

# %%
# NBVAL_CHECK_OUTPUT
text_image_attrs = retrieval.shared_attributes("text", "image")
audio_image_attrs = retrieval.shared_attributes("audio", "image")
relevance_t2i = retrieval.attribute_relevance(test_split.labels, test_split.labels, text_image_attrs)
relevance_a2i = retrieval.attribute_relevance(test_split.labels, test_split.labels, audio_image_attrs)
n_relevant = relevance_t2i.sum(axis=1)
print("text -> image relevance: same", text_image_attrs)
print(
    f"  gallery: the {relevance_t2i.shape[1]} test images; relevant per query: median {np.median(n_relevant):.0f} "
    f"(min {n_relevant.min()}, max {n_relevant.max()})"
)
print(
    f"  chance Recall@1 = {retrieval.chance_recall_at_k(relevance_t2i, 1):.4f}, "
    f"chance Recall@5 = {retrieval.chance_recall_at_k(relevance_t2i, 5):.4f}, "
    f"chance median rank = {retrieval.chance_median_rank(relevance_t2i):.1f}"
)
print(
    "audio -> image relevance: same",
    audio_image_attrs,
    f"-> chance Recall@1 = {retrieval.chance_recall_at_k(relevance_a2i, 1):.4f}",
)

# %% [markdown]
# Ranks by hand on a tiny example (3 queries, 4 gallery items), checked against the library:

# %%
# NBVAL_CHECK_OUTPUT
toy_similarity = np.array([[0.9, 0.2, 0.4, 0.1], [0.3, 0.8, 0.7, 0.0], [0.5, 0.6, 0.1, 0.2]])
toy_relevance = np.array([[1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1]], bool)
order = np.argsort(-toy_similarity, axis=1)  # best first
rank_by_hand = 1 + np.argmax(np.take_along_axis(toy_relevance, order, axis=1), axis=1)
np.testing.assert_array_equal(rank_by_hand, retrieval.first_relevant_rank(toy_similarity, toy_relevance))
print(
    "first relevant rank:",
    rank_by_hand,
    "-> Recall@1 =",
    round(retrieval.recall_at_k(toy_similarity, toy_relevance, 1), 3),
    " Recall@2 =",
    round(retrieval.recall_at_k(toy_similarity, toy_relevance, 2), 3),
    " median rank =",
    retrieval.median_rank(toy_similarity, toy_relevance),
)

# %% [markdown]
# ## 5. Train a text ↔ image dual encoder
#
# `DualEncoder` wraps the two encoders, adds a projection to $d=32$ per modality, normalizes,
# and overrides `compute_loss` with the symmetric InfoNCE of each batch: `fit` needs inputs only.
# The text encoder averages its GRU states over the real tokens (`pooling="mean"`: a caption is a
# bag of attribute words here); the image encoder is lesson 03's CNN without residual blocks (faster).
#
# We keep ten test pairs with ten different visible combinations, to look at their similarity
# matrix before and after training.


# %%
def make_text_image_encoder(vocab_size, embed_dim, temperature):
    text_encoder = TextEncoder(vocab_size, embed_dim=32, units=64, kind="gru", pooling="mean")
    image_encoder = ImageEncoder(filters=(16, 32, 32), output_dim=64, residual=False)
    return DualEncoder(
        text_encoder, image_encoder, modalities=("text", "image"), embed_dim=embed_dim, temperature=temperature
    )


def embed(model, inputs, modality):
    return keras.ops.convert_to_numpy(model.encode(inputs, modality))


dual = make_text_image_encoder(tokenizer.vocab_size, EMBED_DIM, TEMPERATURE)
combos = [tuple(row) for row in test_split.labels[:, :4]]
probe_idx = np.array([combos.index(c) for c in dict.fromkeys(combos)][:10])  # ten distinct visible combos
before = embed(dual, test["caption_ids"][probe_idx], "text") @ embed(dual, test["image"][probe_idx], "image").T

train_ds = (
    tf.data.Dataset.from_tensor_slices({"text": train["caption_ids"], "image": train["image"]})
    .shuffle(len(train_split), seed=SEED)
    .batch(BATCH_SIZE)
)
dual.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
dual.optimizer.build(dual.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
history = dual.fit(
    train_ds, epochs=TEXT_EPOCHS, shuffle=False, verbose=0, callbacks=[ProgressLine("text-image dual encoder")]
)
after = embed(dual, test["caption_ids"][probe_idx], "text") @ embed(dual, test["image"][probe_idx], "image").T
print(
    f"InfoNCE: {history.history['loss'][0]:.2f} -> {history.history['loss'][-1]:.2f} "
    f"(log {BATCH_SIZE} = {np.log(BATCH_SIZE):.2f} is chance); temperature {TEMPERATURE} -> {dual.current_temperature:.3f}"
)

# %%
fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9))
for ax, matrix, title in zip(axes, (before, after), ("before training", "after training")):
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(title=f"cos(text i, image j), {title}", xlabel="image j", ylabel="caption i")
fig.colorbar(image, ax=axes, shrink=0.8, label="cosine similarity")
plt.show()

# %% [markdown]
# Before training the similarities are arbitrary; after training the diagonal (matching pairs)
# is deep red and most other cells pale or blue (pairs that share attributes stay reddish):
# InfoNCE has pulled pairs together *and* pushed the others apart.
#
# **Text → image retrieval.** Embed the 1,000 test captions and the 1,000 test images, rank the
# images for each caption, and score with attribute-match relevance (✓ = same shape, color,
# size and position as the caption).

# %%
z_text, z_image = embed(dual, test["caption_ids"], "text"), embed(dual, test["image"], "image")
similarity_t2i = z_text @ z_image.T  # (1000 queries, 1000 gallery images)
t2i = retrieval.retrieval_report(similarity_t2i, relevance_t2i, ks=(1, 5, 10))
print({name: round(value, 4) for name, value in t2i.items()})


def show_retrievals(query_titles, similarity, relevance, gallery_images, top_k=5, title=""):
    """One row per query: its description, then the top-k gallery images marked relevant or not."""
    fig, axes = plt.subplots(
        len(query_titles),
        top_k + 1,
        figsize=(1.1 * (top_k + 2.2), 1.25 * len(query_titles)),
        gridspec_kw={"width_ratios": [2.2] + [1] * top_k},
        squeeze=False,
    )
    for row, (query, sims, rel) in enumerate(zip(query_titles, similarity, relevance)):
        axes[row, 0].text(0, 0.5, textwrap.fill(query, 26), fontsize=8, va="center")
        axes[row, 0].axis("off")
        for col, j in enumerate(np.argsort(-sims)[:top_k]):
            axes[row, col + 1].imshow(gallery_images[j])
            axes[row, col + 1].set_title(f"{'✓' if rel[j] else '✗'} {sims[j]:.2f}", fontsize=7)
            axes[row, col + 1].axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


queries = np.array([0, 1, 2, 3])
show_retrievals(
    [test_split.captions[i] for i in queries],
    similarity_t2i[queries],
    relevance_t2i[queries],
    test["image"],
    title="text -> image: top 5 of 1,000 test images (✓ = same visible attributes)",
)
plt.show()

# %% [markdown]
# ## 6. Audio ↔ image: you can only match what both modalities carry
#
# The same `DualEncoder` with lesson 04's audio encoder in place of the text encoder (and a
# smaller image CNN, 8/16/16 filters: the fact to be matched here, size, is easy to see). A tap
# sound carries size (pitch) and material (timbre); an image shows shape, color, size and
# position. The only fact they **share is size**, so the best a sound can do is retrieve an
# image of the right size: shape and color should stay at chance.

# %%
set_seed(SEED)
audio_dual = DualEncoder(
    AudioEncoder(filters=(16, 32), output_dim=64),
    ImageEncoder(filters=(8, 16, 16), output_dim=64, residual=False),
    modalities=("audio", "image"),
    embed_dim=EMBED_DIM,
    temperature=TEMPERATURE,
)
audio_ds = (
    tf.data.Dataset.from_tensor_slices({"audio": train["spectrogram"], "image": train["image"]})
    .shuffle(len(train_split), seed=SEED)
    .batch(AUDIO_BATCH_SIZE)
)
audio_dual.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
build_before_fit(audio_dual, {"audio": train["spectrogram"], "image": train["image"]}, None)  # weights, slots: 1 trace
audio_dual.fit(
    audio_ds, epochs=AUDIO_EPOCHS, shuffle=False, verbose=0, callbacks=[ProgressLine("audio-image dual encoder")]
)
similarity_a2i = embed(audio_dual, test["spectrogram"], "audio") @ embed(audio_dual, test["image"], "image").T

a2i_by_attribute = {}
for name in ("size", "shape", "color"):
    rel = retrieval.attribute_relevance(test_split.labels, test_split.labels, name)
    a2i_by_attribute[name] = (retrieval.recall_at_k(similarity_a2i, rel, 1), retrieval.chance_recall_at_k(rel, 1))
    print(
        f"audio -> image Recall@1 with relevance 'same {name}': {a2i_by_attribute[name][0]:.3f} "
        f"(chance {a2i_by_attribute[name][1]:.3f})"
    )

# %%
sizes = test_split.label("size")
audio_queries = np.array([np.flatnonzero(sizes == 0)[0], np.flatnonzero(sizes == 1)[0], np.flatnonzero(sizes == 0)[1]])
show_retrievals(
    [
        f"sound of a {test_split.attributes(i)['size']} {test_split.attributes(i)['material']} object"
        for i in audio_queries
    ],
    similarity_a2i[audio_queries],
    relevance_a2i[audio_queries],
    test["image"],
    title="audio -> image: top 5 (✓ = same size, the only shared attribute)",
)
plt.show()

# %% [markdown]
# The sound finds images of the right size and nothing more: a retrieval system can only
# align what both modalities actually contain.
#
# ## 7. The embedding space in 2-D
#
# Project the 32-D text and image embeddings of the test set onto their first two principal
# components (PCA by SVD), and color the points by an attribute. Matching captions (×) and
# images (•) should fall in the same clusters.

# %%
both = np.concatenate([z_text, z_image])  # (2000, 32)
centred = both - both.mean(axis=0)
_, _, components = np.linalg.svd(centred, full_matrices=False)
points = centred @ components[:2].T  # (2000, 2)
n = len(z_text)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, attribute in zip(axes, ("color", "shape")):
    labels = test_split.label(attribute)
    for value_index, value in enumerate(ATTRIBUTES[attribute]):
        colour = {"red": "tab:red", "green": "tab:green", "blue": "tab:blue", "yellow": "gold"}.get(
            value, f"C{value_index}"
        )
        mask = labels == value_index
        ax.scatter(*points[n:][mask].T, s=6, color=colour, alpha=0.5, label=f"{value} (image)")
        ax.scatter(*points[:n][mask].T, s=14, color=colour, marker="x", alpha=0.5)
    ax.set(title=f"PCA of text (×) and image (•) embeddings, colored by {attribute}", xlabel="PC 1", ylabel="PC 2")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=6, markerscale=2)
plt.show()

# %% [markdown]
# ## 8. Asserted result
#
# Text → image on the **test** split, gallery = all 1,000 test images, relevance = same shape,
# color, size and position as the query caption. Chance Recall@1 (section 4) is roughly one in
# 86, the number of visible combinations in the test split — a little more, because frequent
# combinations are also queried more often.

# %%
recall_at_1, chance_recall_at_1 = t2i["recall_at_1"], t2i["chance_recall_at_1"]
assert recall_at_1 >= 0.9, f"text->image Recall@1 {recall_at_1:.3f} < 0.9"
assert recall_at_1 >= 10 * chance_recall_at_1, f"Recall@1 {recall_at_1:.3f} < 10 x chance {chance_recall_at_1:.4f}"
assert a2i_by_attribute["size"][0] >= 0.9, "audio->image should retrieve the right size"
results = report(
    "06_cross_modal_matching",
    {
        "recall_at_1": recall_at_1,
        "chance_recall_at_1": chance_recall_at_1,
        "recall_at_5": t2i["recall_at_5"],
        "chance_recall_at_5": t2i["chance_recall_at_5"],
        "median_rank": t2i["median_rank"],
        "chance_median_rank": t2i["chance_median_rank"],
        "gallery_size": int(similarity_t2i.shape[1]),
        "audio_to_image_size_recall_at_1": a2i_by_attribute["size"][0],
        "audio_to_image_size_chance_recall_at_1": a2i_by_attribute["size"][1],
    },
)

# %% [markdown]
# ## 9. Exercises
#
# **Exercise 1.** Write `cosine_matrix(queries, gallery)` with NumPy: for (n_q, d) queries and
# (n_g, d) gallery vectors return the (n_q, n_g) matrix of cosine similarities.


# %% tags=["solution"]
# YOUR CODE HERE
def cosine_matrix(queries, gallery):
    queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    gallery = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    return queries @ gallery.T


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson06 import check_cosine_matrix

check_cosine_matrix(cosine_matrix)

# %% [markdown]
# **Exercise 2.** Write `info_nce(z_a, z_b, temperature)` with NumPy from the formula of
# section 3 (normalize, divide by the temperature, average the two directions), without looking
# at `info_nce_by_hand`. Tip: `scipy` is not needed; a stable log-softmax subtracts the row maximum.


# %% tags=["solution"]
# YOUR CODE HERE
def info_nce(z_a, z_b, temperature):
    z_a = z_a / np.linalg.norm(z_a, axis=1, keepdims=True)
    z_b = z_b / np.linalg.norm(z_b, axis=1, keepdims=True)
    logits = z_a @ z_b.T / temperature

    def log_softmax(x, axis):
        x = x - x.max(axis=axis, keepdims=True)
        return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))

    return -(np.diag(log_softmax(logits, 1)).mean() + np.diag(log_softmax(logits, 0)).mean()) / 2


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson06 import check_info_nce

check_info_nce(info_nce)

# %% [markdown]
# **Exercise 3.** Audio → text retrieval: a sound and a caption share size *and* material.
# Build the (1000, 1000) boolean `relevance` matrix of the test split for audio queries against
# captions (use `test_split.labels`), and `chance_r1`, the Recall@1 a random ranking would get.

# %% tags=["solution"]
# YOUR CODE HERE
relevance = retrieval.attribute_relevance(
    test_split.labels, test_split.labels, retrieval.shared_attributes("audio", "text")
)
chance_r1 = retrieval.chance_recall_at_k(relevance, 1)
# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson06 import check_audio_text_relevance

check_audio_text_relevance(relevance, chance_r1, test_split.labels)

# %% [markdown]
# ## Summary
#
# - Cross-modal matching maps each modality into one normalized space where cosine similarity
#   means "describes the same thing"; retrieval is then a nearest-neighbour search.
# - The seed's $1-\cos$ term alone is minimised by collapsing everything to one point; the
#   contrastive InfoNCE loss adds the other pairs of the batch as negatives (its value for a
#   collapsed space is $\log B$), and CLIP learns its temperature.
# - Retrieval must be scored with a stated relevance and next to chance: with attribute-match
#   relevance the text → image dual encoder reaches the Recall@1 printed above over a 1,000-image
#   gallery (chance ≈ 0.012), while audio → image can only recover size — the one attribute
#   both modalities carry.
#
# **Next**: lesson 07 puts the matching term next to cross-entropy and MSE in the seed's
# multimodal loss $\mathcal{L}=\alpha\mathcal{L}_{CE}+\beta\mathcal{L}_{cos}+\gamma\mathcal{L}_{MSE}$ and asks what each term does.
#
# **References**
# - Radford et al. (2021). *Learning Transferable Visual Models From Natural Language Supervision* (CLIP). ICML.
# - van den Oord, Li, Vinyals (2018). *Representation Learning with Contrastive Predictive Coding* (InfoNCE). arXiv:1807.03748.
# - Frome et al. (2013). *DeViSE: A Deep Visual-Semantic Embedding Model*. NeurIPS.
# - Faghri, Fleet, Kiros, Fidler (2018). *VSE++: Improving Visual-Semantic Embeddings with Hard Negatives*. BMVC.
# - Sohn (2016). *Improved Deep Metric Learning with Multi-class N-pair Loss Objective*. NeurIPS.
