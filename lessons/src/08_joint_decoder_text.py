# %% [markdown]
# # 08 · The joint decoder → text: captions and answers
#
# **Objectives**
# - build the seed article's **encoder–decoder** framework for text: a recurrent decoder $D$
#   that writes a sentence word by word, conditioned on a fused representation $z$
#   (as its initial state *and* at every step), trained with **teacher forcing**;
# - caption an object from **image + sound**, and see why an image-only captioner cannot name
#   the material;
# - answer questions with $y_t = D(E_t(x_t), E_v(x_v), E_a(x_a))$ — the seed's joint decoder
#   with the question as the text input;
# - compare **greedy**, **beam search**, **temperature** and **top-k sampling** for quality and
#   diversity, and watch a Transformer decoder's cross-attention pick the modality it needs;
# - score generated text by *parsing* it (attribute accuracy) and with **BLEU-4**, and see
#   where BLEU misleads.
#
# **Prerequisites**: lessons 02–05 (the encoders $E_t, E_v, E_a$; fusion by concatenation).
#
# **Expected run time**: 35–55 s on a 2-core laptop CPU, kernel start included (45 s or less in the course
# benchmark; the upper end is that machine's slower state).
#
# **Builds**: `mmgen_lib.decoders` (`TextDecoder`, `TransformerTextDecoder`), `mmgen_lib.generation` (`greedy_decode`,
# `beam_search`, `sample`, `next_token_distribution`, `sequence_log_prob`), `mmgen_lib.metrics`
# (`caption_attribute_accuracy`, `bleu4`, `modified_precision`).

# %%
import os

# TensorFlow's oneDNN CPU kernels run this lesson's encoders and decoders faster, but TensorFlow
# switches them on by default only on some CPUs (not on an AVX2-only CPU like the one the course is
# benchmarked on). The switch is read when TensorFlow is imported, so it comes first; `setdefault`
# keeps your own choice if you set TF_ENABLE_ONEDNN_OPTS yourself (lesson 07 explains it too).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from mmgen_lib import data, pretrained, viz
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES
from mmgen_lib.decoders import TextDecoder, TransformerTextDecoder
from mmgen_lib.encoders import TextEncoder
from mmgen_lib.generation import (
    END_ID,
    START_ID,
    beam_search,
    greedy_decode,
    next_token_distribution,
    sample,
    sequence_log_prob,
)
from mmgen_lib.metrics import bleu4, caption_attribute_accuracy
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.training import restore_training_state, save_training_state
from mmgen_lib.utils import report, set_seed

SEED = 0
EMBED_DIM = 32  # word embedding size in the decoder
UNITS = 128  # decoder GRU state size
FEATURE_DIM = 64  # size of z_v and of z_a (the shipped encoders' output)
EPOCHS = 2  # the image-only captioner's decoder
FUSED_EPOCHS = 2  # the image+audio captioner's decoder
QA_EPOCHS = 3
QA_BATCH_SIZE = 256  # two-token answers: larger batches, fewer steps
QA_LEARNING_RATE = 6e-3
TRANSFORMER_EPOCHS = 1
TRANSFORMER_BATCH_SIZE = 64
TRANSFORMER_LEARNING_RATE = 4e-3  # one epoch at 4e-3 learns what two at 2e-3 did
BATCH_SIZE = 128  # the GRU captioners: 2 epochs at 128 (80 updates) learn what 3 at 256 (60) did
LEARNING_RATE = 8e-3
MAX_LEN = 15  # generated tokens: the longest caption (13 words) + <end> fits
N_COMPARE = 100  # test examples for the decoding-strategy comparison
N_DRAWS = 5  # samples per example to measure diversity

set_seed(SEED)
viz.use_course_style()

train, test = data.load_split("train"), data.load_split("test")
tokenizer = shapesworld_tokenizer(train)
tr, te = split_arrays(train, tokenizer), split_arrays(test, tokenizer)
VOCAB_SIZE = tokenizer.vocab_size
START, END = tokenizer.start_id, tokenizer.end_id
print(f"{len(train)} train / {len(test)} test examples, vocabulary of {VOCAB_SIZE} tokens")

# %% [markdown]
# ## 1. Intuition and math
#
# The seed article (§1.2) describes the **encoder–decoder framework**: encode each modality,
# combine the codes, and let a decoder generate the output. Its §4.1 writes the joint decoder as
#
# $$y_t = D\big(E_t(x_t), E_v(x_v), \theta\big).$$
#
# A sentence is not produced in one shot: the decoder writes it **one token at a time**, each
# token conditioned on the representation $z$ and on the words already written,
#
# $$p(y \mid z) = \prod_{t=1}^{T} p(y_t \mid y_{<t}, z), \qquad
#   z = [E_v(x_v);\, E_a(x_a)] \ \text{(captions)} \quad\text{or}\quad
#   z = [E_t(x_t);\, E_v(x_v);\, E_a(x_a)] \ \text{(answers)}.$$
#
# Our decoder $D$ is a GRU whose state is *initialised* from $z$ and which sees $z$ again at
# *every* step, next to the embedding $e(y_{t-1})$ of the previous word:
#
# $$h_0 = \tanh(W_0 z + b_0), \qquad h_t = \mathrm{GRU}\big(h_{t-1},\, [e(y_{t-1});\, z]\big), \qquad
#   p(y_t \mid y_{<t}, z) = \mathrm{softmax}(W_o h_t + b_o).$$
#
# **Teacher forcing.** During training the input at step $t$ is the *true* word $y_{t-1}$, not
# the decoder's own guess, so all steps can run in one call and the loss is the seed's
# cross-entropy term (§4.2) summed over the real (non-padding) tokens:
#
# $$\mathcal{L}_{CE} = -\sum_{t:\, y_t \neq \texttt{<pad>}} \log p(y_t \mid y_{<t}, z).$$
#
# At generation time there is no true word: the decoder is fed its own previous output, and a
# **decoding strategy** (greedy, beam search, sampling) chooses each $y_t$ from $p(y_t \mid \cdot)$.
#
# | tensor | shape | meaning |
# |---|---|---|
# | `caption_ids` | (batch, 16) | `<start>` caption `<end>` padding |
# | decoder input `caption_ids[:, :-1]` | (batch, 15) | shifted right: starts with `<start>` |
# | target `caption_ids[:, 1:]` | (batch, 15) | the next word at every position |
# | $z = [z_v; z_a]$ | (batch, 128) | fused image + audio features |
# | logits | (batch, 15, vocab) | one next-word distribution per position |
# | state $h_t$ (generation) | (batch, 128) | everything the decoder remembers of the prefix |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Teacher forcing: inputs and targets
#
# The decoder input is the caption without its last token; the target is the caption without
# its first token. Position $t$ of the input is the word *before* position $t$ of the target.

# %%
# NBVAL_CHECK_OUTPUT
decoder_inputs, targets = tr["caption_ids"][:, :-1], tr["caption_ids"][:, 1:]
words = tokenizer.vocabulary
print("caption:", train.captions[0])
for t in range(6):
    print(f"step {t}: input {words[decoder_inputs[0, t]]:>8} -> target {words[targets[0, t]]}")

# %%
assert np.array_equal(decoder_inputs[:, 1:], targets[:, :-1]), "the target is the input shifted by one"
assert (decoder_inputs[:, 0] == START).all(), "every decoder input starts with <start>"
print("teacher-forcing pairs OK:", decoder_inputs.shape, targets.shape)

# %% [markdown]
# ### 2.2 The decoder
#
# `TextDecoder` takes `[context, input_ids]` and returns one row of logits per position.
# Its parameters: the embedding table, the Dense layer that turns $z$ into $h_0$, the GRU
# (whose input is the word embedding *and* $z$), and the output projection.

# %%
# NBVAL_CHECK_OUTPUT
set_seed(SEED)
decoder = TextDecoder(VOCAB_SIZE, EMBED_DIM, UNITS, context_dim=2 * FEATURE_DIM)
z_demo = np.random.default_rng(0).normal(size=(4, 2 * FEATURE_DIM)).astype("float32")
logits = decoder([z_demo, decoder_inputs[:4]])
print("logits:", tuple(logits.shape))
for layer in (decoder.embedding, decoder.init_state, decoder.gru, decoder.to_logits):
    print(f"{layer.name:>10}: {layer.count_params():>6,} parameters")
print(f"{'total':>10}: {decoder.count_params():>6,}")

# %% [markdown]
# ### 2.3 One step, from primitives
#
# For generation the decoder offers `initial_state(z)` and `step(z, previous_token, state)`:
# one GRU step with an explicit state, so writing token $t$ never re-reads tokens $1..t-1$.
# Let us write that step ourselves with `keras.ops`, from the decoder's weights (Keras' GRU:
# update gate $u$, reset gate $r$ applied after the recurrent product, $h_t = u \odot h_{t-1} +
# (1 - u) \odot \tilde h_t$ — lesson 02 wrote the mirror form with $u \leftrightarrow 1 - u$).


# %%
def my_step(decoder, z, token_ids, h):
    kernel, recurrent, bias = decoder.gru.cell.weights
    x = ops.concatenate([ops.take(decoder.embedding.embeddings, token_ids, axis=0), z], axis=-1)  # (batch, E + C)
    x_u, x_r, x_h = ops.split(ops.matmul(x, kernel) + bias[0], 3, axis=-1)  # each (batch, units)
    h_u, h_r, h_h = ops.split(ops.matmul(h, recurrent) + bias[1], 3, axis=-1)
    u, r = ops.sigmoid(x_u + h_u), ops.sigmoid(x_r + h_r)
    h_new = u * h + (1 - u) * ops.tanh(x_h + r * h_h)
    return decoder.to_logits(h_new), h_new


h0 = ops.tanh(ops.matmul(z_demo, decoder.init_state.kernel) + decoder.init_state.bias)
mine, _ = my_step(decoder, z_demo, decoder_inputs[:4, 0], h0)
library, _ = decoder.step(z_demo, decoder_inputs[:4, 0], decoder.initial_state(z_demo))
np.testing.assert_allclose(mine, library, atol=1e-5)

# Step by step with our own previous words = one teacher-forced call.
state, steps = decoder.initial_state(z_demo), []
for t in range(decoder_inputs.shape[1]):
    step_logits, state = decoder.step(z_demo, decoder_inputs[:4, t], state)
    steps.append(step_logits)
np.testing.assert_allclose(np.stack(steps, axis=1), logits, atol=1e-5)
print("my_step matches decoder.step; 15 steps match the teacher-forced call")

# %% [markdown]
# ### 2.4 Greedy decoding, from primitives
#
# Greedy decoding feeds `<start>`, takes the most likely token, feeds it back, and stops at
# `<end>` (afterwards the row is padded with 0). `mmgen_lib.generation.greedy_decode` does the
# same for a whole batch.


# %%
def my_greedy(decoder, z, max_len, start_id, end_id):
    state, token = decoder.initial_state(z), np.full(len(z), start_id)
    out, done = np.zeros((len(z), max_len), int), np.zeros(len(z), bool)
    for t in range(max_len):
        step_logits, state = decoder.step(z, token, state)
        token = np.where(done, 0, ops.convert_to_numpy(ops.argmax(step_logits, axis=-1)))
        out[:, t], done = token, done | (token == end_id)
    return out


np.testing.assert_array_equal(my_greedy(decoder, z_demo, MAX_LEN, START, END), greedy_decode(decoder, z_demo, MAX_LEN))
print("untrained decoder, greedy:", repr(tokenizer.decode(greedy_decode(decoder, z_demo[:1], MAX_LEN)[0])))

# %% [markdown]
# ### 2.5 Temperature and top-k
#
# Sampling draws $y_t$ from $\mathrm{softmax}(\ell / T)$ where $\ell$ are the logits. A low
# temperature $T$ sharpens the distribution (as $T \to 0$ it becomes greedy), a high one
# flattens it; **top-k** keeps only the $k$ most likely tokens and renormalises.

# %%
# NBVAL_CHECK_OUTPUT
example_logits = np.array([2.0, 1.0, 0.5, -1.0])
for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (1.0, 2), (0.0, None)):
    probs = next_token_distribution(example_logits, temperature, top_k)
    print(f"T={temperature:<3} top_k={str(top_k):<4} ->", np.round(probs, 3))

# %% [markdown]
# ### 2.6 Why beams: the greedy trap
#
# Greedy can commit to a word that looks best *now* but leads nowhere likely. A toy decoder
# whose next-token probabilities are a fixed table shows it: from `<start>`, word A (0.5) beats
# word B (0.4), but after A everything is uncertain, while B is followed by `<end>` with
# probability 0.9. Beam search keeps the 2 best prefixes and finds B `<end>` (0.36 > 0.5 × 0.35).


# %%
class TableDecoder:
    """p(y_t | y_{t-1}) from a fixed table: the smallest object with initial_state and step."""

    def __init__(self, probabilities):
        self.log_table = np.log(np.asarray(probabilities) + 1e-12)

    def initial_state(self, context):
        return np.zeros((len(context), 1))

    def step(self, context, token_ids, state):
        return self.log_table[np.asarray(token_ids)], state


# tokens: 0 <pad>, 1 <start>, 2 <end>, 3 "A", 4 "B"
table = np.zeros((5, 5))
table[1, [3, 4, 2]] = 0.5, 0.4, 0.1  # after <start>
table[3, [3, 4, 2]] = 0.35, 0.35, 0.3  # after A
table[4, [3, 2]] = 0.1, 0.9  # after B
table[[0, 2]] = 0.2
toy, names = TableDecoder(table), ["<pad>", "<start>", "<end>", "A", "B"]
greedy_ids = greedy_decode(toy, np.zeros((1, 1)), max_len=3)[0]
beam_ids, beam_logp = beam_search(toy, np.zeros((1, 1)), beam_width=2, max_len=3, return_scores=True)

# %%
# NBVAL_CHECK_OUTPUT
greedy_p = np.prod([table[prev, token] for prev, token in zip([START, *greedy_ids[:-1]], greedy_ids)])
print("greedy  :", [names[i] for i in greedy_ids], "p =", round(float(greedy_p), 4), "(and it has not ended)")
print("beam k=2:", [names[i] for i in beam_ids[0]], "p =", round(float(np.exp(beam_logp[0])), 4))

# %% [markdown]
# ## 3. Train and run it
#
# ### 3.1 An image-only captioner: $D(E_v(x_v))$
#
# First a captioner that can only *see*. Its $E_v$ is the image encoder of lesson 03, trained
# once on the four visible attributes and shipped with the course (`mmgen_lib.pretrained`);
# it stays frozen, so its features $z_v$ are computed once, for every split, and standardised
# feature by feature (the raw features' spread is printed below; far from 1, it would slow the
# decoder's training down). A
# `TextDecoder` learns to write the caption from $z_v$ with teacher forcing (cross-entropy
# that ignores padding targets). Its context has room for both modalities, $z = [z_v; z_a]$, but here
# the sound half is all zeros and carries nothing. In 3.2 the same model, restored to the same initial
# weights and optimizer state, is trained again with the sound: the two captioners then differ only in
# what they are told, and `fit` traces the training step into a graph once, not twice.


# %%
def compile_captioner(model, learning_rate):
    model.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.optimizer.build(model.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
    return model


def frozen_encoder(classifier, name):
    """A shipped classifier's encoder layer as a model of its own, so that `predict` can run it."""
    return keras.Model(classifier.inputs, classifier.get_layer(name).output, name=name)


def standardised_features(encoder, train_inputs, test_inputs):
    """A frozen encoder's features for train and test, standardised with the train mean and std."""
    # predict runs the encoder as one traced graph: less CPU than eager calls, batch by batch
    z_train, z_test = (encoder.predict(x, batch_size=250, verbose=0) for x in (train_inputs, test_inputs))
    mean, std = z_train.mean(axis=0), z_train.std(axis=0) + 1e-6
    print(f"{encoder.name} features: raw standard deviation {std.mean():.1f} on average -> 1 after standardising")
    return (z_train - mean) / std, (z_test - mean) / std


E_v = frozen_encoder(pretrained.load_image_classifier(), "E_v")  # frozen: (n, 32, 32, 3) -> (n, 64)
z_v_train, z_v_test = standardised_features(E_v, tr["image"], te["image"])

set_seed(SEED)
z_in = keras.Input((2 * FEATURE_DIM,), name="z")  # room for z = [z_v; z_a]
ids_in = keras.Input((MAX_LEN,), dtype="int32", name="input_ids")
D = TextDecoder(VOCAB_SIZE, EMBED_DIM, UNITS, name="D")
captioner = compile_captioner(keras.Model([z_in, ids_in], D([z_in, ids_in])), LEARNING_RATE)
fresh_captioner = save_training_state(captioner)  # its initial weights and optimizer state, for 3.2
silent_train, silent_test = np.zeros_like(z_v_train), np.zeros_like(z_v_test)  # the sound half: zeros
set_seed(SEED)
history_v = captioner.fit(
    [np.concatenate([z_v_train, silent_train], axis=1), decoder_inputs],
    targets,
    batch_size=BATCH_SIZE,
    epochs=EPOCHS,
    verbose=0,
    callbacks=[ProgressLine("image-only captioner")],
)
image_only_ids = greedy_decode(D, np.concatenate([z_v_test, silent_test], axis=1), MAX_LEN)
image_only_captions = [tokenizer.decode(ids) for ids in image_only_ids]
image_only_acc = caption_attribute_accuracy(image_only_captions, test.labels)
print({name: round(acc, 3) for name, acc in image_only_acc.items()})

# %% [markdown]
# ### 3.2 Image + sound: $D(E_v(x_v), E_a(x_a))$
#
# Now the joint captioner. Its $E_a$ is lesson 04's audio encoder (shipped, frozen, trained on
# size and material), its features standardised like $z_v$; $z = [z_v; z_a]$ (early fusion,
# lesson 05) and the decoder $D$, back at its initial weights, writes the caption.

# %%
E_a = frozen_encoder(pretrained.load_audio_classifier(), "E_a")  # frozen: (n, 28, 40) log-mel -> (n, 64)
z_a_train, z_a_test = standardised_features(E_a, tr["spectrogram"], te["spectrogram"])
z_train = np.concatenate([z_v_train, z_a_train], axis=1)  # z = [z_v; z_a]: (5000, 128)
z_test = np.concatenate([z_v_test, z_a_test], axis=1)

restore_training_state(captioner, fresh_captioner)  # the same start as the image-only run
set_seed(SEED)
history = captioner.fit(
    [z_train, decoder_inputs],
    targets,
    batch_size=BATCH_SIZE,
    epochs=FUSED_EPOCHS,
    verbose=0,
    callbacks=[ProgressLine("image + sound captioner")],
)
joint_captions = [tokenizer.decode(ids) for ids in greedy_decode(D, z_test, MAX_LEN)]
joint_acc = caption_attribute_accuracy(joint_captions, test.labels)
print({name: round(acc, 3) for name, acc in joint_acc.items()})

# %%
fig, ax = plt.subplots(figsize=(5, 3))
for run, marker, label in ((history_v, "o", "image only  $D(E_v)$"), (history, "s", "image + sound  $D(E_v, E_a)$")):
    losses = run.history["loss"]
    ax.plot(np.arange(1, len(losses) + 1), losses, marker=marker, label=label)
ax.set_xticks(np.arange(1, max(EPOCHS, FUSED_EPOCHS) + 1))
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy per token")
ax.set_title("Teacher-forced training of the two captioners")
ax.legend()
plt.show()

# %% [markdown]
# The image-only curve ends higher: its material word cannot be predicted from pixels, which
# costs about $\log 3 \approx 1.1$ nats per caption, spread over a caption's ~11 tokens.
# Per attribute, on the test split:

# %%
viz.plot_grouped_bars(
    {
        "image only": [image_only_acc[a] for a in ATTRIBUTE_NAMES],
        "image + sound": [joint_acc[a] for a in ATTRIBUTE_NAMES],
    },
    ATTRIBUTE_NAMES,
    "Caption attribute accuracy (test, greedy)",
    chance=[1 / len(ATTRIBUTES[a]) for a in ATTRIBUTE_NAMES],
)
plt.show()

# %% [markdown]
# Both captioners see shape, colour, size and position; only the one that *hears* names the
# material — the image-only one guesses (chance is 1/3). Some test examples side by side:

# %%
show = np.arange(6)
viz.show_images(
    te["image"][show],
    titles=[joint_captions[i] for i in show],
    ncols=6,
    size=1.6,
    title="Captions from image + sound (greedy)",
)
plt.show()
for i in show:
    print(f"true      : {test.captions[i]}\nimage+snd : {joint_captions[i]}\nimage only: {image_only_captions[i]}\n")

# %% [markdown]
# ### 3.3 Answering questions: $y_t = D(E_t(x_t), E_v(x_v), E_a(x_a))$
#
# The seed's joint decoder takes a **text** input too. Here $x_t$ is a question
# ("what is it made of?"), encoded by a `TextEncoder` $E_t$; its vector is concatenated with the
# frozen image and sound features, and a small `TextDecoder` writes the answer — one word then
# `<end>`. We train it twice, as the captioners: with the seed's exact inputs $(E_t, E_v)$ (the sound's
# features replaced by zeros) and with the sound, one model restored to the same start before each `fit`.


# %%
def build_qa(question_len, feature_dim, vocab_size, seed):
    """E_t(question) ++ features -> TextDecoder -> "<answer> <end>"; returns (model, encode, decoder)."""
    set_seed(seed)
    question_in = keras.Input((question_len,), dtype="int32", name="question")
    features_in = keras.Input((feature_dim,), name="features")
    answer_in = keras.Input((2,), dtype="int32", name="answer_inputs")
    context = keras.layers.Concatenate()([TextEncoder(vocab_size, 32, 64, name="E_t")(question_in), features_in])
    qa_decoder = TextDecoder(vocab_size, 32, 64, unroll=True, name="D_qa")  # two steps: written out, they trace faster
    model = compile_captioner(
        keras.Model([question_in, features_in, answer_in], qa_decoder([context, answer_in])), QA_LEARNING_RATE
    )
    return model, keras.Model([question_in, features_in], context), qa_decoder


qa_model, encode, qa_decoder = build_qa(tr["question_ids"].shape[1], 2 * FEATURE_DIM, VOCAB_SIZE, SEED)
fresh_qa = save_training_state(qa_model)
start, end = np.full(len(tr["answer_ids"]), START_ID), np.full(len(tr["answer_ids"]), END_ID)
answer_inputs, answer_targets = np.stack([start, tr["answer_ids"]], 1), np.stack([tr["answer_ids"], end], 1)
no_sound = np.repeat(np.array([1, 0], "float32"), FEATURE_DIM)  # z * no_sound = [z_v; 0], as in 3.1

question_type = np.array([next(a for a in ATTRIBUTE_NAMES if ans in ATTRIBUTES[a]) for ans in test.answers])
qa_results = {}
for name, keep in (("question + image", no_sound), ("question + image + sound", 1.0)):
    restore_training_state(qa_model, fresh_qa)  # the same start for both runs
    set_seed(SEED)
    qa_model.fit(
        [tr["question_ids"], z_train * keep, answer_inputs],
        answer_targets,
        batch_size=QA_BATCH_SIZE,
        epochs=QA_EPOCHS,
        verbose=0,
        callbacks=[ProgressLine(f"QA decoder, {name}", per_epoch=False)],
    )
    context = encode([te["question_ids"], z_test * keep])  # (1000, 64 + 128)
    predicted = greedy_decode(qa_decoder, context, max_len=2)[:, 0]  # the answer word, then <end>
    correct = predicted == te["answer_ids"]
    qa_results[name] = {a: correct[question_type == a].mean() for a in ATTRIBUTE_NAMES} | {"all": correct.mean()}
    print(f"{name:>25}: accuracy {correct.mean():.3f}")
print("example:", test.questions[0], "->", tokenizer.vocabulary[te["answer_ids"][0]])

# %%
viz.plot_grouped_bars(
    {name: [acc[a] for a in ATTRIBUTE_NAMES] for name, acc in qa_results.items()},
    ATTRIBUTE_NAMES,
    "Question answering accuracy by question type (test)",
)
plt.show()

# %% [markdown]
# The same decoder, conditioned on the question, answers what it is asked. With the seed's inputs
# $(E_t, E_v)$ alone, "what is it made of?" is a guess (chance 1/3) — every other question type
# is answered from the image; adding $E_a$ closes the gap.

# %% [markdown]
# ### 3.4 A Transformer decoder that attends to each modality
#
# `TransformerTextDecoder` replaces the GRU by causal self-attention over the words written so
# far plus **cross-attention** over a *memory* of encoder features. Give it the two modality
# vectors as two memory tokens, $[z_v, z_a]$ (batch, 2, 64), and its attention weights show
# which modality it reads while writing each word. Material is only in the sound token, so to
# write "metal" some head *must* look there.

# %%
set_seed(SEED)
memory_train = np.stack([z_train[:, :FEATURE_DIM], z_train[:, FEATURE_DIM:]], axis=1)  # (n, 2, 64): [z_v, z_a]
memory_test = np.stack([z_test[:, :FEATURE_DIM], z_test[:, FEATURE_DIM:]], axis=1)
memory_in = keras.Input((2, FEATURE_DIM), name="memory")
D_attn = TransformerTextDecoder(VOCAB_SIZE, embed_dim=64, num_heads=2, ff_dim=128, max_len=16, name="D_attn")
transformer_captioner = compile_captioner(
    keras.Model([memory_in, ids_in], D_attn([memory_in, ids_in])), TRANSFORMER_LEARNING_RATE
)
transformer_captioner.fit(
    [memory_train, decoder_inputs],
    targets,
    batch_size=TRANSFORMER_BATCH_SIZE,
    epochs=TRANSFORMER_EPOCHS,
    verbose=0,
    callbacks=[ProgressLine("transformer captioner")],
)
transformer_ids = greedy_decode(D_attn, memory_test, MAX_LEN)
transformer_acc = caption_attribute_accuracy([tokenizer.decode(ids) for ids in transformer_ids], test.labels)
print({name: round(acc, 3) for name, acc in transformer_acc.items()})

# Re-run the generated captions with teacher forcing to read the attention used for each word.
fed = np.concatenate([np.full((len(transformer_ids), 1), START), transformer_ids[:, :-1]], axis=1)
_, attention = D_attn([memory_test, fed], return_attention=True)  # (n, heads, MAX_LEN, 2)
sound_share = ops.convert_to_numpy(attention)[..., 1]  # weight on z_a when writing each token
word_attribute = [
    next((a for a, v in data.parse_caption(w, strict=False).items() if v), None) if w.isalpha() else None
    for w in tokenizer.vocabulary
]
written = np.array(word_attribute, dtype=object)[transformer_ids]  # (n, MAX_LEN): attribute of each word
attention_by_attribute = {
    f"head {h + 1}": [sound_share[:, h][written == a].mean() for a in ATTRIBUTE_NAMES]
    for h in range(sound_share.shape[1])
}

# %%
viz.plot_grouped_bars(
    attention_by_attribute,
    ATTRIBUTE_NAMES,
    "Cross-attention on the sound token while writing each attribute word (test)",
    ylabel="weight on $z_a$ (vs $z_v$)",
)
plt.show()

# %% [markdown]
# When writing a material word the attention leans towards the sound token (more than for any
# other attribute); for shape,
# colour and position at least one head reads mostly the image. (Attention weights show where
# information is *read*, not a full explanation: a head can also copy redundant facts, such as
# size, which is both visible and audible.)

# %% [markdown]
# ### 3.5 Decoding strategies side by side
#
# Same joint captioner, same test inputs, different ways of choosing each word. **Quality** is
# the attribute accuracy of the captions; **diversity** is the number of *different* captions
# among 5 draws for the same input (1 for the deterministic strategies). We also report the
# model's log-probability of its own output (beam search maximises it) and BLEU-4 against the
# single reference caption.

# %%
strategies = {
    "greedy": lambda z_in, seed: greedy_decode(D, z_in, MAX_LEN),
    "beam k=3": lambda z_in, seed: beam_search(D, z_in, beam_width=3, max_len=MAX_LEN),
    "sample T=0.5": lambda z_in, seed: sample(D, z_in, temperature=0.5, seed=seed, max_len=MAX_LEN),
    "sample T=1": lambda z_in, seed: sample(D, z_in, temperature=1.0, seed=seed, max_len=MAX_LEN),
    "top-3, T=1.5": lambda z_in, seed: sample(D, z_in, temperature=1.5, top_k=3, seed=seed, max_len=MAX_LEN),
    "sample T=2": lambda z_in, seed: sample(D, z_in, temperature=2.0, seed=seed, max_len=MAX_LEN),
}
z_cmp, labels_cmp = z_test[:N_COMPARE], test.labels[:N_COMPARE]
references = list(test.captions[:N_COMPARE])
comparison = {}
for name, decode in strategies.items():
    draws = 1 if name in ("greedy", "beam k=3") else N_DRAWS
    z_draws = np.repeat(z_cmp, draws, axis=0)  # each example `draws` times: one call decodes all the draws
    ids = decode(z_draws, SEED).reshape(N_COMPARE, draws, MAX_LEN)  # (n, draws, MAX_LEN)
    texts = [[tokenizer.decode(row) for row in example] for example in ids]
    flat = [text for example in texts for text in example]
    comparison[name] = {
        "attr_acc": caption_attribute_accuracy(flat, np.repeat(labels_cmp, draws, axis=0))["mean"],
        "distinct": np.mean([len(set(example)) for example in texts]),
        "log_prob": sequence_log_prob(D, z_draws, ids.reshape(-1, MAX_LEN)).mean(),
        "bleu4": bleu4(np.repeat(references, draws).tolist(), flat),
    }
print(f"{'strategy':>13}  attr acc  distinct/5  log p(y|z)  BLEU-4")
for name, row in comparison.items():
    print(f"{name:>13}  {row['attr_acc']:8.3f}  {row['distinct']:10.2f}  {row['log_prob']:10.2f}  {row['bleu4']:6.3f}")

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.4))
markers = {"greedy": "x", "beam k=3": "+"}
for name, row in comparison.items():
    ax.scatter(row["distinct"], row["attr_acc"], s=60, marker=markers.get(name, "o"), label=name)
ax.set_xlabel(f"different captions among {N_DRAWS} draws")
ax.set_ylabel("attribute accuracy")
ax.set_title("Quality vs diversity of decoding strategies")
ax.legend(fontsize=7, loc="lower left")
plt.show()

# %% [markdown]
# What to read in the table:
# - **Greedy and beam search** name the attributes equally well: the captioner is confident,
#   so the greedy path is already nearly the most likely one. Beam search still finds captions
#   with a higher $\log p(y \mid z)$ — that is what it maximises; the toy of §2.6 shows when
#   the difference matters.
# - **Sampling** at a low or moderate temperature gives several *different but correct*
#   captions for the same input: the model learned the six phrasings and the synonyms, not one
#   sentence. Raising the temperature buys more diversity with more mistakes; **top-k** keeps
#   most of a high temperature's diversity while cutting off the implausible tail (compare
#   top-3 at $T = 1.5$ with plain $T = 2$).
# - **BLEU-4** stays around a third even for captions that are right about every attribute. It
#   counts n-grams shared with *one* reference caption, whose phrasing was drawn at random from
#   six templates, so a correct paraphrase is punished — and a fluent caption with a wrong
#   attribute can score higher:

# %%
# NBVAL_CHECK_OUTPUT
reference = "a large red metal circle at the top"
for hypothesis in (
    "a large red metal circle at the top",
    "at the top: a big red circle made of metal",
    "a large red wooden circle at the top",
):
    print(f"BLEU-4 {bleu4([reference], [hypothesis], smooth=True):.3f}  for  {hypothesis!r}")

# %% [markdown]
# ### 3.6 Asserted result
#
# On the **test** split: the image + sound captioner names all five attributes; the
# image-only captioner stays near chance (1/3) on material; the joint decoder answers the
# questions when it can hear; BLEU-4 of the greedy captions is reported for reference.

# %%
caption_attr_acc = joint_acc["mean"]
image_only_material_acc = image_only_acc["material"]
qa_acc = qa_results["question + image + sound"]["all"]
bleu = bleu4(list(test.captions), joint_captions)
assert caption_attr_acc >= 0.95, f"image+audio caption attribute accuracy {caption_attr_acc:.3f} < 0.95"
assert qa_acc >= 0.95, f"question answering accuracy {qa_acc:.3f} < 0.95"
assert image_only_material_acc <= 0.45, f"image-only material accuracy {image_only_material_acc:.3f} > 0.45"
report(
    "08_joint_decoder_text",
    {
        "caption_attr_acc": caption_attr_acc,
        "caption_attr_acc_min": min(joint_acc[a] for a in ATTRIBUTE_NAMES),
        "image_only_material_acc": image_only_material_acc,
        "image_only_caption_attr_acc": image_only_acc["mean"],
        "qa_acc": qa_acc,
        "qa_acc_image_only": qa_results["question + image"]["all"],
        "transformer_caption_attr_acc": transformer_acc["mean"],
        "bleu4": bleu,
        "beam3_caption_attr_acc": comparison["beam k=3"]["attr_acc"],
        "sample_t1_distinct": comparison["sample T=1"]["distinct"],
    },
)

# %% [markdown]
# ## 4. Exercises
#
# **Exercise 1 — teacher forcing pairs.** Write `teacher_forcing_pair(caption_ids)` that takes
# an int array (batch, seq_len) of `<start> … <end>` captions and returns the tuple
# `(decoder_inputs, targets)` used for training.


# %% tags=["solution"]
# YOUR CODE HERE
def teacher_forcing_pair(caption_ids):
    caption_ids = np.asarray(caption_ids)
    return caption_ids[:, :-1], caption_ids[:, 1:]


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson08 import check_teacher_forcing_pair

check_teacher_forcing_pair(teacher_forcing_pair)

# %% [markdown]
# **Exercise 2 — the sampling distribution.** Write `my_distribution(logits, temperature, top_k)`
# in NumPy: `logits` is (batch, vocab); divide by `temperature` (> 0), keep only the `top_k`
# largest entries of each row (`top_k=None` keeps all), and return the softmax over the kept
# entries (the others get probability 0).


# %% tags=["solution"]
# YOUR CODE HERE
def my_distribution(logits, temperature, top_k=None):
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None:
        kth_largest = np.sort(scaled, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled >= kth_largest, scaled, -np.inf)
    weights = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson08 import check_distribution

check_distribution(my_distribution)

# %% [markdown]
# **Exercise 3 — BLEU's clipped precision.** Write `clipped_matches(reference, hypothesis, n)`
# for one reference and one hypothesis, both lists of words: return the tuple
# `(matches, total)` where `total` is the number of n-grams of the hypothesis and `matches`
# counts each hypothesis n-gram at most as often as it occurs in the reference. (BLEU-4 is
# built from these for n = 1..4.)

# %% tags=["solution"]
# YOUR CODE HERE
from collections import Counter


def clipped_matches(reference, hypothesis, n):
    grams = lambda words: Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))  # noqa: E731
    ref, hyp = grams(reference), grams(hypothesis)
    return sum(min(count, ref[gram]) for gram, count in hyp.items()), sum(hyp.values())


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson08 import check_clipped_matches

check_clipped_matches(clipped_matches)

# %% [markdown]
# ## Summary
#
# - The encoder–decoder framework: encoders give $z$, a recurrent decoder writes
#   $p(y \mid z) = \prod_t p(y_t \mid y_{<t}, z)$. `TextDecoder` feeds $z$ as the initial state
#   *and* at every step; it trains with teacher forcing (input = target shifted right) and
#   generates with `initial_state` / `step`, one token and one state at a time.
# - A captioner can only say what its inputs carry: image only → material at chance;
#   image + sound → all five attributes. With a question as the text input, the same decoder
#   is the seed's $D(E_t(x_t), E_v(x_v))$ — and it needs the sound for "what is it made of?".
# - A Transformer decoder reads the modalities through cross-attention; writing the material,
#   it attends to the sound.
# - Greedy is fast and, for a confident model, nearly optimal; beam search maximises
#   $\log p(y \mid z)$ and escapes greedy traps; temperature and top-k trade correctness for
#   diversity.
# - Score generated text by what it *says* when you can parse it; BLEU-4 punishes correct
#   paraphrases.
#
# **Next**: lesson 09 turns the decoder around — from a caption (and sound) to an **image**.
#
# **References**
# - Sutskever, Vinyals & Le (2014). *Sequence to Sequence Learning with Neural Networks*. NeurIPS.
# - Cho et al. (2014). *Learning Phrase Representations using RNN Encoder–Decoder for Statistical
#   Machine Translation*. EMNLP.
# - Vinyals, Toshev, Bengio & Erhan (2015). *Show and Tell: A Neural Image Caption Generator*. CVPR.
# - Vaswani et al. (2017). *Attention Is All You Need*. NeurIPS.
# - Antol et al. (2015). *VQA: Visual Question Answering*. ICCV.
# - Williams & Zipser (1989). *A Learning Algorithm for Continually Running Fully Recurrent Neural
#   Networks*. Neural Computation 1(2) (teacher forcing).
# - Papineni, Roukos, Ward & Zhu (2002). *BLEU: a Method for Automatic Evaluation of Machine Translation*. ACL.
# - Fan, Lewis & Dauphin (2018). *Hierarchical Neural Story Generation*. ACL (top-k sampling).
# - Holtzman et al. (2020). *The Curious Case of Neural Text Degeneration*. ICLR.
