# %% [markdown]
# # 00 · Welcome to *Multimodal Generation, step by step*
#
# **Objectives**
# - check that your machine has everything the course needs (and see what to do if not);
# - see the map of the course: 17 lessons (00–16), from data to a multimodal studio and today's generators;
# - learn how a lesson works: build a piece, check it, train it, assert its result, exercise;
# - make your first results repeatable with one seed.
#
# **Prerequisites**: Python and NumPy; some Keras helps. No GPU, no account, no download.
#
# **Expected run time**: 5–10 s on a 2-core laptop CPU, kernel start included.
#
# **Builds**: `mmgen_lib.utils` (seeding, environment check, results reporting).

# %%
import keras
import matplotlib.pyplot as plt
import numpy as np

from mmgen_lib import data, viz
from mmgen_lib.utils import check_environment, report, set_seed

SEED = 0
set_seed(SEED)
viz.use_course_style()

# %% [markdown]
# ## 1. Is your environment ready?
#
# The course needs Python 3.11 and a handful of packages with versions inside known
# bounds (the same bounds as `pyproject.toml`). The table says what is installed and
# whether it fits. If a line says `MISSING` or `WRONG VERSION`, run the install step of
# the README again (`python -m pip install -e ".[dev]"`) from the course folder.

# %%
environment = check_environment()
for row in environment:
    status = "ok" if row["ok"] else ("MISSING" if row["version"] is None else "WRONG VERSION")
    print(f"{row['name']:<11} {str(row['version']):<10} needs {row['required']:<14} {status}")
environment_ok = all(row["ok"] for row in environment)
print("\nEverything is ready." if environment_ok else "\nSomething is missing: see the lines above.")

# %% [markdown]
# ## 2. What multimodal generation is, and the course map
#
# A *modality* is one kind of signal: text $x_t$, an image $x_v$, a sound $x_a$.
# Multimodal generation learns a function
#
# $$Y = f(X) = f(x_t, x_v, x_a)$$
#
# that reads several modalities and *produces* one of them: a caption from an image and a
# sound, an image from a caption. Following the article this course grows from, $f$ is
# built from an **encoder** per modality ($E_t, E_v, E_a$), a **fusion** of their
# representations, and a **joint decoder** $D$, trained with a **multimodal loss**.
#
# All lessons use one small synthetic world, **ShapesWorld**: one object per example, with
# a 32×32 picture, a 0.25 s tapping sound and captions. Some facts are only visible
# (colour), one only audible (material), so a model *needs* both to describe the object.
#
# | # | lesson | you build |
# |---|---|---|
# | 00 | Welcome (this one) | seeding, environment check, results |
# | 01 | Multimodal data: images, sounds, captions, spectrograms, `tf.data` | `data`, `tokenizer`, `pipeline` |
# | 02 | Text encoder: embedding, masking, LSTM/GRU, a small Transformer | `encoders`, `classifiers` |
# | 03 | Image encoder: convolutions, residual blocks | `encoders` |
# | 04 | Audio encoder: STFT, log-mel, convolutions over time and frequency | `encoders` |
# | 05 | Fusion: early, late, gated, tensor, cross-attention; unimodal vs fused | `fusion` |
# | 06 | Cross-modal matching: cosine similarity, contrastive dual encoder, retrieval | `losses`, `retrieval`, `dual_encoder` |
# | 07 | The multimodal loss $\alpha\mathcal{L}_{CE}+\beta\mathcal{L}_{cos}+\gamma\mathcal{L}_{MSE}$ | `losses` |
# | 08 | Joint decoder → text: captioning and question answering; greedy, beam, sampling | `decoders`, `generation` |
# | 09 | Joint decoder → image: caption to picture, scored by a probe | `decoders`, `image_losses`, `probe` |
# | 10 | Multimodal autoencoder: any subset of modalities in, any modality out | `vae` |
# | 11 | The article's model, debugged | (none: it uses `data` and `tokenizer`) |
# | 12 | Evaluation and robustness: missing and noisy modalities, adversarial examples | `robustness` |
# | 13 | Studio and scale: widgets playground, your own data, `tf.distribute` | `widgets`, `own_data`, `training` |
# | 14 | Flow matching and latent diffusion: caption → image, samples not the mean | `flow`, `scoreboard` |
# | 15 | Tokenizers for images and sound: VQ-VAE, straight-through, codebook usage | `tokens` |
# | 16 | One transformer, any modality to any modality: one vocabulary, mixed orders, key/value cache | `unified` |
#
# Lessons 00–13 are Part I, the article's concepts; lessons 14–16 are Part II, how multimodal
# generation is done today (flows in a latent space; tokens for every modality, and one transformer
# that writes them all).
# Each lesson runs on its own, in any order, in a minute and a half at most on a laptop CPU (its header
# gives the time the course benchmark measured; the goal is 45 s, and several are still above it).

# %% [markdown]
# **The article behind the course.** This course grows from a Chinese article,
# *多模态生成(Multimodal Generation) - 原理与代码实例讲解* ("Multimodal Generation: principles and
# code examples"); lessons 00–13 follow its concepts. Its code (§5.2) does not run as published:
# lesson 11 runs it cell by cell, explains each error and fixes it.
# [`docs/article_map.md`](../docs/article_map.md) maps every section of the article to the lessons
# and says what the course corrects. The course also exists in Chinese, 《多模态生成：循序渐进》:
# the same notebooks with Chinese text in [`lessons/zh/`](zh/00_welcome.ipynb), and a Chinese
# README, [`README.zh.md`](../README.zh.md).

# %% [markdown]
# ## 3. How a lesson works
#
# Every lesson follows the same template:
#
# 1. **Header**: objectives, prerequisites, run time, the library module it builds.
# 2. **Setup**: one cell with imports, the lesson's settings in `UPPER_CASE` (raise them if
#    you have a GPU) and `set_seed(SEED)`.
# 3. **Intuition and math**: the idea, the formula, a table of tensor shapes.
# 4. **Build it**: a piece written from primitives, followed by a *check* against the
#    tested version in `mmgen_lib`. From then on the lesson uses the library version.
# 5. **Train and assert**: a small model trained on ShapesWorld, plots, and one cell that
#    `assert`s the lesson's quality bar on the *test* split — if a change breaks the lesson,
#    the test suite fails right there — then `report(...)` shows the figures.
# 6. **Exercises**: your code goes between `# YOUR CODE HERE` and `# END OF YOUR CODE`;
#    the cell after it checks your answer and says what is wrong if it is not right yet.
# 7. **Summary and references**.

# %% [markdown]
# ## 4. One seed, same results
#
# Neural networks start from random weights and see the data in a random order. Seeding
# every random generator (Python, NumPy, TensorFlow, Keras) makes a run repeatable on one
# machine. `set_seed` does all four in one call; every lesson calls it in its setup cell.

# %%
# NBVAL_CHECK_OUTPUT
set_seed(42)
first = keras.random.uniform((4,)).numpy()
set_seed(42)
second = keras.random.uniform((4,)).numpy()
print("first draw :", np.round(first, 4))
print("second draw:", np.round(second, 4))
print("identical  :", np.array_equal(first, second))

# %% [markdown]
# ## 5. A first look at ShapesWorld
#
# Eight test examples with their captions. Lesson 01 looks at every modality in detail.

# %%
test = data.load_split("test")
fig = viz.show_images(
    test.images[:8], titles=test.captions[:8], ncols=4, size=2.0, title="ShapesWorld test examples and their captions"
)
plt.show()

# %% [markdown]
# ## 6. Asserted result
#
# Lesson 00's "result" is a working environment and a repeatable seed.

# %%
assert environment_ok, "the environment check failed: see section 1"
assert np.array_equal(first, second), "set_seed did not make keras.random repeatable"
report("00_welcome", {"environment_ok": int(environment_ok), "packages_checked": len(environment)})

# %% [markdown]
# ## 7. Exercises
#
# **Exercise 1.** Write `seeded_draw(seed)` that returns 3 uniform random numbers in
# $[0, 1)$, the *same* three for the same seed and different ones for another seed.


# %% tags=["solution"]
# YOUR CODE HERE
def seeded_draw(seed):
    set_seed(seed)
    return keras.random.uniform((3,)).numpy()


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson00 import check_seeded_draw

check_seeded_draw(seeded_draw)

# %% [markdown]
# **Exercise 2.** What fraction of the test split is made of metal? Write
# `metal_fraction(materials)` that takes an array of integer material labels, such as
# `test.label("material")`, and returns the fraction of them that are metal (the label names
# are in `data.ATTRIBUTES["material"]`). The check calls it on the test split and on label
# arrays you have not seen, so compute the number; do not type it in.


# %% tags=["solution"]
# YOUR CODE HERE
def metal_fraction(materials):
    metal_index = data.ATTRIBUTES["material"].index("metal")
    return float(np.mean(np.asarray(materials) == metal_index))


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson00 import check_metal_fraction

check_metal_fraction(metal_fraction, test)

# %% [markdown]
# ## Summary
#
# - Your environment is checked; `set_seed` makes every run repeatable.
# - The course builds $Y = f(x_t, x_v, x_a)$ from encoders, fusion, a joint decoder and a
#   multimodal loss, on ShapesWorld, where image and sound carry different facts.
# - Each lesson builds a piece, checks it, trains it and asserts its result.
#
# **Next**: lesson 01 opens ShapesWorld: pixels, waveforms, spectrograms, tokens and `tf.data`.
#
# **References**
# - Baltrušaitis, Ahuja, Morency (2019). *Multimodal Machine Learning: A Survey and Taxonomy*. IEEE TPAMI.
# - Vinyals et al. (2015). *Show and Tell: A Neural Image Caption Generator*. CVPR.
# - Radford et al. (2021). *Learning Transferable Visual Models From Natural Language Supervision* (CLIP). ICML.
