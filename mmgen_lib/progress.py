"""One compact progress line per epoch, or per fit, so that no training cell is silent.

Keras' own progress bar (``verbose=1``) redraws itself after every batch: in a notebook that is
hundreds of output messages per fit, and with the kernel's output capture it costs time. The
lessons fit with ``verbose=0`` and pass a :class:`ProgressLine` instead:

    model.fit(x, y, epochs=4, verbose=0, callbacks=[ProgressLine("captioner")])
    # captioner · epoch 1/4 · loss 1.203 · val_loss 0.9812 · 2.4 s
    # ...

    model.fit(..., epochs=30, callbacks=[ProgressLine("flow", every=10)])   # epochs 10, 20, 30

    for name in heads:                                   # many short fits: one line each
        model.fit(..., callbacks=[ProgressLine(name, per_epoch=False)])
    # early · 6 epochs · loss 1.203 → 0.1022 · 1.9 s

The seconds are wall time since the fit (or the epoch) began. The test suite runs the notebooks
with nbval in lax mode, so these lines (whose seconds differ between runs) are not compared.
"""

from __future__ import annotations

import time

import keras

from mmgen_lib import validation as _validation

__all__ = ["ProgressLine", "epoch_line"]

DEFAULT_KEYS = ("loss", "val_loss")


def epoch_line(label: str, epoch: int, epochs: int, values: dict, seconds: float) -> str:
    """``label · epoch 2/4 · loss 0.4123 · 1.9 s``: the line :class:`ProgressLine` prints, for custom loops too.

    ``epoch`` counts from 1; ``values`` maps names to numbers, shown with 4 significant digits.
    """
    shown = "".join(f" · {key} {float(value):.4g}" for key, value in values.items())
    return f"{label} · epoch {epoch}/{epochs}{shown} · {seconds:.1f} s"


class ProgressLine(keras.callbacks.Callback):
    """Print ``label · epoch n/N · loss … · val_loss … · seconds`` after each epoch (or once per fit).

    Args:
        label: what is being trained, first on every line (a non-empty string).
        per_epoch: True prints a line after every epoch; False prints one line when the fit ends,
            with the first and last epoch's values.
        every: with ``per_epoch``, print every ``every``-th epoch (and always the last one), for
            fits of many short epochs.
        keys: which of the fit's logs to show, in order. None shows ``loss`` and, when the fit has
            validation data, ``val_loss``. A key given here that the fit does not log is an error
            (a misspelt metric name would otherwise be silently missing).
    """

    def __init__(self, label: str, per_epoch: bool = True, keys=None, every: int = 1):
        super().__init__()
        if not isinstance(label, str):
            raise TypeError(f"label must be a string naming what is trained. Received: {type(label).__name__}")
        if not label.strip():
            raise ValueError("label must be a non-empty string naming what is trained")
        if keys is not None:
            if isinstance(keys, str) or not all(isinstance(key, str) for key in keys):
                raise TypeError(
                    f"keys must be a sequence of log names such as ('loss', 'val_loss'). Received: {keys!r}"
                )
            if not keys:
                raise ValueError("keys must name at least one log (e.g. ('loss',)), or be None for the default")
        self.label, self.per_epoch = label, bool(per_epoch)
        self.every = _validation.positive_int(every, "every")
        self.keys = None if keys is None else tuple(keys)

    def on_train_begin(self, logs=None):
        self._fit_start = time.perf_counter()
        self._first, self._last, self._epochs = None, None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = self._shown(logs or {})
        self._first = self._first or values
        self._last, self._epochs = values, epoch + 1
        total = self.params.get("epochs")
        if self.per_epoch and ((epoch + 1) % self.every == 0 or epoch + 1 == total):
            seconds = time.perf_counter() - self._epoch_start
            print(epoch_line(self.label, epoch + 1, total, values, seconds), flush=True)

    def on_train_end(self, logs=None):
        if self.per_epoch or self._last is None:
            return
        shown = " · ".join(
            f"{key} {self._first[key]:.4g} → {value:.4g}" if self._epochs > 1 else f"{key} {value:.4g}"
            for key, value in self._last.items()
        )
        seconds = time.perf_counter() - self._fit_start
        epochs = f"{self._epochs} epoch{'s' if self._epochs != 1 else ''}"
        print(f"{self.label} · {epochs} · {shown} · {seconds:.1f} s", flush=True)

    def _shown(self, logs: dict) -> dict[str, float]:
        if self.keys is None:
            return {key: float(logs[key]) for key in DEFAULT_KEYS if key in logs}
        missing = [key for key in self.keys if key not in logs]
        if missing:
            raise ValueError(
                f"ProgressLine({self.label!r}): {missing[0]!r} is not among this fit's logs ({', '.join(logs)})"
            )
        return {key: float(logs[key]) for key in self.keys}
