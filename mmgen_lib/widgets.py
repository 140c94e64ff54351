"""The interactive studio: ipywidgets panels around any trained generator (lesson 13).

Two panels, joined by :func:`studio` into tabs:

- **caption -> image**: type a caption, or compose one from five drop-downs, and see
  the images a text-to-image model draws for it;
- **image + sound -> caption**: pick an image and a sound (play it), set the
  temperature and beam width with sliders, and read the caption a captioner writes.
  Image and sound may come from *different* examples: a fun way to see which modality
  the model trusts for which word.

The models are passed in as plain functions, so the panels work with any model:

- ``text_to_image(caption: str, num_images: int, seed: int) -> (num_images, 32, 32, 3)`` floats in [0, 1];
- ``captioner(image (32, 32, 3), audio (samples,), temperature: float, beam_width: int) -> str``.

Every callback is a plain function of its inputs that returns its output
(:func:`generate_images`, :func:`describe`, :func:`images_to_png`, :func:`wav_bytes`),
so it is testable without a browser, and a lesson can call it once directly to leave
a visible result in a static render (GitHub, nbval) where widgets do not run.
``ipywidgets`` is imported only when a panel is built.
"""

from __future__ import annotations

import html
import io
import wave

import numpy as np

from mmgen_lib import validation
from mmgen_lib.data import ATTRIBUTES, POSITION_PHRASES, SAMPLE_RATE, parse_caption
from mmgen_lib.i18n import N_, translate

__all__ = [
    "compose_caption",
    "generate_images",
    "describe",
    "images_to_png",
    "wav_bytes",
    "caption_to_image_panel",
    "image_to_caption_panel",
    "studio",
]


# Shown next to a typed caption that does not name all five attributes in ShapesWorld's words.
PICKERS_NOT_SYNCED = N_("(the drop-downs show the last caption that named all five attributes)")


def compose_caption(shape: str, color: str, size: str, position: str, material: str) -> str:
    """A ShapesWorld caption from five attribute values, e.g. ``"a large red metal circle at the top"``."""
    values = {"shape": shape, "color": color, "size": size, "position": position, "material": material}
    for name, value in values.items():
        if value not in ATTRIBUTES[name]:
            raise ValueError(f"{name} must be one of {ATTRIBUTES[name]}. Received: {name}={value!r}")
    return f"a {size} {color} {material} {shape} {POSITION_PHRASES[position]}"


def _check_int(value, name: str, minimum: int) -> int:
    return validation.integer(value, name, minimum=minimum)


def generate_images(text_to_image, caption: str, num_images: int = 4, seed: int = 0) -> np.ndarray:
    """Call a text-to-image function and check what it returns (the caption -> image callback).

    Returns:
        (num_images, height, width, 3) float32 in [0, 1].
    """
    if not callable(text_to_image):
        raise TypeError(f"text_to_image must be a function. Received: {type(text_to_image).__name__}")
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError("the caption is empty: type a caption or compose one")
    num_images = _check_int(num_images, "num_images", 1)
    images = np.asarray(text_to_image(caption.strip(), num_images, _check_int(seed, "seed", 0)), np.float32)
    if images.ndim != 4 or images.shape[0] != num_images or images.shape[-1] != 3:
        raise ValueError(
            f"text_to_image must return ({num_images}, height, width, 3) images. Received shape {images.shape}"
        )
    return np.clip(images, 0.0, 1.0)


def describe(captioner, image, audio, temperature: float = 0.0, beam_width: int = 1) -> str:
    """Call a captioner on one image and one sound (the image + sound -> caption callback)."""
    if not callable(captioner):
        raise TypeError(f"captioner must be a function. Received: {type(captioner).__name__}")
    image, audio = np.asarray(image, np.float32), np.asarray(audio, np.float32)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"image must be (height, width, 3). Received shape {image.shape}")
    if audio.ndim != 1:
        raise ValueError(f"audio must be a 1-D waveform. Received shape {audio.shape}")
    validation.number(temperature, "temperature", minimum=0)
    text = captioner(image, audio, float(temperature), _check_int(beam_width, "beam_width", 1))
    if not isinstance(text, str):
        raise TypeError(f"captioner must return a str. Received: {type(text).__name__}")
    return text


def images_to_png(images, scale: int = 3, gap: int = 2) -> bytes:
    """A row of images as one PNG (nearest-neighbour upscaled by ``scale``), for an ``Image`` widget."""
    import tensorflow as tf

    images = np.asarray(images, np.float32)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (n, height, width, 3) or (height, width, 3). Received shape {images.shape}")
    scale = _check_int(scale, "scale", 1)
    big = images.repeat(scale, axis=1).repeat(scale, axis=2)  # (n, H * scale, W * scale, 3)
    spacer = np.ones((big.shape[1], gap, 3), np.float32)
    row = np.concatenate([part for image in big for part in (image, spacer)][:-1], axis=1)  # (H', n W' + gaps, 3)
    return tf.io.encode_png(np.round(np.clip(row, 0, 1) * 255).astype(np.uint8)).numpy()


def wav_bytes(audio, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A mono waveform in [-1, 1] as the bytes of a 16-bit WAV file, for an ``Audio`` widget."""
    audio = np.asarray(audio, np.float64)
    if audio.ndim != 1 or len(audio) == 0:
        raise ValueError(f"audio must be a non-empty 1-D waveform. Received shape {audio.shape}")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_check_int(sample_rate, "sample_rate", 1))
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def _error_html(error: Exception) -> str:
    return f"<span style='color:#b00'>{type(error).__name__}: {error}</span>"


def caption_to_image_panel(
    text_to_image, caption: str = "a large red metal circle at the top", num_images: int = 4, scale: int = 3
):
    """Type or compose a caption; see the images ``text_to_image`` draws (lesson 13).

    Returns:
        an ``ipywidgets.VBox``. ``panel.update()`` runs the callback (it has run once
        already, so the panel shows images when first displayed); ``panel.controls``
        holds the widgets by name (``caption``, the five attributes, ``seed``,
        ``image``, ``status``) so tests and lessons can drive it without a browser.
    """
    import ipywidgets as w

    generate_images(text_to_image, caption, 1, 0)  # fail now, not silently inside a callback
    text = w.Text(
        value=caption, description=translate("caption"), continuous_update=False, layout=w.Layout(width="460px")
    )
    pickers = {
        name: w.Dropdown(options=values, description=translate(name), layout=w.Layout(width="220px"))
        for name, values in ATTRIBUTES.items()
    }
    seed = w.IntSlider(value=0, min=0, max=99, description=translate("seed"), continuous_update=False)
    image = w.Image(format="png")
    status = w.HTML()
    syncing = False  # True while the drop-downs are being set from the caption: do not compose then

    def show_caption_in_pickers() -> bool:
        """Set the drop-downs to the caption's five attributes; False if it does not name all five."""
        nonlocal syncing
        try:
            values = parse_caption(text.value)
        except (ValueError, TypeError):
            return False
        syncing = True
        try:
            for name, picker in pickers.items():
                picker.value = values[name]
        finally:
            syncing = False
        return True

    def update(*_):
        try:
            images = generate_images(text_to_image, text.value, num_images, seed.value)
            image.value = images_to_png(images, scale)
            note = "" if show_caption_in_pickers() else f" <i>{translate(PICKERS_NOT_SYNCED)}</i>"
            status.value = f"<b>{html.escape(text.value.strip())}</b>{note}"
        except (ValueError, TypeError) as error:
            status.value = _error_html(error)

    def compose(*_):
        if not syncing:
            text.value = compose_caption(**{name: picker.value for name, picker in pickers.items()})

    show_caption_in_pickers()  # the drop-downs start from the caption shown
    for picker in pickers.values():
        picker.observe(compose, names="value")
    text.observe(update, names="value")
    seed.observe(update, names="value")
    panel = w.VBox(
        [text, w.HBox([w.VBox(list(pickers.values())[:3]), w.VBox(list(pickers.values())[3:] + [seed])]), status, image]
    )
    panel.update, panel.controls = update, {"caption": text, **pickers, "seed": seed, "image": image, "status": status}
    update()
    return panel


def image_to_caption_panel(captioner, images, audio, sample_rate: int = SAMPLE_RATE, scale: int = 4):
    """Pick an image and a sound (with playback); read the caption ``captioner`` writes (lesson 13).

    Args:
        captioner: ``(image, audio, temperature, beam_width) -> str``.
        images: (n, height, width, 3) floats in [0, 1], the images to choose from.
        audio: (m, samples) waveforms to choose from (any example's sound with any image).

    Returns:
        an ``ipywidgets.VBox`` with ``panel.update()`` and ``panel.controls`` (``image_index``,
        ``sound_index``, ``temperature``, ``beam_width``, ``image``, ``player``, ``caption``).
    """
    import ipywidgets as w

    images, audio = np.asarray(images, np.float32), np.asarray(audio, np.float32)
    if images.ndim != 4 or audio.ndim != 2 or not len(images) or not len(audio):
        raise ValueError(
            f"images must be (n, height, width, 3) and audio (m, samples), n, m >= 1. "
            f"Received shapes {images.shape} and {audio.shape}"
        )
    describe(captioner, images[0], audio[0])  # fail now, not silently inside a callback
    image_index = w.IntSlider(
        value=0, min=0, max=len(images) - 1, description=translate("image"), continuous_update=False
    )
    sound_index = w.IntSlider(
        value=0, min=0, max=len(audio) - 1, description=translate("sound"), continuous_update=False
    )
    temperature = w.FloatSlider(
        value=0.0, min=0.0, max=2.0, step=0.1, description=translate("temperature"), continuous_update=False
    )
    beam_width = w.IntSlider(value=1, min=1, max=5, description=translate("beam width"), continuous_update=False)
    image = w.Image(format="png")
    player = w.Audio(format="wav", autoplay=False, loop=False)
    caption = w.HTML()

    def show_inputs(*_):
        image.value = images_to_png(images[image_index.value], scale)
        player.value = wav_bytes(audio[sound_index.value], sample_rate)

    def update(*_):
        try:
            text = describe(
                captioner, images[image_index.value], audio[sound_index.value], temperature.value, beam_width.value
            )
            caption.value = f"<b>{translate('caption:')}</b> {text}"
        except (ValueError, TypeError) as error:
            caption.value = _error_html(error)

    for control in (image_index, sound_index):
        control.observe(show_inputs, names="value")
    for control in (image_index, sound_index, temperature, beam_width):
        control.observe(update, names="value")
    panel = w.VBox(
        [w.HBox([w.VBox([image_index, sound_index, temperature, beam_width]), w.VBox([image, player])]), caption]
    )
    panel.update = update
    panel.controls = {
        "image_index": image_index,
        "sound_index": sound_index,
        "temperature": temperature,
        "beam_width": beam_width,
        "image": image,
        "player": player,
        "caption": caption,
    }
    show_inputs()
    update()
    return panel


def studio(text_to_image, captioner, images, audio, sample_rate: int = SAMPLE_RATE):
    """Both panels as two tabs: "caption -> image" and "image + sound -> caption" (lesson 13)."""
    import ipywidgets as w

    panels = [caption_to_image_panel(text_to_image), image_to_caption_panel(captioner, images, audio, sample_rate)]
    tabs = w.Tab(children=panels)
    for k, title in enumerate((N_("caption -> image"), N_("image + sound -> caption"))):
        tabs.set_title(k, translate(title))
    tabs.panels = panels
    return tabs
