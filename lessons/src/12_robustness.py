# %% [markdown]
# # 12 · Evaluation and robustness: missing, noisy and adversarial inputs
#
# **Objectives**
# - measure what happens when a modality is **missing** at test time, and compare three
#   fixes: zeros, a learned "missing" embedding, and training with **modality dropout**;
# - corrupt one modality with **noise** and watch fusion compensate with the other;
# - build the **fast gradient sign method** (FGSM) and use it to change what a captioner
#   says with a perturbation too small to see; plot attack success against $\epsilon$;
# - test the article's claim that multimodal models are *more* fragile: attack a fused
#   (image + sound) captioner and an image-only one the same way;
# - report each result on the test split, next to the number it should be compared with.
#
# **Prerequisites**: lessons 03–05 (encoders, fusion) and 08 (captioning, greedy decoding).
#
# **Expected run time**: 30–60 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.robustness` (`ModalityDropout`, `add_gaussian_noise`, `fgsm`, `changed_attributes`);
# uses `mmgen_lib.captioners` (the two captioners of section 6, trained once and shipped).

# %%
from dataclasses import dataclass

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import layers, ops

from mmgen_lib import data, pretrained, viz
from mmgen_lib.captioners import load_captioner, load_captioner_history, train_captioner
from mmgen_lib.classifiers import attribute_accuracy, predict_in_batches
from mmgen_lib.data import parse_caption
from mmgen_lib.decoders import TextDecoder
from mmgen_lib.fusion import EarlyFusion
from mmgen_lib.generation import greedy_decode
from mmgen_lib.losses import masked_sequence_cross_entropy
from mmgen_lib.metrics import caption_attribute_accuracy
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.robustness import ModalityDropout, add_gaussian_noise, changed_attributes, fgsm
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import report, set_seed

SEED = 0
BATCH_SIZE = 125  # the 5,000 training examples in 40 equal batches
HEAD_EPOCHS = 6  # fusion heads on frozen features (cheap)
CAPTION_EPOCHS = 4  # the shipped captioners' recipe (mmgen_lib.captioners.RECIPE)
LIVE_EPOCHS = 1  # of the 4 trained here, for the fused captioner; 4 trains the whole recipe
DROPOUT_RATE = 0.5  # modality dropout: half the training examples lose one modality
NOISE_STDS = (0.0, 0.1, 0.2, 0.3, 0.4)
EPSILONS = (0.0, 1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255)
FGSM_EPS = 8 / 255  # the epsilon reported: the usual max-norm budget for 8-bit images
N_ATTACK = 300  # test examples attacked
IMAGE_BATCH = 250  # images per direct encoder call: small activation tensors, whose memory is reused

set_seed(SEED)
viz.use_course_style()
train_split, test_split = data.load_split("train"), data.load_split("test")
tokenizer = shapesworld_tokenizer(train_split)
train, test = split_arrays(train_split, tokenizer), split_arrays(test_split, tokenizer)
NAMES, VISIBLE = data.ATTRIBUTE_NAMES, data.VISIBLE_ATTRIBUTES
SPARSE_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

# %% [markdown]
# ## 1. Two sides of one coin
#
# Section 3.3 of the seed article lists, among the *strengths* of multimodal generation,
# that complementary modalities make a model **robust**: noise in one modality can be
# compensated by another. Among the *weaknesses*, that multimodal models are **fragile
# against adversarial examples**. This lesson measures both on ShapesWorld, where the image
# shows shape, color, size and position, and the sound tells size and material.
#
# **Missing modality.** A fusion $z = F(z_v, z_a)$ with $z_v = E_v(x_v)$, $z_a = E_a(x_a)$
# is trained with both inputs. At test time the microphone may be broken. With a presence
# flag $m_a \in \{0, 1\}$ we feed a stand-in:
#
# $$z_a' = m_a\, z_a + (1 - m_a)\, e_a ,$$
#
# with $e_a = 0$ ("zeros") or a trained vector ("learned missing embedding"). **Modality
# dropout** sets $m_a = 0$ (or $m_v = 0$) at random *during training*, so the fusion learns
# to answer from whatever is there.
#
# **Adversarial example.** The fast gradient sign method (Goodfellow et al., 2015) moves
# every pixel by $\epsilon$ in the direction that increases the loss $\mathcal{L}$:
#
# $$x_v' = \mathrm{clip}_{[0,1]}\big(x_v + \epsilon \cdot \mathrm{sign}(\nabla_{x_v} \mathcal{L}(x_v, x_a, y))\big).$$
#
# For a captioner, $\mathcal{L}$ is the cross-entropy of the caption it generated for the
# clean input: climbing it makes that caption less likely. The attack **succeeds** when
# the new caption names a different attribute value.
#
# | tensor | shape |
# |---|---|
# | image $x_v$, perturbation $\epsilon\,\mathrm{sign}(\nabla)$ | (batch, 32, 32, 3) |
# | log-mel $x_a$ | (batch, 28, 40) |
# | $z_v$, $z_a$, stand-in $e_a$ | (batch, 64), (batch, 64), (64,) |
# | presence mask $m$ | (batch, 2) |
# | caption logits | (batch, 15, vocab) |

# %% [markdown]
# ## 2. Build it
#
# **The stand-in for a missing modality**, from primitives: keep $z$ where present,
# put $e$ where missing. The library's `ModalityDropout` layer does the same (and, in
# training, drops one modality of an example with probability `rate`).

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(SEED)
z_v, z_a = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
mask = np.array([[1, 1], [1, 0], [0, 1], [1, 0]], "float32")
e_a = np.array([0.5, -1.0, 2.0], "float32")

by_hand = mask[:, 1:2] * z_a + (1 - mask[:, 1:2]) * e_a  # (batch, 3)

stand_in = ModalityDropout(missing="learned")
stand_in.build([(None, 3), (None, 3)])
stand_in.embeddings[1].assign(e_a)
library_v, library_a = stand_in([z_v, z_a], modality_mask=mask)
np.testing.assert_allclose(library_a, by_hand, atol=1e-6)
np.testing.assert_allclose(library_v, mask[:, :1] * z_v, atol=1e-6)  # e_v is still 0
print("stand-ins match; audio rows 1 and 3 are e_a:", np.round(by_hand[1], 2))

# %% [markdown]
# **FGSM** from primitives on a tiny logistic model, where the gradient is known in closed
# form: for $p = \sigma(w^\top x)$ and label 1, $\nabla_x(-\log p) = -(1-p)\,w$, so FGSM
# moves $x$ by $-\epsilon\,\mathrm{sign}(w)$.

# %%
# NBVAL_CHECK_OUTPUT
w = tf.constant([[2.0], [-1.0], [0.0001]])
x = np.array([[0.5, 0.5, 0.5]], "float32")


def logistic_loss(inputs):
    return -tf.reduce_mean(tf.math.log_sigmoid(inputs @ w))


with tf.GradientTape() as tape:
    x_tensor = tf.constant(x)
    tape.watch(x_tensor)
    loss = logistic_loss(x_tensor)
by_hand = np.clip(x + 0.1 * np.sign(tape.gradient(loss, x_tensor).numpy()), 0, 1)

np.testing.assert_allclose(fgsm(logistic_loss, x, epsilon=0.1), by_hand, atol=1e-6)
np.testing.assert_allclose(by_hand, x - 0.1 * np.sign(w.numpy().T), atol=1e-6)
print("FGSM step:", np.round(by_hand - x, 3))

# %% [markdown]
# ## 3. Frozen encoders, one per modality
#
# As in lesson 05, each encoder was trained once on its own modality (image → the four visible
# attributes; sound → size and material; the course ships them, `mmgen_lib.pretrained`), and
# we compare small fusion heads on their frozen features. Training the encoders *separately*
# matters here: trained jointly, an image encoder can leave size to the sound (it is easier to
# hear), and then no fusion trick can recover size when the sound is missing.

# %%
# lessons 03-04's encoders with one linear head per attribute (lesson 02), trained once and shipped
image_model, audio_model = pretrained.load_image_classifier(), pretrained.load_audio_classifier()
E_v, E_a = (
    image_model.get_layer("E_v"),
    audio_model.get_layer("E_a"),
)  # ImageEncoder (16, 32, 32), AudioEncoder (16, 32)

z_train = {
    "v": predict_in_batches(E_v, train["image"], IMAGE_BATCH),
    "a": predict_in_batches(E_a, train["spectrogram"]),
}
z_test = {"v": predict_in_batches(E_v, test["image"], IMAGE_BATCH), "a": predict_in_batches(E_a, test["spectrogram"])}
image_only = attribute_accuracy(predict_in_batches(image_model, test["image"], IMAGE_BATCH), test)
audio_only = attribute_accuracy(predict_in_batches(audio_model, test["spectrogram"]), test)
print("image-only test accuracy:", {k: round(v, 3) for k, v in image_only.items()})
print("audio-only test accuracy:", {k: round(v, 3) for k, v in audio_only.items()})

# %% [markdown]
# ## 4. Missing audio at test time
#
# A fusion head: `ModalityDropout` → `EarlyFusion(64)` → one softmax per attribute. We
# train two of them on the frozen features:
#
# - **baseline**: always sees both modalities (`rate=0`). Its "learned" stand-in $e_a$ starts
#   at zero and gets no gradient while audio is present, so with audio missing it first
#   runs on **zeros**. Then we **learn $e_a$ alone** (64 numbers; the head frozen) on
#   training examples with the audio masked out;
# - **modality dropout**: half the training examples lose one modality (`rate=0.5`).


# %%
def fusion_head(rate, seed):
    z_v_in, z_a_in, mask_in = keras.Input((64,)), keras.Input((64,)), keras.Input((2,))
    stand_ins = ModalityDropout(rate=rate, missing="learned", seed=seed, name="stand_in")
    fused = EarlyFusion(units=64, name="fusion")(stand_ins([z_v_in, z_a_in], modality_mask=mask_in))
    outputs = {name: layers.Dense(len(data.ATTRIBUTES[name]), name=name)(fused) for name in NAMES}
    model = keras.Model([z_v_in, z_a_in, mask_in], outputs)
    model.compile(keras.optimizers.Adam(3e-3), loss={name: SPARSE_CE for name in NAMES})
    blank = {"v": np.zeros((2, 64), "float32"), "a": np.zeros((2, 64), "float32")}  # two examples' worth
    build_before_fit(model, head_inputs(blank, [1, 1]), {name: np.zeros(2, "int32") for name in NAMES})  # one trace
    return model


def head_inputs(z, present):
    return [z["v"], z["a"], np.tile(np.asarray(present, "float32"), (len(z["v"]), 1))]


def head_accuracy(model, z, present, labels):
    """Per-attribute accuracy of a fusion head on features z, with the presence flags `present`."""
    return attribute_accuracy(predict_in_batches(model, head_inputs(z, present)), labels)


train_targets = {name: train[name] for name in NAMES}
baseline = fusion_head(rate=0.0, seed=SEED)
baseline.fit(
    head_inputs(z_train, [1, 1]),
    train_targets,
    epochs=HEAD_EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=0,
    callbacks=[ProgressLine("baseline head", per_epoch=False)],
)
results = {
    "baseline, both": head_accuracy(baseline, z_test, [1, 1], test),
    "baseline, audio = zeros": head_accuracy(baseline, z_test, [1, 0], test),
}

for layer in baseline.layers:  # learn the stand-in e_a only
    layer.trainable = layer.name == "stand_in"
baseline.compile(keras.optimizers.Adam(3e-2), loss={name: SPARSE_CE for name in NAMES})
build_before_fit(baseline, head_inputs(z_train, [1, 0]), train_targets)  # the stand-in's slots: the rest is frozen
baseline.fit(
    head_inputs(z_train, [1, 0]),
    train_targets,
    epochs=2,
    batch_size=BATCH_SIZE,
    verbose=0,
    callbacks=[ProgressLine("learned stand-in e_a", per_epoch=False)],
)
results["baseline, audio = learned e_a"] = head_accuracy(baseline, z_test, [1, 0], test)

dropout_head = fusion_head(rate=DROPOUT_RATE, seed=SEED)
dropout_head.fit(
    head_inputs(z_train, [1, 1]),
    train_targets,
    epochs=HEAD_EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=0,
    callbacks=[ProgressLine("modality-dropout head", per_epoch=False)],
)
results["modality dropout, both"] = head_accuracy(dropout_head, z_test, [1, 1], test)
results["modality dropout, audio missing"] = head_accuracy(dropout_head, z_test, [1, 0], test)


def visible_mean(accuracy):
    return float(np.mean([accuracy[name] for name in VISIBLE]))


audio_missing_drop_baseline = visible_mean(results["baseline, both"]) - visible_mean(results["baseline, audio = zeros"])
audio_missing_drop_learned = visible_mean(results["baseline, both"]) - visible_mean(
    results["baseline, audio = learned e_a"]
)
audio_missing_drop_dropout = visible_mean(results["modality dropout, both"]) - visible_mean(
    results["modality dropout, audio missing"]
)
for name, accuracy in results.items():
    print(f"{name:<34}", " ".join(f"{k} {v:.3f}" for k, v in accuracy.items()))
print(
    f"\ndrop in visible-attribute accuracy when audio is missing: zeros {audio_missing_drop_baseline:.3f}, "
    f"learned e_a {audio_missing_drop_learned:.3f}, modality dropout {audio_missing_drop_dropout:.3f}"
)

# %%
fig = viz.plot_grouped_bars(
    {name: [accuracy[n] for n in NAMES] for name, accuracy in results.items()},
    NAMES,
    title="Test accuracy per attribute, with and without the sound",
    chance=[1 / len(data.ATTRIBUTES[n]) for n in NAMES],
)
plt.show()

# %% [markdown]
# Read the bars attribute by attribute. **Material** falls to chance whenever the sound is
# gone: no trick can invent what only the sound carries. The **visible** attributes should not
# suffer, yet the baseline loses much of its color and size accuracy when fed zeros: its
# fusion layer never saw $z_a = 0$ (the real features are far from zero) and its activations
# land where it was never trained. A learned stand-in repairs part of that without retraining
# the head; modality dropout repairs all of it.

# %% [markdown]
# ## 5. Noise in one modality: fusion can compensate, once it has seen noise
#
# Size is both visible and audible; shape is only visible. We add Gaussian noise of growing
# standard deviation $\sigma$ to the test images (pixels are in $[0, 1]$) and compare three
# models: the image-only classifier, the modality-dropout head of section 4, and the same
# head trained on a mix of clean and noisy images (a fifth of the training images at each
# $\sigma$ of the grid; the encoders stay frozen).

# %%
noisy_train = np.concatenate(
    [
        add_gaussian_noise(chunk, std, seed=100 + k)
        for k, (chunk, std) in enumerate(zip(np.array_split(train["image"], len(NOISE_STDS)), NOISE_STDS))
    ]
)
noise_head = fusion_head(rate=DROPOUT_RATE, seed=SEED)
noise_head.fit(
    head_inputs({"v": predict_in_batches(E_v, noisy_train, IMAGE_BATCH), "a": z_train["a"]}, [1, 1]),
    train_targets,
    epochs=HEAD_EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=0,
    callbacks=[ProgressLine("head trained on noisy images", per_epoch=False)],
)

curves = {"image only": [], "fused": [], "fused, trained with noise": []}
for k, std in enumerate(NOISE_STDS):
    noisy = add_gaussian_noise(test["image"], std, seed=k)
    z_noisy = predict_in_batches(E_v, noisy, IMAGE_BATCH)  # (1000, 64), read by all three models
    noisy_inputs = head_inputs({"v": z_noisy, "a": z_test["a"]}, [1, 1])
    curves["image only"].append(
        attribute_accuracy({name: predict_in_batches(image_model.get_layer(name), z_noisy) for name in VISIBLE}, test)
    )  # its heads on E_v's features
    for name, model in (("fused", dropout_head), ("fused, trained with noise", noise_head)):
        curves[name].append(attribute_accuracy(predict_in_batches(model, noisy_inputs), test))

fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), sharey=True)
for ax, attribute in zip(axes, ("size", "shape")):
    for name, rows in curves.items():
        ax.plot(NOISE_STDS, [row[attribute] for row in rows], marker="o", label=name)
    ax.set_xlabel("image noise standard deviation $\\sigma$")
    ax.set_title(f"{attribute} ({'seen and heard' if attribute == 'size' else 'only seen'})")
axes[0].set_ylabel("test accuracy")
axes[0].legend(fontsize=8)
fig.suptitle("Noisy images: who keeps the facts right?")
fig.tight_layout()
plt.show()
noisy_size = {name: rows[-1]["size"] for name, rows in curves.items()}
print(f"size accuracy at sigma = {NOISE_STDS[-1]}:", {name: round(v, 3) for name, v in noisy_size.items()})

# %% [markdown]
# Fusion helps, but not by magic: the head trained on clean images holds size longer than the
# image-only model, then follows it down as the noisy image features drift far from anything
# it was trained on. Trained on noisy images too, it learns to take size from the sound when
# the picture is unreliable, and keeps it right at every noise level. Shape, which only the
# image carries, degrades for everyone.
#
# ## 6. A captioner, and an adversarial image that changes its caption
#
# The captioner of lesson 08 in miniature: a `TextDecoder` conditioned on
# $[E_v(x_v); E_a(x_a)]$ (the frozen encoders), standardised feature by feature (raw, their
# scales are far from 1, which slows the decoder's training down),
# trained with teacher forcing. To test the article's claim that *multimodal* models are the
# fragile ones, we train a second, **unimodal** captioner the same way on $E_v(x_v)$ alone,
# and attack both.
#
# Training both takes a third of this lesson's minute, and this lesson is about attacking them,
# so the course trained them once by that recipe (4 epochs, batches of 125, Adam at 0.002) and
# ships them, as it ships the encoders: `mmgen_lib.captioners`, rebuilt with
# `python -m mmgen_lib.captioners --out data/captioners --force` (about 30 s). Here the fused
# captioner's first epoch is trained again, by `train_captioner` with the same seed, and its
# loss checked against the shipped run's; `LIVE_EPOCHS = 4` trains the whole recipe.
#
# A small frozen dataclass holds what turns images into captions (as lesson 07's config
# does), so every helper below receives the captioner it works on instead of reading it from
# the notebook.


# %%
@dataclass(frozen=True)
class Captioner:
    """Images (+ fixed audio features, for the fused captioner) -> caption ids."""

    image_encoder: keras.layers.Layer  # E_v, frozen
    standardize: keras.layers.Layer  # per-feature standardisation of the context
    decoder: TextDecoder
    z_audio: np.ndarray | None  # (n, 64) E_a features of the examples; None: image only


def caption_context(captioner, images):
    """The decoder's standardised context for a batch of images (a tensor: gradients flow through it)."""
    features = captioner.image_encoder(images, training=False)  # (batch, 64)
    if captioner.z_audio is not None:
        audio = ops.convert_to_tensor(captioner.z_audio[: images.shape[0]])  # (batch, 64): the sound is not attacked
        features = ops.concatenate([features, audio], axis=-1)  # (batch, 128)
    return captioner.standardize(features)


def generate_ids(captioner, images):
    return greedy_decode(captioner.decoder, caption_context(captioner, images))  # (batch, 15): 0 after <end>


def captions_for(captioner, images, tokenizer):
    return [tokenizer.decode(row) for row in generate_ids(captioner, images)]


live = train_captioner(
    "fused",
    np.concatenate([z_train["v"], z_train["a"]], axis=1),  # (5000, 128)
    train["caption_ids"],
    tokenizer.vocab_size,
    epochs=LIVE_EPOCHS,
    seed=SEED,
    callbacks=[ProgressLine("fused captioner, trained here", per_epoch=False)],
)
shipped_loss = load_captioner_history("fused")["loss"]  # one value per epoch of the shipped run
np.testing.assert_allclose(live[2]["loss"], shipped_loss[:LIVE_EPOCHS], rtol=0.02)
print(f"loss per epoch, trained here: {np.round(live[2]['loss'], 4)}; shipped run: {np.round(shipped_loss, 4)}")

attack_images = test["image"][:N_ATTACK]
captioners = {
    "fused": Captioner(E_v, *load_captioner("fused"), z_audio=z_test["a"][:N_ATTACK]),
    "image only": Captioner(E_v, *load_captioner("image_only"), z_audio=None),
}
clean_generated = {name: generate_ids(c, attack_images) for name, c in captioners.items()}
clean_captions = {name: [tokenizer.decode(row) for row in ids] for name, ids in clean_generated.items()}
clean_accuracy = {
    name: caption_attribute_accuracy(texts, test_split.labels[:N_ATTACK]) for name, texts in clean_captions.items()
}
for name, accuracy in clean_accuracy.items():
    print(f"clean caption accuracy, {name:<10}:", {k: round(v, 3) for k, v in accuracy.items()})
print("example (fused):", clean_captions["fused"][0])

# %% [markdown]
# The image-only captioner names the visible attributes as well as the fused one, and guesses
# the material (it cannot hear it). So we compare the two attacks on what both can see: an
# attack **succeeds** when the caption names another shape, color, size or position.
#
# The attack's loss is the cross-entropy of the *clean* caption, as a function of the image
# (the sound is left alone). The gradient flows through the decoder and the image encoder
# back to the pixels. The gradient is taken at the clean image, so its signs, the direction
# every pixel moves, are the same for every $\epsilon$: `fgsm` accepts a list of them and
# computes the gradient once. As a control, a perturbation of the same size with **random** signs.


# %%
def clean_caption_loss(captioner, clean_ids):
    """The loss FGSM climbs: cross-entropy of the clean captions clean_ids (n, 16, with <start>) given the images."""

    def loss(images):
        logits = captioner.decoder([caption_context(captioner, images), clean_ids[:, :-1]])  # (n, 15, vocab)
        return masked_sequence_cross_entropy(clean_ids[:, 1:], logits)

    return loss


def changed_visible(before, after):
    """(n,) bool: the caption in `after` names another shape, color, size or position than in `before`."""

    def visible(text):
        parsed = parse_caption(text, strict=False) if text.strip() else {}
        return tuple(parsed.get(name) for name in VISIBLE)

    return np.array([visible(a) != visible(b) for a, b in zip(before, after)], bool)


signs = np.sign(np.random.default_rng(SEED).normal(size=attack_images.shape)).astype("float32")
success = {"fused": [0.0], "image only": [0.0]}  # FGSM: share of captions with a changed visible attribute
success_any = [0.0]  # fused captioner, any of the five attributes changed
control = [0.0]  # fused captioner, random signs; at epsilon = 0 nothing moves, so nothing changes
for name, captioner in captioners.items():
    clean_ids = np.concatenate([np.full((N_ATTACK, 1), tokenizer.start_id), clean_generated[name]], axis=1)
    sweep = fgsm(clean_caption_loss(captioner, clean_ids), attack_images, EPSILONS[1:])  # one gradient, every epsilon
    for epsilon, adversarial in zip(EPSILONS[1:], sweep):
        attacked = captions_for(captioner, adversarial, tokenizer)
        success[name].append(float(np.mean(changed_visible(clean_captions[name], attacked))))
        if name == "fused":
            success_any.append(float(np.mean(changed_attributes(clean_captions[name], attacked))))
            if epsilon == FGSM_EPS:
                fused_adversarial, fused_adversarial_captions = adversarial, attacked  # shown below
for epsilon in EPSILONS[1:]:
    randomised = captions_for(captioners["fused"], np.clip(attack_images + epsilon * signs, 0, 1), tokenizer)
    control.append(float(np.mean(changed_attributes(clean_captions["fused"], randomised))))
at_eps = EPSILONS.index(FGSM_EPS)
fgsm_success_at_eps, random_success_at_eps = success_any[at_eps], control[at_eps]

fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(np.array(EPSILONS) * 255, success["fused"], marker="o", label="FGSM, fused (image + sound)")
ax.plot(np.array(EPSILONS) * 255, success["image only"], marker="^", label="FGSM, image only")
ax.plot(np.array(EPSILONS) * 255, control, marker="s", linestyle="--", label="random signs, fused")
ax.axvline(FGSM_EPS * 255, color="grey", linestyle=":", label=f"reported epsilon = {FGSM_EPS * 255:g}/255")
ax.set_xlabel("epsilon (in 1/255 grey levels)")
ax.set_ylabel("attack success rate")
ax.set_title("Share of captions whose attributes change")
ax.legend(fontsize=8)
plt.show()
print("epsilon (x 1/255)           :", [round(e * 255) for e in EPSILONS])
print("FGSM, fused, any attribute  :", [round(v, 3) for v in success_any])
print("FGSM, fused, visible        :", [round(v, 3) for v in success["fused"]])
print("FGSM, image only, visible   :", [round(v, 3) for v in success["image only"]])
print("random signs, fused, any    :", [round(v, 3) for v in control])
fusion_gap = success["fused"][at_eps] - success["image only"][at_eps]  # > 0: the fused captioner is more fragile
attack_effect = success["image only"][at_eps] - control[at_eps]
print(
    f"at {FGSM_EPS * 255:g}/255: fused minus image-only success {fusion_gap:+.3f}; "
    f"image-only FGSM minus random signs {attack_effect:+.3f}"
)

# %% [markdown]
# **Are multimodal models more fragile?** The article (§3.3) says they are. Compare the two
# "visible" rows and the last line: adding the sound changes how often the attack succeeds
# (the sign of the first difference says in which direction), but by far less than the attack
# itself does compared with random noise (the second difference). A gap this small can change
# sign with the encoder's training or the decoder's seed (rebuild the captioners with
# `python -m mmgen_lib.captioners --seed 1 --out my_captioners` and load them from that folder), so this
# experiment cannot confirm the article's general claim; what it does show is that both are
# fragile for the same reason: in both, every visible fact comes from the image,
# and the image is what FGSM moves. The fused captioner also hears the size and the material,
# which this attack cannot touch. What *is* true is that a multimodal model offers an attacker more
# inputs to choose from; an attack on the sound, or on both at once, is a separate experiment
# (the same `fgsm`, with a loss written as a function of the audio features).
#
# One attacked example. The perturbation is $\pm\epsilon$ on every pixel and channel (shown
# stretched to the full range: white = $+\epsilon$, black = $-\epsilon$); in the adversarial
# image it is hard to see, yet the caption changes.

# %%
index = int(np.argmax(changed_attributes(clean_captions["fused"], fused_adversarial_captions)))
stretched = np.clip(0.5 + (fused_adversarial[index] - attack_images[index]) / (2 * FGSM_EPS), 0, 1)
panels = np.stack([attack_images[index], stretched, fused_adversarial[index]])
fig = viz.show_images(
    panels,
    titles=[
        f"clean: {clean_captions['fused'][index]}",
        "perturbation, stretched",
        f"FGSM: {fused_adversarial_captions[index]}",
    ],
    ncols=3,
    size=2.6,
    title=f"FGSM with epsilon = {FGSM_EPS * 255:g}/255",
)
plt.show()

# %% [markdown]
# ## 7. Asserted results (test split)
#
# - the drop in visible-attribute accuracy when the sound is missing is at most 0.05 with
#   modality dropout, and larger without it;
# - trained with noisy images, the fused model keeps size right on very noisy images, where
#   the image-only model cannot;
# - at $\epsilon$ = 8/255 FGSM changes the caption far more often than random noise of the
#   same size does: the model is fragile in specific *directions*, not to noise in general;
# - both captioners name what they see on clean images (each visible attribute ≥ 0.9), so the
#   FGSM comparison of section 6 compares two working models; at 8/255 the sound changes the
#   attack's success rate by less than half as much as the attack itself changes it compared
#   with random noise (|fused − image only| < 0.5 × (image only − random)).

# %%
assert audio_missing_drop_dropout <= 0.05, (
    f"modality dropout should keep the drop <= 0.05, got {audio_missing_drop_dropout:.3f}"
)
assert audio_missing_drop_baseline > audio_missing_drop_dropout, (
    f"the baseline should suffer more: {audio_missing_drop_baseline:.3f} vs {audio_missing_drop_dropout:.3f}"
)
for name, accuracy in clean_accuracy.items():
    visible_accuracy = min(accuracy[k] for k in VISIBLE)
    assert visible_accuracy >= 0.9, f"the {name} captioner should name what it sees: {visible_accuracy:.3f}"
assert clean_accuracy["fused"]["mean"] >= 0.95, f"the fused captioner on clean inputs: {clean_accuracy['fused']}"
assert noisy_size["fused, trained with noise"] >= noisy_size["image only"] + 0.2, (
    f"fusion should compensate for the noisy image: {noisy_size}"
)
assert fgsm_success_at_eps >= random_success_at_eps + 0.2, (
    f"FGSM should beat random noise: {fgsm_success_at_eps:.3f} vs {random_success_at_eps:.3f}"
)
assert abs(fusion_gap) < 0.5 * attack_effect, (
    f"fusion should matter less than the attack itself: gap {fusion_gap:+.3f}, attack effect {attack_effect:+.3f}"
)
report(
    "12_robustness",
    {
        "audio_missing_drop_baseline": audio_missing_drop_baseline,
        "audio_missing_drop_learned_embedding": audio_missing_drop_learned,
        "audio_missing_drop_dropout": audio_missing_drop_dropout,
        "noisy_image_size_acc_image_only": noisy_size["image only"],
        "noisy_image_size_acc_fused": noisy_size["fused"],
        "noisy_image_size_acc_fused_noise_trained": noisy_size["fused, trained with noise"],
        "caption_acc_clean": clean_accuracy["fused"]["mean"],
        "caption_acc_clean_image_only_visible_min": min(clean_accuracy["image only"][k] for k in VISIBLE),
        "fgsm_eps": FGSM_EPS,
        "fgsm_success_at_eps": fgsm_success_at_eps,
        "random_noise_success_at_eps": random_success_at_eps,
        "fgsm_visible_success_at_eps_fused": success["fused"][at_eps],
        "fgsm_visible_success_at_eps_image_only": success["image only"][at_eps],
    },
)

# %% [markdown]
# ## 8. Exercises
#
# **Exercise 1.** Write `random_modality_mask(batch, n_modalities, rate, rng)` returning a
# (batch, n_modalities) float32 array of 0/1: each row is all ones, except that with
# probability `rate` one modality, chosen uniformly, is set to 0 (what `ModalityDropout`
# does in training). Use the NumPy generator `rng`.


# %% tags=["solution"]
# YOUR CODE HERE
def random_modality_mask(batch, n_modalities, rate, rng):
    mask = np.ones((batch, n_modalities), "float32")
    drop = rng.random(batch) < rate
    victim = rng.integers(0, n_modalities, batch)
    mask[np.flatnonzero(drop), victim[drop]] = 0.0
    return mask


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson12 import check_modality_mask

check_modality_mask(random_modality_mask)

# %% [markdown]
# **Exercise 2.** FGSM against a classifier. Write `fgsm_attack(model, images, labels,
# epsilon)` for the image-only classifier of section 3, attacking its **color** head: the
# loss is the mean sparse cross-entropy of `model(images)["color"]` (logits) against
# `labels`. Return the clipped adversarial images as a NumPy array. Use `tf.GradientTape`
# (not the library's `fgsm`).


# %% tags=["solution"]
# YOUR CODE HERE
def fgsm_attack(model, images, labels, epsilon):
    images = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = model(images)["color"]
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    gradient = tape.gradient(loss, images)
    return np.clip((images + epsilon * tf.sign(gradient)).numpy(), 0.0, 1.0)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson12 import check_fgsm_attack

check_fgsm_attack(fgsm_attack, image_model, test["image"][:64], test["color"][:64])

# %% [markdown]
# **Exercise 3.** Write `visible_drop(full, missing)`: given two dicts attribute → accuracy
# (with and without the sound), return the mean over the *visible* attributes
# (`data.VISIBLE_ATTRIBUTES`) of `full[a] - missing[a]` — the number this lesson asserts.


# %% tags=["solution"]
# YOUR CODE HERE
def visible_drop(full, missing):
    return float(np.mean([full[name] - missing[name] for name in data.VISIBLE_ATTRIBUTES]))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson12 import check_visible_drop

check_visible_drop(visible_drop)

# %% [markdown]
# ## Summary
#
# - A missing modality fed as zeros is *out of distribution* for a fusion layer trained
#   without it: even facts the remaining modality carries get lost. A learned stand-in helps;
#   **modality dropout** during training makes the model robust to it.
# - When one modality is noisy, a fused model falls back on the other for the facts both
#   carry (size); facts only the noisy modality carries (shape) degrade for everyone.
# - **FGSM** finds, with one gradient, a perturbation of a few grey levels that changes
#   what the captioner says, while random noise of the same size does almost nothing.
# - Measured, the article's "multimodal models are more fragile" is not what decides this
#   attack's success: adding the sound moves it far less than the attack itself does, and in a
#   direction that depends on the run. Both captioners are fragile through the image they share.
#
# **Next**: lesson 13 puts the models in an interactive studio, loads your own data, and
# trains with `tf.distribute`.
#
# **References**
# - Goodfellow, Shlens, Szegedy (2015). *Explaining and Harnessing Adversarial Examples*. ICLR.
# - Neverova, Wolf, Taylor, Nebout (2016). *ModDrop: Adaptive Multi-modal Gesture Recognition*. IEEE TPAMI.
# - Ma et al. (2022). *Are Multimodal Transformers Robust to Missing Modality?* CVPR.
# - Szegedy et al. (2014). *Intriguing Properties of Neural Networks*. ICLR.
