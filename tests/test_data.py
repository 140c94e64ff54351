"""ShapesWorld: determinism, the canonical files, and that each modality carries what the datasheet says."""

import hashlib
import json
import shutil

import numpy as np
import pytest

from mmgen_lib import data
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES


@pytest.fixture(scope="module")
def test_split():
    return data.load_split("test")


@pytest.fixture(scope="module")
def small_fresh():
    return data.generate_split("val", n=300, seed=7)


# ------------------------------------------------------------------ generation determinism
def test_same_seed_gives_identical_arrays():
    first, second = data.generate_split("val", n=40, seed=3), data.generate_split("val", n=40, seed=3)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])


def test_another_seed_gives_different_arrays():
    first, second = data.generate_split("val", n=40, seed=3), data.generate_split("val", n=40, seed=4)
    assert not np.array_equal(first["images"], second["images"])
    assert not np.array_equal(first["audio"], second["audio"])


def test_splits_differ_for_the_same_seed():
    assert not np.array_equal(data.generate_split("val", n=20)["images"], data.generate_split("test", n=20)["images"])


def test_cli_regenerates_the_canonical_files_byte_for_byte(tmp_path):
    assert data.main(["--out", str(tmp_path)]) == 0
    manifest = json.loads((data.default_data_dir() / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == entry["sha256"], name


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / "shapesworld_train.npz").write_bytes(b"learner data")
    assert data.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "shapesworld_train.npz").read_bytes() == b"learner data"


def test_write_dataset_refuses_existing_files(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(FileExistsError, match="force"):
        data.write_dataset(tmp_path)


# ------------------------------------------------------------------ splits and files
def test_split_sizes_and_budget():
    sizes = {split: len(data.load_split(split, noise=False)) for split in data.SPLITS}
    assert sizes["train"] >= 5000 and sizes["val"] >= 500 and sizes["test"] >= 1000 and sizes["heldout"] > 0
    total = sum(p.stat().st_size for p in data.default_data_dir().glob("*.npz"))
    assert total <= 25e6


def test_heldout_combinations_never_appear_in_train_val_or_test():
    heldout = {tuple(c) for c in data.HELDOUT_COMBOS}
    visible = [ATTRIBUTE_NAMES.index(a) for a in ("shape", "color", "size", "position")]
    for split in ("train", "val", "test"):
        labels = data.load_split(split, noise=False).labels[:, visible]
        combos = {
            tuple(ATTRIBUTES[n][v] for n, v in zip(("shape", "color", "size", "position"), row)) for row in labels
        }
        assert not combos & heldout, split
    held = data.load_split("heldout", noise=False)
    assert all(
        tuple(held.attributes(i)[n] for n in ("shape", "color", "size", "position")) in heldout
        for i in range(len(held))
    )


def test_every_attribute_value_appears_in_train():
    train = data.load_split("train", noise=False)
    for k, name in enumerate(ATTRIBUTE_NAMES):
        assert set(np.unique(train.labels[:, k])) == set(range(len(ATTRIBUTES[name])))


def test_noise_is_deterministic_and_mild(test_split):
    again = data.load_split("test")
    clean = data.load_split("test", noise=False)
    np.testing.assert_array_equal(test_split.images, again.images)
    np.testing.assert_array_equal(test_split.audio, again.audio)
    difference = test_split.images.astype(float) - clean.images
    assert 3 < difference.std() < 9


# ------------------------------------------------------------------ the noisy-split cache
@pytest.fixture
def val_copy(tmp_path):
    """A data folder holding the val split and the manifest only (no cache yet)."""
    for name in ("manifest.json", "shapesworld_val.npz"):
        shutil.copy(data.default_data_dir() / name, tmp_path / name)
    return tmp_path


def _fresh_noise(folder):
    """The val split's noisy arrays computed without any cache (the reference)."""
    clean = data.load_split("val", data_dir=folder, noise=False)
    seed = json.loads((folder / "manifest.json").read_text())["seed"]
    return data.add_split_noise("val", seed, clean.images, clean.audio)


def test_the_noise_cache_gives_the_same_arrays_and_is_read_the_second_time(val_copy, monkeypatch):
    images, audio = _fresh_noise(val_copy)
    first = data.load_split("val", data_dir=val_copy)
    caches = list((val_copy / data.NOISE_CACHE_DIR).glob("shapesworld_val.noisy.*.npz"))
    assert len(caches) == 1
    monkeypatch.setattr(data, "add_split_noise", lambda *args: pytest.fail("the cache was not used"))
    second = data.load_split("val", data_dir=val_copy)
    for loaded in (first, second):
        np.testing.assert_array_equal(loaded.images, images)
        np.testing.assert_array_equal(loaded.audio, audio)
        assert loaded.images.dtype == np.uint8 and loaded.audio.dtype == np.float32


def test_a_damaged_noise_cache_is_recomputed_not_trusted(val_copy):
    data.load_split("val", data_dir=val_copy)
    (cache,) = (val_copy / data.NOISE_CACHE_DIR).glob("shapesworld_val.noisy.*.npz")
    payload = bytearray(cache.read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte inside the images
    cache.write_bytes(bytes(payload))
    images, audio = _fresh_noise(val_copy)
    loaded = data.load_split("val", data_dir=val_copy)
    np.testing.assert_array_equal(loaded.images, images)
    np.testing.assert_array_equal(loaded.audio, audio)
    assert cache.read_bytes() != bytes(payload), "the damaged cache was not rewritten"


def test_the_noise_cache_follows_the_split_file_and_drops_stale_copies(val_copy):
    cache_dir = val_copy / data.NOISE_CACHE_DIR
    cache_dir.mkdir()
    stale = cache_dir / "shapesworld_val.noisy.0000000000000000.npz"
    stale.write_bytes(b"from an earlier version of the split")
    other_split = cache_dir / "shapesworld_test.noisy.0000000000000000.npz"
    other_split.write_bytes(b"not val's")
    data.load_split("val", data_dir=val_copy)
    sha = hashlib.sha256((val_copy / "shapesworld_val.npz").read_bytes()).hexdigest()
    assert sorted(p.name for p in cache_dir.iterdir()) == [
        other_split.name,
        f"shapesworld_val.noisy.{sha[:16]}.npz",
    ]


def test_an_unwritable_cache_only_costs_time(val_copy, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only data folder")

    monkeypatch.setattr(data.os, "replace", refuse)
    images, audio = _fresh_noise(val_copy)
    loaded = data.load_split("val", data_dir=val_copy)
    np.testing.assert_array_equal(loaded.images, images)
    np.testing.assert_array_equal(loaded.audio, audio)
    assert not list((val_copy / data.NOISE_CACHE_DIR).glob("*.npz"))
    assert not list((val_copy / data.NOISE_CACHE_DIR).glob("*.tmp"))


def test_no_cache_without_noise_or_without_verification(val_copy):
    data.load_split("val", data_dir=val_copy, noise=False)
    data.load_split("val", data_dir=val_copy, verify=False)
    assert not (val_copy / data.NOISE_CACHE_DIR).exists()


def test_add_split_noise_refuses_bad_arrays():
    with pytest.raises(TypeError, match="uint8"):
        data.add_split_noise("val", 0, np.zeros((2, 32, 32, 3), np.float32), np.zeros((2, 2000), np.float32))
    with pytest.raises(ValueError, match="split must be one of"):
        data.add_split_noise("training", 0, np.zeros((2, 32, 32, 3), np.uint8), np.zeros((2, 2000), np.float32))


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_split("training")


def test_wrong_seed_type_is_rejected():
    with pytest.raises(TypeError, match="seed must be an int"):
        data.generate_split("val", n=2, seed="42")
    with pytest.raises(ValueError, match="seed must be >= 0"):
        data.generate_split("val", n=2, seed=-1)


def test_corrupted_file_names_the_file_and_the_fix(tmp_path):
    for path in data.default_data_dir().iterdir():
        if path.suffix in (".npz", ".json"):
            shutil.copy(path, tmp_path / path.name)
    target = tmp_path / "shapesworld_val.npz"
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DataIntegrityError, match=r"shapesworld_val\.npz is corrupted.*python -m mmgen_lib\.data"):
        data.load_split("val", data_dir=tmp_path)


def test_missing_file_names_the_file(tmp_path):
    shutil.copy(data.default_data_dir() / "manifest.json", tmp_path / "manifest.json")
    with pytest.raises(data.DataIntegrityError, match=r"shapesworld_test\.npz is missing"):
        data.load_split("test", data_dir=tmp_path)


# ------------------------------------------------------------------ captions and questions
def test_every_caption_parses_back_to_its_attributes():
    for split in data.SPLITS:
        loaded = data.load_split(split, noise=False)
        for i, caption in enumerate(loaded.captions):
            assert data.parse_caption(caption) == loaded.attributes(i), caption


def test_captions_are_varied(test_split):
    assert len(set(test_split.captions)) > 0.5 * len(test_split)
    first_words = {caption.split()[0] for caption in test_split.captions}
    assert len(first_words) >= 4


def test_answers_match_the_attributes(test_split):
    for i in range(len(test_split)):
        attrs = test_split.attributes(i)
        assert test_split.answers[i] in attrs.values()


def test_parse_caption_rejects_bad_input():
    with pytest.raises(ValueError, match="empty"):
        data.parse_caption("   ")
    with pytest.raises(TypeError, match="must be a str"):
        data.parse_caption(None)
    with pytest.raises(ValueError, match="names no material"):
        data.parse_caption("a big red circle at the top")
    with pytest.raises(ValueError, match="several values"):
        data.parse_caption("a big small red glass circle at the top")
    assert data.parse_caption("a big red circle", strict=False)["material"] is None


def test_make_question_rejects_unknown_attribute():
    with pytest.raises(ValueError, match="attribute must be one of"):
        data.make_question({}, np.random.default_rng(0), attribute="weight")


# ------------------------------------------------------------------ the image shows color and position
def _object_mask(images):
    return np.abs(images.astype(float) - data.BACKGROUND).max(axis=-1) > 60  # (n, 32, 32)


def test_mean_color_under_the_object_is_its_color(small_fresh):
    images, labels = small_fresh["images"], small_fresh["labels"].astype(int)
    mask = _object_mask(images)
    names = ATTRIBUTES["color"]
    reference = np.array([data.RGB[c] for c in names], float)
    for i in range(len(images)):
        mean = images[i][mask[i]].mean(axis=0)
        nearest = np.argmin(((reference - mean) ** 2).sum(axis=1))
        assert nearest == labels[i, ATTRIBUTE_NAMES.index("color")]


def test_object_center_is_at_its_position(small_fresh):
    mask = _object_mask(small_fresh["images"])
    labels = small_fresh["labels"].astype(int)
    rows, cols = np.indices((32, 32))
    for i in range(len(mask)):
        r, c = rows[mask[i]].mean(), cols[mask[i]].mean()
        position = ATTRIBUTES["position"][labels[i, ATTRIBUTE_NAMES.index("position")]]
        expected = {"left": c < 13, "right": c > 19, "top": r < 14, "bottom": r > 18}[position]
        assert expected, (position, r, c)


def test_large_objects_cover_more_pixels(small_fresh):
    area = _object_mask(small_fresh["images"]).sum(axis=(1, 2))
    size = small_fresh["labels"][:, ATTRIBUTE_NAMES.index("size")]
    assert area[size == 0].max() < area[size == 1].min()


# ------------------------------------------------------------------ the audio carries material and size
def test_dominant_frequency_separates_sizes(small_fresh):
    audio = data.mu_law_decode(small_fresh["audio"])
    freqs = np.fft.rfftfreq(audio.shape[1], 1 / data.SAMPLE_RATE)
    dominant = freqs[np.abs(np.fft.rfft(audio, axis=1)).argmax(axis=1)]
    size = small_fresh["labels"][:, ATTRIBUTE_NAMES.index("size")]
    assert dominant[size == 0].min() > 550 and dominant[size == 1].max() < 450  # small is high-pitched


def test_decay_separates_materials(small_fresh):
    audio = data.mu_law_decode(small_fresh["audio"])
    energy = audio**2
    late_over_early = energy[:, 1000:].sum(axis=1) / energy[:, :500].sum(axis=1)
    material = small_fresh["labels"][:, ATTRIBUTE_NAMES.index("material")]
    wood, metal, glass = (late_over_early[material == k] for k in range(3))
    assert wood.max() < glass.min() and glass.max() < metal.min()  # wood dies fastest, metal rings


def test_audio_does_not_depend_on_color():
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    base = dict(shape="circle", size="large", position="left", material="glass")
    red = data.synthesize_audio({**base, "color": "red"}, rng_a)
    blue = data.synthesize_audio({**base, "color": "blue"}, rng_b)
    np.testing.assert_array_equal(red, blue)


def test_mu_law_round_trip_error_is_small_relative_to_the_signal():
    wave = np.linspace(-1, 1, 1001)
    error = np.abs(data.mu_law_decode(data.mu_law_encode(wave)) - wave)
    assert np.all(error <= 0.025 * np.abs(wave) + 0.0005)  # mu-law: fine steps near 0, coarse near 1


def test_mu_law_decode_gives_the_formula_for_every_code_in_any_shape():
    codes = np.arange(256, dtype=np.uint8)
    compressed = codes.astype(np.float32) / data.MU * 2 - 1
    formula = (np.sign(compressed) * np.expm1(np.abs(compressed) * np.log1p(data.MU)) / data.MU).astype(np.float32)
    grid = np.random.default_rng(0).integers(0, 256, size=(7, 301)).astype(np.uint8)
    decoded = data.mu_law_decode(grid)
    assert decoded.dtype == np.float32 and decoded.shape == grid.shape
    np.testing.assert_array_equal(decoded, formula[grid])  # bit for bit: the saved audio must not move
    np.testing.assert_array_equal(data.mu_law_decode(codes), formula)


@pytest.mark.parametrize("codes", [np.zeros(3, np.int16), np.zeros(3, np.float32), [1, 2, 3]])
def test_mu_law_decode_refuses_anything_but_uint8_codes(codes):
    with pytest.raises(TypeError, match="uint8"):
        data.mu_law_decode(codes)


@pytest.mark.parametrize("payload", ['{"seed": 1, "files": {', "", '["not", "a", "manifest"]'])
def test_a_corrupt_manifest_raises_data_integrity_error_with_the_fix(tmp_path, payload):
    shutil.copy(data.default_data_dir() / "shapesworld_val.npz", tmp_path)
    (tmp_path / "manifest.json").write_text(payload)
    with pytest.raises(data.DataIntegrityError, match=r"manifest.json .*python -m mmgen_lib.data"):
        data.load_split("val", data_dir=tmp_path)


@pytest.mark.parametrize("keep", [0, 100, 5000])
def test_a_truncated_split_without_verification_raises_data_integrity_error(tmp_path, keep):
    shutil.copy(data.default_data_dir() / "manifest.json", tmp_path)
    payload = (data.default_data_dir() / "shapesworld_val.npz").read_bytes()
    (tmp_path / "shapesworld_val.npz").write_bytes(payload[:keep])
    with pytest.raises(data.DataIntegrityError, match=r"truncated or corrupted.*python -m mmgen_lib.data"):
        data.load_split("val", data_dir=tmp_path, verify=False)
    with pytest.raises(data.DataIntegrityError, match="sha256"):
        data.load_split("val", data_dir=tmp_path, verify=True)


def test_npz_bytes_is_deterministic_and_round_trips():
    arrays = {"b": np.arange(5, dtype=np.int16), "a": np.eye(2, dtype=np.float32)}
    first, second = data.npz_bytes(arrays), data.npz_bytes(dict(reversed(list(arrays.items()))))
    assert first == second
    import io

    with np.load(io.BytesIO(first)) as archive:
        assert sorted(archive.files) == ["a", "b"]
        np.testing.assert_array_equal(archive["b"], arrays["b"])
