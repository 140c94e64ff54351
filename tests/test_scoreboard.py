"""mmgen_lib.scoreboard: one score for every generator (lessons 09, 10, 14)."""

import json

import numpy as np
import pytest

from mmgen_lib import data
from mmgen_lib.probe import load_probe
from mmgen_lib.scoreboard import (
    COLUMNS,
    frechet_distance,
    ideal_silhouettes,
    normalised_entropy,
    omit_attributes,
    probe_features,
    score_generator,
    scoreboard_markdown,
    silhouette_iou,
    silhouette_iou_by_shape,
)


@pytest.fixture(scope="module")
def probe():
    return load_probe()


@pytest.fixture(scope="module")
def test_split():
    split = data.load_split("test")
    return split.images[:300], split.labels[:300]


def test_omit_attributes_removes_words_and_position_phrases():
    assert omit_attributes("a large red metal circle at the top", ("position", "size")) == "a red metal circle"
    assert (
        omit_attributes("at the bottom: a tiny blue square made of wood", "position")
        == "a tiny blue square made of wood"
    )
    rng = np.random.default_rng(0)
    for _ in range(50):
        attrs = {k: v[rng.integers(len(v))] for k, v in data.ATTRIBUTES.items()}
        caption = omit_attributes(data.make_caption(attrs, rng), ("position", "size"))
        parsed = data.parse_caption(caption, strict=False)
        assert parsed["position"] is None and parsed["size"] is None
        assert parsed["shape"] == attrs["shape"] and parsed["color"] == attrs["color"]
        assert not any(w in caption.split() for w in ("at", "on"))  # "at the" would still say top or bottom
    with pytest.raises(ValueError, match="names"):
        omit_attributes("a red circle", ("mood",))
    with pytest.raises(TypeError, match="caption"):
        omit_attributes(3, "size")


def test_normalised_entropy_bounds():
    assert normalised_entropy([0, 1, 2, 3] * 5, 4) == pytest.approx(1.0)
    assert normalised_entropy([2] * 9, 4) == 0.0
    assert normalised_entropy([0, 1] * 4, 4) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n_values"):
        normalised_entropy([0, 1], 1)


def test_frechet_distance_zero_for_same_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = frechet_distance(a, a + np.array([2.0, 0.0, 0.0]))
    assert shifted == pytest.approx(4.0, rel=1e-6)
    # 1-D closed form: (m1 - m2)^2 + (s1 - s2)^2
    b = rng.normal(size=(4000, 1)) * 2 + 1
    c = rng.normal(size=(4000, 1))
    expected = (b.mean() - c.mean()) ** 2 + (b.std(ddof=1) - c.std(ddof=1)) ** 2
    assert frechet_distance(b, c) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="same dim"):
        frechet_distance(a, a[:, :2])


def test_probe_features_shape_and_real_vs_real(probe, test_split):
    images, _ = test_split
    features = probe_features(probe, images)
    assert features.shape == (300, probe.units + probe.color_units)
    real_vs_real = frechet_distance(features[:150], features[150:])
    blank = np.full_like(images, 40)
    assert frechet_distance(features, probe_features(probe, blank)) > 10 * real_vs_real


def test_ideal_silhouettes_are_the_renderers_shapes():
    masks = ideal_silhouettes("square", "large", "left")
    assert masks.shape == (25, 32, 32) and masks.dtype == bool
    centre = masks[12]
    rows, cols = np.nonzero(centre)
    assert abs(rows.mean() - data.CENTERS["left"][0]) < 1 and abs(cols.mean() - data.CENTERS["left"][1]) < 1
    with pytest.raises(ValueError, match="shape"):
        ideal_silhouettes("star", "large", "left")


def test_silhouette_iou_high_for_real_low_for_wrong_shape(test_split):
    images, labels = test_split
    ious = silhouette_iou(images, labels)
    assert ious.shape == (300,) and ious.min() >= 0 and ious.max() <= 1
    assert ious.mean() > 0.8
    wrong = labels.copy()
    wrong[:, 0] = (wrong[:, 0] + 1) % 3  # claim another shape
    assert silhouette_iou(images, wrong).mean() < ious.mean() - 0.1
    assert silhouette_iou(np.full_like(images, 40), labels).max() == 0.0


def test_silhouette_iou_by_shape_is_the_mean_per_shape_present(test_split):
    images, labels = test_split
    ious, by_shape = silhouette_iou(images, labels), silhouette_iou_by_shape(images, labels)
    assert list(by_shape) == list(data.ATTRIBUTES["shape"])
    for k, shape in enumerate(data.ATTRIBUTES["shape"]):
        assert by_shape[shape] == pytest.approx(ious[labels[:, 0] == k].mean())
    circles = labels[:, 0] == 0
    assert list(silhouette_iou_by_shape(images[circles], labels[circles])) == ["circle"]  # absent shapes left out


def test_score_generator_row_and_json(probe, test_split, tmp_path, monkeypatch):
    images, labels = test_split
    monkeypatch.setenv("MMGEN_RESULTS_DIR", str(tmp_path))
    row = score_generator(
        "real images",
        images,
        labels,
        probe,
        real_images=images,
        heldout=(images, labels),
        silent=(images, labels, "position"),
        seconds=0.3,
        parameters=12,
    )
    assert row["probe_acc_min"] >= 0.98 and row["probe_acc_heldout_combos"] == row["probe_acc_min"]
    assert row["frechet_probe"] == pytest.approx(0.0, abs=1e-3)
    assert row["silent_position_entropy"] > 0.9 and row["silent_named_acc_min"] >= 0.98
    assert row["seconds_per_100"] == pytest.approx(0.1) and row["parameters"] == 12
    assert row["silhouette_iou_min"] > 0.8
    saved = json.loads((tmp_path / "scoreboard" / "real_images.json").read_text())
    assert saved == row


def test_score_generator_sees_a_collapsed_generator(probe, test_split, monkeypatch):
    monkeypatch.delenv("MMGEN_RESULTS_DIR", raising=False)
    images, labels = test_split
    same = np.repeat(images[:1], len(images), axis=0)  # one image for every caption
    row = score_generator("collapsed", same, labels, probe, silent=(same, labels, ("position",)))
    assert row["silent_entropy"] == 0.0 and row["probe_acc_min"] < 0.6
    assert "frechet_probe" not in row and "seconds_per_100" not in row
    with pytest.raises(ValueError, match="generator"):
        score_generator("", images, labels, probe)
    with pytest.raises(ValueError, match="omitted"):
        score_generator("x", images, labels, probe, silent=(images, labels, "material"))


def test_scoreboard_markdown_one_row_per_generator():
    rows = [
        {"generator": "09 regression", "probe_acc_min": 1.0, "parameters": 123456},
        {"generator": "14 flow", "probe_acc_min": 0.95, "silent_entropy": 0.99},
    ]
    table = scoreboard_markdown(rows)
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].startswith("| generator | probe_acc_min")
    assert "| 09 regression | 1.000 |" in lines[2] and "123,456" in lines[2] and "—" in lines[2]
    assert lines[3].count("|") == len(COLUMNS) + 2
    with pytest.raises(ValueError, match="generator"):
        scoreboard_markdown([{"probe_acc_min": 1.0}])
