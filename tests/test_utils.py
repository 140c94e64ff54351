"""Seeding, environment check, results reporting, and an import without side effects."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mmgen_lib import utils


def test_set_seed_makes_numpy_and_keras_repeatable():
    import keras

    utils.set_seed(3)
    first = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    utils.set_seed(3)
    second = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("seed, error", [("1", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError)])
def test_set_seed_rejects_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        utils.set_seed(seed)


def test_check_environment_reports_every_package_ok():
    rows = utils.check_environment()
    assert [row["name"] for row in rows] == ["python", "tensorflow", "keras", "numpy", "matplotlib", "ipywidgets"]
    assert all(row["ok"] for row in rows), rows


def test_check_environment_flags_missing_and_out_of_range_packages():
    rows = utils.check_environment((("no_such_module_xyz", "xyz", "1.0", "2"), ("numpy", "numpy", "99", "100")))
    assert rows[1] == {"name": "xyz", "version": None, "required": ">=1.0,<2", "ok": False}
    assert rows[2]["ok"] is False


def test_version_parsing_handles_suffixes():
    assert utils._version_tuple("2.21.0rc1") == (2, 21, 0)
    assert utils._version_tuple("3.15.1.dev2") == (3, 15, 1)


def test_report_prints_a_table_and_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(utils.RESULTS_ENV_VAR, str(tmp_path))
    result = utils.report("05_fusion", {"acc": np.float32(0.98771), "n": np.int64(3)})
    assert result == {"acc": pytest.approx(0.98771, abs=1e-6), "n": 3}
    out = capsys.readouterr().out
    assert "05_fusion" in out and "0.9877" in out
    assert json.loads((tmp_path / "05_fusion.json").read_text()) == result


def test_report_writes_nothing_without_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv(utils.RESULTS_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    utils.report("00_welcome", {"ok": 1})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "lesson, metrics, error, match",
    [
        ("", {"a": 1}, ValueError, "non-empty file stem"),
        ("../x", {"a": 1}, ValueError, "file stem"),
        ("01", {}, TypeError, "non-empty dict"),
        ("01", {"a": "high"}, TypeError, "must be a number"),
        ("01", {"a": float("nan")}, ValueError, "finite"),
        ("01", {"a": True}, TypeError, "must be a number"),
    ],
)
def test_report_rejects_bad_input(lesson, metrics, error, match):
    with pytest.raises(error, match=match):
        utils.report(lesson, metrics)


def test_import_has_no_side_effects_and_does_not_load_tensorflow():
    code = (
        "import sys, mmgen_lib, mmgen_lib.utils, mmgen_lib.data, mmgen_lib.tokenizer;"
        "print('tensorflow' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_lazy_submodule_access():
    import mmgen_lib

    assert mmgen_lib.utils is utils
    with pytest.raises(AttributeError, match="no attribute"):
        mmgen_lib.not_a_module  # noqa: B018


def test_data_dir_names_mmgen_data_dir_when_the_folder_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("MMGEN_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="MMGEN_DATA_DIR='.*nowhere' is not a folder"):
        utils.data_dir()
    monkeypatch.setenv("MMGEN_DATA_DIR", str(tmp_path))
    assert utils.data_dir() == tmp_path
    monkeypatch.delenv("MMGEN_DATA_DIR")
    monkeypatch.setattr(utils, "repo_root", lambda: tmp_path / "site-packages")
    with pytest.raises(FileNotFoundError, match="installed outside its repository.*MMGEN_DATA_DIR"):
        utils.data_dir()
