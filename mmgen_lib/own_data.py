"""Bring your own data: a folder or CSV of image / caption / optional WAV files (lesson 13).

The same models that learn on ShapesWorld run on your files once they look like
ShapesWorld arrays: images resized to 32x32 RGB floats in [0, 1], captions tokenized
with a vocabulary fitted on *your* captions, sounds resampled to 8 kHz and cut or
padded to 2,000 samples, then turned into the same log-mel spectrograms.

Two layouts are accepted:

- a CSV file with a header row and the columns ``image``, ``caption`` and optionally
  ``audio`` (paths relative to the CSV's folder; an empty ``audio`` cell means "no sound");
- a folder holding ``captions.csv`` in that format, or else pairs of files with the same
  stem: ``cat.png`` + ``cat.txt`` (the caption) + optionally ``cat.wav``.

    own = load_own_data("tests/fixtures/own_data")
    arrays = own.arrays()           # "image", "audio", "spectrogram", "has_audio", "caption_ids"
    ds = make_dataset(arrays, inputs=("image", "spectrogram"), targets=("caption_ids",))

Images are decoded with ``tf.io.decode_image`` (PNG, JPEG, GIF, BMP) and sounds with
``tf.audio.decode_wav`` (16-bit PCM WAV): no extra dependency. Every problem (missing
file, unreadable image, empty caption, caption too long) raises an error that names
the file or row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmgen_lib import validation
from mmgen_lib.data import AUDIO_SAMPLES, IMAGE_SIZE, SAMPLE_RATE
from mmgen_lib.tokenizer import Tokenizer

__all__ = [
    "OwnDataset",
    "OwnDataError",
    "load_own_data",
    "read_image",
    "read_wav",
    "resample",
    "write_wav",
    "IMAGE_SUFFIXES",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
CSV_NAME = "captions.csv"


class OwnDataError(ValueError):
    """A file of your data set is unreadable, malformed or empty; the message names the file or CSV line."""


# ----------------------------------------------------------------------------- one file
def _check_positive_int(value, name: str) -> None:
    validation.positive_int(value, name)


def _existing_file(path: Path, kind: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{kind} file {path} does not exist")
    if not path.is_file():
        raise OwnDataError(f"{kind} file {path} is not a file (a folder?)")
    return path


def _read_bytes(path: Path, kind: str) -> bytes:
    _existing_file(path, kind)
    try:
        return path.read_bytes()
    except OSError as error:  # permissions, a vanished file...
        raise OwnDataError(f"cannot read {kind} file {path}: {error.strerror or error}") from None


def _read_text(path: Path, kind: str) -> str:
    try:
        return _read_bytes(path, kind).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise OwnDataError(f"{kind} file {path} is not UTF-8 text; save it as UTF-8") from None


def read_image(path, image_size: int = IMAGE_SIZE) -> np.ndarray:
    """Read one image file as a (image_size, image_size, 3) float32 array in [0, 1].

    Grey or RGBA images become RGB; any size is resized (bilinear, with antialiasing).
    Raises ``FileNotFoundError`` for a missing file and :class:`OwnDataError` for a file
    that is not a readable image.
    """
    import tensorflow as tf

    _check_positive_int(image_size, "image_size")
    path = Path(path)
    payload = _read_bytes(path, "image")
    try:
        image = tf.io.decode_image(payload, channels=3, expand_animations=False)
    except Exception as error:  # noqa: BLE001 - TensorFlow raises several kinds for undecodable bytes
        detail = str(getattr(error, "message", "") or type(error).__name__).splitlines()[0]
        raise OwnDataError(f"cannot read image {path}: not a valid PNG/JPEG/GIF/BMP file ({detail})") from None
    image = tf.image.convert_image_dtype(image, tf.float32)  # (height, width, 3) in [0, 1]
    image = tf.image.resize(image, (image_size, image_size), antialias=True)  # (size, size, 3)
    return np.clip(image.numpy(), 0.0, 1.0).astype(np.float32)


def resample(wave: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample a mono signal from ``rate_in`` to ``rate_out`` Hz (band-limited).

    When going down in rate, frequencies above the new Nyquist limit are first removed
    with a windowed-sinc low-pass filter (otherwise they would fold back as aliases);
    the signal is then read at the new sample times by linear interpolation.
    """
    _check_positive_int(rate_in, "rate_in")
    _check_positive_int(rate_out, "rate_out")
    wave = np.asarray(wave, np.float64)
    if wave.ndim != 1:
        raise ValueError(f"wave must be 1-D (mono). Received shape {wave.shape}")
    if rate_in == rate_out or len(wave) == 0:
        return wave.astype(np.float32)
    if rate_out < rate_in:
        cutoff = 0.5 * rate_out / rate_in * 0.9  # cycles per input sample, 10 % guard band
        taps = np.arange(-32, 33)
        kernel = 2 * cutoff * np.sinc(2 * cutoff * taps) * np.hamming(len(taps))
        wave = np.convolve(wave, kernel / kernel.sum(), mode="same")
    n_out = int(round(len(wave) * rate_out / rate_in))
    t_out = np.arange(n_out) * (rate_in / rate_out)  # output sample times, in input samples
    return np.interp(t_out, np.arange(len(wave)), wave).astype(np.float32)


def read_wav(path, sample_rate: int = SAMPLE_RATE, num_samples: int = AUDIO_SAMPLES) -> np.ndarray:
    """Read a 16-bit PCM WAV file as (num_samples,) float32 mono audio at ``sample_rate``.

    Stereo is averaged to mono, the rate is converted with :func:`resample`, and the
    clip is cut or zero-padded to ``num_samples``. Raises ``FileNotFoundError`` or
    :class:`OwnDataError` (not a WAV file, or no samples).
    """
    import tensorflow as tf

    _check_positive_int(num_samples, "num_samples")
    validation.positive_int(sample_rate, "sample_rate")
    path = Path(path)
    payload = _read_bytes(path, "audio")
    if payload[:4] != b"RIFF" or payload[8:12] != b"WAVE":
        raise OwnDataError(
            f"cannot read audio {path}: not a WAV file (it does not start with a RIFF/WAVE "
            f"header); expected a 16-bit PCM WAV file"
        )
    try:
        wave, rate = tf.audio.decode_wav(payload)  # (samples, channels), ()
    except Exception:  # noqa: BLE001 - TensorFlow raises several kinds (even UnicodeDecodeError) for bad WAVs
        raise OwnDataError(f"cannot read audio {path}: expected a 16-bit PCM WAV file") from None
    wave = wave.numpy().mean(axis=1)  # (samples,) mono
    if len(wave) == 0:
        raise OwnDataError(f"audio file {path} holds no samples")
    wave = resample(wave, int(rate.numpy()), sample_rate)
    out = np.zeros(num_samples, np.float32)
    out[: min(num_samples, len(wave))] = wave[:num_samples]
    return out


def write_wav(path, wave, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono float audio in [-1, 1] as a 16-bit PCM WAV file (for fixtures and the studio)."""
    import tensorflow as tf

    _check_positive_int(sample_rate, "sample_rate")
    wave = np.clip(np.asarray(wave, np.float32).reshape(-1, 1), -1.0, 1.0)  # (samples, 1)
    Path(path).write_bytes(tf.audio.encode_wav(wave, sample_rate).numpy())


# ----------------------------------------------------------------------------- a data set
@dataclass(frozen=True)
class OwnDataset:
    """Your examples, converted to ShapesWorld-like arrays (lesson 13).

    Attributes:
        images: (n, size, size, 3) float32 in [0, 1].
        captions: the n caption strings.
        audio: (n, num_samples) float32; zeros where an example has no sound.
        has_audio: (n,) float32, 1 where a WAV file was given, 0 where it is missing.
        tokenizer: the :class:`~mmgen_lib.tokenizer.Tokenizer` the caption ids use.
        caption_ids: (n, caption_len) int32, ``<start> ... <end>`` right-padded with 0.
        sources: the n image paths (to show where each example came from).
    """

    images: np.ndarray
    captions: list
    audio: np.ndarray
    has_audio: np.ndarray
    tokenizer: Tokenizer
    caption_ids: np.ndarray
    sources: list

    def __len__(self) -> int:
        return len(self.captions)

    def arrays(self) -> dict:
        """Model-ready arrays with the names :func:`mmgen_lib.pipeline.split_arrays` uses."""
        from mmgen_lib.pipeline import log_mel_spectrogram

        return {
            "image": self.images,
            "audio": self.audio,
            "has_audio": self.has_audio,
            "spectrogram": log_mel_spectrogram(self.audio).numpy(),  # (n, 28, 40)
            "caption_ids": self.caption_ids,
        }


def _rows_from_csv(csv_path: Path) -> list[dict]:
    reader = csv.DictReader(io.StringIO(_read_text(csv_path, "CSV"), newline=""))
    try:
        columns = [c.strip() for c in (reader.fieldnames or [])]
        missing = [c for c in ("image", "caption") if c not in columns]
        if missing:
            raise OwnDataError(
                f"{csv_path} must have a header row with the columns image, caption "
                f"(and optionally audio); it lacks {missing}. Found columns: {columns}"
            )
        rows = []
        for row in reader:
            line = reader.line_num
            if None in row:  # DictReader puts the fields beyond the header under the key None
                raise OwnDataError(
                    f"{csv_path.name} line {line}: {len(columns) + len(row[None])} fields for "
                    f"{len(columns)} columns ({', '.join(columns)}); quote a caption that holds "
                    f"a comma"
                )
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            audio = row.get("audio") or None
            rows.append(
                {
                    "image": csv_path.parent / row["image"] if row["image"] else None,
                    "caption": row["caption"],
                    "audio": csv_path.parent / audio if audio else None,
                    "where": f"{csv_path.name} line {line}",
                }
            )
    except csv.Error as error:
        raise OwnDataError(f"{csv_path} is not a valid CSV file (line {reader.line_num}: {error})") from None
    return rows


def _rows_from_folder(folder: Path) -> list[dict]:
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise OwnDataError(f"{folder} holds no {CSV_NAME} and no image files ({', '.join(IMAGE_SUFFIXES)})")
    rows = []
    for image in images:
        text = image.with_suffix(".txt")
        if not text.exists():
            raise FileNotFoundError(
                f"caption file {text} does not exist (every image needs a .txt caption with the same name)"
            )
        wav = image.with_suffix(".wav")
        rows.append(
            {
                "image": image,
                "caption": _read_text(text, "caption").strip(),
                "audio": wav if wav.is_file() else None,
                "where": text.name,
            }
        )
    return rows


def load_own_data(
    source,
    image_size: int = IMAGE_SIZE,
    sample_rate: int = SAMPLE_RATE,
    num_samples: int = AUDIO_SAMPLES,
    caption_len: int = 16,
    tokenizer: Tokenizer | None = None,
    min_count: int = 1,
) -> OwnDataset:
    """Load a folder or CSV of image / caption / optional WAV files (lesson 13).

    Args:
        source: a CSV file, or a folder (with ``captions.csv``, or ``name.png`` + ``name.txt``
            [+ ``name.wav``] triples).
        image_size: images are resized to ``image_size`` x ``image_size``.
        sample_rate, num_samples: sounds are resampled to this rate and cut/padded to this length.
        caption_len: length of the padded caption id rows (``<start>`` and ``<end>`` included).
        tokenizer: a fitted :class:`~mmgen_lib.tokenizer.Tokenizer` to reuse (e.g. the one of a
            training set); by default one is fitted on these captions.
        min_count: words seen fewer times become ``<unk>`` when fitting the vocabulary.

    Returns:
        an :class:`OwnDataset`.

    Raises:
        FileNotFoundError: the source, an image, a caption file or a WAV file does not exist.
        OwnDataError: no examples, a bad CSV header, an unreadable image or WAV, an empty
            caption, or a caption longer than ``caption_len`` tokens.
    """
    for value, name in (
        (image_size, "image_size"),
        (sample_rate, "sample_rate"),
        (num_samples, "num_samples"),
        (caption_len, "caption_len"),
        (min_count, "min_count"),
    ):
        _check_positive_int(value, name)
    if tokenizer is not None and not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer must be a mmgen_lib Tokenizer. Received: {type(tokenizer).__name__}")
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"data source {source} does not exist (give a folder or a .csv file)")
    if source.is_dir():
        rows = _rows_from_csv(source / CSV_NAME) if (source / CSV_NAME).is_file() else _rows_from_folder(source)
    elif source.suffix.lower() == ".csv":
        rows = _rows_from_csv(source)
    else:
        raise OwnDataError(f"data source {source} must be a folder or a .csv file")
    if not rows:
        raise OwnDataError(f"{source} lists no examples")

    for row in rows:
        if row["image"] is None:
            raise OwnDataError(f"{row['where']}: the image column is empty")
        if not row["caption"]:
            raise OwnDataError(f"{row['where']}: the caption of {row['image'].name} is empty")
    images = np.stack([read_image(row["image"], image_size) for row in rows])  # (n, size, size, 3)
    audio = np.zeros((len(rows), num_samples), np.float32)
    has_audio = np.zeros(len(rows), np.float32)
    for k, row in enumerate(rows):
        if row["audio"] is not None:
            audio[k] = read_wav(row["audio"], sample_rate, num_samples)
            has_audio[k] = 1.0
    captions = [row["caption"] for row in rows]
    if tokenizer is None:
        tokenizer = Tokenizer.fit(captions, min_count=min_count)
    caption_ids = np.zeros((len(rows), caption_len), np.int32)
    for k, (row, caption) in enumerate(zip(rows, captions)):
        ids = tokenizer.encode(caption)
        if len(ids) > caption_len:
            raise OwnDataError(
                f"{row['where']}: caption {caption!r} has {len(ids)} tokens with <start>/<end>, "
                f"more than caption_len={caption_len}; shorten it or pass a larger caption_len"
            )
        caption_ids[k, : len(ids)] = ids
    return OwnDataset(images, captions, audio, has_audio, tokenizer, caption_ids, [str(row["image"]) for row in rows])
