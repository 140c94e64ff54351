"""From a loaded split to model inputs: spectrograms, token ids and ``tf.data`` pipelines (lesson 01).

train = load_split("train")
arrays = split_arrays(train, tokenizer)            # dict of NumPy arrays, keyed by name
ds = make_dataset(arrays, inputs=("image", "spectrogram"), targets=("material",), batch_size=64)
inputs, targets = next(iter(ds))                   # ({"image": ..., "spectrogram": ...}, {"material": ...})
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from mmgen_lib import validation
from mmgen_lib.data import ATTRIBUTE_NAMES, SAMPLE_RATE

__all__ = [
    "spectrogram",
    "log_mel_spectrogram",
    "split_arrays",
    "make_dataset",
    "CAPTION_LEN",
    "QUESTION_LEN",
    "FRAME_LENGTH",
    "FRAME_STEP",
    "NUM_MEL_BINS",
]

CAPTION_LEN = 16  # longest ShapesWorld caption is 13 words + <start> + <end>
QUESTION_LEN = 8
FRAME_LENGTH, FRAME_STEP, NUM_MEL_BINS = 256, 64, 40


def _as_waveforms(audio) -> tf.Tensor:
    audio = tf.convert_to_tensor(audio, dtype=tf.float32)
    if audio.shape.rank not in (1, 2):
        raise ValueError(f"audio must be (samples,) or (batch, samples). Received shape {tuple(audio.shape)}")
    if audio.shape[-1] is not None and audio.shape[-1] < FRAME_LENGTH:
        raise ValueError(f"audio needs at least {FRAME_LENGTH} samples per clip. Received {audio.shape[-1]}")
    return audio


def spectrogram(audio, frame_length: int = FRAME_LENGTH, frame_step: int = FRAME_STEP) -> tf.Tensor:
    """Magnitude STFT: (..., samples) -> (..., frames, frame_length // 2 + 1).

    With the defaults a 2,000-sample clip gives 28 frames of 129 frequency bins
    (31.25 Hz apart at 8 kHz), each frame a Hann-windowed 32 ms slice, 8 ms apart.
    """
    stft = tf.signal.stft(
        _as_waveforms(audio), frame_length, frame_step, fft_length=frame_length, window_fn=tf.signal.hann_window
    )
    return tf.abs(stft)


def log_mel_spectrogram(
    audio,
    sample_rate: int = SAMPLE_RATE,
    num_mel_bins: int = NUM_MEL_BINS,
    frame_length: int = FRAME_LENGTH,
    frame_step: int = FRAME_STEP,
) -> tf.Tensor:
    """Log-mel spectrogram: (..., samples) -> (..., frames, num_mel_bins), float32.

    The magnitude spectrum is pooled into mel bands (finer at low frequencies, as
    hearing is) and compressed with ``log(x + 1e-6)``.
    """
    magnitudes = spectrogram(audio, frame_length, frame_step)  # (..., frames, bins)
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins, magnitudes.shape[-1], sample_rate, lower_edge_hertz=60.0, upper_edge_hertz=sample_rate / 2
    )
    mel = tf.tensordot(magnitudes, mel_matrix, axes=1)  # (..., frames, num_mel_bins)
    return tf.math.log(mel + 1e-6)


def split_arrays(
    split,
    tokenizer=None,
    caption_len: int = CAPTION_LEN,
    question_len: int = QUESTION_LEN,
    spectrograms: bool = True,
) -> dict:
    """All model-ready arrays of a :class:`~mmgen_lib.data.ShapesWorldSplit`, keyed by name.

    Returns a dict with
        ``image`` (n, 32, 32, 3) float32 in [0, 1]; ``audio`` (n, 2000) float32;
        ``spectrogram`` (n, 28, 40) float32 log-mel (only with ``spectrograms=True``, the
        default: lessons that never listen skip the STFT, about a second for the train split);
        one int32 (n,) label array per attribute (``shape``, ``color``, ``size``, ``position``,
        ``material``); and, with a tokenizer, ``caption_ids`` (n, caption_len),
        ``question_ids`` (n, question_len) and ``answer_ids`` (n,) (the answer word's id).
    """
    if not isinstance(spectrograms, bool):
        raise TypeError(f"spectrograms must be True or False. Received: spectrograms={spectrograms!r}")
    arrays = {"image": split.images.astype(np.float32) / 255.0, "audio": split.audio}
    if spectrograms:  # in chunks of 500 clips: the STFT's intermediate tensors stay small
        chunks = [log_mel_spectrogram(split.audio[i : i + 500]).numpy() for i in range(0, len(split.audio), 500)]
        arrays["spectrogram"] = np.concatenate(chunks)
    for k, name in enumerate(ATTRIBUTE_NAMES):
        arrays[name] = split.labels[:, k].astype(np.int32)
    if tokenizer is not None:
        arrays["caption_ids"] = tokenizer.encode_batch(split.captions, caption_len)
        arrays["question_ids"] = tokenizer.encode_batch(split.questions, question_len)
        arrays["answer_ids"] = np.array([tokenizer.encode(a, add_start_end=False)[0] for a in split.answers], np.int32)
    return arrays


def make_dataset(
    arrays: dict,
    inputs,
    targets=(),
    batch_size: int = 64,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A batched, prefetched ``tf.data.Dataset`` of ``(inputs_dict, targets_dict)``.

    Args:
        arrays: name -> array with the same first dimension (e.g. from :func:`split_arrays`).
        inputs: names of the model inputs; targets: names of the targets (may be empty,
            then the dataset yields the inputs dict alone).
        shuffle: reshuffle every epoch with a seeded order (same seed, same order).
    """
    if isinstance(inputs, str) or isinstance(targets, str):
        raise TypeError("inputs and targets must be sequences of names, e.g. inputs=('image',)")
    if not inputs:
        raise ValueError("inputs must name at least one array")
    missing = [name for name in (*inputs, *targets) if name not in arrays]
    if missing:
        raise ValueError(f"arrays has no {missing}; available: {sorted(arrays)}")
    lengths = {name: len(arrays[name]) for name in (*inputs, *targets)}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"all arrays must have the same length. Received lengths {lengths}")
    batch_size = validation.positive_int(batch_size, "batch_size")
    features = {name: arrays[name] for name in inputs}
    if targets:
        ds = tf.data.Dataset.from_tensor_slices((features, {name: arrays[name] for name in targets}))
    else:
        ds = tf.data.Dataset.from_tensor_slices(features)
    if shuffle:
        ds = ds.shuffle(next(iter(lengths.values())), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
