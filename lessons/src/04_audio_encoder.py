# %% [markdown]
# # 04 · The audio encoder $E_a$
#
# **Objectives**
# - see (and hear) a sound as a waveform, and what material and size do to it;
# - compute a short-time Fourier transform (STFT) and a log-mel spectrogram by hand, and check
#   them against `mmgen_lib.pipeline`;
# - encode a spectrogram with 2-D convolutions over time × frequency;
# - train the audio encoder to hear material and size — and see that it cannot hear colour;
# - log the training to TensorBoard and read the curves back from its event files.
#
# **Prerequisites**: lessons 01 and 03 (spectrograms, convolutions).
#
# **Expected run time**: 15–35 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.encoders` (`AudioEncoder`) and `mmgen_lib.run_logs` (TensorBoard run folders);
# uses `mmgen_lib.pipeline.log_mel_spectrogram`.

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from IPython.display import Audio, display

from mmgen_lib import data, run_logs, viz
from mmgen_lib.encoders import AudioEncoder
from mmgen_lib.pipeline import FRAME_LENGTH, FRAME_STEP, NUM_MEL_BINS, log_mel_spectrogram, spectrogram, split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.training import build_before_fit
from mmgen_lib.utils import repo_root, report, set_seed

SEED = 0
FILTERS = (16, 32)  # channels of the two conv stages
OUTPUT_DIM = 64  # size of the audio vector z_a
EPOCHS = 4
BATCH_SIZE = 64
LEARNING_RATE = 2e-3
SAMPLE_RATE = data.SAMPLE_RATE  # 8 kHz

set_seed(SEED)
viz.use_course_style()

train, val, test = (data.load_split(name) for name in ("train", "val", "test"))
arrays = {split.name: split_arrays(split) for split in (train, val, test)}
print(f"{len(train)} train / {len(val)} val / {len(test)} test sounds")

# %% [markdown]
# ## 1. Intuition and math
#
# Each ShapesWorld sound is the *tap* on the object, synthesised as a few damped sine waves
# (modal synthesis):
#
# $$x_a(t) = \sum_k A_k\, e^{-t/\tau_k} \sin(2\pi\, r_k f_0\, t + \varphi_k).$$
#
# The **material** sets the frequency ratios $r_k$, amplitudes $A_k$ and decay times $\tau_k$
# (metal rings long, wood stops at once); the **size** sets the pitch $f_0$ (330 Hz for large,
# 660 Hz for small objects). Shape, colour and position leave no trace in the sound.
#
# A waveform is hard to read directly: the information is in *which frequencies* are present
# *when*. The **STFT** cuts the signal into overlapping frames of $N = 256$ samples (32 ms),
# $H = 64$ samples (8 ms) apart, multiplies each by a Hann window $w$ (to avoid sharp
# edges) and takes its discrete Fourier transform:
#
# $$X[m, k] = \sum_{n=0}^{N-1} x_a[mH + n]\; w[n]\; e^{-2\pi i\, kn/N}, \qquad
# w[n] = \tfrac12 - \tfrac12\cos\!\big(2\pi n / N\big).$$
#
# $|X[m, k]|$ is the magnitude of frequency $k \cdot f_s / N$ (31.25 Hz steps) in frame $m$. A
# **mel filterbank** pools the 129 frequency bins into 40 bands evenly spaced on the mel scale
# $\mathrm{mel}(f) = 1127 \ln(1 + f/700)$ (fine at low, coarse at high frequencies, as hearing
# is); a $\log$ compresses the huge range of energies. The result is a small image, and
# $E_a$ is a CNN over it, just like $E_v$.
#
# | tensor | shape |
# |---|---|
# | waveform $x_a$ | (batch, 2000) — 0.25 s at 8 kHz |
# | frames | (batch, 28, 256) |
# | magnitude STFT $\lvert X\rvert$ | (batch, 28, 129) |
# | log-mel spectrogram | (batch, 28, 40) — time × mel band |
# | conv 16 + pool, conv 32 + pool | (batch, 14, 20, 16), (batch, 7, 10, 32) |
# | audio vector $z_a$ | (batch, 64) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Waveforms: what material and size do

# %%
# NBVAL_CHECK_OUTPUT
waves = arrays["train"]["audio"]
print("audio:", waves.shape, waves.dtype, f"= {waves.shape[1] / SAMPLE_RATE:.2f} s at {SAMPLE_RATE} Hz")

# %% [markdown]
# One large object of each material (listen: wood knocks, metal rings, glass clinks). In the
# plots, the last panel zooms in on a large and a small wooden object: the small one
# oscillates twice as fast (higher pitch).


# %%
def first_index(split, **attributes):
    """Index of the first example with the given attribute values."""
    chosen = np.ones(len(split), bool)
    for name, value in attributes.items():
        chosen &= split.label(name) == data.ATTRIBUTES[name].index(value)
    return int(np.flatnonzero(chosen)[0])


examples = {material: first_index(train, material=material, size="large") for material in data.ATTRIBUTES["material"]}
for material, index in examples.items():
    print(material)
    display(Audio(waves[index], rate=SAMPLE_RATE))

# %%
time_ms = np.arange(waves.shape[1]) / SAMPLE_RATE * 1000
fig, axes = plt.subplots(1, 4, figsize=(10, 2.4), sharey=True)
for ax, (material, index) in zip(axes, examples.items()):
    ax.plot(time_ms, waves[index], linewidth=0.5)
    ax.set_title(f"large {material}")
    ax.set_xlabel("time (ms)")
small_wood = first_index(train, material="wood", size="small")
axes[3].plot(time_ms[:80], waves[examples["wood"]][:80], label="large wood")
axes[3].plot(time_ms[:80], waves[small_wood][:80], label="small wood")
axes[3].set_title("first 10 ms: pitch")
axes[3].set_xlabel("time (ms)")
axes[3].legend(fontsize=7)
axes[0].set_ylabel("amplitude")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 2.2 The STFT by hand
#
# Frame, window, Fourier transform: three NumPy lines, checked against
# `mmgen_lib.pipeline.spectrogram` (which calls `tf.signal.stft`).


# %%
def frame_numpy(x, frame_length, frame_step):
    """(..., samples) -> (..., n_frames, frame_length), only whole frames."""
    n_frames = 1 + (x.shape[-1] - frame_length) // frame_step
    index = frame_step * np.arange(n_frames)[:, None] + np.arange(frame_length)[None, :]  # (n_frames, frame_length)
    return x[..., index]


clips = waves[list(examples.values())]  # (3, 2000)
hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / FRAME_LENGTH)  # periodic Hann window
frames = frame_numpy(clips, FRAME_LENGTH, FRAME_STEP)  # (3, 28, 256)
magnitude = np.abs(np.fft.rfft(frames * hann, axis=-1))  # (3, 28, 129)

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(magnitude, spectrogram(clips).numpy(), atol=1e-4)
print("frames", frames.shape, "-> |STFT|", magnitude.shape, "- matches mmgen_lib.pipeline.spectrogram")
print(f"bin spacing {SAMPLE_RATE / FRAME_LENGTH} Hz, frame step {FRAME_STEP / SAMPLE_RATE * 1000:.0f} ms")

# %% [markdown]
# ### 2.3 Mel bands and the log
#
# Each mel filter is a triangle over the frequency bins: it rises from the band's lower edge
# to its centre and falls to its upper edge, with edges evenly spaced in mel between 60 Hz and
# 4 kHz. We build the (129, 40) matrix, compare it with TensorFlow's, then apply it and the log.


# %%
def hertz_to_mel(f):
    return 1127.0 * np.log1p(f / 700.0)


def mel_matrix(num_mel_bins, num_spectrogram_bins, sample_rate, lower_hz=60.0, upper_hz=None):
    """(num_spectrogram_bins, num_mel_bins) triangular filters; the 0 Hz bin gets no weight."""
    upper_hz = sample_rate / 2 if upper_hz is None else upper_hz
    bin_mel = hertz_to_mel(np.linspace(0, sample_rate / 2, num_spectrogram_bins)[1:])[:, None]  # (128, 1)
    edges = np.linspace(hertz_to_mel(lower_hz), hertz_to_mel(upper_hz), num_mel_bins + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]  # (40,) each
    rising = (bin_mel - lower) / (center - lower)
    falling = (upper - bin_mel) / (upper - center)
    return np.pad(np.maximum(0.0, np.minimum(rising, falling)), ((1, 0), (0, 0)))  # (129, 40)


mel_weights = mel_matrix(NUM_MEL_BINS, magnitude.shape[-1], SAMPLE_RATE)
log_mel = np.log(magnitude @ mel_weights + 1e-6)  # (3, 28, 129) @ (129, 40) -> (3, 28, 40)

# %%
# NBVAL_CHECK_OUTPUT
tf_weights = tf.signal.linear_to_mel_weight_matrix(NUM_MEL_BINS, 129, SAMPLE_RATE, 60.0, SAMPLE_RATE / 2).numpy()
np.testing.assert_allclose(mel_weights, tf_weights, atol=1e-5)
np.testing.assert_allclose(log_mel, log_mel_spectrogram(clips).numpy(), atol=1e-3)
print("mel matrix", mel_weights.shape, "and log-mel", log_mel.shape, "- match TensorFlow and mmgen_lib.pipeline")

# %%
fig, ax = plt.subplots(figsize=(6, 2.4))
bin_hz = np.linspace(0, SAMPLE_RATE / 2, mel_weights.shape[0])
for band in range(0, NUM_MEL_BINS, 3):
    ax.plot(bin_hz, mel_weights[:, band], linewidth=0.8)
ax.set_xlabel("frequency (Hz)")
ax.set_ylabel("weight")
ax.set_title("Every third mel filter: narrow at low, wide at high frequencies")
plt.show()

# %% [markdown]
# ### 2.4 Spectrograms per material and size
#
# Time runs left to right, mel band bottom to top. Metal's partials all ring through the whole
# clip; glass keeps its lowest partial but its upper ones fade within about 0.1 s; wood is a
# short knock. A small object's lowest band sits higher (its pitch is doubled). These are the
# patterns $E_a$ has to learn.

# %%
fig, axes = plt.subplots(2, 3, figsize=(8.4, 4.2), sharex=True, sharey=True)
for row, size in enumerate(data.ATTRIBUTES["size"]):
    for col, material in enumerate(data.ATTRIBUTES["material"]):
        index = first_index(train, material=material, size=size)
        viz.plot_spectrogram(arrays["train"]["spectrogram"][index], title=f"{size} {material}", ax=axes[row, col])
        if col:
            axes[row, col].set_ylabel("")
        if row == 0:
            axes[row, col].set_xlabel("")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 2.5 The encoder: a CNN over time × frequency
#
# `AudioEncoder` adds a channel axis, so the (28, 40) spectrogram becomes a one-channel image,
# and applies two conv (3×3, ReLU) + max-pool stages. The (7, 10, 32) result is flattened —
# keeping *when* and *at which pitch* the energy is — and mapped to 64 numbers. With
# `return_sequences=True` it also returns one 320-d feature vector per pooled time step, for
# the attention-based fusion of lesson 05.

# %%
# NBVAL_CHECK_OUTPUT
set_seed(SEED)
encoder = AudioEncoder(FILTERS, OUTPUT_DIM, return_sequences=True)
z_a, sequence = encoder(arrays["train"]["spectrogram"][:8])
print(
    "spectrograms",
    arrays["train"]["spectrogram"][:8].shape,
    "-> z_a",
    tuple(z_a.shape),
    "and sequence",
    tuple(sequence.shape),
)
print("parameters:", encoder.count_params(), "= conv (9*1*16 + 16) + conv (9*16*32 + 32) + dense (7*10*32*64 + 64)")

# %% [markdown]
# ## 3. Train it: what can the sound tell?
#
# `AudioEncoder` with one softmax head per attribute, trained on the 5,000 training sounds. A
# `keras.callbacks.TensorBoard` callback logs every epoch's losses and accuracies to a fresh
# run folder, `runs/04_audio_encoder/<date-time>/`, inside your copy of the course.

# %%
set_seed(SEED)
inputs = keras.Input((28, NUM_MEL_BINS), name="spectrogram")
z = AudioEncoder(FILTERS, OUTPUT_DIM, name="audio_encoder")(inputs)  # (batch, OUTPUT_DIM)
outputs = {name: keras.layers.Dense(len(values), name=name)(z) for name, values in data.ATTRIBUTES.items()}
audio_model = keras.Model(inputs, outputs)
audio_model.compile(
    optimizer=keras.optimizers.Adam(LEARNING_RATE),
    loss={name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in outputs},
    metrics={name: ["accuracy"] for name in outputs},
)
targets = {name: {attr: arrays[name][attr] for attr in data.ATTRIBUTES} for name in arrays}
build_before_fit(audio_model, arrays["train"]["spectrogram"], targets["train"])  # optimizer and loss state: one trace
run_dir = run_logs.new_run_dir("04_audio_encoder")  # never an existing folder: runs never mix
history = audio_model.fit(
    arrays["train"]["spectrogram"],
    targets["train"],
    epochs=EPOCHS,
    batch_size=BATCH_SIZE,
    verbose=0,
    validation_data=(arrays["val"]["spectrogram"], targets["val"]),
    callbacks=[keras.callbacks.TensorBoard(log_dir=run_dir), ProgressLine("audio encoder")],
)
print("logged to", run_dir.relative_to(repo_root()).as_posix())
logits = audio_model(arrays["test"]["spectrogram"], training=False)  # a direct call, no tracing
predicted = {name: keras.ops.convert_to_numpy(logits[name]).argmax(-1) for name in data.ATTRIBUTES}
audio_accuracy = {name: float(np.mean(predicted[name] == arrays["test"][name])) for name in data.ATTRIBUTES}
print({name: round(acc, 3) for name, acc in audio_accuracy.items()})

# %% [markdown]
# ### 3.1 The training curves, read back from TensorBoard's event files
#
# The callback wrote one subfolder per phase, `train/` and `validation/`, each holding an
# *event file*: every logged number with its tag (`epoch_loss`, `epoch_material_accuracy`, …)
# and step (the epoch). `run_logs.read_scalars` reads them back; they must equal the `History`
# that `fit` returned.

# %%
scalars = run_logs.read_scalars(run_dir)  # {folder: {tag: Series(steps, values)}}
for folder, series in scalars.items():
    print(f"{folder}/: {len(series)} scalars, e.g. {', '.join(list(series)[:3])}")
print("steps of epoch_loss (the epochs):", scalars["train"]["epoch_loss"].steps)
logged = run_logs.as_history(scalars)  # epoch_loss in validation/ -> "val_loss", as in History
for name, values in history.history.items():
    np.testing.assert_allclose(logged[name], values, rtol=1e-6, err_msg=name)
worst = max(np.max(np.abs(np.subtract(logged[name], values))) for name, values in history.history.items())
print(f"all {len(history.history)} History series match the event files (largest difference {worst:.1g})")

# %%
fig = viz.plot_history(
    logged,
    metrics=("loss", "material_accuracy", "color_accuracy"),
    title="AudioEncoder + 5 heads, from the event files",
)
plt.show()

# %% [markdown]
# **Watch it live.** In a terminal, from the course's top folder, run `tensorboard --logdir runs`
# and open <http://localhost:6006>. Its *Scalars* tab draws these curves, train and validation
# together, and keeps them up to date while a lesson trains (the page refreshes itself every 30 s). Each run of this notebook
# adds a folder, so you can compare runs (change `LEARNING_RATE`, rerun, look). The `runs/`
# folder is git-ignored: the logs stay in your copy of the course; delete it to start afresh.
#
# ### 3.2 What can the sound tell?

# %%
fig = viz.plot_grouped_bars(
    {"audio CNN": list(audio_accuracy.values())},
    data.ATTRIBUTE_NAMES,
    title="Test accuracy from the sound alone, per attribute",
    chance=[1 / len(v) for v in data.ATTRIBUTES.values()],
)
plt.show()

# %% [markdown]
# The mirror image of lesson 03: material and size are heard perfectly, while shape, colour and
# position stay at chance — nothing in the sound depends on them.

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.2))
for ax, attribute in zip(axes, ("material", "color")):
    viz.plot_confusion(
        arrays["test"][attribute], predicted[attribute], data.ATTRIBUTES[attribute], title=f"{attribute} (test)", ax=ax
    )
plt.show()

# %% [markdown]
# ### 3.3 Asserted result
#
# On the **test** split: material and size ≥ 0.95; colour ≤ 0.35 (chance is 1/4).

# %%
audio_material_acc, audio_size_acc = audio_accuracy["material"], audio_accuracy["size"]
audio_color_acc = audio_accuracy["color"]
assert audio_material_acc >= 0.95, f"material from the sound: {audio_material_acc:.3f} < 0.95"
assert audio_size_acc >= 0.95, f"size from the sound: {audio_size_acc:.3f} < 0.95"
assert audio_color_acc <= 0.35, f"colour from the sound should be near chance, got {audio_color_acc:.3f}"
results = report(
    "04_audio_encoder",
    {
        "audio_material_acc": audio_material_acc,
        "audio_size_acc": audio_size_acc,
        "audio_color_acc": audio_color_acc,
        "audio_shape_acc": audio_accuracy["shape"],
        "audio_position_acc": audio_accuracy["position"],
    },
)

# %% [markdown]
# ## 4. Exercises
#
# **Exercise 1 — framing.** Write `frame_signal(x, frame_length, frame_step)` for a 1-D array
# `x`: return the (n_frames, frame_length) array of frames starting at 0, `frame_step`,
# 2·`frame_step`, …, keeping only frames that fit entirely inside `x`.


# %% tags=["solution"]
# YOUR CODE HERE
def frame_signal(x, frame_length, frame_step):
    n_frames = 1 + (len(x) - frame_length) // frame_step
    return np.stack([x[m * frame_step : m * frame_step + frame_length] for m in range(n_frames)])


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson04 import check_frame_signal

check_frame_signal(frame_signal)

# %% [markdown]
# **Exercise 2 — the Hann window.** Write `hann_window(n)` returning the *periodic* Hann
# window of length `n`, $w[k] = \tfrac12 - \tfrac12\cos(2\pi k / n)$, as used by the STFT above.


# %% tags=["solution"]
# YOUR CODE HERE
def hann_window(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson04 import check_hann_window

check_hann_window(hann_window)

# %% [markdown]
# **Exercise 3 — hear the size.** Write `dominant_frequency(wave, sample_rate)`: the frequency
# **in Hz** of the strongest component of the clip, from the magnitude of `np.fft.rfft` of the
# whole clip (bin $k$ is $k \cdot$ `sample_rate` / `len(wave)` Hz). On ShapesWorld it should be
# near 330 Hz for large objects and 660 Hz for small ones.


# %% tags=["solution"]
# YOUR CODE HERE
def dominant_frequency(wave, sample_rate):
    spectrum = np.abs(np.fft.rfft(wave))
    return float(np.argmax(spectrum) * sample_rate / len(wave))


# END OF YOUR CODE

for size in data.ATTRIBUTES["size"]:
    index = first_index(train, size=size, material="metal")
    print(f"{size} metal object: {dominant_frequency(waves[index], SAMPLE_RATE):.0f} Hz")

# %%
from mmgen_lib.checks.lesson04 import check_dominant_frequency

check_dominant_frequency(dominant_frequency)

# %% [markdown]
# ## Summary
#
# - A sound is a waveform; frames × Hann window × FFT give the STFT, mel filters and a log give
#   the (28, 40) log-mel spectrogram — all checked against `mmgen_lib.pipeline`.
# - Material lives in the timbre and the decay, size in the pitch: both visible as patterns in
#   the spectrogram, so $E_a$ is a small 2-D CNN over time × frequency.
# - $E_a$ hears material and size; shape, colour and position are at chance. Lesson 03's $E_v$
#   was the mirror image — so a model that must describe the whole object needs both.
# - `keras.callbacks.TensorBoard` logs a run's curves to event files in a fresh folder under
#   `runs/`; `mmgen_lib.run_logs` reads them back (they equal the `History`), and
#   `tensorboard --logdir runs` shows them live.
#
# **Next**: lesson 05 fuses $z_v$ and $z_a$ (early, late, gated, tensor fusion, cross-attention)
# and measures what fusion gains over each modality alone.
#
# **References**
# - Davis & Mermelstein (1980). *Comparison of parametric representations for monosyllabic word
#   recognition in continuously spoken sentences*. IEEE TASSP (mel-frequency features).
# - Allen (1977). *Short term spectral analysis, synthesis, and modification by discrete Fourier
#   transform*. IEEE TASSP.
# - Hershey et al. (2017). *CNN Architectures for Large-Scale Audio Classification*. ICASSP.
# - van den Doel, Kry, Pai (2001). *FoleyAutomatic: Physically-based Sound Effects for Interactive
#   Simulation and Animation*. SIGGRAPH (modal synthesis).
