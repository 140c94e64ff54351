"""Plotting helpers: pure functions that take arrays and return a matplotlib Figure.

Nothing here changes global state except :func:`use_course_style`, which a lesson's
setup cell calls on purpose (small, legible PNGs keep the committed notebooks light).
"""

from __future__ import annotations

import textwrap

import numpy as np

__all__ = ["use_course_style", "show_images", "plot_history", "plot_confusion", "plot_grouped_bars", "plot_spectrogram"]


def use_course_style() -> None:
    """Small figures at 72 dpi with readable fonts (called in each lesson's setup cell)."""
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 72,
            "savefig.dpi": 72,
            "figure.figsize": (6.4, 3.6),
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.grid": False,
            "image.interpolation": "nearest",
        }
    )


def _figure(nrows=1, ncols=1, figsize=None):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False)
    return fig, axes


def show_images(images, titles=None, ncols: int = 8, title: str | None = None, size: float = 1.3):
    """A grid of images (uint8 0..255 or float 0..1), optional small titles above each.

    Titles are wrapped to the image width, so whole captions stay legible.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (n, height, width, 1 or 3). Received shape {images.shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    if titles is not None:
        titles = ["\n".join(textwrap.wrap(str(t), width=max(8, int(size * 12)))) for t in titles]
    title_lines = max((t.count("\n") + 1 for t in titles), default=0) if titles is not None else 0
    fig, axes = _figure(
        nrows, ncols, figsize=(size * ncols, (size + 0.16 * title_lines) * nrows + (0.3 if title else 0))
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            image = images[k]
            ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None)
            if titles is not None:
                ax.set_title(titles[k], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, metrics=("loss",), title: str = "Training curves"):
    """Training curves from a Keras ``History`` (or its ``.history`` dict): train and val per metric."""
    logs = getattr(history, "history", history)
    missing = [m for m in metrics if m not in logs]
    if missing:
        raise ValueError(f"history has no {missing}; it has {sorted(logs)}")
    fig, axes = _figure(1, len(metrics), figsize=(4.2 * len(metrics), 3.0))
    for ax, metric in zip(axes.flat, metrics):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], marker="o", label="train")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], marker="s", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(y_true, y_pred, labels, title: str = "Confusion matrix", ax=None):
    """A row-normalised confusion matrix with counts written in the cells."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape: {y_true.shape} vs {y_pred.shape}")
    k = len(labels)
    counts = np.zeros((k, k), int)
    np.add.at(counts, (y_true, y_pred), 1)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    if ax is None:
        fig, axes = _figure(figsize=(0.6 * k + 2.2, 0.6 * k + 1.6))
        ax = axes[0, 0]
    else:
        fig = ax.figure
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                counts[i, j],
                ha="center",
                va="center",
                fontsize=8,
                color="white" if rates[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_grouped_bars(table: dict, group_labels, title: str, ylabel: str = "accuracy", chance=None):
    """Grouped bars: ``table`` maps a series name to one value per group (e.g. method -> acc per attribute)."""
    names = list(table)
    groups = list(group_labels)
    for name in names:
        if len(table[name]) != len(groups):
            raise ValueError(f"series {name!r} has {len(table[name])} values for {len(groups)} groups")
    width = 0.8 / len(names)
    fig, axes = _figure(figsize=(max(6.0, 1.3 * len(groups)), 3.4))
    ax = axes[0, 0]
    x = np.arange(len(groups))
    for k, name in enumerate(names):
        ax.bar(x + (k - (len(names) - 1) / 2) * width, table[name], width, label=name)
    if chance is not None:
        for g, level in enumerate(np.broadcast_to(chance, (len(groups),))):
            ax.hlines(
                level, g - 0.45, g + 0.45, colors="black", linestyles="dotted", label="chance" if g == 0 else None
            )
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))  # outside: never hides a low bar
    fig.tight_layout()
    return fig


def plot_spectrogram(spec, title: str = "log-mel spectrogram", ax=None, frame_step_s: float = 0.008):
    """One (frames, bins) spectrogram as an image: time on x, frequency band on y."""
    spec = np.asarray(spec)
    if spec.ndim != 2:
        raise ValueError(f"spec must be (frames, bins). Received shape {spec.shape}")
    if ax is None:
        fig, axes = _figure(figsize=(4.0, 2.6))
        ax = axes[0, 0]
    else:
        fig = ax.figure
    extent = (0, spec.shape[0] * frame_step_s, 0, spec.shape[1])
    ax.imshow(spec.T, origin="lower", aspect="auto", extent=extent, cmap="magma")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel band")
    ax.set_title(title)
    return fig
