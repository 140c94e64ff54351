"""Tests of mmgen_lib.widgets: the studio's callbacks run and produce outputs without a front end."""

import io
import wave

import numpy as np
import pytest

from mmgen_lib import widgets
from mmgen_lib.data import parse_caption


def fake_text_to_image(caption, num_images, seed):
    """Images whose colour is the caption's colour, so outputs can be checked."""
    rgb = {"red": (1, 0, 0), "green": (0, 1, 0), "blue": (0, 0, 1), "yellow": (1, 1, 0)}
    color = parse_caption(caption)["color"]
    return np.broadcast_to(np.array(rgb[color], np.float32), (num_images, 32, 32, 3)) * (1 - seed / 100)


def fake_captioner(image, audio, temperature, beam_width):
    return f"mean {image.mean():.2f} loud {np.abs(audio).max():.2f} t {temperature:.1f} k {beam_width}"


def _png_pixels(data):
    import tensorflow as tf

    return tf.io.decode_png(bytes(data)).numpy()


def test_compose_caption_round_trips_through_parse_caption():
    caption = widgets.compose_caption("square", "blue", "small", "left", "glass")
    assert caption == "a small blue glass square on the left"
    assert parse_caption(caption) == {
        "shape": "square",
        "color": "blue",
        "size": "small",
        "position": "left",
        "material": "glass",
    }
    with pytest.raises(ValueError, match="color must be one of"):
        widgets.compose_caption("square", "pink", "small", "left", "glass")


def test_generate_images_checks_inputs_and_outputs():
    images = widgets.generate_images(fake_text_to_image, "a big red circle on the left, made of wood", 3)
    assert images.shape == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="caption is empty"):
        widgets.generate_images(fake_text_to_image, "   ")
    with pytest.raises(ValueError, match="num_images must be an int >= 1"):
        widgets.generate_images(fake_text_to_image, "a red circle", 0)
    with pytest.raises(ValueError, match="must return \\(2, height, width, 3\\)"):
        widgets.generate_images(lambda c, n, s: np.zeros((1, 8, 8, 3)), "a red circle", 2)
    with pytest.raises(TypeError, match="text_to_image must be a function"):
        widgets.generate_images("model", "a red circle")


def test_describe_passes_temperature_and_beam_width():
    text = widgets.describe(fake_captioner, np.full((32, 32, 3), 0.5), np.full(100, -0.25), 0.7, 3)
    assert text == "mean 0.50 loud 0.25 t 0.7 k 3"
    with pytest.raises(ValueError, match="temperature must be a number >= 0"):
        widgets.describe(fake_captioner, np.zeros((32, 32, 3)), np.zeros(10), -1.0)
    with pytest.raises(ValueError, match="beam_width must be an int >= 1"):
        widgets.describe(fake_captioner, np.zeros((32, 32, 3)), np.zeros(10), 0.0, 0)
    with pytest.raises(ValueError, match="image must be \\(height, width, 3\\)"):
        widgets.describe(fake_captioner, np.zeros((32, 32)), np.zeros(10))
    with pytest.raises(TypeError, match="captioner must return a str"):
        widgets.describe(lambda *args: 3, np.zeros((32, 32, 3)), np.zeros(10))


def test_images_to_png_lays_images_out_in_a_row():
    pixels = _png_pixels(widgets.images_to_png(np.zeros((3, 4, 4, 3)), scale=2, gap=1))
    assert pixels.shape == (8, 3 * 8 + 2, 3)
    assert pixels[0, 8].tolist() == [255, 255, 255]  # the white gap between images
    assert _png_pixels(widgets.images_to_png(np.ones((4, 4, 3)), scale=1)).shape == (4, 4, 3)


def test_wav_bytes_is_a_playable_wav():
    data = widgets.wav_bytes(np.linspace(-1, 1, 800), sample_rate=8000)
    with wave.open(io.BytesIO(data)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate(), clip.getnframes()) == (1, 2, 8000, 800)
        frames = np.frombuffer(clip.readframes(800), "<i2")
    assert frames[0] == -32767 and frames[-1] == 32767
    with pytest.raises(ValueError, match="non-empty 1-D waveform"):
        widgets.wav_bytes(np.zeros((2, 10)))


def test_caption_to_image_panel_shows_a_result_and_reacts_to_controls():
    panel = widgets.caption_to_image_panel(
        fake_text_to_image, caption="a big red circle at the top, made of wood", num_images=2, scale=1
    )
    controls = panel.controls
    first = _png_pixels(controls["image"].value)
    assert first.shape == (32, 66, 3) and first[0, 0].tolist() == [255, 0, 0]
    controls["color"].value = "blue"  # composing rewrites the caption, which regenerates the images
    assert parse_caption(controls["caption"].value)["color"] == "blue"
    assert _png_pixels(controls["image"].value)[0, 0].tolist() == [0, 0, 255]
    controls["caption"].value = ""
    assert "caption is empty" in controls["status"].value


def test_the_drop_downs_start_from_the_caption_and_follow_it():
    panel = widgets.caption_to_image_panel(
        lambda caption, n, seed: np.zeros((n, 8, 8, 3), "float32"),  # draws any caption, even a partial one
        caption="a big red circle at the top, made of wood",
        num_images=1,
        scale=1,
    )
    controls = panel.controls
    shown = {name: controls[name].value for name in ("shape", "color", "size", "position", "material")}
    assert shown == parse_caption("a big red circle at the top, made of wood")
    controls["caption"].value = "a small green glass triangle on the left"  # typing updates the drop-downs
    assert (controls["shape"].value, controls["color"].value, controls["material"].value) == (
        "triangle",
        "green",
        "glass",
    )
    assert controls["caption"].value == "a small green glass triangle on the left"  # and is not rewritten
    controls["caption"].value = "a green triangle"  # names only two attributes: the drop-downs keep the last full one
    assert controls["material"].value == "glass" and widgets.PICKERS_NOT_SYNCED in controls["status"].value
    controls["size"].value = "large"  # composing from the drop-downs still writes a full caption
    assert parse_caption(controls["caption"].value) == {
        "shape": "triangle",
        "color": "green",
        "size": "large",
        "position": "left",
        "material": "glass",
    }


def test_image_to_caption_panel_shows_a_result_and_reacts_to_controls():
    images = np.stack([np.full((32, 32, 3), v, np.float32) for v in (0.0, 0.5)])
    audio = np.stack([np.full(200, v, np.float32) for v in (0.1, 0.9)])
    panel = widgets.image_to_caption_panel(fake_captioner, images, audio)
    controls = panel.controls
    assert controls["caption"].value.endswith("mean 0.00 loud 0.10 t 0.0 k 1")
    assert bytes(controls["player"].value[:4]) == b"RIFF"
    controls["image_index"].value = 1
    controls["sound_index"].value = 1
    controls["temperature"].value = 0.5
    controls["beam_width"].value = 4
    assert controls["caption"].value.endswith("mean 0.50 loud 0.90 t 0.5 k 4")
    assert _png_pixels(controls["image"].value)[0, 0].tolist() == [128, 128, 128]
    with pytest.raises(ValueError, match="images must be \\(n, height, width, 3\\)"):
        widgets.image_to_caption_panel(fake_captioner, images[0], audio)


def test_studio_has_two_tabs():
    images = np.zeros((2, 32, 32, 3), np.float32)
    tabs = widgets.studio(fake_text_to_image, fake_captioner, images, np.zeros((2, 100), np.float32))
    assert [tabs.get_title(k) for k in range(2)] == ["caption -> image", "image + sound -> caption"]
    assert len(tabs.panels) == 2
