# %% [markdown]
# # 01 · Multimodal data: pixels, waveforms, spectrograms, tokens
#
# **Objectives**
# - know ShapesWorld: which facts each modality carries, and why fusion will be necessary;
# - read an image as a tensor and measure an object's colour and position from its pixels;
# - turn a sound into a spectrogram with a short-time Fourier transform, by hand and with `tf.signal`;
# - turn captions into padded token ids and back;
# - feed all three modalities to a model with a `tf.data` pipeline.
#
# **Prerequisites**: lesson 00; NumPy arrays; a Fourier transform is introduced as we go.
#
# **Expected run time**: 5–20 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.data` (ShapesWorld), `mmgen_lib.tokenizer`, `mmgen_lib.pipeline`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Audio, display

from mmgen_lib import data, pipeline, viz
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.utils import report, set_seed

SEED = 0
N_SHOWN = 8  # examples shown in grids
set_seed(SEED)
viz.use_course_style()

started = time.perf_counter()
train, test = data.load_split("train"), data.load_split("test")
load_seconds = time.perf_counter() - started
tokenizer = shapesworld_tokenizer(train)

# %% [markdown]
# ## 1. One world, three modalities
#
# Each ShapesWorld example is one object with five attributes. Its three modalities are
# $X = (x_t, x_v, x_a)$ — text, vision, audio — and each carries a different subset:
#
# | attribute | values | image $x_v$ | sound $x_a$ | caption $x_t$ |
# |---|---|:-:|:-:|:-:|
# | shape | circle, square, triangle | ✓ | – | ✓ |
# | color | red, green, blue, yellow | ✓ | – | ✓ |
# | size | small, large | ✓ | ✓ (pitch) | ✓ |
# | position | left, right, top, bottom | ✓ | – | ✓ |
# | material | wood, metal, glass | – | ✓ (timbre, decay) | ✓ |
#
# So a model that must *describe* the object from what it sees and hears needs both the image
# (for colour) and the sound (for material): that is the point of multimodal fusion.
#
# | array | shape | dtype | range |
# |---|---|---|---|
# | `split.images` | (n, 32, 32, 3) | uint8 | 0 … 255 |
# | `split.audio` | (n, 2000) | float32 | −1 … 1 (0.25 s at 8 kHz) |
# | `split.labels` | (n, 5) | int64 | index into `data.ATTRIBUTES[name]` |
# | `split.captions`, `.questions`, `.answers` | n strings each | str | |
#
# The files in `data/` are checked against their sha256 sums when loaded. Ten of the 96
# visible combinations (shape, colour, size, position) never appear in train, val or test:
# they form the `heldout` split, for testing generation on unseen combinations later.

# %%
# NBVAL_CHECK_OUTPUT
for name in data.SPLITS:
    print(f"{name:<8} {data.SPLITS[name]:>5} examples")
print(
    "images:",
    train.images.shape,
    train.images.dtype,
    "| audio:",
    train.audio.shape,
    train.audio.dtype,
    "| labels:",
    train.labels.shape,
)
print("example 0:", train.attributes(0))
print("caption  :", train.captions[0])
print("question :", train.questions[0], "->", train.answers[0])

# %%
print(f"loaded and verified the train and test splits in {load_seconds:.2f} s")

# %% [markdown]
# ## 2. Images are tensors
#
# A colour image is a grid of pixels with three channels (red, green, blue). The object is
# drawn over a dark background (level `data.BACKGROUND` = 40) with mild noise.

# %%
fig = viz.show_images(
    train.images[:N_SHOWN], titles=train.captions[:N_SHOWN], ncols=8, size=1.6, title="Train images and their captions"
)
plt.show()

# %% [markdown]
# **Build it: the object's mask, colour and centre.** A pixel belongs to the object when one of
# its channels differs from the background by more than 60. Averaging the pixels under the mask
# gives the object's colour; averaging their coordinates gives its centre.


# %%
def object_mask(images):
    """(n, 32, 32, 3) uint8 -> (n, 32, 32) bool: True on the object."""
    return np.abs(images.astype(np.int16) - data.BACKGROUND).max(axis=-1) > 60


masks = object_mask(test.images)
rows, cols = np.indices((32, 32))
i = 0
print("example", i, test.attributes(i))
print("object pixels:", masks[i].sum())
print("mean colour under the mask:", np.round(test.images[i][masks[i]].mean(axis=0)).astype(int).tolist())
print("centre (row, col):", round(rows[masks[i]].mean(), 1), round(cols[masks[i]].mean(), 1))

# %%
# Check: the mask is never empty and large objects always cover more pixels than small ones.
area = masks.sum(axis=(1, 2))
size = test.label("size")
assert area.min() > 0
assert area[size == 0].max() < area[size == 1].min(), "small and large objects overlap in area"
print(
    f"small objects: {area[size == 0].min()}–{area[size == 0].max()} px, "
    f"large: {area[size == 1].min()}–{area[size == 1].max()} px"
)

# %% [markdown]
# ## 3. Sounds are waveforms
#
# The sound is someone tapping the object. It is made by *modal synthesis*: a tap excites a few
# damped sine waves (partials) $x_a(t) = \sum_k a_k\, e^{-t/\tau_k} \sin(2\pi f_k t + \phi_k)$.
# The **material** sets the partials' frequency ratios and decay times $\tau_k$ (wood fades within
# a few tens of milliseconds, metal rings), the **size** sets the fundamental $f_1$ (small objects sound
# higher). Listen to one of each material:

# %%
material = train.label("material")
examples = {name: int(np.flatnonzero(material == k)[0]) for k, name in enumerate(data.ATTRIBUTES["material"])}
fig, axes = plt.subplots(1, 3, figsize=(10, 2.4), sharey=True)
t = np.arange(data.AUDIO_SAMPLES) / data.SAMPLE_RATE
for ax, (name, index) in zip(axes, examples.items()):
    ax.plot(t, train.audio[index], linewidth=0.6)
    ax.set_title(f"{name} ({train.attributes(index)['size']})")
    ax.set_xlabel("time (s)")
axes[0].set_ylabel("amplitude")
fig.suptitle("The sound of tapping: waveforms per material")
fig.tight_layout()
plt.show()
for name, index in examples.items():
    print(name)
    display(Audio(train.audio[index], rate=data.SAMPLE_RATE))

# %% [markdown]
# ## 4. From waveform to spectrogram
#
# A waveform shows *when*, not *which frequencies*. The short-time Fourier transform (STFT)
# cuts the clip into overlapping frames (256 samples = 32 ms, every 64 samples = 8 ms),
# multiplies each by a Hann window $w[n] = \tfrac12 - \tfrac12\cos(2\pi n / N)$ and takes the
# magnitude of its discrete Fourier transform:
#
# $$S[m, k] = \Big|\sum_{n=0}^{N-1} x_a[mH + n]\, w[n]\, e^{-2\pi i k n / N}\Big|$$
#
# | step | shape |
# |---|---|
# | waveform | (2000,) |
# | frames | (28, 256) |
# | spectrogram $S$ | (28, 129) — 129 bins, 31.25 Hz apart |
# | log-mel | (28, 40) — 40 mel bands, `log(S + 1e-6)` |
#
# **Build it** with NumPy, then check it against the library's `tf.signal` version.


# %%
def numpy_spectrogram(wave, frame_length=256, frame_step=64):
    frames = np.lib.stride_tricks.sliding_window_view(wave, frame_length)[::frame_step]  # (28, 256)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / frame_length)
    return np.abs(np.fft.rfft(frames * window, axis=-1))  # (28, 129)


mine = numpy_spectrogram(train.audio[0].astype(np.float64))
library = pipeline.spectrogram(train.audio[0]).numpy()
print("NumPy:", mine.shape, "| tf.signal:", library.shape)
np.testing.assert_allclose(library, mine, rtol=1e-3, atol=1e-3)
print("max difference:", float(np.abs(library - mine).max().round(5)))

# %% [markdown]
# Magnitudes span several orders of magnitude, so we pool the 129 bins into 40 *mel* bands
# (finer at low frequencies, as hearing is) and take the logarithm. In the log-mel
# spectrograms below, look at how long each sound lasts (material) and how high its
# brightest band sits (size).

# %%
size = train.label("size")
fig, axes = plt.subplots(2, 3, figsize=(10, 4.6), sharex=True, sharey=True)
for col, (name, k) in enumerate(zip(data.ATTRIBUTES["material"], range(3))):
    for row, size_name in enumerate(data.ATTRIBUTES["size"]):
        index = int(np.flatnonzero((material == k) & (size == row))[0])
        log_mel = pipeline.log_mel_spectrogram(train.audio[index]).numpy()  # (28, 40)
        viz.plot_spectrogram(log_mel, title=f"{size_name} {name}", ax=axes[row, col])
fig.suptitle("Log-mel spectrograms: material sets the decay, size sets the pitch")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Text: captions to token ids
#
# A model reads integers, not words. The tokenizer splits a caption into words and punctuation,
# maps each to an id from a vocabulary fitted on the train split, and adds `<start>` and `<end>`.
# Batches are padded with `<pad>` = 0 to a common length, so that a model can *mask* padding out.

# %%
# NBVAL_CHECK_OUTPUT
print(tokenizer, "| special tokens:", tokenizer.vocabulary[:4])
caption = test.captions[3]
ids = tokenizer.encode(caption)
print("caption:", caption)
print("words  :", [tokenizer.vocabulary[i] for i in ids])
print("ids    :", ids)
print("decoded:", tokenizer.decode(ids))
print("padded :", tokenizer.encode_batch([caption], max_len=pipeline.CAPTION_LEN)[0].tolist())

# %% [markdown]
# Captions vary in wording (`"big"`/`"large"`, `"wooden"`/`"made of wood"`, six sentence
# patterns), but `data.parse_caption` recovers all five attributes from any of them. Later
# lessons use it to score *generated* captions.

# %%
# NBVAL_CHECK_OUTPUT
for caption in test.captions[:4]:
    print(f"{caption!r:<60} -> {data.parse_caption(caption)}")

# %% [markdown]
# ## 6. A `tf.data` pipeline
#
# `pipeline.split_arrays` turns a split into model-ready arrays (images scaled to $[0, 1]$,
# log-mel spectrograms, token ids, one label array per attribute); `pipeline.make_dataset`
# batches the ones you name into `(inputs, targets)` dictionaries, shuffled with a seed.

# %%
# NBVAL_CHECK_OUTPUT
train_arrays = pipeline.split_arrays(train, tokenizer)
ds = pipeline.make_dataset(
    train_arrays,
    inputs=("image", "spectrogram", "caption_ids"),
    targets=("material", "color"),
    batch_size=64,
    shuffle=True,
    seed=SEED,
)
inputs, targets = next(iter(ds))
for name, tensor in {**inputs, **targets}.items():
    print(f"{name:<12} {str(tuple(tensor.shape)):<18} {tensor.dtype.name}")

# %% [markdown]
# ## 7. Asserted result: each modality carries what the table says
#
# No neural network yet: simple measurements, with thresholds chosen on *train* and scored on
# *test*, show which attribute lives where.
# - **colour from pixels**: the nearest reference colour to the mean colour under the mask;
# - **size from pitch**: the dominant frequency, split at the midpoint between the sizes;
# - **material from decay**: the ratio of late (0.125–0.25 s) to early (0–0.06 s) energy, in log scale;
# - **material from pixels**: the nearest material-average image colour — it cannot work.


# %%
def mean_colors(images):
    masks = object_mask(images)
    return np.stack([image[mask].mean(axis=0) for image, mask in zip(images, masks)])


def dominant_frequencies(audio):
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / data.SAMPLE_RATE)
    return freqs[np.abs(np.fft.rfft(audio, axis=1)).argmax(axis=1)]  # (n,)


def log_decay(audio):
    energy = audio.astype(np.float64) ** 2
    return np.log(energy[:, 1000:].sum(axis=1) / energy[:, :500].sum(axis=1))


def fit_thresholds(feature, labels):
    """Midpoints between the class medians, classes sorted by median."""
    medians = np.array([np.median(feature[labels == k]) for k in range(labels.max() + 1)])
    order = np.argsort(medians)
    return order, (medians[order][1:] + medians[order][:-1]) / 2


def apply_thresholds(feature, order, cuts):
    return order[np.searchsorted(cuts, feature)]


reference_rgb = np.array([data.RGB[c] for c in data.ATTRIBUTES["color"]], float)
color_pred = ((mean_colors(test.images)[:, None, :] - reference_rgb) ** 2).sum(-1).argmin(1)
color_from_pixels_acc = np.mean(color_pred == test.label("color"))

test_pitch, test_decay = dominant_frequencies(test.audio), log_decay(test.audio)  # (n,) each, used twice
order, cuts = fit_thresholds(dominant_frequencies(train.audio), train.label("size"))
size_from_pitch_acc = np.mean(apply_thresholds(test_pitch, order, cuts) == test.label("size"))

order, cuts = fit_thresholds(log_decay(train.audio), train.label("material"))
material_from_decay_acc = np.mean(apply_thresholds(test_decay, order, cuts) == test.label("material"))

image_means = test.images.mean(axis=(1, 2), dtype=np.float32)  # (n, 3): the image's average colour
train_means = train.images.mean(axis=(1, 2), dtype=np.float32)
centroids = np.stack([train_means[train.label("material") == k].mean(axis=0) for k in range(3)])
material_pred = ((image_means[:, None, :] - centroids) ** 2).sum(-1).argmin(1)
material_from_pixels_acc = np.mean(material_pred == test.label("material"))

caption_parse_rate = np.mean([data.parse_caption(c) == test.attributes(i) for i, c in enumerate(test.captions)])

fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
for k, name in enumerate(data.ATTRIBUTES["material"]):
    axes[0].hist(test_decay[test.label("material") == k], bins=30, alpha=0.7, label=name)
axes[0].set(title="Decay separates the materials", xlabel="log(late energy / early energy)", ylabel="test clips")
axes[0].legend()
for k, name in enumerate(data.ATTRIBUTES["size"]):
    axes[1].hist(test_pitch[test.label("size") == k], bins=30, alpha=0.7, label=name)
axes[1].set(title="Pitch separates the sizes", xlabel="dominant frequency (Hz)", ylabel="test clips")
axes[1].legend()
fig.tight_layout()
plt.show()

# %%
assert caption_parse_rate == 1.0, "some test captions do not parse back to their attributes"
assert color_from_pixels_acc >= 0.99, f"colour from pixels: {color_from_pixels_acc:.3f}"
assert size_from_pitch_acc >= 0.99, f"size from pitch: {size_from_pitch_acc:.3f}"
assert material_from_decay_acc >= 0.95, f"material from decay: {material_from_decay_acc:.3f}"
assert material_from_pixels_acc <= 0.45, f"material should not be visible: {material_from_pixels_acc:.3f}"
report(
    "01_multimodal_data",
    {
        "caption_parse_rate": caption_parse_rate,
        "color_from_pixels_acc": color_from_pixels_acc,
        "size_from_pitch_acc": size_from_pitch_acc,
        "material_from_decay_acc": material_from_decay_acc,
        "material_from_pixels_acc": material_from_pixels_acc,
    },
)

# %% [markdown]
# Colour, size and material are read off near-perfectly by the modality that carries them,
# while material from pixels stays at chance (1/3). Later lessons learn such features instead
# of hand-crafting them — and learn to *combine* the modalities.
#
# ## 8. Exercises
#
# **Exercise 1.** Write `dominant_frequency(wave, sample_rate)` returning the frequency in Hz
# with the largest magnitude in `np.fft.rfft(wave)`.


# %% tags=["solution"]
# YOUR CODE HERE
def dominant_frequency(wave, sample_rate):
    magnitudes = np.abs(np.fft.rfft(wave))
    frequencies = np.fft.rfftfreq(len(wave), 1 / sample_rate)
    return frequencies[np.argmax(magnitudes)]


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson01 import check_dominant_frequency

check_dominant_frequency(dominant_frequency, test)

# %% [markdown]
# **Exercise 2.** Write `mean_object_color(image)` returning the mean RGB colour, shape (3,),
# of the object's pixels only (a pixel is the object's when one channel differs from
# `data.BACKGROUND` by more than 60).


# %% tags=["solution"]
# YOUR CODE HERE
def mean_object_color(image):
    image = image.astype(np.float64)
    mask = np.abs(image - data.BACKGROUND).max(axis=-1) > 60
    return image[mask].mean(axis=0)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson01 import check_mean_object_color

check_mean_object_color(mean_object_color, test)

# %% [markdown]
# **Exercise 3.** Write `pad_batch(sequences, max_len)` that turns a list of id lists into an
# integer array of shape `(len(sequences), max_len)`, each sequence at the start of its row and
# zeros (`<pad>`) after it — what `tokenizer.encode_batch` does.


# %% tags=["solution"]
# YOUR CODE HERE
def pad_batch(sequences, max_len):
    out = np.zeros((len(sequences), max_len), dtype=np.int32)
    for row, ids in enumerate(sequences):
        out[row, : len(ids)] = ids
    return out


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson01 import check_pad_batch

check_pad_batch(pad_batch, tokenizer)

# %% [markdown]
# ## Summary
#
# - ShapesWorld gives each example an image (shape, colour, size, position), a sound (size,
#   material) and captions (all five); no single perceptual modality has everything.
# - Images are `(32, 32, 3)` tensors; sounds become `(28, 40)` log-mel spectrograms through
#   the STFT; captions become padded token ids with `<pad>` = 0.
# - `pipeline.make_dataset` serves all three as dictionaries keyed by modality.
#
# **Next**: lesson 02 learns a text encoder $E_t$ that turns token ids into a vector.
#
# **References**
# - Allen (1977). *Short term spectral analysis, synthesis, and modification by discrete Fourier transform*. IEEE TASSP.
# - Stevens, Volkmann, Newman (1937). *A scale for the measurement of the psychological magnitude pitch* (the mel scale). JASA.
# - Gebru et al. (2021). *Datasheets for Datasets*. CACM — see `data/README.md` for ShapesWorld's datasheet.
# - van den Doel, Kry, Pai (2001). *FoleyAutomatic: physically-based sound effects for interactive simulation and animation*. SIGGRAPH (modal synthesis).
