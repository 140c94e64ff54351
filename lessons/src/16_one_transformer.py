# %% [markdown]
# # 16 · One transformer, any modality to any modality
#
# **Objectives**
# - put captions, images and sounds in **one vocabulary** of tokens and lay an example out as
#   one sequence: task tag, then the modalities in the task's order;
# - train **one** decoder-only causal transformer on mixed orders, with the loss on the target
#   tokens only;
# - generate with the same weights caption → sound and image, image + sound → caption and
#   image → caption, sampling only from the target modality's tokens;
# - measure what autoregressive generation costs per token, with and without a key/value cache,
#   and put the result next to lesson 14's flow on the same scoreboard.
#
# **Prerequisites**: lessons 02 (Transformer encoder), 08 (greedy / temperature / top-k decoding),
# 14 (the scoreboard), 15 (the image and sound tokenizers).
#
# **Expected run time**: 40–65 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.unified` (`SequenceLayout`, `UnifiedTransformer`, `ModalityDecoder`, `generate`; the
# transformer trained by its recipe is shipped in `data/unified/`).

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import viz
from mmgen_lib.classifiers import attribute_classifier, predict_in_batches
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, load_split
from mmgen_lib.encoders import AudioEncoder
from mmgen_lib.generation import greedy_decode
from mmgen_lib.metrics import caption_attribute_accuracy
from mmgen_lib.pipeline import CAPTION_LEN, split_arrays
from mmgen_lib.probe import load_probe, probe_accuracy
from mmgen_lib.progress import ProgressLine
from mmgen_lib.scoreboard import omit_attributes, score_generator, scoreboard_markdown
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.tokens import load_tokenizers
from mmgen_lib.unified import (
    RECIPE,
    ModalityDecoder,
    SequenceLayout,
    UnifiedTransformer,
    generate,
    load_unified,
    task_name,
    token_data,
    train_unified,
)
from mmgen_lib.utils import report, set_seed

SEED = 0
TASKS = (
    (("text",), ("audio", "image")),  # caption -> sound, then image (given caption and sound)
    (("image",), ("audio", "text")),  # image -> sound, then caption (given image and sound)
)
LIVE_STEPS = 40  # of the first epoch's 157 steps (the recipe runs 12 epochs): the rest is the shipped model (section 3)
AUDIO_CLASSIFIER_EPOCHS = 1
AUDIO_CLASSIFIER_EXAMPLES = 2500  # of the 5,000 training sounds: material is easy to hear, half is plenty
N_SILENT = 500  # test captions without their position, sampled at temperature 1

set_seed(SEED)
viz.use_course_style()

train, test, heldout = load_split("train"), load_split("test"), load_split("heldout")
tokenizer = shapesworld_tokenizer(train)
train_arrays, test_arrays = split_arrays(train, tokenizer), split_arrays(test, tokenizer)
image_tokenizer, sound_tokenizer = load_tokenizers()  # lesson 15's, shipped in data/tokenizers/
probe = load_probe()
train_tokens = token_data(train_arrays, image_tokenizer, sound_tokenizer)  # caption ids, image codes, sound codes
test_tokens = token_data(test_arrays, image_tokenizer, sound_tokenizer)
print(
    f"train {len(train)}, test {len(test)}; tokens per example: { {m: ids.shape[1] for m, ids in test_tokens.items()} }"
)

# %% [markdown]
# ## 1. Everything is a token
#
# The seed article's joint decoder $D$ writes one modality from the fused representation of
# the others. Today's any-to-any models (DALL·E, Parti, Chameleon, AnyGPT, Unified-IO) push the
# idea to its end: **every modality becomes a sequence of integers** — words from a text
# tokenizer, images and sounds from VQ-VAE codebooks (lesson 15) — and **one** decoder-only
# transformer models the joint sequence, one token at a time:
#
# $$p(x_1, \dots, x_T) = \prod_{t=1}^{T} p(x_t \mid x_{<t}).$$
#
# Which modality is given and which is written is just the **order**: with the caption first,
# $p(\text{image tokens} \mid \text{caption})$ is a caption → image generator; with image and
# sound first, the same product contains $p(\text{caption} \mid \text{image}, \text{sound})$. A
# task tag at the start says which order follows. We train on several orders at once and put
# the cross-entropy only on the **target** tokens $\mathcal{T}$ (the tokens after the first segment):
#
# $$\mathcal{L} = -\frac{1}{|\mathcal{T}|} \sum_{t \in \mathcal{T}} \log p_\theta(x_t \mid x_{<t}).$$
#
# Two ingredients make one sequence out of three modalities. A **shared vocabulary**: each
# modality's ids are shifted by an offset so that they never collide. **Modality and position
# embeddings**: a token's input vector is token + modality + position *inside its segment*, so
# image token 5 looks the same to the model whatever came before it.
#
# | tensor | shape |
# |---|---|
# | caption ids $x_t$ (`<start>` … `<end>` padding) | (batch, 16) |
# | image codes $x_v$ (a 4×4 grid of colour-blind shape tokens, then one colour token) | (batch, 17) |
# | sound codes $x_a$ | (batch, n_sound_tokens) |
# | one training sequence: tag + three segments with their markers | (batch, seq_len) |
# | logits over the shared vocabulary | (batch, seq_len, vocab_size) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 One vocabulary
#
# `SequenceLayout` keeps the bookkeeping: the caption tokenizer's ids stay as they are (so
# `<start>` opens a text segment), then one tag per task, the `<image>` and `<audio>` markers,
# then the image codes and the sound codes.

# %%
# NBVAL_CHECK_OUTPUT
layout = SequenceLayout(
    tokenizer.vocab_size,
    image_tokenizer.codebook_size,
    sound_tokenizer.codebook_size,
    image_tokens=image_tokenizer.n_tokens,
    audio_tokens=sound_tokenizer.n_tokens,
    caption_len=CAPTION_LEN,
    tasks=TASKS,
)
print(f"{'range':<22} ids")
print(f"{'text (words, specials)':<22} [0, {layout.text_vocab_size})")
for k, task in enumerate(layout.tasks):
    print(f"{'tag ' + str(k):<22} {layout.task_id(k)}   {task_name(task)}")
print(f"{'markers':<22} <image> {layout.image_marker}, <audio> {layout.audio_marker}")
for modality in ("image", "audio"):
    size = layout.image_codebook_size if modality == "image" else layout.audio_codebook_size
    print(f"{modality + ' codes':<22} [{layout.offsets[modality]}, {layout.offsets[modality] + size})")
print(f"vocabulary {layout.vocab_size}, sequence length {layout.seq_len}")

# %% [markdown]
# ### 2.2 A mixed-order sequence, from primitives
#
# One example, laid out for each task: the tag, then each segment with its marker; the loss
# mask is 1 on the target tokens — not on the tag, not on the sources, not on the markers (the
# task fixes the order, nothing to learn) and not on the caption's padding after `<end>`.


# %%
def sequence_from_primitives(task_index, example):
    sources, targets = TASKS[task_index]
    tokens, mask = [layout.task_id(task_index)], [0.0]
    for modality in sources + targets:
        ids = example[modality]
        if modality == "text":
            segment = list(ids)  # already <start> w1 ... <end> <pad> ...
        else:
            marker = layout.image_marker if modality == "image" else layout.audio_marker
            segment = [marker] + list(ids + layout.offsets[modality])
        is_target = modality in targets
        tokens += segment
        mask += [0.0] + [float(is_target and token != 0) for token in segment[1:]]
    return np.array(tokens), np.array(mask)


example = {m: ids[0] for m, ids in test_tokens.items()}
for k in range(len(TASKS)):
    ours = sequence_from_primitives(k, example)
    library = layout.build(k, {m: ids[:1] for m, ids in test_tokens.items()})
    np.testing.assert_array_equal(ours[0], library[0][0, : len(ours[0])])
    np.testing.assert_array_equal(ours[1], library[1][0, : len(ours[1])])

# %% [markdown]
# Check: the same tokens and mask as `layout.build`; here is the first task's sequence, with
# the target tokens marked by `*`.

# %%
# NBVAL_CHECK_OUTPUT
tokens, mask = sequence_from_primitives(0, example)
print(test.captions[0])
print(" ".join(f"{t}{'*' if m else ''}" for t, m in zip(tokens, mask)))
print(f"{len(tokens)} tokens, {int(mask.sum())} of them targets")

# %% [markdown]
# ### 2.3 The causal mask
#
# Training feeds the whole sequence at once, so position $t$ must not see $x_{>t}$ — otherwise
# it would read the answer. Self-attention gets a mask $M_{ts} = [s \le t]$; scores of masked
# pairs are set to $-\infty$ before the softmax. From primitives, one head:


# %%
def causal_attention(q, k, v):
    n = q.shape[0]
    scores = q @ k.T / np.sqrt(q.shape[-1])  # (n, n)
    scores = np.where(np.tril(np.ones((n, n), bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)) @ v


rng = np.random.default_rng(SEED)
q, k, v = rng.normal(size=(3, 6, 4))
changed_v = v.copy()
changed_v[4:] += 10.0  # change the last two positions only

# %% [markdown]
# Check: changing the future leaves every earlier output unchanged — in our one-head version and
# in `UnifiedTransformer` (the library uses `keras.layers.MultiHeadAttention(use_causal_mask=True)`).

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(causal_attention(q, k, v)[:4], causal_attention(q, k, changed_v)[:4])
probe_model = UnifiedTransformer(layout, embed_dim=16, num_heads=2, ff_dim=32, num_layers=1)
sequence, _ = layout.build(0, {m: ids[:2] for m, ids in test_tokens.items()})
future_changed = sequence.copy()
future_changed[:, 30:] = layout.offsets["image"]
before, after = np.asarray(probe_model(sequence)), np.asarray(probe_model(future_changed))
print("earlier logits unchanged:", bool(np.allclose(before[:, :30], after[:, :30], atol=1e-5)))
print("later logits changed:   ", bool(not np.allclose(before[:, 30:], after[:, 30:], atol=1e-5)))

# %% [markdown]
# ### 2.4 Writing only the target modality
#
# At generation time the model scores the whole vocabulary; a caption → image task must not
# write a word. `ModalityDecoder` sets every logit outside the target's range to $-\infty$ and
# hands the rest to lesson 08's `greedy_decode` / `sample` — probability exactly zero, whatever
# the temperature or top-k.

# %%
# NBVAL_CHECK_OUTPUT
prompt = layout.build(0, {"text": test_tokens["text"][:4]}, prompt_only=True)  # tag + caption
decoder = ModalityDecoder(probe_model, layout, "audio")
ids = greedy_decode(decoder, prompt, max_len=layout.audio_tokens, start_id=layout.audio_marker)
allowed = np.flatnonzero(layout.allowed("audio"))
print("prompt shape", prompt.shape, "-> written", ids.shape)
print("all written ids are sound codes:", bool(np.isin(ids, allowed).all()))

# %% [markdown]
# ### 2.5 The key/value cache
#
# A causal model never revisits the past: the keys and values of earlier positions stay the
# same when a token is appended. `UnifiedTransformer.extend` keeps them per block and runs only
# the newest token — one position of work per step instead of the whole prefix.

# %%
# NBVAL_CHECK_OUTPUT
full = np.asarray(probe_model(sequence))
positions = np.asarray(probe_model.segment_positions(sequence))
_, cache = probe_model(sequence[:, :20], return_cache=True)
worst = 0.0
for t in range(20, sequence.shape[1]):
    logits, cache = probe_model.extend(sequence[:, t], positions[:, t], cache)
    worst = max(worst, float(np.abs(np.asarray(logits) - full[:, t]).max()))
print("cached steps match the full pass:", worst < 1e-4)

# %% [markdown]
# ## 3. Train one transformer on mixed orders
#
# Every training example is laid out in both orders (shuffled together); the model learns the
# targets of each order given everything before them. Material changes only a few of the sound
# tokens, so the sound's target tokens get a larger loss weight (`RECIPE["loss_weights"]`, as in
# lesson 07's weighted multimodal loss). The recipe (`mmgen_lib.unified.RECIPE`) runs 12 epochs
# with a cosine learning-rate decay — two to four minutes on a 2-core CPU, more than this lesson
# may spend. `train_unified` does what the recipe does: it lays out every example in both orders
# (`mixed_order_sequences`), shifts them into next-token pairs (`shift_for_training`) and fits with
# the loss mask as sample weights; `stop_after_steps` runs only the first 40 training steps
# (batches) of the same learning-rate schedule, here, live.

# %%
print({k: v for k, v in RECIPE.items() if k != "tasks"})
model, history = train_unified(  # the recipe's schedule, stopped after its first LIVE_STEPS steps
    layout, train_tokens, seed=SEED, stop_after_steps=LIVE_STEPS, callbacks=[ProgressLine("transformer")]
)
n_sequences = len(layout.tasks) * len(train)
steps_per_epoch = int(np.ceil(n_sequences / RECIPE["batch_size"]))
print(
    f"{n_sequences} sequences of {layout.seq_len - 1} tokens: {steps_per_epoch} steps of {RECIPE['batch_size']} "
    f"per epoch, {LIVE_STEPS} run here; parameters {model.count_params():,}"
)

# %% [markdown]
# The whole recipe, all twelve epochs, was run once by the same code
# (`python -m mmgen_lib.unified --out data/unified`, which calls `mmgen_lib.unified.train_unified`),
# and its weights are shipped in `data/unified/` with their sha256, the loss of every epoch, the
# loss after every step of the first epoch and the sha256 of the tokenizers whose codes they read.
# We load them and check that the shipped run's first steps are the ones we just ran. The loss
# after step $k$ is the one Keras reports: the mean over the epoch's first $k$ batches.

# %%
shipped_model, shipped_layout, shipped_meta = load_unified()
shipped_loss, shipped_running = shipped_meta["history"]["loss"], shipped_meta["history"]["first_epoch_running_loss"]
ours = history["first_epoch_running_loss"]
assert shipped_layout == layout, "the shipped model reads another layout"
print("after step   this run   shipped run")
for step in (1, 10, 20, 30, LIVE_STEPS):
    print(f"{step:>10}   {ours[step - 1]:8.4f}   {shipped_running[step - 1]:8.4f}")
np.testing.assert_allclose(ours, shipped_running[:LIVE_STEPS], rtol=0.02)
fig, (ax_steps, ax_epochs) = plt.subplots(1, 2, figsize=(10, 3.2))
steps = np.arange(1, steps_per_epoch + 1)
ax_steps.plot(steps, shipped_running, label="shipped run")
ax_steps.plot(steps[:LIVE_STEPS:3], ours[::3], marker="x", linestyle="none", label="this run (every 3rd step)")
ax_steps.set(xlabel="step of the first epoch", ylabel="mean loss of the epoch so far", title="First epoch (train)")
ax_epochs.plot(range(1, len(shipped_loss) + 1), shipped_loss, marker="o", label="shipped run")
ax_epochs.set(xlabel="epoch", ylabel="cross-entropy on target tokens", title="All 12 epochs (train)")
for ax in (ax_steps, ax_epochs):
    ax.legend()
fig.suptitle("One transformer, two orders")
fig.tight_layout()
plt.show()
model = shipped_model  # from here on: the twelve-epoch weights

# %% [markdown]
# ## 4. One set of weights, every direction
#
# An audio classifier trained here on *real* log-mels (half of the training sounds, one epoch)
# reads the material of generated sounds (decoded by the sound tokenizer); the attribute probe
# reads generated images; `parse_caption` reads generated captions.

# %%
keras.utils.set_random_seed(SEED)
audio_classifier = attribute_classifier(AudioEncoder(), (28, 40), attributes=("material",), metrics=False)
audio_classifier.fit(
    train_arrays["spectrogram"][:AUDIO_CLASSIFIER_EXAMPLES],
    {"material": train_arrays["material"][:AUDIO_CLASSIFIER_EXAMPLES]},
    batch_size=64,
    epochs=AUDIO_CLASSIFIER_EPOCHS,
    verbose=0,
)


def material_heard(log_mels):
    return predict_in_batches(audio_classifier, log_mels)["material"].argmax(axis=-1)


real_material_acc = float(np.mean(material_heard(test_arrays["spectrogram"]) == test.label("material")))
print(f"audio classifier on real test sounds: material accuracy {real_material_acc:.3f}")

# %% [markdown]
# ### 4.1 Caption → sound and image
#
# The first order writes the sound, then the image; greedy decoding, the whole test split in one
# batch.

# %%
started = time.perf_counter()
from_caption = generate(model, layout, 0, {"text": test_tokens["text"]})
caption_seconds = time.perf_counter() - started
caption_images = image_tokenizer.decode(from_caption["image"])
text_to_image = probe_accuracy(probe, caption_images, test.labels)
text_to_audio_material = float(
    np.mean(material_heard(sound_tokenizer.decode(from_caption["audio"])) == test.label("material"))
)
print("probe on caption -> image:", {a: round(v, 3) for a, v in text_to_image.items()})
print(f"material of caption -> sound: {text_to_audio_material:.3f}")
show = np.arange(8)
fig = viz.show_images(
    np.concatenate([test_arrays["image"][show], caption_images[show]]),
    titles=[test.captions[i] for i in show] + ["generated"] * 8,
    ncols=8,
    size=1.5,
    title="Test images (top) and images written from their captions by the transformer",
)
plt.show()

# %% [markdown]
# ### 4.2 Image + sound → caption, and image alone → caption
#
# With image and sound given, only the caption is left to write. With the image alone, the same
# order first writes a sound — material unknown, so it guesses one — and then the caption. We
# write the guessed sounds with section 2.4's `ModalityDecoder`, then both kinds of caption in one
# batch: the prompts (tag, image, sound) have the same length, so one call writes both.

# %%
image_prompt = layout.build(1, {"image": test_tokens["image"]}, prompt_only=True)  # tag + image
sound_writer = ModalityDecoder(model.get_layer("unified"), layout, "audio")
guessed_ids = greedy_decode(sound_writer, image_prompt, max_len=layout.audio_tokens, start_id=layout.audio_marker)
guessed_sounds = layout.to_codes("audio", guessed_ids)  # (n, audio_tokens): the image alone's sound
both = generate(  # rows [:n] with the true sound, rows [n:] with the guessed one
    model,
    layout,
    1,
    {
        "image": np.concatenate([test_tokens["image"], test_tokens["image"]]),
        "audio": np.concatenate([test_tokens["audio"], guessed_sounds]),
    },
)
written = [tokenizer.decode(row) for row in both["text"]]
captions, image_captions = written[: len(test)], written[len(test) :]
image_audio_to_text = caption_attribute_accuracy(captions, test.labels)
image_to_text = caption_attribute_accuracy(image_captions, test.labels)
for i in range(3):
    print(f"true         : {test.captions[i]}\nimage + sound: {captions[i]}\nimage alone  : {image_captions[i]}\n")
for name, accuracy in (("image + sound", image_audio_to_text), ("image alone", image_to_text)):
    print(f"{name:<14}", {a: round(accuracy[a], 3) for a in ATTRIBUTE_NAMES})
fig = viz.plot_grouped_bars(
    {
        "image + sound → caption": [image_audio_to_text[a] for a in ATTRIBUTE_NAMES],
        "image → caption": [image_to_text[a] for a in ATTRIBUTE_NAMES],
    },
    ATTRIBUTE_NAMES,
    title="Attributes named correctly in generated captions (test)",
    chance=[1 / len(ATTRIBUTES[a]) for a in ATTRIBUTE_NAMES],
)
plt.show()

# %% [markdown]
# From image and sound, the caption names colour, size, position and material almost every time;
# the shape is the hardest attribute to read off the image tokens (0.912). From the image alone,
# material falls to about chance (0.322, chance 1/3) — the image does not hold it, and the
# transformer does not invent it.
#
# ## 5. On the scoreboard, next to lesson 14's flow
#
# The same scoreboard as lessons 09, 10 and 14: the test captions (greedy), the held-out
# combinations, and test captions with the position left out — sampled at temperature 1, since
# greedy decoding would put every object in the single most likely place.

# %%
heldout_ids = tokenizer.encode_batch(heldout.captions, CAPTION_LEN)
heldout_images = image_tokenizer.decode(generate(model, layout, 0, {"text": heldout_ids})["image"])
silent_ids = tokenizer.encode_batch([omit_attributes(c, "position") for c in test.captions[:N_SILENT]], CAPTION_LEN)
silent_images = image_tokenizer.decode(
    generate(model, layout, 0, {"text": silent_ids}, temperature=1.0, seed=SEED)["image"]
)
row = score_generator(
    "16 token transformer (caption -> sound, image)",
    caption_images,
    test.labels,
    probe,
    real_images=test.images,
    heldout=(heldout_images, heldout.labels),
    silent=(silent_images, test.labels[:N_SILENT], "position"),
    seconds=caption_seconds,
    parameters=model.count_params(),
)
print(scoreboard_markdown([row]))
print(
    "held-out combinations, probe per attribute:",
    {a: round(v, 3) for a, v in probe_accuracy(probe, heldout_images, heldout.labels).items()},
)

# %% [markdown]
# How to read it next to lesson 14's row (the README's scoreboard puts the rows of lessons 09, 10,
# 14 and 16 in one table, on the same test captions). The held-out combinations (shape and colour
# pairs never seen in training) hold up here: 0.974 against 0.976 on the test captions. Lesson 15's
# image tokenizer gives the colour its own token, so a new pair is a new combination of tokens the
# model has written many times, not a new picture. Both generators are only as sharp as their
# decoder: the flow's ceiling is its autoencoder, the transformer's is the image tokenizer.
# Diversity on the silent position comes from *sampling* here, from the noise there; greedy
# decoding gives none. The big difference is the cost: the flow runs a fixed number of
# integration steps whatever the image size, the transformer one step per token, and every
# image here costs its sound tokens too.
#
# ### 5.1 What a token costs
#
# We time writing 16 image tokens for a batch of captions, with the key/value cache and without
# it (every step re-runs the whole prefix), and read the clock after every token: its reading
# after token $n$ is what writing $n$ tokens costs.

# %%
TIMED = 100  # captions per timed batch: enough to show the trend, little enough to stay quick


class StepClock:
    """Wraps a decoder; ``seconds[k]`` is the time from the start to the end of step k + 1."""

    def __init__(self, decoder):
        self.decoder, self.seconds = decoder, []

    def initial_state(self, context):
        self.started = time.perf_counter()
        return self.decoder.initial_state(context)

    def step(self, context, token_ids, state):
        logits, state = self.decoder.step(context, token_ids, state)
        self.seconds.append(time.perf_counter() - self.started)
        return logits, state


prompt = layout.build(0, {"text": test_tokens["text"][:TIMED], "audio": test_tokens["audio"][:TIMED]}, prompt_only=True)
lengths, seconds = np.arange(1, 17), {}
for use_cache in (True, False):  # one run of 16 tokens each, the clock read after every token
    clock = StepClock(ModalityDecoder(model.get_layer("unified"), layout, "image", use_cache=use_cache))
    greedy_decode(clock, prompt, max_len=lengths[-1], start_id=layout.image_marker)
    seconds[use_cache] = clock.seconds
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for use_cache, label in ((False, "re-run the prefix at every step"), (True, "key/value cache")):
    ax.plot(lengths, seconds[use_cache], marker="o", label=label)
ax.set(
    xlabel="image tokens written",
    ylabel=f"seconds ({TIMED} captions)",
    title="Autoregressive cost grows with the number of tokens",
)
ax.legend()
plt.show()
cache_speedup = seconds[False][-1] / seconds[True][-1]

# %% [markdown]
# One step per token, each step needing the previous one: the time grows with the number of
# tokens, and without the cache each step also grows with the prefix. A 4×4 grid keeps this
# small; on a finer grid the number of steps grows with its number of cells — one reason why flows and
# diffusion, whose step count does not depend on the image size, are the usual choice for
# high-resolution images, and why token-based image models lean on big parallel hardware.
#
# ## 6. Asserted result
#
# All from the one set of weights, on the test split: caption → image read by the probe (min
# over the four visible attributes) ≥ 0.85; image + sound → caption, accuracy averaged over the
# five attributes ≥ 0.95; caption → sound, material heard by the audio classifier ≥ 0.90 — after
# checking that the judge itself hears the material of real test sounds (≥ 0.95).

# %%
tokens_text_to_image_probe_min = min(text_to_image.values())
tokens_image_audio_to_text_attr_acc = image_audio_to_text["mean"]
assert real_material_acc >= 0.95, f"the audio classifier itself is unreliable: {real_material_acc:.3f}"
assert tokens_text_to_image_probe_min >= 0.85, f"caption -> image probe min {tokens_text_to_image_probe_min:.3f}"
assert tokens_image_audio_to_text_attr_acc >= 0.95, f"image + sound -> caption {image_audio_to_text}"
assert text_to_audio_material >= 0.90, f"caption -> sound material {text_to_audio_material:.3f} < 0.90"
results = report(
    "16_one_transformer",
    {
        "tokens_text_to_image_probe_min": tokens_text_to_image_probe_min,
        "tokens_image_audio_to_text_attr_acc": tokens_image_audio_to_text_attr_acc,
        "tokens_text_to_audio_material_acc": text_to_audio_material,
        "tokens_image_to_text_visible_attr_acc": float(
            np.mean([image_to_text[a] for a in ("shape", "color", "size", "position")])
        ),
        "tokens_image_to_text_material_acc": image_to_text["material"],
        "tokens_heldout_probe_min": row["probe_acc_heldout_combos"],
        "tokens_silent_position_entropy": row["silent_entropy"],
        "tokens_seconds_per_100_images": row["seconds_per_100"],
        "tokens_cache_speedup_16_tokens": cache_speedup,
        "tokens_parameters": model.count_params(),
    },
)

# %% [markdown]
# ## 7. Exercises
#
# **Exercise 1 — the causal mask.** Write `causal_mask(n)` returning an (n, n) boolean array,
# True where query position `i` (row) may attend to key position `j` (column).


# %% tags=["solution"]
# YOUR CODE HERE
def causal_mask(n):
    return np.tril(np.ones((n, n), bool))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson16 import check_causal_mask

check_causal_mask(causal_mask)

# %% [markdown]
# **Exercise 2 — a mixed-order sequence.** Write `build_sequence(tag, segments, is_target)`:
# `segments` is a list of 1-D int arrays in the task's order, each already starting with its
# marker; `is_target` says which are targets. Return `(tokens, loss_mask)`: the tag followed by
# all segments, and a 0/1 mask that is 1 exactly on the tokens of target segments after their
# markers.


# %% tags=["solution"]
# YOUR CODE HERE
def build_sequence(tag, segments, is_target):
    tokens = np.concatenate([[tag], *segments])
    masks = [np.zeros(1)] + [np.r_[0.0, np.full(len(s) - 1, float(t))] for s, t in zip(segments, is_target)]
    return tokens, np.concatenate(masks)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson16 import check_build_sequence

check_build_sequence(build_sequence)

# %% [markdown]
# **Exercise 3 — write only the target modality.** Write `mask_logits(logits, allowed)`: logits
# (batch, vocab_size) and a boolean (vocab_size,) array; return the logits with every
# not-allowed entry set to $-\infty$ (as `ModalityDecoder` does).


# %% tags=["solution"]
# YOUR CODE HERE
def mask_logits(logits, allowed):
    return np.where(allowed, logits, -np.inf)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson16 import check_mask_logits

check_mask_logits(mask_logits)

# %% [markdown]
# ## Summary
#
# - With tokenizers for every modality, multimodal generation becomes next-token prediction
#   over one shared vocabulary; offsets keep the modalities apart, modality and in-segment
#   position embeddings tell the model what it is reading.
# - The order of the segments *is* the task: one set of weights trained on mixed orders writes
#   sound and image from a caption and a caption from an image and a sound.
# - The loss goes on target tokens only; at generation time, masking the logits keeps each
#   segment in its modality, and lesson 08's greedy decoding and sampling do the rest.
# - Generated images are only as good as the tokenizer's decoder, and each token costs a step:
#   the key/value cache makes a step cheap, but the number of steps still grows with the tokens.
#
# **Next**: the course map in lesson 00 puts all generators side by side; the scoreboard rows of
# lessons 09, 10, 14 and 16 are the README's table.
#
# ## References
#
# - Vaswani et al., *Attention Is All You Need*, NeurIPS 2017.
# - van den Oord, Vinyals & Kavukcuoglu, *Neural Discrete Representation Learning* (VQ-VAE), NeurIPS 2017.
# - Ramesh et al., *Zero-Shot Text-to-Image Generation* (DALL·E), ICML 2021.
# - Yu et al., *Scaling Autoregressive Models for Content-Rich Text-to-Image Generation* (Parti), TMLR 2022.
# - Lu et al., *Unified-IO: A Unified Model for Vision, Language, and Multi-Modal Tasks*, ICLR 2023.
# - Chameleon Team, *Chameleon: Mixed-Modal Early-Fusion Foundation Models*, 2024.
# - Zhan et al., *AnyGPT: Unified Multimodal LLM with Discrete Sequence Modeling*, ACL 2024.
# - Pope et al., *Efficiently Scaling Transformer Inference* (key/value caching at scale), MLSys 2023.
