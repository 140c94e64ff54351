# %% [markdown]
# # 07 · The multimodal loss: what each term does, and how to weigh them
#
# **Objectives**
# - derive the seed article's loss $\mathcal{L}=\alpha\mathcal{L}_{CE}+\beta\mathcal{L}_{cos}+\gamma\mathcal{L}_{MSE}$ from likelihoods;
# - implement each term (masked cross-entropy, $1-\cos$ and its contrastive version, weighted MSE) and check it against `mmgen_lib.losses`;
# - train one joint text + image model and switch each term on and off to see what it does;
# - see what badly scaled weights do, and learn the weights instead (uncertainty weighting, Kendall et al. 2018).
#
# **Prerequisites**: lessons 02–03 (encoders) and 06 (cosine similarity, InfoNCE, retrieval metrics).
#
# **Expected run time**: 35–50 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.losses` (`masked_sequence_cross_entropy`, `weighted_mse`, `WeightedMSE`, `MultimodalLoss`).

# %%
import os

# This lesson trains seven small CNNs. TensorFlow's oneDNN CPU kernels train them about 30 % faster,
# but TensorFlow switches them on by default only on some CPUs (not on an AVX2-only CPU like the one
# the course is benchmarked on). The switch is read when TensorFlow is imported, so it comes first;
# `setdefault` keeps your own choice if you set TF_ENABLE_ONEDNN_OPTS yourself.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from dataclasses import dataclass

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops

from mmgen_lib import losses, retrieval, viz
from mmgen_lib.data import ATTRIBUTES, load_split
from mmgen_lib.encoders import ImageEncoder, TextEncoder
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.training import restore_training_state, save_training_state
from mmgen_lib.utils import report, set_seed

SEED = 0
N_TRAIN = 1500  # training examples per run (enough for the comparisons below)
EPOCHS = 4
BATCH_SIZE = 64
LEARNING_RATE = 6e-3
EMBED_DIM = 32
TEMPERATURE = 0.05  # of the contrastive matching term
FOREGROUND_WEIGHT = 4.0  # weighted MSE: object pixels count 1 + 4 = 5 times
VISIBLE = ("shape", "color", "size", "position")
set_seed(SEED)
viz.use_course_style()

train_split, test_split = load_split("train"), load_split("test")
tokenizer = shapesworld_tokenizer(train_split)
train, test = (split_arrays(split, tokenizer, spectrograms=False) for split in (train_split, test_split))  # no sound
print(f"{N_TRAIN} training and {len(test_split)} test examples; vocabulary {tokenizer.vocab_size}")

# %% [markdown]
# ## 1. The seed's loss, derived
#
# The seed article (§3.2) writes the loss of text–image generation as
#
# $$ \mathcal{L} = \alpha\,\mathcal{L}_{CE} + \beta\,\mathcal{L}_{cos} + \gamma\,\mathcal{L}_{MSE}, $$
#
# and (§4.2) spells the first two out as
# $\mathbb{E}_{(x_t,x_v,y_t)}[-\log P(y_t\mid x_t,x_v)] + \lambda\,\mathbb{E}[1-\cos(Y_t, Y_v)]$
# (its second line silently drops the MSE term, which only matters when an image is generated).
# Each term is a **negative log-likelihood** under a simple noise model, and each weight is that
# model's precision:
#
# | term | output and its noise model | $-\log p$ | weight |
# |---|---|---|---|
# | $\mathcal{L}_{CE}$ | tokens $y_t$ from a softmax, $P(y_t\mid x_t,x_v)=\prod_s p_\theta(y_{t,s}\mid\cdot)$ | $-\sum_s \log p_\theta(y_{t,s})$ (cross-entropy, padding masked) | $\alpha$ (1 for a plain likelihood) |
# | $\mathcal{L}_{cos}$ | $z_v$ on the unit sphere around $z_t$, von Mises–Fisher $p(z_v\mid z_t)\propto e^{\kappa\,z_t^\top z_v}$ | $\kappa\,(1-\cos(z_t,z_v)) + \text{const}$ | $\beta=\kappa$, the concentration |
# | $\mathcal{L}_{MSE}$ | pixels $y_v=\hat y_v+\varepsilon$, $\varepsilon\sim\mathcal{N}(0,\sigma^2)$ | $\frac{1}{2\sigma^2}\lVert y_v-\hat y_v\rVert^2 + D\log\sigma$ | $\gamma = \frac{1}{2\sigma^2}$; a per-pixel $\sigma$ gives a *weighted* MSE |
#
# Two consequences we test below. (1) The vMF normaliser $C_d(\kappa)$ depends only on $\kappa$ and
# the dimension, not on $z_t$ or $z_v$: dropping it changes nothing, and $1-\cos$ *is* the vMF
# likelihood of the pair. That likelihood never looks at the other examples, so mapping every
# caption and every image to one direction maximises it — the collapse of lesson 06. InfoNCE
# normalises differently: over the *other images in the batch*,
# $p(v_i\mid t_i)=e^{\kappa\cos(z_{t_i},z_{v_i})}/\sum_j e^{\kappa\cos(z_{t_i},z_{v_j})}$ with $\kappa=1/\tau$.
# That normaliser does depend on the embeddings, and raising every cosine no longer helps — so we
# also try InfoNCE in the $\beta$ slot.
# (2) If the $\sigma$'s are unknown they can be **learned** (Kendall, Gal & Cipolla, 2018):
# $\sum_i \tfrac12\big(e^{-s_i}\mathcal{L}_i + s_i\big)$ with $s_i=\log\sigma_i^2$.
#
# ## 2. Implement each term
#
# **Cross-entropy over a padded sequence.** The mean of $-\log p(y_{t,s})$ over the *real*
# tokens only (padding id 0 must not count), by hand and with the library:

# %%
rng = np.random.default_rng(SEED)
targets = np.array([[5, 7, 2, 0, 0], [4, 6, 6, 3, 2]])  # (batch=2, seq_len=5), 0 = <pad>
logits = rng.normal(size=(2, 5, 9))  # (batch, seq_len, vocab=9)
log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
token_nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]  # (batch, seq_len)
mask = targets != 0
ce_by_hand = (token_nll * mask).sum() / mask.sum()

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(ce_by_hand, float(losses.masked_sequence_cross_entropy(targets, logits)), rtol=1e-9)
np.testing.assert_allclose(ce_by_hand, float(losses.MaskedSequenceCrossEntropy()(targets, logits)), rtol=1e-5)
print(
    f"masked CE = {ce_by_hand:.4f} over {mask.sum()} real tokens "
    f"(averaging the padding too would give {token_nll.mean():.4f})"
)

# %% [markdown]
# **Weighted MSE.** A small object covers about 6 % of the image, so plain MSE can ignore it
# and still score well. Weighting the object's pixels $w=1+4$ (background $w=1$) and dividing by
# $\sum w$ makes its errors count: $\mathcal{L}_{MSE}^{w}=\sum w\,(y-\hat y)^2/\sum w$.

# %%
images = test["image"][:8]  # (8, 32, 32, 3)
blank = np.full_like(images, 40 / 255)  # a "prediction" that draws no object at all
foreground = np.max(np.abs(images - 40 / 255), axis=-1, keepdims=True) > 0.1  # (8, 32, 32, 1)
weights = 1 + FOREGROUND_WEIGHT * foreground
wmse_by_hand = (np.broadcast_to(weights, images.shape) * (images - blank) ** 2).sum(axis=(1, 2, 3)) / np.broadcast_to(
    weights, images.shape
).sum(axis=(1, 2, 3))

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(
    wmse_by_hand, keras.ops.convert_to_numpy(losses.weighted_mse(images, blank, weights)), rtol=1e-5
)
np.testing.assert_allclose(wmse_by_hand.mean(), float(losses.WeightedMSE(FOREGROUND_WEIGHT)(images, blank)), rtol=1e-5)
plain = ((images - blank) ** 2).mean()
print(
    f"predicting an empty background: plain MSE = {plain:.4f}, weighted MSE = {wmse_by_hand.mean():.4f} "
    f"({wmse_by_hand.mean() / plain:.1f}x larger: the missing object now costs more)"
)

# %% [markdown]
# **The matching term and the total.** $1-\cos$ and InfoNCE come from lesson 06;
# `losses.MultimodalLoss` weighs and adds the terms (a term with weight 0 is skipped).

# %%
# NBVAL_CHECK_OUTPUT
z_t, z_v = rng.normal(size=(2, 6, 4))
one_minus_cos = 1 - np.sum(z_t * z_v, 1) / np.linalg.norm(z_t, axis=1) / np.linalg.norm(z_v, axis=1)
np.testing.assert_allclose(
    one_minus_cos, keras.ops.convert_to_numpy(losses.cosine_similarity_loss(z_t, z_v)), rtol=1e-9
)
terms = {"ce": ce_by_hand, "cos": one_minus_cos.mean(), "mse": wmse_by_hand.mean()}
alpha, beta, gamma = 1.0, 0.5, 10.0
total_by_hand = alpha * terms["ce"] + beta * terms["cos"] + gamma * terms["mse"]
np.testing.assert_allclose(total_by_hand, float(losses.MultimodalLoss(alpha, beta, gamma)(terms)), rtol=1e-5)
print(f"L = {alpha}*{terms['ce']:.3f} + {beta}*{terms['cos']:.3f} + {gamma}*{terms['mse']:.3f} = {total_by_hand:.3f}")

# %% [markdown]
# ## 3. A joint text + image objective
#
# One model, three terms, each attached where it has a job:
#
# - $E_t$ (GRU, mean-pooled) → $z_t$, and $E_v$ (CNN) → $z_v$, both projected to $d=32$;
# - **CE** ($\alpha$): from $z_v$, predict the caption's words for the four visible attributes —
#   $-\log P(y_t\mid x_v)$ with $y_t$ reduced to its attribute words (material is not visible);
# - **match** ($\beta$): align $z_t$ and $z_v$ — the seed's $1-\cos$, or InfoNCE;
# - **MSE** ($\gamma$): a dense decoder reconstructs the image from $z_v$ (foreground-weighted).
#
# | tensor | shape |
# |---|---|
# | caption ids, image | (batch, 16), (batch, 32, 32, 3) |
# | $z_t$, $z_v$ | (batch, 32), (batch, 32) |
# | attribute logits | (batch, 3), (batch, 4), (batch, 2), (batch, 4) |
# | reconstruction $\hat y_v$ | (batch, 32, 32, 3) |
#
# We measure, on the test split: the attribute accuracy of the CE heads (mean of four; chance
# ≈ 0.33), text → image **Recall@1** over the 1,000 test images with attribute-match relevance
# (lesson 06; chance 0.0125), and the reconstruction's weighted MSE.

# %% [markdown]
# We build it in four steps.
#
# **Step 1 — the settings, as data.** The runs below differ only in their weights and matching
# term; everything else is one frozen dataclass, passed to the functions as an argument (so no
# function reads a notebook global).


# %%
@dataclass(frozen=True)
class JointConfig:
    """Sizes and training settings of one joint run (configuration as data, no notebook globals)."""

    embed_dim: int = EMBED_DIM
    temperature: float = TEMPERATURE
    foreground_weight: float = FOREGROUND_WEIGHT
    n_train: int = N_TRAIN
    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    learning_rate: float = LEARNING_RATE
    seed: int = SEED


config = JointConfig()
print(config)

# %% [markdown]
# **Step 2 — the model.** `call` computes the tensors of the table above. `loss_terms` turns them
# into the three terms, keyed by the slot of `MultimodalLoss` they fill: `"ce"`, `"cos"`, `"mse"`.
# The $\beta$ slot is named after the seed's $1-\cos$, but it holds whichever matching loss the
# model uses, so `term_names` says what each slot really contains when we print it.
# `compute_loss` hands the terms to the `MultimodalLoss`; its total is what Keras minimises.


# %%
class JointTextImage(keras.Model):
    """E_t, E_v, attribute heads on z_v, an image decoder on z_v; trained with a MultimodalLoss."""

    def __init__(self, vocab_size, multimodal_loss, config, match="infonce", **kwargs):
        super().__init__(**kwargs)
        self.attributes = retrieval.shared_attributes("text", "image")  # the four visible attributes
        self.text_encoder = TextEncoder(vocab_size, embed_dim=32, units=64, kind="gru", pooling="mean")
        self.image_encoder = ImageEncoder(filters=(8, 16, 16), output_dim=64, residual=False)
        self.text_projection = layers.Dense(config.embed_dim)
        self.image_projection = layers.Dense(config.embed_dim)
        self.heads = [layers.Dense(len(ATTRIBUTES[name]), name=f"head_{name}") for name in self.attributes]
        self.decoder = keras.Sequential([layers.Dense(32 * 32 * 3, activation="sigmoid"), layers.Reshape((32, 32, 3))])
        self.multimodal_loss, self.match, self.temperature = multimodal_loss, match, config.temperature
        self.weighted_mse = losses.WeightedMSE(config.foreground_weight)

    def build(self, input_shape):  # from shapes, in the order of `call` (else Keras runs `call` symbolically)
        text_shape, image_shape = input_shape["text"], input_shape["image"]  # (batch, 16), (batch, 32, 32, 3)
        self.text_encoder.build(text_shape)
        self.text_projection.build(self.text_encoder.compute_output_shape(text_shape))
        self.image_encoder.build(image_shape)
        image_features = self.image_encoder.compute_output_shape(image_shape)  # (batch, 64)
        self.image_projection.build(image_features)
        z_shape = self.image_projection.compute_output_shape(image_features)  # z_v: (batch, embed_dim)
        for layer in [*self.heads, self.decoder]:
            layer.build(z_shape)

    def call(self, inputs, training=False):
        z_t = self.text_projection(self.text_encoder(inputs["text"], training=training))  # (batch, embed_dim)
        z_v = self.image_projection(self.image_encoder(inputs["image"], training=training))  # (batch, embed_dim)
        return {
            "z_text": z_t,
            "z_image": z_v,
            "logits": [head(z_v) for head in self.heads],
            "reconstruction": self.decoder(z_v),
        }  # (batch, 32, 32, 3)

    def loss_terms(self, x, y, y_pred):
        ce = sum(
            ops.mean(keras.losses.sparse_categorical_crossentropy(y[name], logits, from_logits=True))
            for name, logits in zip(self.attributes, y_pred["logits"])
        ) / len(self.attributes)
        if self.match == "infonce":
            match = losses.info_nce_loss(y_pred["z_text"], y_pred["z_image"], self.temperature)
        else:  # the seed's 1 - cos
            match = ops.mean(losses.cosine_similarity_loss(y_pred["z_text"], y_pred["z_image"]))
        return {"ce": ce, "cos": match, "mse": self.weighted_mse(x["image"], y_pred["reconstruction"])}

    def term_names(self):
        """What each MultimodalLoss slot holds in this model (the beta slot is InfoNCE or 1 - cos)."""
        return {"ce": "CE", "cos": "InfoNCE" if self.match == "infonce" else "1-cos", "mse": "weighted MSE"}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.multimodal_loss(self.loss_terms(x, y, y_pred))


# %% [markdown]
# Check: an untrained model on one training batch gives the shapes of the table, and its three
# terms (we come back to their sizes in §5).

# %%
untrained = JointTextImage(tokenizer.vocab_size, losses.MultimodalLoss(), config)
batch_x = {"text": train["caption_ids"][:BATCH_SIZE], "image": train["image"][:BATCH_SIZE]}
batch_y = {name: train[name][:BATCH_SIZE] for name in untrained.attributes}
outputs = untrained(batch_x)
print(
    {
        key: [tuple(v.shape) for v in value] if isinstance(value, list) else tuple(value.shape)
        for key, value in outputs.items()
    }
)
start_terms = {k: float(v) for k, v in untrained.loss_terms(batch_x, batch_y, outputs).items()}
term_name = untrained.term_names()
print("untrained:", ", ".join(f"{term_name[k]} {v:.3f}" for k, v in start_terms.items()))

# %% [markdown]
# **Step 3 — training runs.** The runs of §4 and §5 train the same model with other weights. A new
# model per run would make Keras trace its training step again each time, a few seconds per run
# (about as long as the training itself). So `JointRuns` builds one model with an *adjustable*
# `MultimodalLoss` (its weights live in a variable, read by the traced step), saves its starting
# state (`save_training_state`: the weights and Adam's step count and moments), and for each run
# restores that state, sets $(\alpha, \beta, \gamma)$ and fits: every run
# starts from the same weights and sees the same batches, and the step is traced once. A term
# with weight 0 then adds exactly 0 to every gradient, and Adam's step $m/(\sqrt{v}+\epsilon)$ with
# $m=v=0$ is exactly 0: the parts only that term trains (a head, the decoder) keep their starting
# weights. The seed's $1-\cos$ and the learned weights change the loss's code, not only its
# numbers, so they get a model of their own (`train_joint`). One line is only about speed too:
# Adam's slot variables are created *before* `fit`. Left to `fit`, Keras creates them inside its
# first traced training step, and TensorFlow then traces the whole step a second time.


# %%
def joint_dataset(arrays, attributes, config):
    """The first n_train examples as ({text, image}, {attribute: label}) batches, shuffled with the seed."""
    n = config.n_train
    features = {"text": arrays["caption_ids"][:n], "image": arrays["image"][:n]}
    targets = {name: arrays[name][:n] for name in attributes}
    return tf.data.Dataset.from_tensor_slices((features, targets)).shuffle(n, seed=config.seed).batch(config.batch_size)


def new_joint_model(arrays, vocab_size, multimodal_loss, config, match="infonce"):
    """A JointTextImage, built and compiled from the seed, with Adam's slots created (fit traces its step once)."""
    set_seed(config.seed)
    model = JointTextImage(vocab_size, multimodal_loss, config, match=match)
    model.build({"text": (None, *arrays["caption_ids"].shape[1:]), "image": (None, *arrays["image"].shape[1:])})
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate))
    model.optimizer.build(model.trainable_variables)  # slots now, so fit traces its step once
    return model


def fit_joint(model, dataset, config, label):
    """Fit `model` for config.epochs on `dataset`, one progress line per run."""
    model.fit(dataset, epochs=config.epochs, shuffle=False, verbose=0, callbacks=[ProgressLine(label, per_epoch=False)])
    return model


class JointRuns:
    """Fixed-weight InfoNCE runs of one JointTextImage: each restores the same start, sets the weights and fits."""

    def __init__(self, arrays, vocab_size, config):
        self.arrays, self.config = arrays, config
        self.model = new_joint_model(arrays, vocab_size, losses.MultimodalLoss(adjustable=True), config)
        self.start = save_training_state(self.model)  # weights, Adam's step count and moments

    def train(self, alpha, beta, gamma):
        restore_training_state(self.model, self.start)
        self.model.multimodal_loss.set_term_weights(alpha, beta, gamma)
        dataset = joint_dataset(self.arrays, self.model.attributes, self.config)
        return fit_joint(
            self.model, dataset, self.config, f"alpha={alpha:g}, beta={beta:g}, gamma={gamma:g}, infonce, fixed weights"
        )


def train_joint(arrays, vocab_size, alpha, beta, gamma, config, match="infonce", weighting="fixed"):
    """One run on a model of its own (another matching term, or learned weights)."""
    multimodal_loss = losses.MultimodalLoss(alpha, beta, gamma, weighting=weighting)
    model = new_joint_model(arrays, vocab_size, multimodal_loss, config, match=match)
    dataset = joint_dataset(arrays, model.attributes, config)
    if weighting == "uncertainty":  # start each s_i at its optimum log(w_i L_i) for the untrained model
        x0, y0 = next(iter(dataset))
        start = model.loss_terms(x0, y0, model(x0))
        w = {"ce": alpha, "cos": beta, "mse": gamma}
        model.multimodal_loss.log_variances.assign(
            np.log([w[t] * float(start[t]) for t in model.multimodal_loss.active_terms]).astype("float32")
        )
    label = f"alpha={alpha:g}, beta={beta:g}, gamma={gamma:g}, {match}, {weighting} weights"
    return fit_joint(model, dataset, config, label)


# %% [markdown]
# **Step 4 — the test metrics**, from one call of the model on the whole test split.


# %%
def evaluate_joint(model, arrays, labels):
    """Test metrics: attribute accuracy (CE heads), text->image Recall@1, weighted MSE, pair/non-pair cosine."""
    out = keras.tree.map_structure(
        keras.ops.convert_to_numpy, model({"text": arrays["caption_ids"], "image": arrays["image"]})
    )
    accuracy = np.mean(
        [np.mean(np.argmax(logits, 1) == arrays[name]) for name, logits in zip(model.attributes, out["logits"])]
    )
    z_t = out["z_text"] / np.linalg.norm(out["z_text"], axis=1, keepdims=True)
    z_v = out["z_image"] / np.linalg.norm(out["z_image"], axis=1, keepdims=True)
    similarity = z_t @ z_v.T
    relevance = retrieval.attribute_relevance(labels, labels, model.attributes)
    off_diagonal = ~np.eye(len(similarity), dtype=bool)
    return {
        "attr_acc": float(accuracy),
        "recall_at_1": retrieval.recall_at_k(similarity, relevance, 1),
        "recon_mse": float(model.weighted_mse(arrays["image"], out["reconstruction"])),
        "pair_cos": float(np.mean(np.diag(similarity))),
        "nonpair_cos": float(np.mean(similarity[off_diagonal])),
    }


# %% [markdown]
# ## 4. Ablation: switch each term off
#
# Five runs of the same model and budget: all three terms, then each term off, then the seed's
# $1-\cos$ in the $\beta$ slot instead of InfoNCE.

# %%
CONFIGS = {  # name: (alpha, beta, gamma, matching term)
    "all": (1.0, 1.0, 1.0, "infonce"),
    "no_ce": (0.0, 1.0, 1.0, "infonce"),
    "no_match": (1.0, 0.0, 1.0, "infonce"),
    "no_mse": (1.0, 1.0, 0.0, "infonce"),
    "seed_cos": (1.0, 1.0, 1.0, "cos"),
}
shown = {"text": test["caption_ids"][:8], "image": test["image"][:8]}  # reconstructed in the figure below
runs = JointRuns(train, tokenizer.vocab_size, config)
ablation, reconstructions = {}, {}
for name, (a, b, g, match) in CONFIGS.items():
    if match == "infonce":
        model = runs.train(a, b, g)
    else:
        model = train_joint(train, tokenizer.vocab_size, a, b, g, config, match=match)
    ablation[name] = evaluate_joint(model, test, test_split.labels)
    reconstructions[name] = keras.ops.convert_to_numpy(model(shown)["reconstruction"])
chance_r1 = retrieval.chance_recall_at_k(
    retrieval.attribute_relevance(test_split.labels, test_split.labels, retrieval.shared_attributes("text", "image")), 1
)
print(
    f"{'config':9s} {'a,b,g':9s} {'attr_acc':>8s} {'R@1':>6s} {'recon_mse':>9s} {'pair cos':>8s} {'non-pair cos':>12s}"
)
for name, m in ablation.items():
    a, b, g, match = CONFIGS[name]
    print(
        f"{name:9s} {a:.0f},{b:.0f},{g:.0f}    {m['attr_acc']:8.3f} {m['recall_at_1']:6.3f} {m['recon_mse']:9.4f} "
        f"{m['pair_cos']:8.3f} {m['nonpair_cos']:12.3f}"
    )
chance_acc = float(np.mean([1 / len(ATTRIBUTES[n]) for n in VISIBLE]))
print(f"chance: attr_acc = {chance_acc:.3f} (mean of 1/3, 1/4, 1/2, 1/4), R@1 = {chance_r1:.4f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
names = list(ablation)
for ax, (metric, label, chance) in zip(
    axes,
    [
        ("attr_acc", "attribute accuracy (CE heads)", chance_acc),
        ("recall_at_1", "text->image Recall@1", chance_r1),
        ("recon_mse", "reconstruction weighted MSE", None),
    ],
):
    ax.bar(names, [ablation[n][metric] for n in names], color=[f"C{k}" for k in range(len(names))])
    if chance is not None:
        ax.axhline(chance, color="black", linestyle=":", label="chance")
        ax.legend(fontsize=7)
    ax.set(title=label, ylabel=metric)
    ax.tick_params(axis="x", rotation=45, labelsize=8)
fig.suptitle("What each term does (test split; lower MSE is better)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the bars term by term:
#
# - **CE off** (`no_ce`): the attribute heads are untrained, so accuracy falls to chance. In this
#   run retrieval is also weaker than with all three terms: the CE term organises $z_v$ by
#   attribute, which makes the images easier for the captions to find.
# - **match off** (`no_match`): captions and images are never compared, so text → image
#   retrieval is at chance, even though the image side is well trained (its CE and MSE metrics
#   are even a little better here: the terms compete for the shared image encoder).
# - **MSE off** (`no_mse`): the decoder is never trained; its reconstructions are noise.
# - **seed's $1-\cos$** (`seed_cos`): matching pairs reach a cosine near 1 — but so do
#   *non-matching* pairs (see the table): the embeddings collapse to almost one direction, and
#   retrieval stays near chance. The other terms do not prevent it, because they read $z_v$
#   before normalization; only a contrastive term (InfoNCE) keeps pairs apart.
#
# The reconstructions of the full model, and of the model trained without MSE:

# %%
viz.show_images(
    np.concatenate([shown["image"], reconstructions["all"], reconstructions["no_mse"]]),
    ncols=8,
    title="test images / reconstructed with MSE (all) / without MSE (no_mse)",
    size=1.0,
)
plt.show()

# %% [markdown]
# ## 5. Badly scaled weights
#
# The raw terms live on different scales. Here again are the three terms of the untrained model
# of §3 on one training batch, next to $\log B$ (batch size $B$) and the mean of $\log K$, and the weighted MSE of
# the trained full model:

# %%
print(
    "untrained:",
    ", ".join(f"{term_name[k]} {v:.3f}" for k, v in start_terms.items()),
    f"| mean log K = {np.mean([np.log(len(ATTRIBUTES[n])) for n in untrained.attributes]):.3f}, "
    f"log {BATCH_SIZE} = {np.log(BATCH_SIZE):.3f}",
)
print(f"trained (all): recon_mse {ablation['all']['recon_mse']:.4f}")

# %% [markdown]
# The CE starts at the mean of $\log K$ (a uniform guess over $K$ values), InfoNCE even above
# $\log B$ (at $\tau=0.05$ random similarities give confident, wrong softmaxes), and
# the MSE is one to two orders of magnitude smaller.
# "Equal" weights are therefore not equal at all, and a weight that is 100× too large lets
# one term dominate the gradients of the parts the terms **share** (here the image encoder).
# Adam rescales each parameter's step, so parts that only one term trains (a head, the decoder)
# hardly notice the weight; the shared encoder does. Try $\gamma=100$:

# %%
ablation["mse_x100"] = evaluate_joint(runs.train(1.0, 1.0, 100.0), test, test_split.labels)
for name in ("all", "mse_x100"):
    m = ablation[name]
    print(f"{name:9s} attr_acc {m['attr_acc']:.3f}  R@1 {m['recall_at_1']:.3f}  recon_mse {m['recon_mse']:.4f}")

# %% [markdown]
# With $\gamma=100$ the reconstruction term steers the shared image encoder: in this run attribute
# accuracy and Recall@1 drop, while the boosted term gains little (compare the two rows).
#
# ## 6. Learning the weights: uncertainty weighting
#
# Instead of tuning $\alpha,\beta,\gamma$ by hand, give each term a learned log-variance $s_i$
# (Kendall et al., 2018): $\mathcal{L}=\sum_i \tfrac12\big(e^{-s_i}\mathcal{L}_i+s_i\big)$.
# Minimising over $s_i$ gives $e^{s_i}=\mathcal{L}_i$: every term is divided by its own size, so
# no hand-set scale can drown the others, and the $+s_i$ stops the weights from shrinking to 0.
# We rerun the badly scaled case ($\gamma=100$) with learned weights, each $s_i$ starting at its
# optimum for the untrained model, $\log(w_i\mathcal{L}_i)$.

# %%
name = "uncertainty_mse_x100"
trained = train_joint(train, tokenizer.vocab_size, 1.0, 1.0, 100.0, config, weighting="uncertainty")
ablation[name] = evaluate_joint(trained, test, test_split.labels)
for run in ("all", "mse_x100", name):
    m = ablation[run]
    print(f"{run:21s} attr_acc {m['attr_acc']:.3f}  R@1 {m['recall_at_1']:.3f}  recon_mse {m['recon_mse']:.4f}")

# %% [markdown]
# Are the learned weights where the theory puts them? At the optimum the effective weight
# $\tfrac12 w_i e^{-s_i}$ equals $1/(2\mathcal{L}_i)$. The table compares, per term, the starting
# weight ($1/(2\mathcal{L}_i)$ of the untrained model, where each $s_i$ was put), the learned weight,
# and $1/(2\mathcal{L}_i)$ for the terms of the *trained* model (on 1,024 training examples).
# Adam moves each $s_i$ by at most about the learning rate per step, so the last column shows
# how far $s_i$ could have travelled in this run.

# %%
n_check = 1024
check_x = {"text": train["caption_ids"][:n_check], "image": train["image"][:n_check]}
check_y = {k: train[k][:n_check] for k in trained.attributes}
end_terms = {k: float(v) for k, v in trained.loss_terms(check_x, check_y, trained(check_x)).items()}
learned = trained.multimodal_loss.term_weights()
steps = config.epochs * int(np.ceil(config.n_train / config.batch_size))
print(
    f"{'term':12s} {'start 1/(2L0)':>13s} {'learned':>8s} {'1/(2L) now':>10s}  moved towards it  "
    f"needed |log change| vs about {steps} steps x lr"
)
for term, weight in learned.items():
    start_weight, target = 1 / (2 * start_terms[term]), 1 / (2 * end_terms[term])
    towards = abs(np.log(weight / target)) < abs(np.log(start_weight / target))
    print(
        f"{trained.term_names()[term]:12s} {start_weight:13.2f} {weight:8.2f} {target:10.2f}  {str(towards):>16s}  "
        f"{abs(np.log(target / start_weight)):.2f} vs {steps * config.learning_rate:.2f}"
    )

# %% [markdown]
# Read the table and the three rows above it as they are:
#
# - Every weight moves the right way, towards $1/(2\mathcal{L}_i)$. The InfoNCE weight, whose term
#   needed the smallest change, arrives; the CE and MSE weights, whose terms shrank most during
#   training, lag far behind: the change of $\log$-weight they needed is several times the distance
#   Adam can move $s_i$ in this many steps. "Learned weights equal $1/(2\mathcal{L}_i)$" is the
#   *fixed point*, reached only with enough steps (or a larger learning rate for the $s_i$).
# - Even so, the learned $s_\gamma$ has already divided the $\times100$ back out: compare the
#   rows `mse_x100` and `uncertainty_mse_x100` for attribute accuracy and reconstruction. Recall@1
#   recovers much of what the $\times100$ cost it, but in this run stays below the level of the run
#   with $\alpha=\beta=\gamma=1$: learning the weights repairs a bad *scale*, it does not find the best
#   trade-off between the tasks (only one $\gamma$ is tried here).
#
# ## 7. Asserted results
#
# Honest qualitative claims, each on the test split:

# %%
summary = {
    f"ablation_{run}_{metric}": value
    for run, metrics in ablation.items()
    for metric, value in metrics.items()
    if metric in ("attr_acc", "recall_at_1", "recon_mse")
}
summary["ablation_seed_cos_pair_cos"] = ablation["seed_cos"]["pair_cos"]
summary["ablation_seed_cos_nonpair_cos"] = ablation["seed_cos"]["nonpair_cos"]
summary["chance_recall_at_1"] = chance_r1
full, no_match, seed_cos = ablation["all"], ablation["no_match"], ablation["seed_cos"]
# 1. without a matching term, text->image alignment is at chance; with InfoNCE it is far above
assert no_match["recall_at_1"] <= 3 * chance_r1, f"no_match R@1 {no_match['recall_at_1']:.3f} is not near chance"
assert full["recall_at_1"] >= 10 * chance_r1 and full["recall_at_1"] >= 0.5, f"all: R@1 {full['recall_at_1']:.3f}"
# 2. the seed's 1 - cos alone is satisfied by collapse: pairs AND non-pairs near cosine 1, retrieval near chance
assert seed_cos["pair_cos"] >= 0.9 and seed_cos["nonpair_cos"] >= 0.8, "1 - cos should collapse the space"
assert seed_cos["recall_at_1"] <= 5 * chance_r1, f"seed_cos R@1 {seed_cos['recall_at_1']:.3f} is not near chance"
# 3. the CE term is what trains the attribute heads; the MSE term what trains the decoder
assert full["attr_acc"] >= 0.8 and ablation["no_ce"]["attr_acc"] <= 0.45, "CE on/off should decide attribute accuracy"
assert ablation["no_mse"]["recon_mse"] >= 2 * full["recon_mse"], "MSE on/off should decide reconstruction"
# 4. a 100x weight on MSE costs the shared encoder; learned weights repair the scale, not the trade-off (section 6)
learned_run = ablation["uncertainty_mse_x100"]
assert ablation["mse_x100"]["attr_acc"] < full["attr_acc"] <= learned_run["attr_acc"] + 0.05, (
    "gamma=100 vs learned weights"
)
assert ablation["mse_x100"]["recall_at_1"] < learned_run["recall_at_1"] < full["recall_at_1"], (
    "R@1: x100 < learned < all"
)
results = report("07_multimodal_loss", summary)

# %% [markdown]
# ## 8. Exercises
#
# **Exercise 1.** Write `foreground_weighted_mse(y_true, y_pred, foreground_weight)` with NumPy:
# weights $w = 1 + \text{foreground\_weight}$ on pixels whose largest channel differs from the
# background $40/255$ by more than $0.1$, else 1; return one value per image,
# $\sum w (y-\hat y)^2 / \sum w$ (the weight map has one channel: broadcast it over RGB).


# %% tags=["solution"]
# YOUR CODE HERE
def foreground_weighted_mse(y_true, y_pred, foreground_weight):
    is_object = np.max(np.abs(y_true - 40 / 255), axis=-1, keepdims=True) > 0.1  # (n, 32, 32, 1)
    w = np.broadcast_to(1 + foreground_weight * is_object, y_true.shape)
    return (w * (y_true - y_pred) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson07 import check_foreground_weighted_mse

check_foreground_weighted_mse(foreground_weighted_mse)

# %% [markdown]
# **Exercise 2.** Write `uncertainty_weighted_total(term_values, log_variances)`: for lists of
# term values $\mathcal{L}_i$ and log-variances $s_i$, return $\sum_i \tfrac12(e^{-s_i}\mathcal{L}_i+s_i)$.


# %% tags=["solution"]
# YOUR CODE HERE
def uncertainty_weighted_total(term_values, log_variances):
    term_values, log_variances = np.asarray(term_values), np.asarray(log_variances)
    return float(np.sum(0.5 * (np.exp(-log_variances) * term_values + log_variances)))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson07 import check_uncertainty_weighted_total

check_uncertainty_weighted_total(uncertainty_weighted_total)

# %% [markdown]
# **Exercise 3.** At its optimum, uncertainty weighting sets $s_i = \log\mathcal{L}_i$. For the
# term values below, compute `optimal_log_variances` (a NumPy array) and the resulting effective
# weights `effective_weights` $=\tfrac12 e^{-s_i}$.

# %%
term_values = np.array([1.2, 4.8, 0.05])  # CE, InfoNCE, MSE: sizes like those seen above

# %% tags=["solution"]
# YOUR CODE HERE
optimal_log_variances = np.log(term_values)
effective_weights = 0.5 * np.exp(-optimal_log_variances)
# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson07 import check_optimal_weights

check_optimal_weights(optimal_log_variances, effective_weights, term_values)

# %% [markdown]
# ## Summary
#
# - Each term of $\mathcal{L}=\alpha\mathcal{L}_{CE}+\beta\mathcal{L}_{cos}+\gamma\mathcal{L}_{MSE}$
#   is a negative log-likelihood (softmax, von Mises–Fisher, Gaussian); each weight is a precision.
# - The ablation shows each term trains its own part — CE the attribute heads, matching the
#   text–image alignment, MSE the decoder — and the seed's $1-\cos$ alone lets the embeddings
#   collapse (cosine near 1 for every pair, retrieval at chance); InfoNCE does not.
# - Raw terms differ by orders of magnitude; a badly scaled weight lets one term steer the shared
#   encoder. Uncertainty weighting learns the scales ($e^{s_i}\to\mathcal{L}_i$, given enough steps)
#   and repairs a bad scale; it does not choose the trade-off between the tasks for you.
#
# **Next**: lesson 08 trains a joint decoder for text, with the masked cross-entropy of this lesson.
#
# **References**
# - Kendall, Gal, Cipolla (2018). *Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and Semantics*. CVPR.
# - Radford et al. (2021). *Learning Transferable Visual Models From Natural Language Supervision* (CLIP). ICML.
# - van den Oord, Li, Vinyals (2018). *Representation Learning with Contrastive Predictive Coding*. arXiv:1807.03748.
# - Banerjee, Dhillon, Ghosh, Sra (2005). *Clustering on the Unit Hypersphere using von Mises–Fisher Distributions*. JMLR.
# - Chen, Badrinarayanan, Lee, Rabinovich (2018). *GradNorm: Gradient Normalization for Adaptive Loss Balancing*. ICML.
