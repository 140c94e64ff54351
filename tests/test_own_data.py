"""Tests of mmgen_lib.own_data: the bring-your-own-data loader (lesson 13)."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from mmgen_lib.own_data import OwnDataError, load_own_data, read_image, read_wav, resample, write_wav
from mmgen_lib.pipeline import make_dataset
from mmgen_lib.tokenizer import Tokenizer

FIXTURE = Path(__file__).parent / "fixtures" / "own_data"


def _write_png(path, height=20, width=30, value=200):
    import tensorflow as tf

    image = np.full((height, width, 3), value, np.uint8)
    path.write_bytes(tf.io.encode_png(image).numpy())


@pytest.fixture(scope="module")
def fixture_data():
    return load_own_data(FIXTURE)


def test_fixture_is_small():
    total = sum(p.stat().st_size for p in FIXTURE.iterdir() if p.is_file())
    assert total < 200_000


def test_fixture_loads_into_shapesworld_shapes(fixture_data):
    own = fixture_data
    assert len(own) == 36
    assert own.images.shape == (36, 32, 32, 3) and own.images.dtype == np.float32
    assert 0.0 <= own.images.min() and own.images.max() <= 1.0
    assert own.audio.shape == (36, 2000)
    assert own.has_audio.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0] * 6
    assert np.all(own.audio[own.has_audio == 0] == 0)
    assert own.caption_ids.shape == (36, 16)
    assert own.tokenizer.decode(own.caption_ids[1]) == own.captions[1] == "a red house under a blue sky"


def test_arrays_feed_the_course_pipeline(fixture_data):
    arrays = fixture_data.arrays()
    assert arrays["spectrogram"].shape == (36, 28, 40)
    ds = make_dataset(arrays, inputs=("image", "spectrogram"), targets=("caption_ids",), batch_size=8)
    inputs, targets = next(iter(ds))
    assert inputs["image"].shape == (8, 32, 32, 3)
    assert targets["caption_ids"].shape == (8, 16)


def test_given_tokenizer_is_reused_and_unknown_words_map_to_unk(fixture_data):
    tokenizer = Tokenizer(["a", "house"])
    own = load_own_data(FIXTURE, tokenizer=tokenizer)
    assert own.tokenizer is tokenizer
    assert own.caption_ids[0, :4].tolist() == [1, 4, 5, Tokenizer.unk_id]


def test_stem_pair_folder_layout(tmp_path):
    _write_png(tmp_path / "b.png", 50, 40)
    (tmp_path / "b.txt").write_text("a grey square\n")
    _write_png(tmp_path / "a.png", 10, 10, value=0)
    (tmp_path / "a.txt").write_text("a black square")
    write_wav(tmp_path / "a.wav", np.sin(np.arange(4000) / 5.0) * 0.5, 8000)
    own = load_own_data(tmp_path)
    assert own.captions == ["a black square", "a grey square"]
    assert own.has_audio.tolist() == [1.0, 0.0]
    np.testing.assert_allclose(own.images[1], 200 / 255, atol=1e-6)
    np.testing.assert_allclose(own.audio[0], (np.sin(np.arange(2000) / 5.0) * 0.5), atol=1e-3)


def test_csv_file_source_and_custom_sizes(tmp_path):
    shutil.copy(FIXTURE / "house_day_0.png", tmp_path / "x.png")
    (tmp_path / "list.csv").write_text("image,caption\nx.png,a house\n")
    own = load_own_data(tmp_path / "list.csv", image_size=16, caption_len=6)
    assert own.images.shape == (1, 16, 16, 3)
    assert own.caption_ids.tolist() == [[1, 4, 5, 2, 0, 0]]


def test_read_image_handles_grey_and_rgba(tmp_path):
    import tensorflow as tf

    (tmp_path / "grey.png").write_bytes(tf.io.encode_png(np.full((8, 8, 1), 255, np.uint8)).numpy())
    (tmp_path / "rgba.png").write_bytes(tf.io.encode_png(np.full((8, 8, 4), 51, np.uint8)).numpy())
    np.testing.assert_allclose(read_image(tmp_path / "grey.png", 4), 1.0)
    np.testing.assert_allclose(read_image(tmp_path / "rgba.png", 4), 0.2, atol=1e-6)


def test_resample_keeps_a_low_tone_and_removes_an_alias():
    t = np.arange(16000) / 16000
    low = resample(np.sin(2 * np.pi * 440 * t), 16000, 8000)
    assert low.shape == (8000,)
    np.testing.assert_allclose(low[100:-100], np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)[100:-100], atol=0.02)
    high = resample(np.sin(2 * np.pi * 6000 * t), 16000, 8000)  # above the new 4 kHz limit
    assert np.abs(high[100:-100]).max() < 0.05
    assert resample(np.ones(10), 8000, 16000).shape == (20,)


def test_wav_round_trip_and_stereo_to_mono(tmp_path):
    import tensorflow as tf

    wave = (np.arange(1000) % 50 / 50 - 0.5).astype(np.float32)
    write_wav(tmp_path / "m.wav", wave)
    np.testing.assert_allclose(read_wav(tmp_path / "m.wav", num_samples=1000), wave, atol=1e-4)
    stereo = np.stack([wave, -wave], axis=1)
    (tmp_path / "s.wav").write_bytes(tf.audio.encode_wav(stereo, 8000).numpy())
    np.testing.assert_allclose(read_wav(tmp_path / "s.wav", num_samples=1000), 0.0, atol=1e-4)


def test_missing_source_and_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_own_data(tmp_path / "nowhere")
    (tmp_path / "list.csv").write_text("image,caption,audio\nmissing.png,a cat,\n")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_own_data(tmp_path / "list.csv")
    _write_png(tmp_path / "cat.png")
    (tmp_path / "list.csv").write_text("image,caption,audio\ncat.png,a cat,meow.wav\n")
    with pytest.raises(FileNotFoundError, match="meow.wav"):
        load_own_data(tmp_path / "list.csv")
    folder = tmp_path / "pairs"
    folder.mkdir()
    _write_png(folder / "dog.png")
    with pytest.raises(FileNotFoundError, match="dog.txt"):
        load_own_data(folder)


def test_unreadable_files_raise(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"this is not a png")
    (tmp_path / "list.csv").write_text("image,caption\nbroken.png,a cat\n")
    with pytest.raises(OwnDataError, match="cannot read image .*broken.png"):
        load_own_data(tmp_path / "list.csv")
    _write_png(tmp_path / "cat.png")
    (tmp_path / "noise.wav").write_bytes(b"RIFF nonsense")
    (tmp_path / "list.csv").write_text("image,caption,audio\ncat.png,a cat,noise.wav\n")
    with pytest.raises(OwnDataError, match="cannot read audio .*noise.wav"):
        load_own_data(tmp_path / "list.csv")


def test_bad_captions_and_csv_raise(tmp_path):
    _write_png(tmp_path / "cat.png")
    (tmp_path / "list.csv").write_text("image,caption\ncat.png,   \n")
    with pytest.raises(OwnDataError, match="line 2: the caption of cat.png is empty"):
        load_own_data(tmp_path / "list.csv")
    (tmp_path / "list.csv").write_text("picture,text\ncat.png,a cat\n")
    with pytest.raises(OwnDataError, match="lacks \\['image', 'caption'\\]"):
        load_own_data(tmp_path / "list.csv")
    (tmp_path / "list.csv").write_text("image,caption\ncat.png,a very long caption about a cat\n")
    with pytest.raises(OwnDataError, match="more than caption_len=4"):
        load_own_data(tmp_path / "list.csv", caption_len=4)
    (tmp_path / "list.csv").write_text("image,caption\n")
    with pytest.raises(OwnDataError, match="lists no examples"):
        load_own_data(tmp_path / "list.csv")


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(OwnDataError, match="no captions.csv and no image files"):
        load_own_data(tmp_path)
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(OwnDataError, match="must be a folder or a .csv file"):
        load_own_data(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="image_size must be a positive int"):
        load_own_data(FIXTURE, image_size=0)
    with pytest.raises(TypeError, match="tokenizer must be a mmgen_lib Tokenizer"):
        load_own_data(FIXTURE, tokenizer={"a": 1})
    with pytest.raises(ValueError, match="wave must be 1-D"):
        resample(np.zeros((2, 3)), 8000, 4000)


# ------------------------------------------------------- malformed data sets (issue 17)
def _good_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("cat", "dog"):
        _write_png(folder / f"{name}.png")
    write_wav(folder / "cat.wav", np.zeros(400, np.float32), 8000)
    (folder / "captions.csv").write_text("image,caption,audio\ncat.png,a cat,cat.wav\ndog.png,a dog,\n")
    return folder


def test_a_csv_row_with_an_extra_field_names_the_row(tmp_path):
    folder = _good_folder(tmp_path / "data")
    (folder / "captions.csv").write_text("image,caption\ncat.png,a cat\ndog.png,a dog, sitting,extra\n")
    with pytest.raises(OwnDataError, match=r"captions.csv line 3: 4 fields for 2 columns"):
        load_own_data(folder)


def test_a_non_riff_file_given_as_wav_names_the_file(tmp_path):
    path = tmp_path / "noise.wav"
    path.write_bytes(bytes(range(256)) * 4)  # not UTF-8 either: once a raw UnicodeDecodeError
    with pytest.raises(OwnDataError, match=r"noise.wav: not a WAV file"):
        read_wav(path)


_MALFORMED = {  # name -> (how to spoil a good folder, what the message must name)
    "empty folder": (lambda f: [p.unlink() for p in f.iterdir()], "no captions.csv and no image files"),
    "empty csv": (lambda f: (f / "captions.csv").write_text(""), "lacks \\['image', 'caption'\\]"),
    "header only": (lambda f: (f / "captions.csv").write_text("image,caption\n"), "lists no examples"),
    "missing column": (lambda f: (f / "captions.csv").write_text("image\ncat.png\n"), "lacks \\['caption'\\]"),
    "short row": (lambda f: (f / "captions.csv").write_text("image,caption\ncat.png\n"), "line 2: the caption"),
    "extra fields": (lambda f: (f / "captions.csv").write_text("image,caption\ncat.png,a,b\n"), "line 2: 3 fields"),
    "text as image": (lambda f: (f / "cat.png").write_text("not an image"), "cannot read image .*cat.png"),
    "image as wav": (lambda f: shutil.copy(f / "dog.png", f / "cat.wav"), "cat.wav: not a WAV file"),
    "folder as image": (lambda f: ((f / "cat.png").unlink(), (f / "cat.png").mkdir()), "cat.png is not a file"),
    "csv not utf-8": (
        lambda f: (f / "captions.csv").write_bytes(b"image,caption\ncat.png,\xff\xfe caf\xe9\n"),
        "captions.csv is not UTF-8",
    ),
    "unreadable caption": (
        lambda f: (
            (f / "captions.csv").unlink(),
            (f / "cat.txt").write_bytes(b"\xff\xfe\x00"),
            (f / "dog.txt").write_text("a dog"),
        ),
        "cat.txt is not UTF-8",
    ),
    "truncated wav": (lambda f: (f / "cat.wav").write_bytes((f / "cat.wav").read_bytes()[:30]), "cat.wav"),
}


@pytest.mark.parametrize("name", sorted(_MALFORMED))
def test_malformed_data_sets_raise_own_data_error_naming_the_place(tmp_path, name):
    spoil, message = _MALFORMED[name]
    folder = _good_folder(tmp_path / "data")
    spoil(folder)
    with pytest.raises(OwnDataError, match=message):
        load_own_data(folder)


def test_random_garbage_csvs_raise_only_named_errors(tmp_path):
    """Fuzz: random byte soups and random field mixes as captions.csv never crash with a raw error."""
    rng = np.random.default_rng(0)
    pieces = [
        "image",
        "caption",
        "audio",
        "cat.png",
        "dog.png",
        "cat.wav",
        "a cat",
        "é",
        '"',
        ",",
        "\n",
        "\r\n",
        "\x00",
        ";",
        "missing.png",
        "captions.csv",
        " ",
    ]
    for trial in range(40):
        folder = _good_folder(tmp_path / f"fuzz{trial}")
        if trial % 2:
            payload = bytes(rng.integers(0, 256, rng.integers(0, 120)).astype(np.uint8))
        else:
            payload = ("image,caption,audio\n" + "".join(rng.choice(pieces, rng.integers(1, 30)))).encode()
        (folder / "captions.csv").write_bytes(payload)
        try:
            load_own_data(folder)
        except (OwnDataError, FileNotFoundError) as error:
            assert str(error), f"trial {trial}: an empty message"
        # anything else (AttributeError, UnicodeDecodeError, csv.Error...) fails the test


def test_non_ascii_file_names_and_captions_load(tmp_path):
    folder = tmp_path / "données"
    folder.mkdir()
    _write_png(folder / "chat_noir.png")
    _write_png(folder / "café.png")
    (folder / "captions.csv").write_text(
        "image,caption\nchat_noir.png,un chat noir\ncafé.png,un café crème\n", encoding="utf-8"
    )
    own = load_own_data(folder)
    assert own.captions == ["un chat noir", "un café crème"] and own.images.shape == (2, 32, 32, 3)
