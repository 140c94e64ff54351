# %% [markdown]
# # 13 · Studio and scale: a playground, your own data, and `tf.distribute`
#
# **Objectives**
# - put two generators into an interactive **studio** (ipywidgets): caption → image (the
#   course's best caption → image decoder, shipped), and image + sound → caption with
#   temperature and beam-width sliders; score generated images by silhouette IoU, not only the probe;
# - load **your own data** (a folder or CSV of images, captions and optional WAV files) into
#   the same pipeline and train a captioner on it;
# - understand **synchronous data parallelism** and train the same model under
#   `MirroredStrategy` on two logical CPU devices, as you would on two GPUs;
# - run the same training in **two worker processes** under `MultiWorkerMirroredStrategy`
#   (`TF_CONFIG` on localhost) and check it against one process;
# - know what changes on GPUs, TPUs and several machines.
#
# **Prerequisites**: lessons 08 (captioning, decoding strategies), 09 (caption → image) and 12
# (missing modalities, `ModalityDropout`).
#
# **Expected run time**: 25–55 s on a 2-core laptop CPU, kernel start included (45 s or less in the course benchmark; the upper end is that machine's slower state; the two worker processes of section 6.1 add about 7–10 s).
#
# **Builds**: `mmgen_lib.widgets` (the studio), `mmgen_lib.own_data` (your data),
# `mmgen_lib.training` (`train_model` with a strategy), `mmgen_lib.multi_worker`; uses
# `mmgen_lib.caption_to_image` (lesson 09's decoder) and `mmgen_lib.captioners` (lesson 12's
# captioner), both trained once and shipped.

# %%
from mmgen_lib.training import configure_cpu_devices, global_batch_size, make_strategy, train_model

DEVICES = configure_cpu_devices(2)  # first, before any TensorFlow operation: 2 logical CPUs

from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from IPython.display import Audio, display  # noqa: E402
from keras import layers  # noqa: E402

from mmgen_lib import data, pretrained, viz, widgets  # noqa: E402
from mmgen_lib.caption_to_image import load_caption_to_image  # noqa: E402
from mmgen_lib.captioners import load_captioner  # noqa: E402
from mmgen_lib.classifiers import attribute_accuracy, predict_in_batches  # noqa: E402
from mmgen_lib.decoders import TextDecoder  # noqa: E402
from mmgen_lib.encoders import AudioEncoder, ImageEncoder  # noqa: E402
from mmgen_lib.generation import beam_search, greedy_decode, sample  # noqa: E402
from mmgen_lib.metrics import caption_attribute_accuracy  # noqa: E402
from mmgen_lib.own_data import load_own_data, read_image  # noqa: E402
from mmgen_lib.pipeline import log_mel_spectrogram, make_dataset, split_arrays  # noqa: E402
from mmgen_lib.probe import load_probe, probe_accuracy  # noqa: E402
from mmgen_lib.progress import ProgressLine  # noqa: E402
from mmgen_lib.robustness import ModalityDropout  # noqa: E402
from mmgen_lib.scoreboard import silhouette_iou_by_shape  # noqa: E402
from mmgen_lib.tokenizer import shapesworld_tokenizer  # noqa: E402
from mmgen_lib.utils import repo_root, report, set_seed  # noqa: E402

SEED = 0
# Silhouette IoU per shape of lesson 09's caption -> image decoder (its scoreboard row, sound off).
LESSON_09_SILHOUETTE_IOU = {"circle": 0.921, "square": 0.926, "triangle": 0.841}
OWN_EPOCHS, OWN_BATCH = 20, 16  # the captioner on your own (tiny) data set
OWN_DATA = repo_root() / "tests" / "fixtures" / "own_data"

tf.get_logger().setLevel("ERROR")  # MirroredStrategy logs every all-reduce at INFO level
set_seed(SEED)
viz.use_course_style()
train_split, test_split = data.load_split("train"), data.load_split("test")
tokenizer = shapesworld_tokenizer(train_split)
train, test = split_arrays(train_split, tokenizer), split_arrays(test_split, tokenizer)
CAPTION_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
print("logical CPU devices:", DEVICES)

# %% [markdown]
# ## 1. From lessons to applications
#
# Section 3.4 of the seed article lists where multimodal generation is used: assistants that
# answer from what they see and hear, content creation, design aids, and (section 6) customer
# service systems that read text, images and sound together, and recommendation systems. Each is the
# same machine as ours, $Y = f(x_t, x_v, x_a)$, behind an interface, trained on *its own* data,
# and trained at a scale one CPU cannot reach. This lesson takes those three steps in miniature.
#
# **Scaling out: synchronous data parallelism.** Section 3.3 names the weak spot: multimodal
# models are expensive to train. `MirroredStrategy` keeps one copy (a *replica*) of the model
# on each of $N$ devices. Every step, the global batch of $B$ examples is split into $N$ shards;
# replica $i$ computes the gradient $g_i$ of the mean loss on its $B/N$ examples; an
# **all-reduce** averages them, and every replica applies the same update:
#
# $$g = \frac{1}{N} \sum_{i=1}^{N} g_i = \nabla_\theta \frac{1}{B} \sum_{j=1}^{B} \mathcal{L}(x_j, y_j;\theta).$$
#
# So training under the strategy computes the *same* updates as one device with the global
# batch, $N$ times faster at best.
#
# | tensor | shape |
# |---|---|
# | your image, any size → resized | (h, w, 3) → (32, 32, 3) |
# | your WAV, any rate → 8 kHz, cut or padded | (samples,) → (2000,) |
# | your caption → fitted vocabulary ids | (16,) |
# | global batch → per-replica shard | (B, ...) → (B / N, ...) |
# | gradient per replica, after all-reduce | same shapes as the weights |

# %% [markdown]
# ## 2. Build it
#
# ### 2.1 Reading your image, from primitives
#
# `read_image` decodes a file (PNG, JPEG, GIF, BMP), keeps three channels, converts to floats
# in $[0, 1]$ and resizes with antialiasing. By hand, with TensorFlow's ops:

# %%
# NBVAL_CHECK_OUTPUT
path = OWN_DATA / "boat_night_2.png"
raw = tf.io.decode_png(tf.io.read_file(str(path)), channels=3)  # (height, width, 3) uint8
by_hand = tf.image.resize(tf.cast(raw, tf.float32) / 255.0, (32, 32), antialias=True).numpy()
np.testing.assert_allclose(read_image(path), np.clip(by_hand, 0, 1), atol=1e-6)
print(f"{path.name}: {tuple(raw.shape)} uint8 -> {by_hand.shape} float32 in [0, 1]; matches read_image")

# %% [markdown]
# ### 2.2 Data parallelism, from primitives
#
# The gradient of the mean loss over a batch equals the mean of the gradients over two equal
# halves: what two replicas compute and the all-reduce averages.

# %%
# NBVAL_CHECK_OUTPUT
set_seed(SEED)
toy = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(1)])
x_toy = np.random.default_rng(SEED).normal(size=(8, 4)).astype("float32")
y_toy = x_toy.sum(axis=1, keepdims=True)


def gradients(model, x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    return tape.gradient(loss, model.trainable_weights)


full = gradients(toy, x_toy, y_toy)
replicas = [gradients(toy, x_toy[:4], y_toy[:4]), gradients(toy, x_toy[4:], y_toy[4:])]  # 2 shards of 4
all_reduced = [(a + b) / 2 for a, b in zip(*replicas)]
for g_full, g_mean in zip(full, all_reduced):
    np.testing.assert_allclose(g_full, g_mean, atol=1e-6)
print("mean of the 2 replicas' gradients == full-batch gradient for all", len(full), "weight tensors")

# %% [markdown]
# ## 3. The studio's two generators
#
# **Image + sound → caption**: lesson 12's fused captioner: the image and audio encoders of
# lessons 03–04, trained once as classifiers and shipped with the course (`mmgen_lib.pretrained`),
# frozen; a `TextDecoder` on their standardised features. Lesson 12 trains its first epoch again
# and checks it against the shipped run; the studio loads it as shipped (`mmgen_lib.captioners`).

# %%
image_model = pretrained.load_image_classifier()  # E_v + heads for the four visible attributes
E_v, E_a = image_model.get_layer("E_v"), pretrained.load_audio_classifier().get_layer("E_a")
standardize, text_decoder = load_captioner("fused")  # standardised (n, 128) features -> caption ids


@dataclass(frozen=True)
class StudioCaptioner:
    """What the studio needs to caption an image and a sound: the frozen encoders, the standardiser, the decoder."""

    image_encoder: keras.layers.Layer
    audio_encoder: keras.layers.Layer
    standardize: keras.layers.Layer
    decoder: TextDecoder


def caption_context(parts, images, audio):
    """Standardised [E_v(x_v); E_a(x_a)] (n, 128) for images (n, 32, 32, 3) and waveforms (n, 2000)."""
    spectrograms = log_mel_spectrogram(np.asarray(audio, "float32")).numpy()  # (n, 28, 40)
    features = [
        predict_in_batches(parts.image_encoder, np.asarray(images, "float32")),
        predict_in_batches(parts.audio_encoder, spectrograms),
    ]
    return parts.standardize(np.concatenate(features, axis=1))


studio_parts = StudioCaptioner(E_v, E_a, standardize, text_decoder)
test_captions = [
    tokenizer.decode(row)
    for row in greedy_decode(text_decoder, caption_context(studio_parts, test["image"], test["audio"]))
]
caption_accuracy = caption_attribute_accuracy(test_captions, test_split.labels)
image_head_accuracy = attribute_accuracy(predict_in_batches(image_model, test["image"]), test)
print("captioner, test attribute accuracy:", {k: round(v, 3) for k, v in caption_accuracy.items()})
print("its image encoder's own heads     :", {k: round(v, 3) for k, v in image_head_accuracy.items()})

# %% [markdown]
# The mean can hide a weak spot, so the asserted results report the **minimum** over the five
# attributes too. The second line says where a weak spot would come from: the captioner can
# only say what its frozen features hold, so an attribute the image encoder's own head reads
# badly is one the captions get wrong. Of the four visible ones, shape is the one a small
# convolutional encoder learns last: color is in every lit pixel, size and position in how
# many pixels are lit and where, but telling a circle from a square or a triangle needs the
# *outline*, a handful of edge pixels on a small object. An encoder trained for too few
# epochs shows it first in its shape head, and its captions follow.

# %% [markdown]
# **Caption → image**: lesson 09's caption (+ sound) → image decoder — its text and sound encoders,
# the compositing `ImageDecoder` and the shift-tolerant loss, trained with the attribute heads on
# $z_t$ — trained by lesson 09's recipe, in lesson 09's order and with its seed, so that its
# weights are the ones lesson 09 trains. It was trained once and shipped with the course
# (`mmgen_lib.caption_to_image`; rebuild it with
# `python -m mmgen_lib.caption_to_image --out data/caption_to_image --force`, about half a minute),
# and draws from the caption alone, with the sound switched off as lesson 09 does for its
# caption-only images. Its images are scored twice on the test captions: by lesson 09's attribute probe, and by
# the stricter **silhouette IoU** of lesson 14 (the overlap with the object ShapesWorld's own
# renderer draws for the same attributes, best over the ±2 px jitter), per shape: the probe can
# read a rounded square as a circle, the IoU cannot.

# %%
text_to_image_model = load_caption_to_image()  # (n, 16) caption ids -> (n, 32, 32, 3) images
generated = predict_in_batches(text_to_image_model, test["caption_ids"])  # one image per test caption
probe_scores = probe_accuracy(load_probe(), generated, test_split.labels)
studio_iou = silhouette_iou_by_shape(generated, test_split.labels)  # mean IoU of each shape's images
print("caption -> image, probe accuracy on test captions:", {k: round(v, 3) for k, v in probe_scores.items()})
print("silhouette IoU per shape:", {k: round(v, 3) for k, v in studio_iou.items()})
print("lesson 09's decoder      :", LESSON_09_SILHOUETTE_IOU)

# %% [markdown]
# ## 4. The studio
#
# The widgets take the models as two plain functions. Each returns what the panel shows:
# images for a caption; a caption for an image, a sound, a temperature and a beam width
# (temperature 0 decodes with beam search of that width; above 0 it samples, with the
# temperature scaling the logits as in lesson 08). Our caption → image model is deterministic
# (one caption, one image); to fill the panel's row of four, the copies are shifted by up to
# ±2 pixels, the same jitter ShapesWorld's own images have.
#
# Type a caption or compose one: the drop-downs start from the caption shown and follow a typed
# caption that names all five attributes. The callbacks run in this notebook's kernel, so they
# wait while the kernel is busy: during *Run All*, moving a slider or typing a caption changes
# nothing until the last cell has finished.


# %%
def make_text_to_image(model, tokenizer):
    """The panel's callback (caption, num_images, seed) -> images, for a caption-ids -> image model."""

    def text_to_image(caption, num_images, seed):
        ids = tokenizer.encode_batch([caption], 16)  # (1, 16)
        images = predict_in_batches(model, ids)  # (1, 32, 32, 3): deterministic
        if num_images == 1:
            return images
        jitter = np.random.default_rng(seed).integers(-2, 3, size=(num_images - 1, 2))  # like ShapesWorld's
        return np.concatenate([images, *[np.roll(images, tuple(shift), axis=(1, 2)) for shift in jitter]])

    return text_to_image


def make_captioner(parts, tokenizer):
    """The panel's callback (image, audio, temperature, beam_width) -> caption."""

    def captioner(image, audio, temperature, beam_width):
        context = caption_context(parts, image[None], audio[None])  # (1, 128)
        if temperature > 0:
            ids = sample(parts.decoder, context, temperature=temperature, seed=0)
        else:
            ids = beam_search(parts.decoder, context, beam_width=beam_width)
        return tokenizer.decode(ids[0])

    return captioner


text_to_image, captioner = make_text_to_image(text_to_image_model, tokenizer), make_captioner(studio_parts, tokenizer)


studio = widgets.studio(text_to_image, captioner, test["image"][:20], test["audio"][:20])
display(studio)

# %% [markdown]
# In a live notebook (JupyterLab, Jupyter Notebook, VS Code) the tabs above are interactive.
# A static page (GitHub, the course site) cannot run widgets, so here are the same callbacks
# called directly. **Type or compose a caption → images**:

# %%
composed = widgets.compose_caption("triangle", "blue", "large", "left", "metal")
for caption_text in ("a small yellow circle at the top, made of glass", composed):
    images = widgets.generate_images(text_to_image, caption_text, num_images=4, seed=1)
    fig = viz.show_images(images, ncols=4, size=1.4, title=caption_text)
    plt.show()

# %% [markdown]
# **Pick an image and a sound → caption.** The first pair belongs together; the second takes
# the image of example 0 with the sound of another example made of another material. The
# caption follows the image for what is visible and the **sound** for the material.

# %%
other = int(np.flatnonzero(test["material"] != test["material"][0])[0])
fig = viz.show_images(
    test["image"][[0, other]],
    titles=["image 0", f"image {other} (its sound is used)"],
    ncols=2,
    size=1.6,
    title="The two examples",
)
plt.show()
display(Audio(test["audio"][other], rate=data.SAMPLE_RATE))
for image_index, sound_index in ((0, 0), (0, other)):
    for temperature, beam_width in ((0.0, 1), (0.0, 3), (1.0, 1)):
        text = widgets.describe(
            captioner, test["image"][image_index], test["audio"][sound_index], temperature, beam_width
        )
        print(f"image {image_index:>2}, sound {sound_index:>2}, T={temperature}, beam {beam_width}: {text}")

# %% [markdown]
# ## 5. Your own data
#
# `load_own_data` reads a folder (with `captions.csv`, or `name.png` + `name.txt` [+ `name.wav`]
# files) or a CSV file with columns `image,caption[,audio]`. The course ships a tiny example:
# 36 drawings (a house, a tree or a boat, by day or at night), in PNGs of different sizes,
# captions in two phrasings, and a 16 kHz WAV (birdsong by day, crickets at night) for half
# of them. Problems come back as errors that name the file: try a missing file or an empty
# caption in the exercises.

# %%
# NBVAL_CHECK_OUTPUT
own = load_own_data(OWN_DATA)
own_arrays = own.arrays()
print(f"{len(own)} examples, {int(own.has_audio.sum())} with a sound; vocabulary of {own.tokenizer.vocab_size}:")
print(own.tokenizer.vocabulary[4:])
picks = [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33]
fig = viz.show_images(
    own.images[picks],
    titles=[own.captions[i] for i in picks],
    ncols=6,
    size=1.5,
    title="Your data, resized to 32x32: one example per scene and phrasing",
)
plt.show()

# %% [markdown]
# Variants 0–3 of each scene train, variants 4–5 (never seen) test. The captioner sees the
# image and, where there is one, the sound; a missing sound gets the learned stand-in of lesson
# 12 (`ModalityDropout` with `modality_mask` = [1, has_audio]). The held-out examples have no
# sound, and only 6 training examples lack one, so, as lesson 12 taught, we let the model
# practise without the sound: every training example appears twice, once with its sound and
# once with the sound masked out (modality dropout made deterministic, so that section 6 can
# compare two training runs exactly). One pass over them is only a few batches, so the dataset
# is repeated and `steps_per_epoch` says how many batches make an epoch (section 6 says why).

# %%
variant = np.array([int(source.rsplit("_", 1)[1].split(".")[0]) for source in own.sources])
own_train, own_test = np.flatnonzero(variant < 4), np.flatnonzero(variant >= 4)
own_arrays["present"] = np.stack([np.ones(len(own)), own.has_audio], axis=1).astype("float32")  # (36, 2)
own_arrays["input_ids"], own_arrays["target_ids"] = own.caption_ids[:, :-1], own.caption_ids[:, 1:]
OWN_INPUTS = ("image", "spectrogram", "present", "input_ids")


def build_own_captioner(vocab_size, seed):
    keras.utils.set_random_seed(seed)  # same initial weights under every strategy
    image_in, spec_in = keras.Input((32, 32, 3), name="image"), keras.Input((28, 40), name="spectrogram")
    present_in, ids_in = keras.Input((2,), name="present"), keras.Input((None,), dtype="int32", name="input_ids")
    z_v = ImageEncoder(filters=(8, 16, 16), output_dim=32)(image_in)
    z_a = AudioEncoder(filters=(8, 16), output_dim=32)(spec_in)
    z_v, z_a = ModalityDropout(missing="learned")([z_v, z_a], modality_mask=present_in)
    context = layers.Concatenate()([z_v, z_a])  # (batch, 64)
    encoder = keras.Model({"image": image_in, "spectrogram": spec_in, "present": present_in}, context, name="encoder")
    decoder = TextDecoder(vocab_size, embed_dim=16, units=64, name="decoder")
    context_in = encoder({"image": image_in, "spectrogram": spec_in, "present": present_in})
    model = keras.Model(
        {"image": image_in, "spectrogram": spec_in, "present": present_in, "input_ids": ids_in},
        decoder([context_in, ids_in]),
    )
    model.compile(keras.optimizers.Adam(3e-3), loss=CAPTION_CE)
    model.optimizer.build(model.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
    return model


def own_dataset(arrays, indices, batch_size):
    """Each example twice, the second time with its sound masked out; batches of (inputs, target ids)."""
    subset = {name: arrays[name][np.concatenate([indices, indices])] for name in (*OWN_INPUTS, "target_ids")}
    subset["present"][len(indices) :, 1] = 0.0  # the second copy: sound masked out
    dataset = make_dataset(subset, inputs=OWN_INPUTS, targets=("target_ids",), batch_size=batch_size)
    return dataset.map(lambda inputs, targets: (inputs, targets["target_ids"]))  # the model has one output


def scene(caption):
    """(object, time of day) named by a caption of the example data set."""
    words = set(caption.split())
    thing = next((w for w in ("house", "tree", "boat") if w in words), None)
    time = "day" if words & {"day", "blue"} else "night" if words & {"night", "dark"} else None
    return thing, time


def own_scene_accuracy(model, dataset, arrays, indices):
    """Share of the examples `indices` whose generated caption names the right scene; and the captions."""
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    context = encoder({name: arrays[name][indices] for name in ("image", "spectrogram", "present")})
    captions = [dataset.tokenizer.decode(row) for row in greedy_decode(decoder, context)]
    hits = [scene(c) == scene(dataset.captions[i]) for c, i in zip(captions, indices)]
    return float(np.mean(hits)), captions


build_own = partial(build_own_captioner, own.tokenizer.vocab_size, SEED)
own_steps = -(-2 * len(own_train) // OWN_BATCH)  # batches in one pass over the (doubled) training examples
own_model, own_history = train_model(
    build_own,
    own_dataset(own_arrays, own_train, OWN_BATCH).repeat(),
    epochs=OWN_EPOCHS,
    steps_per_epoch=own_steps,
    callbacks=[ProgressLine("captioner on your data", per_epoch=False)],
)
own_accuracy, own_captions = own_scene_accuracy(own_model, own, own_arrays, own_test)
print(f"held-out scenes named correctly: {own_accuracy:.3f} ({len(own_test)} examples)")
for i, text in list(zip(own_test, own_captions))[:4]:
    print(f"  {own.captions[i]!r:<34} -> {text!r}")

# %% [markdown]
# ## 6. Scaling out: the same model under `MirroredStrategy`
#
# The setup cell split the CPU into two logical devices. `make_strategy("mirrored")` puts one
# replica on each; `train_model` calls the build function inside `strategy.scope()`, so the
# weights and the optimizer's slots are created as *mirrored* variables. The dataset's batch
# is the global one: `global_batch_size(8, strategy)` = 16 gives each replica 8 examples.
# As in section 5, the dataset is repeated and `steps_per_epoch` marks where an epoch ends:
# Keras then keeps one (distributed) iterator for the whole run instead of building a new one
# for every epoch, which under a strategy costs time and logs a line each time.

# %%
strategy = make_strategy("mirrored")
global_batch = global_batch_size(OWN_BATCH // strategy.num_replicas_in_sync, strategy)
mirrored_model, mirrored_history = train_model(
    build_own,
    own_dataset(own_arrays, own_train, global_batch).repeat(),
    epochs=OWN_EPOCHS,
    strategy=strategy,
    steps_per_epoch=own_steps,
    callbacks=[ProgressLine("the same, under MirroredStrategy", per_epoch=False)],
)
mirrored_accuracy, _ = own_scene_accuracy(mirrored_model, own, own_arrays, own_test)
variable_type = type(mirrored_model.trainable_weights[0].value).__name__
loss_gap = float(
    np.max(np.abs(np.array(own_history.history["loss"][:10]) - np.array(mirrored_history.history["loss"][:10])))
)
print(
    f"{strategy.num_replicas_in_sync} replicas on {list(strategy.extended.worker_devices)}; "
    f"global batch {global_batch}; weights are {variable_type}s"
)
print(f"largest loss difference with one device over the first 10 epochs: {loss_gap:.1e}")
print(f"held-out scenes named correctly by the mirrored model: {mirrored_accuracy:.3f}")

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.2))
ax.plot(own_history.history["loss"], label="one device")
ax.plot(mirrored_history.history["loss"], linestyle="--", label="MirroredStrategy, 2 replicas")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.set_title("Same model, same data, same updates")
ax.legend()
plt.show()

# %% [markdown]
# The curves coincide: the same updates, up to floating-point rounding (the all-reduce adds in
# another order, and tiny differences grow over many steps). On two logical CPUs it is *slower*
# (they share the same two cores, and every step pays for the copying), which is the point of a
# rehearsal: the code is ready for real devices.

# %% [markdown]
# ### 6.1 Several processes: `MultiWorkerMirroredStrategy`
#
# `MirroredStrategy` keeps its replicas inside one process. Across machines, every machine runs
# the *same program* as one **worker** process, and `tf.distribute.MultiWorkerMirroredStrategy()`
# joins them. Each worker learns the cluster and its own place in it from the `TF_CONFIG`
# environment variable: the same list of addresses everywhere, a different `index` on each.
# Worker 0 is the **chief**, the one that writes checkpoints and logs:
#
# ```
# TF_CONFIG={"cluster": {"worker": ["host0:port", "host1:port"]}, "task": {"type": "worker", "index": 1}}
# ```
#
# The strategy starts a gRPC server in every worker; after every step, *collective ops*
# all-reduce the gradients across the processes, over the network between machines. The
# input is **sharded**: each worker reads the same global batches and keeps its own share of
# each, so the updates are those of one process on the global batch, as with `MirroredStrategy`.
#
# `mmgen_lib.multi_worker.run_workers` rehearses this on localhost: it picks free ports, writes
# each worker's `TF_CONFIG`, starts two Python processes (`python -m mmgen_lib.multi_worker
# worker`, the command each machine of a cluster would run) and collects their losses. A
# subprocess can only build a model that lives in a module, not one defined in this notebook,
# so the workers train the library's small Dense classifier: a clip's spectrogram → its
# material (the sound tells). They train it with a short `strategy.run` loop (`train_losses`)
# rather than `fit`, which, with this course's Keras and TensorFlow versions, stops with an
# error under this strategy. The same `train_losses` in this process, with no strategy, is
# the reference.

# %%
from mmgen_lib.multi_worker import LOSS_TOLERANCE, Recipe, run_workers, train_losses

spectra = train["spectrogram"][:512].reshape(512, -1)  # (512, 28 * 40): log-mel spectrograms, flattened
mw_x, mw_y = (spectra - spectra.mean(axis=0)) / (spectra.std(axis=0) + 1e-6), train["material"][:512]
recipe = Recipe()
one_process = train_losses(mw_x, mw_y, recipe)  # this process, the default strategy
two_workers = run_workers(mw_x, mw_y, recipe, workers=2)  # two processes on localhost, one TF_CONFIG each
differences = np.array(two_workers.losses) - np.array(one_process)  # (2 workers, epochs) - (epochs,)
multi_worker_gap = float(np.max(np.abs(differences)))
print(recipe)
print(f"{two_workers.workers} workers at {list(two_workers.addresses)}; {two_workers.replicas} replicas in sync")
print("epoch  one process  worker 0 (chief)  worker 1")
for epoch, (single, chief, other) in enumerate(zip(one_process, *two_workers.losses), start=1):
    print(f"{epoch:>5}  {single:11.6f}  {chief:16.6f}  {other:8.6f}")
print(f"largest loss difference with one process: {multi_worker_gap:.1e} (tolerance {LOSS_TOLERANCE:.0e})")
print(
    f"wall time {two_workers.seconds:.1f} s: {two_workers.startup_seconds:.1f} s until both workers had "
    f"imported TensorFlow and created the strategy, then at most {two_workers.train_seconds:.1f} s of training"
)

# %% [markdown]
# Both workers print the same losses: each reports the loss of the whole global batch, reduced
# across the workers. They match the single process up to rounding: the tolerance printed above
# sits far above float32 rounding and far below what a sharding mistake causes (a worker that
# steps on its own half-batch trains like a run with half the global batch; see
# `tests/test_multi_worker.py`). The wall time is mostly start-up: two fresh processes each
# import TensorFlow and connect before the first step.
#
# **What changes on real hardware**
# - **Several GPUs, one machine**: the same `make_strategy("mirrored")` finds the GPUs; the
#   all-reduce uses NCCL. Scale the global batch with the number of replicas
#   (`global_batch_size`), and often the learning rate with it (linear scaling, with warm-up).
# - **TPU**: `tf.distribute.TPUStrategy(resolver)` after connecting to the TPU cluster; inputs
#   should have static shapes (`drop_remainder=True`), and bigger batches pay off.
# - **Several machines**: what `run_workers` did on localhost, with one worker per machine: each
#   machine gets its own `TF_CONFIG` (real host names, ports open between the machines) and
#   starts the same program. Data and checkpoints live on a **shared filesystem** or bucket that
#   every worker reads; the chief writes the checkpoints, and a restarted job resumes from them.
#   With files, sharding can hand each worker its own files (`AutoShardPolicy.FILE`). A worker
#   with GPUs holds one replica per GPU; TPU pods use `TPUStrategy` instead.
# - **At scale** few people write `TF_CONFIG` by hand: a cluster manager (Kubeflow's `TFJob` on
#   Kubernetes) or a managed training service (such as Vertex AI) sets it on every machine.
#   Newer code often uses Keras 3's own distribution API (`keras.distribution.DataParallel`,
#   `ModelParallel`; its guide is written for the JAX backend) or another engine (PyTorch's
#   `torchrun` with DDP or FSDP). The idea stays the one of this section: replicas, a sharded
#   global batch, an all-reduce per step.
# - In every case the model code stays the same: build and compile inside `strategy.scope()`,
#   which is exactly what `train_model(build_fn, data, strategy=...)` does.

# %% [markdown]
# ## 7. Asserted results (test data)

# %%
caption_accuracy_min = min(caption_accuracy[name] for name in data.ATTRIBUTE_NAMES)
assert caption_accuracy["mean"] >= 0.95, f"studio captioner: {caption_accuracy}"
assert caption_accuracy_min >= 0.75, f"studio captioner, weakest attribute: {caption_accuracy}"
assert min(probe_scores.values()) >= 0.95, f"caption -> image probe accuracy: {probe_scores}"
for shape, level in LESSON_09_SILHOUETTE_IOU.items():  # at least lesson 09's level, as its scoreboard prints it
    assert round(studio_iou[shape], 3) >= level, f"{shape}: silhouette IoU {studio_iou[shape]:.3f}, lesson 09 {level}"
assert own_accuracy >= 0.9, f"the own-data captioner should name held-out scenes: {own_accuracy:.3f}"
assert strategy.num_replicas_in_sync == 2 and variable_type == "MirroredVariable"
assert mirrored_history.history["loss"][-1] < 0.2 * mirrored_history.history["loss"][0], "mirrored training learns"
assert loss_gap < 1e-3, f"one device and two replicas should train alike: {loss_gap:.2e}"
assert two_workers.workers == 2 and two_workers.replicas == 2, "two worker processes, one replica each"
assert one_process[-1] < 0.5 * one_process[0], f"the classifier of section 6.1 learns: {one_process}"
assert multi_worker_gap < LOSS_TOLERANCE, f"two workers and one process should train alike: {multi_worker_gap:.2e}"
report(
    "13_studio",
    {
        "studio_caption_acc_mean": caption_accuracy["mean"],
        "studio_caption_acc_min": caption_accuracy_min,
        "studio_text_to_image_probe_min": min(probe_scores.values()),
        **{f"studio_silhouette_iou_{shape}": iou for shape, iou in studio_iou.items()},
        "own_data_examples": len(own),
        "own_data_heldout_scene_acc": own_accuracy,
        "mirrored_replicas": strategy.num_replicas_in_sync,
        "mirrored_heldout_scene_acc": mirrored_accuracy,
        "mirrored_loss_gap_first_10_epochs": loss_gap,
        "multi_worker_workers": two_workers.workers,
        "multi_worker_loss_gap": multi_worker_gap,
    },
)

# %% [markdown]
# ## 8. Exercises
#
# **Exercise 1.** Make a data set of your own: write a function `make_folder(folder)` that
# saves two images of your choice (any size, e.g. `np.zeros((20, 30, 3), np.uint8)` made red,
# written with `tf.io.encode_png`) as `a.png` and `b.png`, and a caption for each in `a.txt`
# and `b.txt`, then returns `load_own_data(folder)`.


# %% tags=["solution"]
# YOUR CODE HERE
def make_folder(folder):
    for name, color, caption_text in (("a", (255, 0, 0), "a red square"), ("b", (0, 0, 255), "a blue square")):
        image = np.zeros((20, 30, 3), np.uint8) + np.array(color, np.uint8)
        (folder / f"{name}.png").write_bytes(tf.io.encode_png(image).numpy())
        (folder / f"{name}.txt").write_text(caption_text)
    return load_own_data(folder)


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson13 import check_own_folder

check_own_folder(make_folder)

# %% [markdown]
# **Exercise 2.** Data parallelism by hand. Write `replica_gradients(model, x, y, n_replicas)`:
# split the batch into `n_replicas` equal shards, compute on each shard the gradient of the
# mean squared error `mean((model(x) - y)**2)` with respect to `model.trainable_weights`, and
# return the all-reduced gradients (the mean over the replicas), one array per weight.


# %% tags=["solution"]
# YOUR CODE HERE
def replica_gradients(model, x, y, n_replicas):
    per_replica = []
    for x_shard, y_shard in zip(np.split(x, n_replicas), np.split(y, n_replicas)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x_shard) - y_shard))
        per_replica.append(tape.gradient(loss, model.trainable_weights))
    return [np.mean([g[k] for g in per_replica], axis=0) for k in range(len(model.trainable_weights))]


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson13 import check_replica_gradients

check_replica_gradients(replica_gradients)

# %% [markdown]
# **Exercise 3.** A studio callback. Write `caption_at_temperatures(captioner_fn, image, audio,
# temperatures)` returning a dict temperature → caption, calling
# `widgets.describe(captioner_fn, image, audio, temperature, 1)` for each temperature. Then look
# at what your studio captioner writes for example 0 at temperatures 0, 1 and 2.


# %% tags=["solution"]
# YOUR CODE HERE
def caption_at_temperatures(captioner_fn, image, audio, temperatures):
    return {t: widgets.describe(captioner_fn, image, audio, t, 1) for t in temperatures}


# END OF YOUR CODE

# %%
from mmgen_lib.checks.lesson13 import check_caption_at_temperatures

check_caption_at_temperatures(caption_at_temperatures)
print(caption_at_temperatures(captioner, test["image"][0], test["audio"][0], (0.0, 1.0, 2.0)))

# %% [markdown]
# ## Summary
#
# - A **studio** is a thin layer over generators: each widget callback is a plain function
#   (testable, and callable directly so static pages show a result). Put the best generator you
#   have behind it, and score its images strictly: the silhouette IoU sees a rounded square that
#   the probe would still call a circle.
# - **Your own data** enters through `load_own_data`: images resized, sounds resampled and
#   padded, captions tokenized with a vocabulary fitted on them, and clear errors otherwise.
# - **Synchronous data parallelism** averages the replicas' gradients, which equals the
#   full-batch gradient: `MirroredStrategy` trains the same model to the same weights. Build
#   and compile inside `strategy.scope()`; the global batch is split across replicas.
# - **Several processes** (or machines) join through `TF_CONFIG`; under
#   `MultiWorkerMirroredStrategy` each worker trains on its share of every global batch and the
#   all-reduce crosses processes, so two workers follow one process's loss curve.
#
# **Next**: Part II, how multimodal generation is done today: lesson 14 (flow matching and latent
# diffusion). Or go back to lesson 05 or 09 with your own data, or scale the settings up on a GPU.
#
# ## Where to go next
#
# The seed article ends with applications (§3.4, §6: assistants, customer service, content
# creation, design, recommendation) and tools (§7: TensorFlow, PyTorch, Keras, Hugging Face,
# TensorBoard). Every one of them is the machine of this course with its data, its models and its
# compute scaled up.
# What each step needs, honestly — this course runs offline on a laptop CPU; these do not all:
#
# | step | what | runs offline? |
# |---|---|---|
# | **real data** | image–caption: MS-COCO Captions, Flickr30k; audio–caption: AudioCaps, Clotho; audio–visual: VGGSound | no: each is a download of gigabytes (and a licence to read); once on disk, a folder or CSV of a subset enters this lesson's `load_own_data` unchanged |
# | **pretrained models** | a CLIP-style image–text encoder (Radford et al., 2021) instead of lesson 06's; a pretrained captioner or text-to-image model instead of lessons 08–09's, from KerasHub or Hugging Face | no for the first download (hundreds of MB to GB of weights); after that, from the local cache; most want a GPU to train |
# | **watching training** | TensorBoard: `keras.callbacks.TensorBoard(log_dir)` passed to `train_model(..., callbacks=[...])`, then `tensorboard --logdir` | yes: installed with the course; lesson 04 logs a run and reads it back (the cell below checks) |
# | **more compute** | the same `train_model` under `MirroredStrategy` on GPUs, `TPUStrategy`, `MultiWorkerMirroredStrategy` (section 6.1) | needs the hardware; the code is what you ran here |
#
# A good first project: take 1,000 image–caption pairs of a real dataset, put them in a folder
# as in section 5, and train lesson 08's captioner on them with a frozen pretrained image encoder.

# %%
import importlib.util  # noqa: E402

print("tensorboard installed here:", importlib.util.find_spec("tensorboard") is not None)
#
# **References**
# - Li et al. (2020). *PyTorch Distributed: Experiences on Accelerating Data Parallel Training*. VLDB.
# - Goyal et al. (2017). *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*. arXiv:1706.02677.
# - Sergeev, Del Balso (2018). *Horovod: fast and easy distributed deep learning in TensorFlow*. arXiv:1802.05799.
# - Vinyals et al. (2015). *Show and Tell: A Neural Image Caption Generator*. CVPR.
# - Amershi et al. (2019). *Guidelines for Human-AI Interaction*. CHI.
# - Radford et al. (2021). *Learning Transferable Visual Models From Natural Language Supervision* (CLIP). ICML.
# - Lin et al. (2014). *Microsoft COCO: Common Objects in Context*. ECCV.
# - Kim et al. (2019). *AudioCaps: Generating Captions for Audios in the Wild*. NAACL.
