# %% [markdown]
# # 02 · The text encoder $E_t$
#
# **Objectives**
# - turn token ids into vectors with an **embedding** table, and see that it is a plain lookup;
# - understand **masking**: why the padding tokens must not count, and how a masked mean and a
#   masked RNN ignore them;
# - build the seed article's text encoder (Embedding + LSTM) and compare it with a GRU and a
#   small **Transformer** encoder;
# - train a text encoder to read all five attributes from a caption, and the *kind* of question
#   from a question; look inside at what the embedding learned.
#
# **Prerequisites**: lesson 01 (tokenizer, `split_arrays`); Keras `Model`, `fit`.
#
# **Expected run time**: 25–40 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.encoders` (`TextEncoder`, `masked_mean`, `AttentionPooling`).

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import data, viz
from mmgen_lib.classifiers import attribute_accuracy, attribute_classifier, predict_in_batches
from mmgen_lib.encoders import TextEncoder, masked_mean
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.progress import ProgressLine
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.utils import report, set_seed

SEED = 0
EMBED_DIM = 32  # size of a word vector
UNITS = 64  # size of the text vector z_t
EPOCHS = 2
BATCH_SIZE = 64
LEARNING_RATE = 6e-3
KINDS = ("gru", "lstm", "transformer")

set_seed(SEED)
viz.use_course_style()

train, val, test = (data.load_split(name) for name in ("train", "val", "test"))
tokenizer = shapesworld_tokenizer(train)
arrays = {split.name: split_arrays(split, tokenizer, spectrograms=False) for split in (train, val, test)}  # no sound
print(f"{len(train)} train / {len(val)} val / {len(test)} test examples, vocabulary of {tokenizer.vocab_size} tokens")

# %% [markdown]
# ## 1. Intuition and math
#
# The seed article writes the text encoder as a sequence of per-token features
#
# $$E_t(x_t) = [e_t(x_t, w_{t1}), e_t(x_t, w_{t2}), \dots, e_t(x_t, w_{tk})]$$
#
# and its code builds it as `Embedding(..., mask_zero=True)` followed by `LSTM(128)`. We take
# it apart in three steps.
#
# **Embedding.** A caption is a row of token ids $x_t = (x_1, \dots, x_T)$. A table
# $W \in \mathbb{R}^{V \times d}$ holds one learned vector per word; the embedding of token $i$
# is the row $e_i = W[x_i]$ — the same as the one-hot vector of $x_i$ times $W$.
#
# **Masking.** Captions have different lengths, so they are right-padded with id 0 to 16
# tokens. The mask $m_i = [x_i \neq 0]$ marks the real tokens. Anything that summarises the
# sequence must ignore the padding, e.g. the masked mean
#
# $$z_t = \frac{\sum_i m_i\, h_i}{\sum_i m_i},$$
#
# otherwise the *same* caption would get a different vector depending on how much padding
# follows it.
#
# **A recurrent network** reads the embeddings in order and keeps a state $h_i$. A GRU updates
# it with an update gate $u_i$ and a reset gate $r_i$:
#
# $$u_i = \sigma(W_u e_i + U_u h_{i-1} + b_u),\quad r_i = \sigma(W_r e_i + U_r h_{i-1} + b_r),$$
# $$\tilde h_i = \tanh(W_h e_i + r_i \odot U_h h_{i-1} + b_h),\quad h_i = (1 - u_i) \odot h_{i-1} + u_i \odot \tilde h_i .$$
#
# Under a mask, a padded step simply keeps the state: $h_i = h_{i-1}$ when $m_i = 0$, so the
# last state is the state after the last *real* token. The LSTM (the seed's choice) adds a
# separate memory cell and a third gate; the **Transformer** encoder replaces recurrence by
# self-attention $\mathrm{softmax}(QK^\top/\sqrt{d} + M)V$, where $M$ puts $-\infty$ on the
# padded keys.
#
# | tensor | shape | here |
# |---|---|---|
# | token ids $x_t$ | (batch, seq_len) | (64, 16) int |
# | mask $m$ | (batch, seq_len) | (64, 16) bool |
# | embeddings $e$ | (batch, seq_len, embed_dim) | (64, 16, 32) |
# | states $h$ (the seed's $E_t(x_t)$) | (batch, seq_len, units) | (64, 16, 64) |
# | text vector $z_t$ | (batch, units) | (64, 64) |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Token ids and the padding mask

# %%
# NBVAL_CHECK_OUTPUT
ids = arrays["test"]["caption_ids"][:2]
for caption, row in zip(test.captions[:2], ids):
    print(caption)
    print("  ids :", row.tolist())
    print("  mask:", (row != 0).astype(int).tolist())

# %% [markdown]
# ### 2.2 An embedding is a table lookup
#
# We make a small random table $W$ and embed the two captions three ways: by indexing
# `W[ids]`, by multiplying one-hot vectors with $W$, and with a Keras `Embedding` layer that
# holds the same table.

# %%
rng = np.random.default_rng(SEED)
table = rng.normal(size=(tokenizer.vocab_size, 4)).astype("float32")  # (V, d) with d = 4

by_index = table[ids]  # (2, 16, 4)
one_hot = np.eye(tokenizer.vocab_size, dtype="float32")[ids]  # (2, 16, V)
by_matmul = one_hot @ table  # (2, 16, V) @ (V, 4) -> (2, 16, 4)

embedding = keras.layers.Embedding(tokenizer.vocab_size, 4)
embedding.build((None, 16))
embedding.set_weights([table])
by_keras = keras.ops.convert_to_numpy(embedding(ids))

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(by_matmul, by_index, atol=1e-6)
np.testing.assert_allclose(by_keras, by_index)
print("embeddings:", by_index.shape, "- indexing, one-hot @ W and keras Embedding agree")

# %% [markdown]
# ### 2.3 Why padding must not count
#
# Pad the same two captions to 16 and to 24 tokens and average their embeddings. The plain
# mean changes with the amount of padding (and is pulled towards the embedding of `<pad>`);
# the masked mean does not.


# %%
def masked_mean_numpy(sequence, mask):
    """Mean over the positions where mask is True: (batch, seq_len, dim), (batch, seq_len) -> (batch, dim)."""
    weights = mask[..., None].astype(sequence.dtype)  # (batch, seq_len, 1)
    return (sequence * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1)


longer = np.pad(ids, ((0, 0), (0, 8)))  # the same captions with 8 more <pad> tokens
plain_16, plain_24 = table[ids].mean(axis=1), table[longer].mean(axis=1)
masked_16 = masked_mean_numpy(table[ids], ids != 0)
masked_24 = masked_mean_numpy(table[longer], longer != 0)
print("plain mean  changes by", np.abs(plain_16 - plain_24).max().round(4))
print("masked mean changes by", np.abs(masked_16 - masked_24).max().round(4))

# %%
# NBVAL_CHECK_OUTPUT
np.testing.assert_allclose(masked_16, masked_24, atol=1e-6)
np.testing.assert_allclose(keras.ops.convert_to_numpy(masked_mean(table[ids], ids != 0)), masked_16, atol=1e-6)
print("masked mean: padding-invariant, and equal to mmgen_lib.encoders.masked_mean")

# %% [markdown]
# ### 2.4 The seed article's $E_t$: Embedding + LSTM
#
# The article builds `Embedding(input_dim_t, 256, mask_zero=True)` then `LSTM(128)`. The
# library's `TextEncoder(kind="lstm", pooling="last")` is the same network: it has exactly the
# same parameters, and with the same weights it returns the same vectors.

# %%
seed_text_encoder = keras.Sequential(
    [
        keras.Input((16,), dtype="int32"),
        keras.layers.Embedding(tokenizer.vocab_size, 256, mask_zero=True),
        keras.layers.LSTM(128),
    ]
)
library_text_encoder = TextEncoder(tokenizer.vocab_size, embed_dim=256, units=128, kind="lstm", pooling="last")
library_text_encoder.build((None, 16))
library_text_encoder.set_weights(seed_text_encoder.get_weights())

# %%
# NBVAL_CHECK_OUTPUT
print("seed E_t parameters   :", seed_text_encoder.count_params())
print("TextEncoder parameters:", library_text_encoder.count_params())
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(library_text_encoder(ids)), seed_text_encoder.predict(ids, verbose=0), atol=1e-5
)
print("same weights -> same text vectors", tuple(library_text_encoder(ids).shape))

# %% [markdown]
# ### 2.5 Three encoders, one interface
#
# At the course's size (32-d embeddings, 64 units) the three kinds have these parameter
# counts, broken down by part. For every kind, padding a caption with 8 more zeros leaves its
# vector unchanged. (The Transformer learns one position vector per slot, so it needs
# `max_len` ≥ 24 here.)


# %%
# NBVAL_CHECK_OUTPUT
def parameter_parts(encoder):
    """Parameters of a TextEncoder, per part: the word embedding, then what reads the sequence."""
    parts = {"word embedding": encoder.embedding.count_params()}
    if encoder.kind == "transformer":
        parts["position embedding"] = encoder.positions.count_params()
        parts["projection to units"] = encoder.project.count_params()
        parts["self-attention"] = encoder.attention.count_params()
        parts["feed-forward"] = encoder.ffn1.count_params() + encoder.ffn2.count_params()
        parts["layer norms"] = encoder.norm1.count_params() + encoder.norm2.count_params()
    else:
        parts[f"{encoder.kind.upper()} gates"] = encoder.rnn.count_params()
    return parts


encoders_24 = {}
for kind in KINDS:
    set_seed(SEED)
    encoders_24[kind] = encoder = TextEncoder(tokenizer.vocab_size, EMBED_DIM, UNITS, kind=kind, max_len=24)
    z_16, z_24 = (keras.ops.convert_to_numpy(encoder(x)) for x in (ids, longer))
    print(
        f"{kind:<11} parameters {encoder.count_params():>6}   z_t {z_16.shape}   "
        f"padding changes z_t: {not np.allclose(z_16, z_24, atol=1e-5)}"
    )
    print("    " + ", ".join(f"{part} {count:,}" for part, count in parameter_parts(encoder).items()))
transformer_parts = parameter_parts(encoders_24["transformer"])
gap = encoders_24["transformer"].count_params() - encoders_24["lstm"].count_params()
print(
    f"transformer - lstm: {gap:,} more parameters; position embedding {transformer_parts['position embedding']:,}, "
    f"self-attention + feed-forward {transformer_parts['self-attention'] + transformer_parts['feed-forward']:,} "
    f"(the LSTM's gates: {parameter_parts(encoders_24['lstm'])['LSTM gates']:,})"
)

# %% [markdown]
# Where does the Transformer's surplus come from? Not from the position embedding, which is
# a small part of it: its self-attention and feed-forward block together hold more weights
# than all four weight blocks of the LSTM (its three gates and the candidate), and that block makes
# up most of the difference; the projection to units, the position embedding and the layer norms
# add the rest.

# %% [markdown]
# ## 3. Train it: read the five attributes from a caption
#
# A text encoder followed by five small softmax heads, one per attribute, trained with the
# sum of the five cross-entropies. A caption names every attribute, so a good encoder should
# be perfect on the test split; we train each of the three kinds for the same few epochs.
# The two RNNs hand on their last state; the Transformer pools its states with learned
# **attention pooling** (`pooling="attention"`), which section 3.3 looks inside.
# `classifiers.attribute_classifier` builds exactly that: `Input -> encoder -> {attribute: Dense(n_values)}`,
# compiled with one sparse cross-entropy per head (lessons 03 and 15 call it too; the shipped encoders that
# lessons 05, 08, 12 and 13 load through `mmgen_lib.pretrained` were trained with it).


# %%
def accuracy_per_attribute(model, ids, labels):
    """Accuracy per attribute, in data.ATTRIBUTE_NAMES order (predict_in_batches: direct calls, no tracing)."""
    accuracy = attribute_accuracy(predict_in_batches(model, ids, batch_size=1000), labels)
    return {name: accuracy[name] for name in data.ATTRIBUTE_NAMES}


targets = {name: {attr: arrays[name][attr] for attr in data.ATTRIBUTES} for name in arrays}
caption_models, histories, caption_accuracy = {}, {}, {}
for kind in KINDS:
    set_seed(SEED)
    attention = kind == "transformer"  # attention pooling; return_sequences keeps the states for section 3.3
    tracked = kind == "gru"  # only the GRU's curves are plotted: no validation pass for the other two
    encoder = TextEncoder(
        tokenizer.vocab_size,
        EMBED_DIM,
        UNITS,
        kind=kind,
        pooling="attention" if attention else "last",
        return_sequences=attention,
        name="text_encoder",
    )
    model = attribute_classifier(
        encoder, (16,), input_dtype="int32", input_name="ids", learning_rate=LEARNING_RATE, metrics=False
    )  # the loss curves are plotted; accuracy is measured on test
    histories[kind] = model.fit(
        arrays["train"]["caption_ids"],
        targets["train"],
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        verbose=0,
        validation_data=(arrays["val"]["caption_ids"], targets["val"]) if tracked else None,
        callbacks=[ProgressLine(f"{kind} text encoder", per_epoch=False)],
    )
    caption_models[kind] = model
    caption_accuracy[kind] = accuracy_per_attribute(model, arrays["test"]["caption_ids"], arrays["test"])
    print(f"{kind:<11}", {name: round(acc, 3) for name, acc in caption_accuracy[kind].items()})

# %%
fig = viz.plot_history(histories["gru"], metrics=("loss",), title="GRU text encoder + 5 heads (summed loss)")
plt.show()
fig = viz.plot_grouped_bars(
    {kind: list(caption_accuracy[kind].values()) for kind in KINDS},
    data.ATTRIBUTE_NAMES,
    title="Test accuracy from captions, per attribute",
    chance=[1 / len(v) for v in data.ATTRIBUTES.values()],
)
plt.show()

# %% [markdown]
# ### 3.1 From a question: what is being asked?
#
# Questions such as "what is it made of?" name no attribute *value*, but they do name the
# attribute being asked about (the *answer type*). A GRU encoder over the 8-token question ids
# learns to tell the five kinds of question apart.

# %%
value_to_attribute = {value: k for k, values in enumerate(data.ATTRIBUTES.values()) for value in values}
answer_type = {split.name: np.array([value_to_attribute[a] for a in split.answers]) for split in (train, val, test)}

set_seed(SEED)
question_ids = keras.Input((8,), dtype="int32")
question_z = TextEncoder(tokenizer.vocab_size, 16, 32, kind="gru")(question_ids)
question_model = keras.Model(question_ids, keras.layers.Dense(len(data.ATTRIBUTES))(question_z))
question_model.compile(
    keras.optimizers.Adam(LEARNING_RATE),
    keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)  # no training metrics: the accuracy that counts is measured on the test questions below
question_model.optimizer.build(question_model.trainable_variables)  # slots now: one trace
question_model.fit(arrays["train"]["question_ids"], answer_type["train"], epochs=1, batch_size=BATCH_SIZE, verbose=0)
question_pred = keras.ops.convert_to_numpy(question_model(arrays["test"]["question_ids"])).argmax(-1)
question_type_acc = float(np.mean(question_pred == answer_type["test"]))
print("answer-type accuracy on test questions:", round(question_type_acc, 3))

# %% [markdown]
# ### 3.2 What did the encoder learn?
#
# Nobody told the model that "big" and "large" mean the same thing. But both words lead to the
# same label, so training pushes their embeddings together; words that must be told apart
# ("big" vs "small") are pushed apart. We compare cosine similarities of embedding rows before
# training (a freshly initialised encoder with the same seed) and after.


# %%
def cosine(table_, a, b):
    x, y = table_[tokenizer.encode(a, False)[0]], table_[tokenizer.encode(b, False)[0]]
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


set_seed(SEED)
fresh = TextEncoder(tokenizer.vocab_size, EMBED_DIM, UNITS, kind="gru")
fresh.build((None, 16))
before = keras.ops.convert_to_numpy(fresh.embedding.embeddings)
after = keras.ops.convert_to_numpy(caption_models["gru"].get_layer("text_encoder").embedding.embeddings)
synonyms = [("big", "large"), ("tiny", "small"), ("little", "small"), ("wood", "wooden"), ("metal", "metallic")]
contrasts = [("big", "small"), ("red", "blue"), ("left", "right"), ("big", "red")]
pairs = synonyms + contrasts
similarity = {
    "before training": [cosine(before, a, b) for a, b in pairs],
    "after training": [cosine(after, a, b) for a, b in pairs],
}
for (a, b), s0, s1 in zip(pairs, *similarity.values()):
    print(f"{a + ' / ' + b:<17} {s0:+.2f} -> {s1:+.2f}")

# %%
fig = viz.plot_grouped_bars(
    similarity,
    [f"{a}\n{b}" for a, b in pairs],
    ylabel="cosine similarity",
    title="Word embeddings: synonyms (left five) move together, contrasts apart",
)
fig.axes[0].set_ylim(-1.05, 1.05)
fig.axes[0].axhline(0, color="black", linewidth=0.5)
plt.show()

# %% [markdown]
# The caption vectors $z_t$ themselves are 64-dimensional. A 2-D PCA (projection on the two
# directions of largest variance) of the test captions, coloured by the object's colour and
# by its size: the two main directions split the captions by size, while the colours form
# many small same-colour clusters spread over the plane rather than one group per colour (most
# of the colour information lives in other directions of the 64).

# %%
encoder_only = keras.Model(caption_models["gru"].input, caption_models["gru"].get_layer("text_encoder").output)
z_test = keras.ops.convert_to_numpy(encoder_only(arrays["test"]["caption_ids"]))  # (1000, 64)
centered = z_test - z_test.mean(axis=0)
_, _, directions = np.linalg.svd(centered, full_matrices=False)
projected = centered @ directions[:2].T  # (1000, 2)

fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
for ax, attribute, palette in (
    (axes[0], "color", ["tab:red", "tab:green", "tab:blue", "gold"]),
    (axes[1], "size", ["tab:purple", "tab:orange"]),
):
    for k, value in enumerate(data.ATTRIBUTES[attribute]):
        chosen = arrays["test"][attribute] == k
        ax.scatter(*projected[chosen].T, s=6, color=palette[k], label=value)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(f"caption vectors z_t, coloured by {attribute}")
    ax.legend(fontsize=7, markerscale=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### 3.3 Attention pooling: where does the encoder look?
#
# Instead of the last state or the mean, `pooling="attention"` learns a score per token and
# takes the softmax-weighted sum of the states ($a_i \propto \exp(w^\top \tanh(W h_i))$, with
# padded tokens getting weight 0). The Transformer trained in section 3 pools this way (its
# test accuracies are printed there); we look at its weights on three test captions.

# %%
# attribute_classifier headed the pooled vector (the first of the encoder's two outputs)
attention_encoder = caption_models["transformer"].get_layer("text_encoder")
shown_ids = arrays["test"]["caption_ids"][:3]
_, states = attention_encoder(shown_ids)
_, weights = attention_encoder.attention_pool(states, mask=attention_encoder.mask_from(shown_ids), return_weights=True)
weights = keras.ops.convert_to_numpy(weights)
fig, axes = plt.subplots(3, 1, figsize=(7.5, 4.2))
for ax, row, w in zip(axes, shown_ids, weights):
    length = int((row != 0).sum())
    ax.bar(range(length), w[:length])
    ax.set_xticks(range(length), [tokenizer.vocabulary[t] for t in row[:length]], fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("weight")
axes[0].set_title("Attention-pooling weights over the tokens of three test captions")
fig.tight_layout()
plt.show()

# %% [markdown]
# The weights are not spread over the five attribute words: they concentrate on one or two
# of them. That is enough because self-attention has already mixed the whole caption into
# every position's state — each $h_i$ is a summary of its context, not of its word alone.

# %% [markdown]
# ### 3.4 Asserted result
#
# On the **test** split: every encoder (the GRU, the LSTM and the Transformer with attention
# pooling) reads every attribute from the caption, the question encoder recognises the answer
# type, and the synonyms' embeddings have become similar.

# %%
caption_attr_acc_min = min(min(acc.values()) for acc in caption_accuracy.values())
synonym_cosine_min = min(cosine(after, a, b) for a, b in synonyms)
assert caption_attr_acc_min >= 0.99, f"a text encoder missed an attribute: min accuracy {caption_attr_acc_min:.3f}"
assert question_type_acc >= 0.99, f"answer-type accuracy {question_type_acc:.3f} < 0.99"
assert synonym_cosine_min >= 0.8, f"synonym embeddings not similar: min cosine {synonym_cosine_min:.2f}"
results = report(
    "02_text_encoder",
    {
        "caption_attr_acc_min": caption_attr_acc_min,
        **{f"caption_attr_acc_min_{kind}": min(caption_accuracy[kind].values()) for kind in KINDS},
        "question_type_acc": question_type_acc,
        "synonym_cosine_min": synonym_cosine_min,
    },
)

# %% [markdown]
# ## 4. Exercises
#
# **Exercise 1 — masked mean.** Write `my_masked_mean(sequence, mask)` in NumPy: `sequence`
# is (batch, seq_len, dim), `mask` is (batch, seq_len) with True for real tokens; return the
# (batch, dim) mean over the real tokens only. (Every row has at least one real token.)


# %% tags=["solution"]
# YOUR CODE HERE
def my_masked_mean(sequence, mask):
    weights = np.asarray(mask, dtype=np.float32)[..., None]  # (batch, seq_len, 1)
    return (sequence * weights).sum(axis=1) / weights.sum(axis=1)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson02 import check_masked_mean

check_masked_mean(my_masked_mean)

# %% [markdown]
# **Exercise 2 — count the parameters.** Write `text_encoder_params(kind, vocab_size,
# embed_dim, units)` returning the number of parameters of
# `TextEncoder(vocab_size, embed_dim, units, kind=kind)` for `kind` in `"lstm"` and `"gru"`.
# Count the embedding table, then the recurrent layer: each gate has an input kernel
# (embed_dim × units), a recurrent kernel (units × units) and a bias. The LSTM has 4 such
# blocks; Keras' GRU has 3 and, because it applies the reset gate after the recurrent product
# (`reset_after=True`), *two* bias vectors per block.


# %% tags=["solution"]
# YOUR CODE HERE
def text_encoder_params(kind, vocab_size, embed_dim, units):
    embedding = vocab_size * embed_dim
    if kind == "lstm":
        return embedding + 4 * (embed_dim * units + units * units + units)
    return embedding + 3 * (embed_dim * units + units * units + 2 * units)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson02 import check_text_encoder_params

check_text_encoder_params(text_encoder_params)

# %% [markdown]
# **Exercise 3 — nearest words.** Write `most_similar(table, vocabulary, word, k=3)` that
# returns the `k` words (a list of strings, most similar first) whose embedding rows have the
# highest **cosine** similarity with `word`'s row, leaving out `word` itself. Try it on the
# trained GRU's table `after` (from section 3.2).


# %% tags=["solution"]
# YOUR CODE HERE
def most_similar(table, vocabulary, word, k=3):
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    scores = unit @ unit[vocabulary.index(word)]
    order = [i for i in np.argsort(-scores) if vocabulary[i] != word]
    return [vocabulary[i] for i in order[:k]]


# END OF YOUR CODE

print("closest to 'big'   :", most_similar(after, tokenizer.vocabulary, "big"))
print("closest to 'wooden':", most_similar(after, tokenizer.vocabulary, "wooden"))

# %%
from mmgen_lib.checks.lesson02 import check_most_similar

check_most_similar(most_similar, after, tokenizer.vocabulary)

# %% [markdown]
# ## Summary
#
# - An embedding is a table lookup $e_i = W[x_i]$ (= one-hot × $W$); its rows are learned.
# - Padding (id 0) is masked: a masked mean divides by the number of *real* tokens, a masked RNN
#   keeps its state over padded steps, self-attention gives padded keys no weight — so a
#   caption's vector does not depend on how much padding follows it.
# - The seed's $E_t$ (Embedding + LSTM) is `TextEncoder(kind="lstm")`; a GRU and a one-block
#   Transformer are drop-in alternatives, and all three read the five attributes perfectly.
# - Training made synonyms' embeddings nearly parallel; in the caption vectors' PCA view, size
#   separates cleanly, while each colour forms many small clusters rather than one group.
#
# **Next**: lesson 03 builds the image encoder $E_v$, a small CNN with residual blocks.
#
# **References**
# - Mikolov et al. (2013). *Efficient Estimation of Word Representations in Vector Space*. arXiv:1301.3781.
# - Hochreiter & Schmidhuber (1997). *Long Short-Term Memory*. Neural Computation 9(8).
# - Cho et al. (2014). *Learning Phrase Representations using RNN Encoder–Decoder for Statistical Machine Translation*. EMNLP.
# - Vaswani et al. (2017). *Attention Is All You Need*. NeurIPS.
