"""One scoreboard for every image generator of the course (lessons 09, 10, 14).

:func:`score_generator` scores a batch of images generated for captions the same way for
every generator: the attribute probe's accuracy per visible attribute (test and held-out
combinations), the diversity of what the caption leaves out (normalised entropy of the
probe's readings), a Fréchet distance between probe features of generated and real images,
a stricter **silhouette IoU** against ShapesWorld's own renderer, seconds per 100 images and
the parameter count. :func:`scoreboard_markdown` turns rows into one Markdown table; with
``MMGEN_RESULTS_DIR`` set, each row is also written to ``$MMGEN_RESULTS_DIR/scoreboard/<generator>.json``.
"""

from __future__ import annotations

import json
import numbers
import os
import re
from pathlib import Path

import numpy as np
from keras import ops

from mmgen_lib.data import ATTRIBUTES, CENTERS, POSITION_PHRASES, RADIUS, SYNONYMS, _shape_mask
from mmgen_lib.probe import PROBE_ATTRIBUTES, _as_images, _as_labels, probe_accuracy, probe_predict
from mmgen_lib.utils import RESULTS_ENV_VAR

__all__ = [
    "omit_attributes",
    "normalised_entropy",
    "probe_features",
    "frechet_distance",
    "ideal_silhouettes",
    "silhouette_iou",
    "silhouette_iou_by_shape",
    "score_generator",
    "scoreboard_markdown",
    "SILHOUETTE_THRESHOLD",
    "COLUMNS",
]

SILHOUETTE_THRESHOLD = 0.4  # channel maximum: background 40/255 ~ 0.16, every object colour > 190/255
COLUMNS = (
    "probe_acc_min",
    "probe_acc_heldout_combos",
    "silent_entropy",
    "silent_named_acc_min",
    "frechet_probe",
    "silhouette_iou_circle",
    "silhouette_iou_square",
    "silhouette_iou_triangle",
    "seconds_per_100",
    "parameters",
)


def omit_attributes(caption: str, names) -> str:
    """The caption without the words (and position phrase) of the attributes in ``names`` (lesson 14).

    >>> omit_attributes("a large red metal circle at the top", ("position", "size"))
    'a red metal circle'
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a str. Received: {type(caption).__name__}")
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in ATTRIBUTES]
    if unknown:
        raise ValueError(f"names must be attributes of {tuple(ATTRIBUTES)}. Received: names={names!r}")
    text = caption
    if "position" in names:  # the whole phrase: "at the" would still say top/bottom, "on the" left/right
        for phrase in POSITION_PHRASES.values():
            text = text.replace(phrase, " ")
    words = {w for n in names if n != "position" for v in ATTRIBUTES[n] for w in SYNONYMS.get(v, (v,))}
    if "material" in names:
        words |= {"made", "of"}
    text = " ".join(w for w in re.findall(r"[^\s]+", text) if w.strip(":,") not in words)
    text = re.sub(r"\s+([:,])", r"\1", text)  # no space before punctuation left behind
    return re.sub(r"^[:,]\s*|[:,]\s*$", "", text).strip()


def normalised_entropy(readings, n_values: int) -> float:
    """Entropy of the histogram of integer ``readings`` divided by log(n_values): 1 = uniform, 0 = one value."""
    if isinstance(n_values, bool) or not isinstance(n_values, numbers.Integral) or n_values < 2:
        raise ValueError(f"n_values must be an int >= 2. Received: n_values={n_values!r}")
    counts = np.bincount(np.asarray(readings, dtype=np.int64).reshape(-1), minlength=n_values)[:n_values]
    p = counts / max(counts.sum(), 1)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(n_values))


def probe_features(probe, images, batch_size: int = 500) -> np.ndarray:
    """The probe's penultimate features: shape/size/position hidden units and pooled colour detectors (n, 80)."""
    images = _as_images(images)
    parts = []
    for start in range(0, len(images), batch_size):
        x = ops.convert_to_tensor(images[start : start + batch_size])
        grey = ops.max(x, axis=-1, keepdims=True) if probe.colour_blind else x
        for conv, pool in zip(probe.convs, probe.pools):
            grey = pool(conv(grey))
        features = probe.hidden(probe.flatten(grey))  # (batch, units)
        colour = probe.color_pool(probe.color_pixels(x))  # (batch, color_units)
        parts.append(np.concatenate([ops.convert_to_numpy(features), ops.convert_to_numpy(colour)], axis=1))
    return np.concatenate(parts)


def _sqrtm_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance of two Gaussians fitted to feature sets (FID's formula, here on probe features).

    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2).
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"features must be two (n >= 2, dim) arrays of the same dim. Received {a.shape} and {b.shape}")
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _sqrtm_psd(cov_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0, None)).sum()
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)


_IDEAL_CACHE: dict = {}


def ideal_silhouettes(shape: str, size: str, position: str, max_shift: int = 2) -> np.ndarray:
    """ShapesWorld's own silhouettes of an object at every jitter (dy, dx) in [-max_shift, max_shift]^2.

    Drawn by the dataset's renderer (nominal radius, coverage > 0.5). Shape ((2 s + 1)^2, 32, 32) bool.
    """
    key = (shape, size, position, max_shift)
    if key not in _IDEAL_CACHE:
        for name, value in (("shape", shape), ("size", size), ("position", position)):
            if value not in ATTRIBUTES[name]:
                raise ValueError(f"{name} must be one of {ATTRIBUTES[name]}. Received: {name}={value!r}")
        row, col = CENTERS[position]
        _IDEAL_CACHE[key] = np.stack(
            [
                _shape_mask(shape, (row + dy, col + dx), RADIUS[size]) > 0.5
                for dy in range(-max_shift, max_shift + 1)
                for dx in range(-max_shift, max_shift + 1)
            ]
        )
    return _IDEAL_CACHE[key]


def silhouette_iou(images, labels, threshold: float = SILHOUETTE_THRESHOLD) -> np.ndarray:
    """Per image: IoU of its silhouette (channel maximum > threshold) with the ideal object, best over the jitter.

    Stricter than the probe: a rounded square or a triangle with a ghost scores low even when
    the probe reads the right shape. Real ShapesWorld images score about 0.9 (their radius varies by +-8 %).

    Args:
        images: (n, 32, 32, 3) uint8 or floats in [0, 1]; labels: dict attribute -> (n,) or an (n, 5) array.

    Returns:
        (n,) IoUs in [0, 1].
    """
    images = _as_images(images)
    labels = _as_labels(labels, len(images))
    silhouettes = images.max(axis=-1) > threshold  # (n, 32, 32)
    ious = np.zeros(len(images))
    keys = np.stack([labels["shape"], labels["size"], labels["position"]], axis=1)
    for key in np.unique(keys, axis=0):
        rows = np.all(keys == key, axis=1)
        ideal = ideal_silhouettes(
            ATTRIBUTES["shape"][key[0]], ATTRIBUTES["size"][key[1]], ATTRIBUTES["position"][key[2]]
        )  # (shifts, 32, 32)
        generated = silhouettes[rows][:, None]  # (m, 1, 32, 32)
        inter = np.sum(generated & ideal[None], axis=(2, 3))
        union = np.sum(generated | ideal[None], axis=(2, 3))
        ious[rows] = np.max(inter / np.maximum(union, 1), axis=1)
    return ious


def silhouette_iou_by_shape(images, labels, threshold: float = SILHOUETTE_THRESHOLD) -> dict[str, float]:
    """Mean :func:`silhouette_iou` per shape, ``{"circle": ..., "square": ..., "triangle": ...}``.

    Shapes with no image in ``labels`` are left out (no mean of nothing).
    """
    ious = silhouette_iou(images, labels, threshold)
    shapes = _as_labels(labels, len(ious))["shape"]
    return {
        shape: float(ious[shapes == k].mean()) for k, shape in enumerate(ATTRIBUTES["shape"]) if np.any(shapes == k)
    }


def score_generator(
    generator: str, images, labels, probe, real_images=None, heldout=None, silent=None, seconds=None, parameters=None
) -> dict:
    """Score images generated for captions; the same row for every generator of the course (lessons 09, 10, 14).

    Args:
        generator: the row's name, e.g. ``"14 latent flow"`` (also the JSON file's stem, slugified).
        images, labels: images generated for the test captions and the attributes they should show.
        probe: the attribute probe (``load_probe()``).
        real_images: real test images, for the Fréchet distance between probe features.
        heldout: optional ``(images, labels)`` generated for the held-out-combination captions.
        silent: optional ``(images, labels, omitted)``: images for captions that omit the attributes in
            ``omitted``; their readings' normalised entropy is the diversity, the rest must stay right.
        seconds: wall seconds it took to generate ``images`` (gives seconds per 100 images).
        parameters: the generator's parameter count.

    Returns:
        a flat dict name -> number (``generator`` is kept as a string).
    """
    if not isinstance(generator, str) or not generator.strip():
        raise ValueError(f"generator must be a non-empty name. Received: generator={generator!r}")
    images = _as_images(images)
    accuracy = probe_accuracy(probe, images, labels)
    row = {
        "generator": generator,
        **{f"probe_acc_{k}": v for k, v in accuracy.items()},
        "probe_acc_min": min(accuracy.values()),
    }
    if heldout is not None:
        row["probe_acc_heldout_combos"] = min(probe_accuracy(probe, heldout[0], heldout[1]).values())
    if silent is not None:
        silent_images, silent_labels, omitted = silent
        omitted = (omitted,) if isinstance(omitted, str) else tuple(omitted)
        if not omitted or any(a not in PROBE_ATTRIBUTES for a in omitted):
            raise ValueError(f"omitted must name visible attributes {PROBE_ATTRIBUTES}. Received: {omitted!r}")
        readings = probe_predict(probe, _as_images(silent_images))
        truth = _as_labels(silent_labels, len(readings["shape"]))
        entropies = [normalised_entropy(readings[a], len(ATTRIBUTES[a])) for a in omitted]
        row.update({f"silent_{a}_entropy": e for a, e in zip(omitted, entropies)})
        row["silent_entropy"] = min(entropies)
        named = [a for a in PROBE_ATTRIBUTES if a not in omitted]
        row["silent_named_acc_min"] = min(float(np.mean(readings[a] == truth[a])) for a in named)
    if real_images is not None:
        row["frechet_probe"] = frechet_distance(probe_features(probe, images), probe_features(probe, real_images))
    by_shape = silhouette_iou_by_shape(images, labels)
    row.update({f"silhouette_iou_{shape}": iou for shape, iou in by_shape.items()})
    row["silhouette_iou_min"] = min(by_shape.values())
    if seconds is not None:
        row["seconds_per_100"] = float(seconds) / len(images) * 100
    if parameters is not None:
        row["parameters"] = int(parameters)
    row = {
        k: (v if isinstance(v, str) else (int(v) if isinstance(v, (int, np.integer)) else float(v)))
        for k, v in row.items()
    }
    out_dir = os.environ.get(RESULTS_ENV_VAR)
    if out_dir:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", generator.strip()).strip("_")
        path = Path(out_dir) / "scoreboard" / f"{stem}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(row, indent=2, sort_keys=True) + "\n")
    return row


def scoreboard_markdown(rows, columns=COLUMNS) -> str:
    """One Markdown table, a row per generator (a missing figure shows as an em dash)."""
    if isinstance(rows, dict):
        rows = [rows]
    rows = list(rows)
    if not rows or not all(isinstance(r, dict) and "generator" in r for r in rows):
        raise ValueError("rows must be a non-empty list of dicts from score_generator (each with a 'generator')")

    def cell(value):
        if value is None:
            return "—"
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return f"{int(value):,}"
        return f"{float(value):.3f}"

    lines = ["| generator | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += ["| " + str(r["generator"]) + " | " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
