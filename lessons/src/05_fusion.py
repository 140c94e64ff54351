# %% [markdown]
# # 05 · Fusion: putting image and sound together
#
# **Objectives**
# - write five fusion methods from their formulas: early (concatenate), late (combine
#   predictions), gated, tensor fusion and cross-attention;
# - check each one against the tested version in `mmgen_lib.fusion`;
# - load the image and audio encoders of lessons 03–04 (trained once, shipped with the course), then
#   compare fusion heads on their frozen features;
# - see, attribute by attribute, why material needs the sound and color needs the image;
# - handle a missing modality explicitly with a modality mask.
#
# **Prerequisites**: lessons 03 (image encoder) and 04 (audio encoder); softmax and
# matrix products.
#
# **Expected run time**: 30–50 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.fusion` (`EarlyFusion`, `LateFusion`, `GatedFusion`, `TensorFusion`,
# `CrossAttentionFusion`).

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import pretrained, viz
from mmgen_lib.classifiers import attribute_accuracy, predict_in_batches
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, load_split
from mmgen_lib.fusion import CrossAttentionFusion, EarlyFusion, GatedFusion, LateFusion, TensorFusion
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import report, set_seed

SEED = 0
HEAD_EPOCHS = 4  # each fusion head trains on frozen features; the summed loss is flat after 4
HEAD_BATCH_SIZE = 128
HIDDEN = 64  # width of every head's fused / hidden vector
METHODS = ("early", "late", "gated", "tensor", "cross_attention")

set_seed(SEED)
viz.use_course_style()
train = split_arrays(load_split("train"))
test = split_arrays(load_split("test"))
labels_train = {name: train[name] for name in ATTRIBUTE_NAMES}
labels_test = {name: test[name] for name in ATTRIBUTE_NAMES}

# %% [markdown]
# ## 1. Intuition and math
#
# The seed article's training step reads: *encode each modality, then concatenate or fuse the
# encoded results and feed them to the joint decoder*. "Concatenate **or fuse**" hides a
# design space. With an image vector $z_v = E_v(x_v)$ and a sound vector $z_a = E_a(x_a)$:
#
# | method | fused representation | what it can express |
# |---|---|---|
# | early | $z = [z_v; z_a]$ (then a Dense layer) | anything a network on top learns |
# | late | $\log p(y) = \log p_v(y \mid z_v) + \log p_a(y \mid z_a)$ (+ const) | each modality votes on its own |
# | gated | $h = g \odot \tanh(W_v z_v) + (1-g) \odot \tanh(W_a z_a)$, $\; g = \sigma(W_g [z_v; z_a])$ | per example and unit: *which* modality to trust |
# | tensor | $z = [z_v; 1] \otimes [z_a; 1]$ (flattened) | every product $z_v^{(i)} z_a^{(j)}$, plus $z_v$, $z_a$, 1 |
# | cross-attention | $\mathrm{softmax}\big(Q K^\top / \sqrt{d_k}\big) V$, $Q$ from one modality's positions, $K, V$ from the other's | which *part* of the sound matters for which *part* of the image |
#
# The appended 1 in tensor fusion (Zadeh et al., 2017) is what keeps the unimodal terms:
# $[z_v; 1] \otimes [z_a; 1]$ contains $z_v \cdot 1$ and $1 \cdot z_a$ besides the products.
# The price is size: $(d_v + 1)(d_a + 1)$ numbers, $\prod_i (d_i + 1)$ for three modalities.
#
# ShapesWorld was built so that fusion is *necessary*: the image shows shape, color, size
# and position but not the material; the tapping sound carries material (timbre, decay) and
# size (pitch) but not shape, color or position.
#
# | tensor | shape (this lesson) |
# |---|---|
# | image $x_v$ → $z_v$ (vector) / visual tokens (the 4×4 grid) | (batch, 32, 32, 3) → (batch, 64) / (batch, 16, 32) |
# | log-mel $x_a$ → $z_a$ (vector) / audio frames | (batch, 28, 40) → (batch, 64) / (batch, 7, 320) |
# | early: $[z_v; z_a]$ → Dense | (batch, 128) → (batch, 64) |
# | gated: $h$ | (batch, 64) |
# | tensor: $z_v, z_a$ projected to 16 → $[p_v; 1] \otimes [p_a; 1]$ → Dense | (batch, 16) each → (batch, 17·17 = 289) → (batch, 64) |
# | fused vector the attribute heads read (every method but late) | (batch, 64) |
# | late: per-modality logits → combined logits | 2 × (batch, $k$) → (batch, $k$) |
# | cross-attention weights, image tokens attending to audio frames | (batch, heads, 16, 7) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Early fusion: concatenate
#
# Three toy "encoded" examples with $d_v = 3$ and $d_a = 2$ are enough to check each formula.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(SEED)
z_v = rng.normal(size=(3, 3)).astype("float32")  # (batch, d_v)
z_a = rng.normal(size=(3, 2)).astype("float32")  # (batch, d_a)

early_by_hand = np.concatenate([z_v, z_a], axis=1)  # (batch, d_v + d_a)
early_library = EarlyFusion()([z_v, z_a])
np.testing.assert_allclose(early_library, early_by_hand)
print("early fusion:", early_by_hand.shape, "matches mmgen_lib.fusion.EarlyFusion")

# %% [markdown]
# ### 2.2 Tensor fusion with `np.outer`
#
# For one example, append a 1 to each vector and take the outer product. With small
# integers you can read the structure: the last column is $z_v$ (times 1), the last row
# is $z_a$, the corner is the constant 1, the rest are the products.

# %%
# NBVAL_CHECK_OUTPUT
v_one = np.append([1.0, 2.0, 3.0], 1.0)  # [z_v; 1]
a_one = np.append([10.0, 20.0], 1.0)  # [z_a; 1]
print(np.outer(v_one, a_one))

# %%
# NBVAL_CHECK_OUTPUT
tensor_by_hand = np.stack(
    [np.outer(np.append(v, 1.0), np.append(a, 1.0)).ravel() for v, a in zip(z_v, z_a)]
)  # (batch, (d_v + 1) * (d_a + 1))
tensor_library = TensorFusion()([z_v, z_a])
np.testing.assert_allclose(tensor_library, tensor_by_hand, rtol=1e-6)
print("tensor fusion:", tensor_by_hand.shape, "matches mmgen_lib.fusion.TensorFusion")

# %% [markdown]
# ### 2.3 Gated fusion by hand
#
# `GatedFusion` computes two gate logits per unit, $a_v$ and $a_a$, and takes a softmax over
# the modalities (so it also works for three). For two modalities that softmax *is* the
# sigmoid gate of the formula: $g = e^{a_v} / (e^{a_v} + e^{a_a}) = \sigma(a_v - a_a)$.
# We take the layer's weights and redo its computation with NumPy.


# %%
# NBVAL_CHECK_OUTPUT
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


gated = GatedFusion(units=4, return_gates=True)
gated_library, gates_library = gated([z_v, z_a])
(w_v, b_v), (w_a, b_a) = (projection.get_weights() for projection in gated.projections)
w_g, b_g = gated.gate.get_weights()

h_v = np.tanh(z_v @ w_v + b_v)  # (batch, units)
h_a = np.tanh(z_a @ w_a + b_a)  # (batch, units)
gate_logits = (np.concatenate([z_v, z_a], axis=1) @ w_g + b_g).reshape(-1, 2, 4)  # (batch, 2, units)
g = sigmoid(gate_logits[:, 0] - gate_logits[:, 1])  # (batch, units): weight of the image
gated_by_hand = g * h_v + (1 - g) * h_a

np.testing.assert_allclose(gated_library, gated_by_hand, rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(gates_library[:, 0], g, rtol=1e-5, atol=1e-6)
print("gated fusion:", gated_by_hand.shape, "matches mmgen_lib.fusion.GatedFusion")

# %% [markdown]
# ### 2.4 Late fusion: add log-probabilities
#
# Each modality has its own classifier with logits $s_v, s_a$. The "product of experts"
# adds their log-softmaxes: a class must be plausible for *both* to win. A modality that
# knows nothing (uniform probabilities) adds the same constant to every class, so it does
# not change the decision. That is why late fusion suits ShapesWorld.


# %%
# NBVAL_CHECK_OUTPUT
def log_softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


s_v = rng.normal(size=(3, 4)).astype("float32")  # image logits over 4 colors
s_a = np.zeros((3, 4), "float32")  # the sound knows nothing about color: uniform
late_by_hand = log_softmax(s_v) + log_softmax(s_a)
late_library = LateFusion("product")([s_v, s_a])
np.testing.assert_allclose(late_library, late_by_hand, rtol=1e-5, atol=1e-6)
assert np.array_equal(late_by_hand.argmax(-1), s_v.argmax(-1))  # the uninformed vote changed nothing
print("late fusion:", late_by_hand.shape, "matches mmgen_lib.fusion.LateFusion")

# %% [markdown]
# ### 2.5 Cross-attention: $\mathrm{softmax}(QK^\top/\sqrt{d_k})V$
#
# The image encoder's 4×4 grid gives 16 *visual tokens*; the audio encoder gives 7 *audio
# frames*. In `CrossAttentionFusion` each modality's positions ask questions (queries) of the
# other modality's positions (keys and values). With one head we redo the image→audio
# direction by hand from the layer's weights: projection to a common width, then
# $Q = P_v W_Q$, $K = P_a W_K$, $V = P_a W_V$.


# %%
# NBVAL_CHECK_OUTPUT
def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


tokens_v = rng.normal(size=(2, 16, 32)).astype("float32")  # (batch, visual tokens, channels)
frames_a = rng.normal(size=(2, 7, 320)).astype("float32")  # (batch, audio frames, features)
cross = CrossAttentionFusion(dim=8, num_heads=1, return_attention_scores=True)
cross_library, scores_library = cross([tokens_v, frames_a])

p_v = tokens_v @ cross.projections[0].get_weights()[0] + cross.projections[0].get_weights()[1]  # (2, 16, 8)
p_a = frames_a @ cross.projections[1].get_weights()[0] + cross.projections[1].get_weights()[1]  # (2, 7, 8)
w_q, b_q, w_k, b_k, w_val, b_val, w_o, b_o = cross.attentions[0].get_weights()
q = p_v @ w_q[:, 0] + b_q[0]  # (2, 16, d_k): one query per visual token
k = p_a @ w_k[:, 0] + b_k[0]  # (2, 7, d_k): one key per audio frame
v = p_a @ w_val[:, 0] + b_val[0]  # (2, 7, d_k)
attention = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]))  # (2, 16, 7)
image_side = (p_v + (attention @ v) @ w_o[0] + b_o).mean(axis=1)  # residual, then mean over tokens

np.testing.assert_allclose(scores_library[0][:, 0], attention, rtol=1e-4, atol=1e-6)
np.testing.assert_allclose(cross_library[:, :8], image_side, rtol=1e-4, atol=1e-5)
print("attention weights:", attention.shape, "rows sum to", np.round(attention.sum(-1).mean(), 4))
print("cross-attention matches mmgen_lib.fusion.CrossAttentionFusion")

# %% [markdown]
# ### 2.6 A missing modality is said out loud
#
# Every fusion layer takes an optional `modality_mask` of shape (batch, n_modalities), 1 for
# present, 0 for missing. A missing modality cannot leak into the output: below, the "sound"
# of the masked examples is replaced by garbage and the fused vectors do not move. An
# example with *no* modality has nothing to fuse, and the layer says so instead of
# returning a silently meaningless vector.

# %%
# NBVAL_CHECK_OUTPUT
mask = np.array([[1, 0], [1, 0], [1, 1]], "float32")  # examples 0 and 1 have no sound
for layer in (EarlyFusion(), LateFusion("average"), GatedFusion(4), TensorFusion()):
    inputs = [s_v, s_a] if isinstance(layer, LateFusion) else [z_v, z_a]
    noisy = [inputs[0], inputs[1] + 100.0]
    same = np.allclose(layer(inputs, modality_mask=mask)[:2], layer(noisy, modality_mask=mask)[:2], atol=1e-5)
    print(f"{type(layer).__name__:<13} ignores the missing sound: {same}")

# %% tags=["raises-exception"]
EarlyFusion()([z_v, z_a], modality_mask=np.array([[1, 0], [0, 0], [1, 1]]))

# %% [markdown]
# ### 2.7 What each fusion costs
#
# Parameter counts at this lesson's sizes ($d_v = d_a = 64$, a 64-wide fused vector), and
# the size of a raw tensor fusion. Three 64-dimensional modalities would give a
# 274,625-dimensional tensor: that is why `TensorFusion` can project each modality first.

# %%
# NBVAL_CHECK_OUTPUT
vectors_64 = [np.zeros((1, 64), "float32"), np.zeros((1, 64), "float32")]
candidates = {
    "EarlyFusion(64)": EarlyFusion(HIDDEN),
    "GatedFusion(64)": GatedFusion(HIDDEN),
    "TensorFusion()": TensorFusion(),
    "TensorFusion(16, 64)": TensorFusion(projection_dim=16, units=HIDDEN),
}
for name, layer in candidates.items():
    fused = layer(vectors_64)
    print(f"{name:<21} output {tuple(fused.shape)!s:<11} parameters {layer.count_params():>7,}")
print(
    f"inside: EarlyFusion's Dense reads the {64 + 64}-d concatenation; TensorFusion(16, 64)'s reads the "
    f"{(16 + 1) ** 2} products of the two 16-d projections (each + 1); the heads read the {HIDDEN}-d output"
)
print(f"raw tensor fusion of three 64-d vectors: {65**3:,} numbers per example")

# %% [markdown]
# ## 3. Encoders trained once, fusion heads compared on their features
#
# Training seven image+audio models from pixels would take minutes. Instead:
#
# 1. take the encoders of lessons 03 and 04, trained **once**: $E_v$ (image → heads for the
#    four visible attributes) and $E_a$ (sound → heads for size and material). The course
#    trained them as those lessons do (a classifier with one linear head per attribute) and
#    ships their weights (`mmgen_lib.pretrained`; `python -m mmgen_lib.pretrained` retrains them);
# 2. freeze them and compute their features for the train and test splits: vectors for
#    early, late, gated and tensor fusion, visual tokens and audio frames for cross-attention;
# 3. train a small head per method on those features: image only, audio only, and each fusion.
#
# Every head is judged on the same frozen features, so differences come from the fusion
# alone. Each encoder was trained only on what its modality shows: whatever its features
# say about the other attributes (material in the pixels, colour in the sound) is what the
# heads below can find there.

# %%
# Lesson 02's attribute_classifier, with the shipped weights: encoder -> one linear head per attribute.
image_classifier = pretrained.load_image_classifier(return_grid=True)  # E_v returns (vector, visual tokens)
audio_classifier = pretrained.load_audio_classifier(return_sequences=True)  # E_a returns (vector, audio frames)
image_encoder, audio_encoder = image_classifier.get_layer("E_v"), audio_classifier.get_layer("E_a")
print(
    "E_v's own heads, test accuracy:",
    {k: round(v, 3) for k, v in attribute_accuracy(predict_in_batches(image_classifier, test["image"]), test).items()},
)
print(
    "E_a's own heads, test accuracy:",
    {
        k: round(v, 3)
        for k, v in attribute_accuracy(predict_in_batches(audio_classifier, test["spectrogram"]), test).items()
    },
)

features = {}
for split_name, arrays in (("train", train), ("test", test)):
    # frozen: a plain call; batches of 250 images keep each activation tensor small enough for memory to be reused
    z_image, tokens_image = predict_in_batches(image_encoder, arrays["image"], batch_size=250)
    z_audio, frames_audio = predict_in_batches(audio_encoder, arrays["spectrogram"], batch_size=1000)
    features[split_name] = {
        "z_v": z_image,
        "z_a": z_audio,
        "tokens_v": tokens_image,
        "frames_a": frames_audio,
        "modality_mask": np.ones((len(z_image), 2), "float32"),
    }

# %%
# NBVAL_CHECK_OUTPUT
for name, array in features["test"].items():
    print(f"{name:<14} {array.shape}")

# %% [markdown]
# One function builds every head. All share the same recipe: a fused (or, for one modality,
# a hidden) 64-wide vector, then one linear classifier per attribute. Late fusion is the
# exception by design: each modality gets its own classifier per attribute and `LateFusion`
# adds their log-probabilities.
#
# The seven heads are trained side by side as **one** Keras model with one output per
# (method, attribute). Their weights are disjoint and the loss is the sum of their losses, so
# each weight receives exactly the gradient it would receive if its head were trained alone
# (and Adam scales every weight on its own): the heads cannot help or hurt each other. Keras
# then builds and traces one training step instead of seven, which is most of the cost of
# training heads this small. `build_before_fit` creates Adam's slots and the 35 per-output loss
# trackers before `fit` starts; left to `fit`, Keras would create them inside its first traced step,
# and TensorFlow would trace that large step a second time.


# %%
def build_head(method, inputs, hidden):
    """Five attribute classifiers on frozen features, as logits keyed "method.attribute"; ``method`` says how image and sound meet."""
    pair, mask = [inputs["z_v"], inputs["z_a"]], inputs["modality_mask"]
    dense = lambda units, x: keras.layers.Dense(units, activation="relu")(x)  # noqa: E731
    if method == "late":
        h_v, h_a = dense(hidden, inputs["z_v"]), dense(hidden, inputs["z_a"])
        return {
            f"{method}.{name}": LateFusion("product", name=f"{method}_{name}")(
                [keras.layers.Dense(len(values))(h_v), keras.layers.Dense(len(values))(h_a)], modality_mask=mask
            )
            for name, values in ATTRIBUTES.items()
        }
    if method == "image_only":
        fused = dense(hidden, inputs["z_v"])
    elif method == "audio_only":
        fused = dense(hidden, inputs["z_a"])
    elif method == "early":
        fused = EarlyFusion(hidden)(pair, modality_mask=mask)
    elif method == "gated":
        fused = GatedFusion(hidden)(pair, modality_mask=mask)
    elif method == "tensor":
        fused = TensorFusion(projection_dim=16, units=hidden)(pair, modality_mask=mask)
    elif method == "cross_attention":
        fused = CrossAttentionFusion(dim=32, num_heads=2, pooling="flatten")(
            [inputs["tokens_v"], inputs["frames_a"]], modality_mask=mask
        )
    else:
        raise ValueError(f"unknown method {method!r}")
    return {
        f"{method}.{name}": keras.layers.Dense(len(values), name=f"{method}_{name}")(fused)
        for name, values in ATTRIBUTES.items()
    }


def accuracy_rows(model, inputs, labels, methods):
    """Test accuracy per method and attribute (ATTRIBUTE_NAMES order), from one direct call of the model."""
    logits = model(inputs, training=False)
    rows = {}
    for method in methods:
        accuracy = attribute_accuracy({name: logits[f"{method}.{name}"] for name in ATTRIBUTE_NAMES}, labels)
        rows[method] = [accuracy[name] for name in ATTRIBUTE_NAMES]
    return rows


feature_inputs = {name: keras.Input(array.shape[1:], name=name) for name, array in features["train"].items()}
head_methods = ("image_only", "audio_only", *METHODS)
head_outputs = {
    key: logits for method in head_methods for key, logits in build_head(method, feature_inputs, HIDDEN).items()
}
heads = keras.Model(feature_inputs, head_outputs, name="fusion_heads")
heads.compile(keras.optimizers.Adam(3e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
head_targets = {key: labels_train[key.split(".")[1]] for key in head_outputs}  # "early.color" -> color labels
build_before_fit(heads, features["train"], head_targets)  # Adam's slots and 35 loss trackers now: fit traces once
heads.fit(
    features["train"],
    head_targets,
    epochs=HEAD_EPOCHS,
    batch_size=HEAD_BATCH_SIZE,
    verbose=0,
    callbacks=[ProgressLine(f"{len(head_methods)} heads side by side (summed loss)")],
)
accuracy = accuracy_rows(heads, features["test"], labels_test, head_methods)

# %%
print(f"{'test accuracy':<16}" + "".join(f"{name:>10}" for name in ATTRIBUTE_NAMES) + f"{'min':>8}")
for method, row in accuracy.items():
    print(f"{method:<16}" + "".join(f"{value:>10.3f}" for value in row) + f"{min(row):>8.3f}")
chance = [1 / len(ATTRIBUTES[name]) for name in ATTRIBUTE_NAMES]
print(f"{'chance':<16}" + "".join(f"{value:>10.3f}" for value in chance))

# %%
fig = viz.plot_grouped_bars(
    accuracy, ATTRIBUTE_NAMES, chance=chance, title="Test accuracy per attribute: one modality vs. five fusions"
)
fig.axes[0].legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.1))  # keep bars visible
fig.set_size_inches(7.0, 4.0)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Reading the chart.** The image-only head gets shape, color, size and position (almost)
# always right and is at chance on material: wood, metal and glass objects are drawn with exactly the same pixels,
# so no image model can tell them apart. The audio-only head is the mirror image: the sound
# of a tap is a few damped partials whose frequency ratios and decay times are set by the
# material and whose pitch is set by the size, so material and size are perfect, but nothing
# in the waveform depends on color, shape or position, and those stay at chance. Size is in
# both (radius and pitch). Every fusion method sees both feature sets and gets (nearly) all
# five attributes right: on data this clean the methods barely differ. Their differences
# show when information is missing or noisy, as below and in lesson 12.
#
# ### What if the sound goes missing at test time?
#
# None of these heads was trained with a missing modality. We now tell them, with the
# modality mask, that the sound is missing for every test example.

# %%
no_sound = {**features["test"], "modality_mask": np.tile(np.array([[1, 0]], "float32"), (len(test["image"]), 1))}
print(f"{'sound missing':<16}" + "".join(f"{name:>10}" for name in ATTRIBUTE_NAMES))
missing_sound = accuracy_rows(heads, no_sound, labels_test, METHODS)
for method in METHODS:
    print(f"{method:<16}" + "".join(f"{value:>10.3f}" for value in missing_sound[method]))
visible = [ATTRIBUTE_NAMES.index(name) for name in ("shape", "color", "position")]
robust = max(METHODS, key=lambda m: np.mean([missing_sound[m][k] for k in visible]))
print(f"\nmaterial without sound, best method: {max(r[-1] for r in missing_sound.values()):.3f} (chance 0.333)")
print(f"visible attributes kept best by: {robust}")

# %% [markdown]
# Material falls to chance for every method: the information is gone, and no fusion can
# invent it. What happens to the *visible* attributes depends on the method, because none
# was trained to run without sound. Where the image's features reach the output on a path of
# their own, some visible attributes survive: late fusion's separate votes keep them best here,
# while early fusion's separate columns and cross-attention's residual path keep position but
# lose part of colour. Where the modalities are
# *multiplied* (tensor fusion) or *re-weighted* (gates renormalised over the remaining
# modality), the fused vector moves far from anything seen in training. Size is the subtle
# one: it is in both modalities, and a head trained with both may have learned to read it
# from the pitch alone. Which method survives best varies with the seed: only training
# *with* missing modalities (modality dropout, lesson 12) makes a method reliably cope.

# %% [markdown]
# ## 4. Asserted result
#
# On the test split: the best fusion method must get every attribute right at least 95 % of
# the time, while the image alone must stay near chance on material and the sound alone near
# chance on colour.

# %%
fused_min = {method: min(accuracy[method]) for method in METHODS}
best_method = max(fused_min, key=fused_min.get)
fused_min_attr_acc = fused_min[best_method]
image_only_material_acc = accuracy["image_only"][ATTRIBUTE_NAMES.index("material")]
audio_only_color_acc = accuracy["audio_only"][ATTRIBUTE_NAMES.index("color")]
print(f"best fusion: {best_method}")

assert fused_min_attr_acc >= 0.95, f"best fusion's worst attribute is only {fused_min_attr_acc:.3f}"
assert image_only_material_acc <= 0.45, (
    f"image-only material {image_only_material_acc:.3f}: material leaked into pixels?"
)
assert audio_only_color_acc <= 0.35, f"audio-only color {audio_only_color_acc:.3f}: color leaked into sound?"
results = report(
    "05_fusion",
    {
        "fused_min_attr_acc": fused_min_attr_acc,
        "image_only_material_acc": image_only_material_acc,
        "audio_only_color_acc": audio_only_color_acc,
        **{f"acc_{method}": float(np.mean(accuracy[method])) for method in METHODS},
    },
)

# %% [markdown]
# ## 5. Exercises
#
# **Exercise 1.** Write `tensor_fusion_size(dims)`: the length of the tensor-fusion vector of
# modalities with dimensions `dims` (a list of 2 or 3 ints), with the appended 1s.
# For example, `tensor_fusion_size([3, 2])` is 12.


# %% tags=["solution"]
# YOUR CODE HERE
def tensor_fusion_size(dims):
    return int(np.prod([d + 1 for d in dims]))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson05 import check_tensor_fusion_size

check_tensor_fusion_size(tensor_fusion_size)

# %% [markdown]
# **Exercise 2.** Write `tensor_fusion(vectors)` with NumPy: `vectors` is a list of 2 or 3
# arrays of shape (batch, d_i); return the batch of flattened outer products of the
# `[z_i; 1]` vectors, shape (batch, prod(d_i + 1)), in `np.outer(a, b).ravel()` order.
# Hint: `np.einsum("bi,bj->bij", a, b)` is a batch of outer products.


# %% tags=["solution"]
# YOUR CODE HERE
def tensor_fusion(vectors):
    padded = [np.concatenate([z, np.ones((len(z), 1))], axis=1) for z in vectors]
    outer = padded[0]
    for z in padded[1:]:
        outer = np.einsum("bi,bj->bij", outer, z).reshape(len(z), -1)
    return outer


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson05 import check_tensor_fusion

check_tensor_fusion(tensor_fusion)

# %% [markdown]
# **Exercise 3.** Write `masked_attention(q, k, v, key_mask)` with NumPy. `q` is
# (batch, n_queries, d), `k` is (batch, n_keys, d), `v` is (batch, n_keys, d_v) and
# `key_mask` (batch, n_keys) is True for keys that exist (False: a missing modality or
# padding). Return `(output, weights)`: the weights $\mathrm{softmax}(QK^\top/\sqrt{d})$
# over the keys, with weight exactly 0 on masked keys, and `output = weights @ v`.
# Assume every query has at least one real key.


# %% tags=["solution"]
# YOUR CODE HERE
def masked_attention(q, k, v, key_mask):
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])  # (batch, n_queries, n_keys)
    scores = np.where(key_mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson05 import check_masked_attention

check_masked_attention(masked_attention)

# %% [markdown]
# ## Summary
#
# - Early fusion concatenates, late fusion adds per-modality log-probabilities, gated fusion
#   learns per-unit weights of each modality, tensor fusion multiplies every pair of features
#   (and keeps the unimodal ones thanks to the appended 1), cross-attention lets the
#   positions of one modality look up the positions of another.
# - On ShapesWorld one modality is never enough: image-only is at chance on material,
#   audio-only at chance on color; every fusion of frozen image and audio features gets all
#   five attributes.
# - Train expensive encoders once and compare cheap heads on frozen features: a fair and
#   fast ablation.
# - A missing modality is passed explicitly (`modality_mask`); the information it carried
#   is lost, and how gracefully the rest survives depends on the fusion.
#
# **Next**: lesson 06 aligns modalities instead of fusing them: a contrastive dual encoder
# that puts an image and its caption close together, for cross-modal retrieval.
#
# **References**
# - Snoek, Worring, Smeulders (2005). *Early versus Late Fusion in Semantic Video Analysis*. ACM Multimedia.
# - Zadeh, Chen, Poria, Cambria, Morency (2017). *Tensor Fusion Network for Multimodal Sentiment Analysis*. EMNLP.
# - Arevalo, Solorio, Montes-y-Gómez, González (2017). *Gated Multimodal Units for Information Fusion*. ICLR workshop.
# - Vaswani et al. (2017). *Attention Is All You Need*. NeurIPS.
# - Tsai et al. (2019). *Multimodal Transformer for Unaligned Multimodal Language Sequences* (MulT). ACL.
# - Baltrušaitis, Ahuja, Morency (2019). *Multimodal Machine Learning: A Survey and Taxonomy*. IEEE TPAMI.
