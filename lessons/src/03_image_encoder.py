# %% [markdown]
# # 03 · The image encoder $E_v$
#
# **Objectives**
# - see an image as a tensor of shape (height, width, channels);
# - compute a convolution by hand and check it against Keras' `Conv2D`;
# - build a residual block, $y = \mathrm{relu}(x + F(x))$;
# - show with a small experiment why *flattening* the final 4×4 feature grid keeps the
#   object's position while global average pooling throws it away;
# - train the image encoder to read shape, colour, size and position — and see that it
#   cannot read the material, which is not in the picture.
#
# **Prerequisites**: lessons 01–02; what a Keras layer and `fit` are.
#
# **Expected run time**: 30–60 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.encoders` (`ImageEncoder`, `ResidualBlock`).

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import data, viz
from mmgen_lib.classifiers import attribute_accuracy, attribute_classifier, predict_in_batches
from mmgen_lib.encoders import ImageEncoder, ResidualBlock
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.utils import report, set_seed

SEED = 0
FILTERS = (8, 16, 16)  # channels of the three conv stages (the library default is (16, 32, 32))
OUTPUT_DIM = 64  # size of the image vector z_v
EPOCHS = 2
BATCH_SIZE = 64
LEARNING_RATE = 4e-3
POOLING_EXAMPLES = 1000  # training examples for the flatten-vs-average experiment

set_seed(SEED)
viz.use_course_style()

train, val, test = (data.load_split(name) for name in ("train", "val", "test"))
arrays = {split.name: split_arrays(split, spectrograms=False) for split in (train, val, test)}  # no sound here
print(f"{len(train)} train / {len(val)} val / {len(test)} test images")

# %% [markdown]
# ## 1. Intuition and math
#
# The seed article encodes the image into features $E_v(x_v) = [e_v(x_v, w_{v1}), \dots,
# e_v(x_v, w_{vm})]$. For pictures the natural features are *local*: an edge, a corner, a
# patch of red. A **convolution** slides a small filter $k$ (3×3 here) over the image and
# computes, at every position, a weighted sum of the pixels under it, over all input channels:
#
# $$(x \star k)[i, j] = b + \sum_{u=-1}^{1} \sum_{v=-1}^{1} \sum_{c} x[i+u, j+v, c]\; k[u, v, c].$$
#
# One filter gives one **feature map**; a layer with 16 filters gives 16 maps. After a ReLU, a
# 2×2 **max pooling** keeps the strongest response in each 2×2 window and halves the resolution.
# Three such stages turn the 32×32 picture into a 4×4 grid of 16 features (with this lesson's
# `FILTERS`; the library's default widths are twice these).
#
# A **residual block** adds a learned correction to its input, $y = \mathrm{relu}(x + F(x))$
# with $F$ two 3×3 convolutions: at the start $F \approx 0$ and the block passes $x$ through,
# which makes deeper stacks easy to train (He et al., 2016).
#
# Finally the 4×4 grid is **flattened** into one 256-vector and a Dense layer maps it to
# $z_v$. Flattening keeps track of *which cell* of the grid a feature fired in — that is where
# the position of the object lives.
#
# | tensor | shape |
# |---|---|
# | image $x_v$ | (batch, 32, 32, 3), floats in [0, 1] |
# | stage 1: conv 8 + residual + pool | (batch, 16, 16, 8) |
# | stage 2: conv 16 + residual + pool | (batch, 8, 8, 16) |
# | stage 3: conv 16 + residual + pool | (batch, 4, 4, 16) |
# | flattened grid | (batch, 256) |
# | image vector $z_v$ | (batch, 64) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 An image is a tensor

# %%
# NBVAL_CHECK_OUTPUT
images = arrays["train"]["image"]
print(
    "images:", images.shape, images.dtype, "values in", (round(float(images.min()), 2), round(float(images.max()), 2))
)
print("first example:", train.attributes(0))

# %%
example = images[0]
fig, axes = plt.subplots(1, 4, figsize=(7, 2))
axes[0].imshow(example)
axes[0].set_title("RGB image")
for c, name in enumerate(("red", "green", "blue")):
    axes[c + 1].imshow(example[..., c], cmap="gray", vmin=0, vmax=1)
    axes[c + 1].set_title(f"{name} channel")
for ax in axes:
    ax.axis("off")
fig.suptitle("One image = three 32×32 arrays of brightness")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 2.2 A convolution by hand
#
# We write one 3×3 filter's convolution with NumPy — zero padding of one pixel around the
# image (`padding="same"`), then a weighted sum at every position — and compare it with a
# `Conv2D` layer holding the same filter. The filter below responds to vertical edges
# (bright on the right, dark on the left), summed over the three channels.


# %%
def conv2d_same(image, kernel):
    """One filter, stride 1, zero padding: (H, W, C), (3, 3, C) -> (H, W)."""
    height, width, _ = image.shape
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))  # (H + 2, W + 2, C)
    out = np.zeros((height, width), dtype=np.float32)
    for i in range(height):
        for j in range(width):
            out[i, j] = np.sum(padded[i : i + 3, j : j + 3, :] * kernel)  # window (3, 3, C) times filter
    return out


edge_kernel = np.stack([np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)] * 3, axis=-1)  # (3, 3, 3)
by_hand = conv2d_same(example, edge_kernel)

conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
conv.build((None, 32, 32, 3))
conv.set_weights([edge_kernel[..., None]])  # Keras kernels are (3, 3, in_channels, out_channels)
by_keras = keras.ops.convert_to_numpy(conv(example[None]))[0, ..., 0]

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(by_hand, by_keras, atol=1e-4)
print("feature map:", by_hand.shape, "- NumPy and keras Conv2D agree")

# %%
fig, axes = plt.subplots(1, 2, figsize=(4.6, 2.4))
axes[0].imshow(example)
axes[0].set_title("input")
shown = axes[1].imshow(by_hand, cmap="coolwarm")
axes[1].set_title("vertical-edge filter")
for ax in axes:
    ax.axis("off")
fig.colorbar(shown, ax=axes[1], fraction=0.046)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 2.3 A residual block
#
# `ResidualBlock(filters)` computes $\mathrm{relu}(x + \mathrm{conv}_2(\mathrm{relu}(\mathrm{conv}_1(x))))$.
# We recompute it from its own weights with `keras.ops.conv` and compare.

# %%
set_seed(SEED)
block = ResidualBlock(16)
features = keras.ops.convert_to_numpy(keras.layers.Conv2D(16, 3, padding="same", activation="relu")(images[:4]))
block.build(features.shape)
w1, b1, w2, b2 = block.get_weights()
inner = keras.ops.relu(keras.ops.conv(features, w1, padding="same") + b1)  # F's first conv
by_primitives = keras.ops.relu(features + keras.ops.conv(inner, w2, padding="same") + b2)  # x + F(x)

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(block(features)), keras.ops.convert_to_numpy(by_primitives), atol=1e-5
)
print("residual block:", features.shape, "->", tuple(block(features).shape), "- matches relu(x + F(x))")
print("parameters:", block.count_params(), "= 2 convs x (3*3*16*16 weights + 16 biases)")

# %% [markdown]
# ### 2.4 Flatten keeps position, average pooling loses it
#
# A convolution is *shift-equivariant*: move the object, and its feature maps move with it.
# **Global average pooling** (GAP) then averages each map over the whole grid, so the result
# hardly depends on *where* the object was. **Flattening** keeps every cell separate.
#
# First, a direct look: one object on the left, and the same image rolled 14 pixels to the
# right. A small random conv stack sees both; we compare the GAP vectors and the flattened
# vectors of the two.


# %%
def small_cnn(head):
    """Two conv + pool stages (32 -> 8) followed by "gap" or "flatten", then a 4-way position head."""
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.GlobalAveragePooling2D() if head == "gap" else keras.layers.Flatten(),
            keras.layers.Dense(4, name="position"),
        ]
    )


left_index = int(np.flatnonzero(train.label("position") == data.ATTRIBUTES["position"].index("left"))[0])
pair = np.stack([images[left_index], np.roll(images[left_index], 14, axis=1)])  # (2, 32, 32, 3)
set_seed(SEED)
probe_cnn = small_cnn("flatten")
grid_model = keras.Model(probe_cnn.inputs[0], probe_cnn.layers[3].output)  # the (8, 8, 16) grid
grids = keras.ops.convert_to_numpy(grid_model(pair))
gap_vectors, flat_vectors = grids.mean(axis=(1, 2)), grids.reshape(2, -1)
relative_change = lambda v: float(np.linalg.norm(v[0] - v[1]) / np.linalg.norm(v[0]))  # noqa: E731
print(f"moving the object changes the GAP vector by      {relative_change(gap_vectors):.0%}")
print(f"moving the object changes the flattened vector by {relative_change(flat_vectors):.0%}")

# %% [markdown]
# Now the experiment: the same small CNN with a GAP head and with a flatten head, each
# trained for 3 epochs on the first `POOLING_EXAMPLES` training images (the count is printed)
# to predict the position (4 classes, chance 0.25).

# %%
pooling_accuracy = {}
for head in ("gap", "flatten"):
    set_seed(SEED)
    model = small_cnn(head)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.optimizer.build(model.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
    model.fit(
        images[:POOLING_EXAMPLES],
        arrays["train"]["position"][:POOLING_EXAMPLES],
        epochs=3,
        batch_size=BATCH_SIZE,
        verbose=0,
    )
    logits = predict_in_batches(model, arrays["test"]["image"], batch_size=250)  # small batches: memory is reused
    pooling_accuracy[head] = float(np.mean(logits.argmax(-1) == arrays["test"]["position"]))
    print(f"{head:<8} head ({POOLING_EXAMPLES} training images): test position accuracy {pooling_accuracy[head]:.3f}")

# %% [markdown]
# Averaging leaves the position head near chance; flattening reads it perfectly. That is why
# `ImageEncoder` flattens its 4×4 grid.

# %% [markdown]
# ## 3. Train it: what can the image tell?
#
# `ImageEncoder` (residual blocks, flattened grid, 64-d output) with one softmax head per
# attribute (`classifiers.attribute_classifier`, met in lesson 02), trained on all the training
# images. To keep the lesson within its time budget its stages have `FILTERS` channels, half
# the library's default widths (both are printed below). To see what the skip connections themselves do, we compare it with a
# **plain** encoder made of exactly the same layers — the same nine convolutions, pools and
# Dense layer, hence the same parameter count — in which each block computes
# $\mathrm{relu}(F(x))$ instead of $\mathrm{relu}(x + F(x))$. Both are trained for the same
# number of epochs from the same seed, so the only difference is the identity path.


# %%
def plain_image_encoder(filters, output_dim):
    """ImageEncoder's layers without the skips: per stage a conv, then relu(F(x)) = relu(conv2(relu(conv1(x)))), then pool."""
    conv = lambda f: keras.layers.Conv2D(f, 3, padding="same", activation="relu")  # noqa: E731
    stack = [keras.Input((32, 32, 3))]
    for f in filters:
        stack += [conv(f), conv(f), conv(f), keras.layers.MaxPooling2D(2)]  # stage conv, then F's two convs
    stack += [keras.layers.Flatten(), keras.layers.Dense(output_dim, activation="relu")]
    return keras.Sequential(stack, name="image_encoder")


def accuracy_per_attribute(logits, labels):
    """Accuracy per attribute in data.ATTRIBUTE_NAMES order (the library's attribute_accuracy, reordered)."""
    accuracy = attribute_accuracy(logits, labels)
    return {name: accuracy[name] for name in data.ATTRIBUTE_NAMES}


print(
    f"filters per stage: {FILTERS} (library default {ImageEncoder().filters}), "
    f"{len(arrays['train']['image'])} training images, {EPOCHS} epochs"
)
targets = {name: {attr: arrays[name][attr] for attr in data.ATTRIBUTES} for name in arrays}
image_models, histories, image_accuracy, test_logits, parameters = {}, {}, {}, {}, {}
for label in ("residual", "plain"):
    set_seed(SEED)
    if label == "residual":
        encoder = ImageEncoder(FILTERS, OUTPUT_DIM, residual=True, name="image_encoder")
    else:
        encoder = plain_image_encoder(FILTERS, OUTPUT_DIM)
    tracked = label == "residual"  # only the residual model's curves are plotted: no metrics, no validation for plain
    model = attribute_classifier(encoder, (32, 32, 3), input_name="image", learning_rate=LEARNING_RATE, metrics=tracked)
    histories[label] = model.fit(
        arrays["train"]["image"],
        targets["train"],
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        validation_data=(arrays["val"]["image"], targets["val"]) if tracked else None,
        callbacks=[ProgressLine(f"{label} image encoder", per_epoch=False)],
    )
    test_logits[label] = predict_in_batches(model, arrays["test"]["image"], batch_size=250)  # direct calls
    image_models[label], parameters[label] = model, encoder.count_params()
    image_accuracy[label] = accuracy_per_attribute(test_logits[label], arrays["test"])
    print(f"{label:<8} ({parameters[label]:,} parameters)", {k: round(v, 3) for k, v in image_accuracy[label].items()})
assert parameters["residual"] == parameters["plain"], "the comparison must be at equal size"
worst = {
    label: min(acc[name] for name in data.ATTRIBUTE_NAMES if name != "material")
    for label, acc in image_accuracy.items()
}
print(
    f"worst visible attribute: residual {worst['residual']:.3f}, plain {worst['plain']:.3f} "
    f"-> the skip connections change it by {worst['residual'] - worst['plain']:+.3f}"
)

# %%
fig = viz.plot_history(
    histories["residual"],
    metrics=("loss", "shape_accuracy", "material_accuracy"),
    title="ImageEncoder (residual) + 5 heads",
)
plt.show()
fig = viz.plot_grouped_bars(
    {f"{label} CNN": list(acc.values()) for label, acc in image_accuracy.items()},
    data.ATTRIBUTE_NAMES,
    title="Test accuracy from the image alone, per attribute",
    chance=[1 / len(v) for v in data.ATTRIBUTES.values()],
)
plt.show()

# %% [markdown]
# The last printed line is the residual effect alone: same layers, same parameter count, same
# seed and epochs, only the identity path differs. With three 3×3 convolutions per stage and
# a few epochs, the skips mainly make the start of training easier; the gap they make is
# whatever that line says, and it would grow with deeper stacks (He et al., 2016).
#
# Four attributes are read almost perfectly; **material stays at chance** (1/3): the pictures of
# a wooden circle and of a metal one are drawn identically, so no image encoder can tell them
# apart. The confusion matrices make this visible: a clean diagonal for shape, an evenly shaded
# square for material. Lesson 04 gets the material from the sound, lesson 05 fuses the two.

# %%
best = image_models["residual"]
predicted = {name: logits.argmax(-1) for name, logits in test_logits["residual"].items()}  # computed above
fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.2))
for ax, attribute in zip(axes, ("shape", "material")):
    viz.plot_confusion(
        arrays["test"][attribute], predicted[attribute], data.ATTRIBUTES[attribute], title=f"{attribute} (test)", ax=ax
    )
plt.show()

# %% [markdown]
# What does the first layer look for? The feature maps of the trained first convolution (one
# per filter) for one test image: some respond to the object's colour, some to its edges, some to the
# background.

# %%
image = arrays["test"]["image"][:1]
maps = keras.ops.convert_to_numpy(best.get_layer("image_encoder").convs[0](image))[0]  # (32, 32, FILTERS[0])
fig, axes = plt.subplots(1, FILTERS[0] + 1, figsize=(9, 1.6))
axes[0].imshow(image[0])
axes[0].set_title("input", fontsize=8)
for k, ax in enumerate(axes[1:]):
    ax.imshow(maps[..., k], cmap="viridis")
    ax.set_title(f"map {k}", fontsize=7)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"First-layer feature maps of a {test.attributes(0)['color']} {test.attributes(0)['shape']}")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 3.1 Asserted result
#
# On the **test** split: every visible attribute ≥ 0.95, material ≤ 0.45 (chance is 1/3), and
# in the pooling experiment the flatten head reads position (≥ 0.95) where the GAP head cannot
# (≤ 0.45).

# %%
visible = [name for name in data.ATTRIBUTE_NAMES if name != "material"]
image_attr_acc_min_visible = min(image_accuracy["residual"][name] for name in visible)
image_material_acc = image_accuracy["residual"]["material"]
assert image_attr_acc_min_visible >= 0.95, f"a visible attribute is below 0.95: {image_attr_acc_min_visible:.3f}"
assert image_material_acc <= 0.45, f"material from the image should be near chance, got {image_material_acc:.3f}"
assert pooling_accuracy["flatten"] >= 0.95, f"flatten head position accuracy {pooling_accuracy['flatten']:.3f}"
assert pooling_accuracy["gap"] <= 0.45, (
    f"GAP head position accuracy {pooling_accuracy['gap']:.3f} (expected near chance)"
)
results = report(
    "03_image_encoder",
    {
        "image_attr_acc_min_visible": image_attr_acc_min_visible,
        "image_material_acc": image_material_acc,
        "image_attr_acc_min_visible_plain": min(image_accuracy["plain"][name] for name in visible),
        "position_acc_flatten": pooling_accuracy["flatten"],
        "position_acc_gap": pooling_accuracy["gap"],
    },
)

# %% [markdown]
# ## 4. Exercises
#
# **Exercise 1 — a "valid" convolution.** Write `conv2d_valid(image, kernel)` in NumPy: one
# filter, stride 1, **no** padding. `image` is (H, W, C), `kernel` is (k, k, C); the output is
# (H − k + 1, W − k + 1). Deep-learning "convolution" does not flip the kernel.


# %% tags=["solution"]
# YOUR CODE HERE
def conv2d_valid(image, kernel):
    k = kernel.shape[0]
    height, width = image.shape[0] - k + 1, image.shape[1] - k + 1
    out = np.zeros((height, width), dtype=np.float32)
    for i in range(height):
        for j in range(width):
            out[i, j] = np.sum(image[i : i + k, j : j + k, :] * kernel)
    return out


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson03 import check_conv2d_valid

check_conv2d_valid(conv2d_valid)

# %% [markdown]
# **Exercise 2 — max pooling.** Write `max_pool_2x2(x)`: `x` is (H, W, C) with even H and W;
# return the (H/2, W/2, C) array holding the maximum of each non-overlapping 2×2 window, per
# channel. (Hint: a reshape to (H/2, 2, W/2, 2, C) does it without loops.)


# %% tags=["solution"]
# YOUR CODE HERE
def max_pool_2x2(x):
    height, width, channels = x.shape
    return x.reshape(height // 2, 2, width // 2, 2, channels).max(axis=(1, 3))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson03 import check_max_pool

check_max_pool(max_pool_2x2)

# %% [markdown]
# **Exercise 3 — count the parameters.** Write `image_encoder_params(filters, output_dim)`
# returning the parameter count of `ImageEncoder(filters, output_dim, residual=False)` on
# 32×32×3 images: one 3×3 conv per stage (weights 3·3·in·out plus out biases; the first
# stage's input has 3 channels), then a Dense layer from the flattened grid to `output_dim`.
# How many numbers does the flattened grid hold after `len(filters)` halvings?


# %% tags=["solution"]
# YOUR CODE HERE
def image_encoder_params(filters, output_dim):
    total, channels = 0, 3
    for f in filters:
        total += 3 * 3 * channels * f + f
        channels = f
    grid = 32 // 2 ** len(filters)
    return total + grid * grid * channels * output_dim + output_dim


# END OF YOUR CODE

print("ImageEncoder((16, 32, 32), 64, residual=False):", image_encoder_params((16, 32, 32), 64), "parameters")

# %%
from mmgen_lib.checks.lesson03 import check_image_encoder_params

check_image_encoder_params(image_encoder_params)

# %% [markdown]
# ## Summary
#
# - An image is a (32, 32, 3) tensor; a convolution is a sliding weighted sum over a 3×3×C
#   window (checked against `Conv2D`), max pooling halves the resolution.
# - A residual block learns a correction $F(x)$ on top of the identity; section 3 compares it
#   with the very same layers without the skips (equal parameter count, same epochs and seed).
# - Global average pooling forgets *where* (position at chance); flattening the 4×4 grid keeps it.
# - $E_v$ reads shape, colour, size and position, but material stays at chance: it is not in
#   the picture. Another modality has to supply it.
#
# **Next**: lesson 04 builds the audio encoder $E_a$, which hears material and size.
#
# **References**
# - LeCun et al. (1998). *Gradient-Based Learning Applied to Document Recognition*. Proc. IEEE.
# - He, Zhang, Ren, Sun (2016). *Deep Residual Learning for Image Recognition*. CVPR.
# - Lin, Chen, Yan (2014). *Network In Network* (global average pooling). ICLR.
# - Dumoulin & Visin (2016). *A guide to convolution arithmetic for deep learning*. arXiv:1603.07285.
