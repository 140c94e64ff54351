"""One check per kind of argument, shared by every layer and function of the library.

Each check returns the cleaned value (a Python ``int``/``float``, a float32 array) or raises
``ValueError`` (``TypeError`` for an array of the wrong dtype) with a message that ends in ``Received: name=value``, the form
Keras uses. Integers accept any integral number (``int``, ``np.int64``...) and refuse
``bool``; real numbers accept any real number and refuse ``bool``.

**Images, one rule for the whole library**: an image batch is (batch, height, width, 3);
``uint8`` pixels (0-255, as stored in ShapesWorld) are accepted and scaled to [0, 1]; float
pixels must already lie in [0, 1] and are refused otherwise (0-255 floats are a classic
silent bug). Layers that receive symbolic tensors apply the same rule through
:func:`scale_uint8_images`; value checks happen wherever the values are known (NumPy input).
Used by every lesson through the library (lesson 00 explains the "Received:" messages).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "integer",
    "positive_int",
    "positive_int_sequence",
    "number",
    "rate",
    "probability",
    "image_batch",
    "image_batch_shape",
    "scale_uint8_images",
    "concrete_values",
    "modality_mask",
    "mask",
    "paired_arrays",
]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _bounds_text(minimum, maximum, include_minimum: bool = True, include_maximum: bool = True) -> str:
    """ " in [0, 1]", " >= 1", " < 5" or "": the allowed range as the error messages say it."""
    if minimum is not None and maximum is not None:
        return f" in {'[' if include_minimum else '('}{minimum}, {maximum}{']' if include_maximum else ')'}"
    if minimum is not None:
        return f" {'>=' if include_minimum else '>'} {minimum}"
    if maximum is not None:
        return f" {'<=' if include_maximum else '<'} {maximum}"
    return ""


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def integer(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integral number in ``[minimum, maximum]`` as a Python int.

    >>> integer(np.int64(16), "max_len", minimum=1)
    16
    >>> integer(True, "max_len")
    Traceback (most recent call last):
    ...
    ValueError: max_len must be an int. Received: max_len=True
    """
    bounds = _bounds_text(minimum, maximum)
    if not _is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be an int{bounds}. Received: {name}={value!r}")
    return int(value)


def positive_int(value, name: str, allow_none: bool = False) -> int | None:
    """An integral number >= 1 (``None`` too when ``allow_none``).

    >>> positive_int(np.int32(3), "units")
    3
    >>> positive_int(0, "units")
    Traceback (most recent call last):
    ...
    ValueError: units must be a positive int. Received: units=0
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < 1:
        kind = "a positive int or None" if allow_none else "a positive int"
        raise ValueError(f"{name} must be {kind}. Received: {name}={value!r}")
    return int(value)


def positive_int_sequence(values, name: str, min_len: int = 1, max_len: int | None = None) -> tuple[int, ...]:
    """A list or tuple of positive ints (e.g. ``filters``), as a tuple."""
    count = (
        f"at least {min_len}"
        if max_len is None
        else (f"{min_len}" if min_len == max_len else f"{min_len} to {max_len}")
    )
    if (
        isinstance(values, (str, bytes))
        or not hasattr(values, "__len__")
        or len(values) < min_len
        or (max_len is not None and len(values) > max_len)
    ):
        raise ValueError(f"{name} must be a sequence of {count} positive ints. Received: {name}={values!r}")
    return tuple(positive_int(v, f"each entry of {name}") for v in values)


def number(
    value,
    name: str,
    minimum: float | None = None,
    maximum: float | None = None,
    include_minimum: bool = True,
    include_maximum: bool = True,
) -> float:
    """A finite real number between ``minimum`` and ``maximum`` as a Python float.

    >>> number(0.5, "beta", minimum=0)
    0.5
    >>> number(-1, "beta", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: beta must be a number >= 0. Received: beta=-1
    """
    low_ok = minimum is None or (value >= minimum if include_minimum else value > minimum) if _is_real(value) else False
    high_ok = (
        maximum is None or (value <= maximum if include_maximum else value < maximum) if _is_real(value) else False
    )
    if not _is_real(value) or not np.isfinite(value) or not low_ok or not high_ok:
        bounds = _bounds_text(minimum, maximum, include_minimum, include_maximum)
        raise ValueError(f"{name} must be a number{bounds}. Received: {name}={value!r}")
    return float(value)


def rate(value, name: str = "dropout") -> float:
    """A dropout-like rate in [0, 1).

    >>> rate(0.1)
    0.1
    """
    if not _is_real(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def probability(value, name: str) -> float:
    """A probability in [0, 1].

    >>> probability(1, "p")
    1.0
    """
    if not _is_real(value) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1]. Received: {name}={value!r}")
    return float(value)


def image_batch_shape(
    shape, name: str = "images", size: tuple[int, int] | None = None, channels: int | None = 3
) -> tuple:
    """Check a (batch, height, width, channels) shape (``size`` = required (height, width) when given)."""
    shape = tuple(shape)
    if len(shape) != 4 or (channels is not None and shape[-1] != channels):
        wanted = (
            f"RGB images (batch, height, width, {channels})" if channels else "images (batch, height, width, channels)"
        )
        raise ValueError(f"{name} must be a batch of {wanted}. Received: {name} with shape {shape}")
    if size is not None and tuple(shape[1:3]) != tuple(size):
        raise ValueError(
            f"{name} must be {size[0]}x{size[1]} images (batch, {size[0]}, {size[1]}, 3). "
            f"Received: {name} with shape {shape}"
        )
    return shape


def image_batch(
    images, name: str = "images", size: tuple[int, int] | None = None, channels: int | None = 3
) -> np.ndarray:
    """An image batch as float32 in [0, 1]: uint8 is scaled by 1/255, floats outside [0, 1] are refused.

    >>> float(image_batch(np.full((1, 2, 2, 3), 255, np.uint8)).max())
    1.0
    >>> image_batch(np.full((1, 2, 2, 3), 255.0))
    Traceback (most recent call last):
    ...
    ValueError: images must hold floats in [0, 1] or uint8 in [0, 255]; floats in [0, 255] look like unscaled pixels: pass uint8 or divide by 255. Received: images with values in [255, 255]
    """
    array = np.asarray(images)
    image_batch_shape(array.shape, name, size, channels)
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be uint8 or float pixels. Received: {name} of dtype {array.dtype}")
    array = array.astype(np.float32)
    if array.size and (not np.isfinite(array).all() or array.min() < 0 or array.max() > 1):
        low, high = float(np.nanmin(array)), float(np.nanmax(array))
        raise ValueError(
            f"{name} must hold floats in [0, 1] or uint8 in [0, 255]; floats in [0, 255] look like "
            f"unscaled pixels: pass uint8 or divide by 255. Received: {name} with values in "
            f"[{low:g}, {high:g}]"
        )
    return array


def scale_uint8_images(images):
    """Inside a layer: uint8 (or other integer) images -> float32 / 255; float images unchanged.

    The symbolic half of the image rule (values of a symbolic tensor are unknown, dtypes are not).
    """
    from keras import ops

    dtype = str(getattr(images, "dtype", "float32"))
    if "int" in dtype:
        return ops.cast(images, "float32") / 255.0
    return images


def concrete_values(x):
    """The values of a concrete array (NumPy, list, eager tensor) as float32; None for a symbolic tensor."""
    if isinstance(x, (list, tuple, np.ndarray, numbers.Number)):
        return np.asarray(x, dtype="float32")
    try:
        return np.asarray(x.numpy(), dtype="float32")  # eager tensor
    except Exception:  # noqa: BLE001 - symbolic tensors (inside fit/predict) cannot be read
        return None


def modality_mask(values, width: int, batch=None, require_one: bool = True, name: str = "modality_mask"):
    """A (batch, width) 0/1 modality mask as a float32 tensor (1 = present), checked as far as it is known.

    The shape is always checked; a concrete mask (NumPy, list, eager tensor) is also checked for
    values other than 0 and 1 and, with ``require_one``, for rows with no modality at all.
    Used by the fusion layers (lesson 05) and ``ModalityDropout`` (lesson 12).

    >>> modality_mask([[1, 5]], 2)
    Traceback (most recent call last):
    ...
    ValueError: modality_mask must hold only 0 (missing) and 1 (present). Received: modality_mask with values [1.0, 5.0]
    """
    from keras import ops

    concrete = concrete_values(values)
    if concrete is not None and concrete.ndim == 2:
        if not np.all((concrete == 0) | (concrete == 1)):
            raise ValueError(
                f"{name} must hold only 0 (missing) and 1 (present). "
                f"Received: {name} with values {np.unique(concrete).tolist()[:6]}"
            )
        if require_one and np.any(concrete.sum(axis=1) == 0):
            raise ValueError(
                f"every example needs at least one present modality; {name} has "
                f"{int(np.sum(concrete.sum(axis=1) == 0))} all-zero row(s)"
            )
    tensor = ops.cast(values, "float32")
    if len(tensor.shape) != 2 or tensor.shape[-1] != width:
        raise ValueError(f"{name} must have shape (batch, {width}). Received: {name} with shape {tuple(tensor.shape)}")
    if batch is not None and tensor.shape[0] is not None and tensor.shape[0] != batch:
        raise ValueError(f"{name} has {tensor.shape[0]} rows for a batch of {batch}")
    return tensor


def mask(values, width: int, name: str = "mask") -> np.ndarray:
    """A (batch, width) 0/1 mask as float32: wrong width or values other than 0 and 1 are refused.

    >>> mask([[1, 0, 1]], 3).tolist()
    [[1.0, 0.0, 1.0]]
    >>> mask([[5, 0]], 2)
    Traceback (most recent call last):
    ...
    ValueError: mask must hold only 0 and 1 (which modalities are kept). Received: mask with values [0, 5]
    """
    array = np.asarray(values)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(
            f"{name} must be (batch, {width}): one 0/1 entry per modality. Received: {name} with shape {array.shape}"
        )
    unique = np.unique(array)
    if not np.isin(unique, (0, 1)).all():
        shown = [v.item() if hasattr(v, "item") else v for v in unique[:6]]
        raise ValueError(
            f"{name} must hold only 0 and 1 (which modalities are kept). Received: {name} with values {shown}"
        )
    return array.astype(np.float32)


def paired_arrays(**arrays) -> int:
    """NumPy arrays that describe the same examples, one row each: returns the number of examples.

    >>> paired_arrays(x=np.zeros((4, 2)), y=np.zeros(4))
    4
    >>> paired_arrays(x=np.zeros((4, 2)), y=np.zeros(3))
    Traceback (most recent call last):
    ...
    ValueError: every array must have the same number of examples (one row per example). Received lengths {'x': 4, 'y': 3}
    """
    lengths = {}
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array. Received: {type(array).__name__}")
        lengths[name] = len(array)
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"every array must have the same number of examples (one row per example). Received lengths {lengths}"
        )
    return next(iter(lengths.values()))
