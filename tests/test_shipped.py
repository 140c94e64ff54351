"""Tests of mmgen_lib.shipped: sha256-checked folders of weights (probe, tokenizers, pretrained encoders)."""

import hashlib
import json

import numpy as np
import pytest

from mmgen_lib.shipped import history_record, read_meta, read_weights, refuse_overwrite, weights_bytes, write_folder

WEIGHTS = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(4, np.float64)]


def test_weights_bytes_are_deterministic_float32_in_order():
    first, second = weights_bytes(WEIGHTS), weights_bytes([w.copy() for w in WEIGHTS])
    assert first == second  # same weights, same bytes (fixed timestamps)
    assert weights_bytes(WEIGHTS[::-1]) != first


def test_write_then_read_round_trip_with_checksum(tmp_path):
    payload = weights_bytes(WEIGHTS)
    write_folder(tmp_path, {"w.npz": payload}, "meta.json", {"sha256": hashlib.sha256(payload).hexdigest()})
    meta = read_meta(tmp_path, "meta.json", hint="rebuild it")
    loaded = read_weights(tmp_path / "w.npz", meta["sha256"], hint="rebuild it")
    assert [w.dtype for w in loaded] == [np.float32, np.float32]
    for got, want in zip(loaded, WEIGHTS):
        np.testing.assert_array_equal(got, want)
    assert json.loads((tmp_path / "meta.json").read_text()) == meta


def test_nothing_is_overwritten_without_force(tmp_path):
    write_folder(tmp_path, {"w.npz": b"first"}, "meta.json", {})
    with pytest.raises(FileExistsError, match=r"\['w.npz', 'meta.json'\].*force"):
        write_folder(tmp_path, {"w.npz": b"second"}, "meta.json", {})
    assert (tmp_path / "w.npz").read_bytes() == b"first"
    write_folder(tmp_path, {"w.npz": b"second"}, "meta.json", {}, force=True)
    assert (tmp_path / "w.npz").read_bytes() == b"second"
    refuse_overwrite(tmp_path / "empty", ["w.npz"], force=False)  # nothing there: no error


def test_missing_or_corrupted_files_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="no meta.json in .*; run the fix"):
        read_meta(tmp_path, "meta.json", hint="run the fix")
    payload = weights_bytes(WEIGHTS)
    (tmp_path / "w.npz").write_bytes(payload)
    with pytest.raises(FileNotFoundError, match="missing.*run the fix"):
        read_weights(tmp_path / "other.npz", "0" * 64, hint="run the fix")
    with pytest.raises(ValueError, match="sha256.*run the fix"):
        read_weights(tmp_path / "w.npz", "0" * 64, hint="run the fix")
    assert len(read_weights(tmp_path / "w.npz", "0" * 64, hint="", verify=False)) == 2


def test_training_commands_share_out_seed_force_and_refuse_to_overwrite(tmp_path, capsys):
    from mmgen_lib.shipped import start_training, training_parser

    parser = training_parser("python -m mmgen_lib.x", "Train x.", "x.npz")
    args = parser.parse_args(["--out", str(tmp_path)])
    assert (args.seed, args.force) == (0, False)
    assert start_training(args, ["x.npz"]) is None  # nothing there yet
    (tmp_path / "x.npz").write_bytes(b"a learner's file")
    assert start_training(args, ["x.npz"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "x.npz").read_bytes() == b"a learner's file"
    assert start_training(parser.parse_args(["--out", str(tmp_path), "--force"]), ["x.npz"]) is None
    with pytest.raises(SystemExit):
        parser.parse_args([])  # --out is required


def test_recipe_command_parses_the_quick_options_and_refuses_to_overwrite(tmp_path, capsys):
    from mmgen_lib.shipped import recipe_command

    args, refused = recipe_command(
        "python -m mmgen_lib.x", "Train x.", ["a.npz", "b.npz", "x.json"], ["--out", str(tmp_path), "--epochs", "2"]
    )
    assert refused is None and (args.epochs, args.examples, args.seed) == (2, None, 0)
    (tmp_path / "x.json").write_text("a learner's record")
    _, refused = recipe_command(
        "python -m mmgen_lib.x", "Train x.", ["a.npz", "b.npz", "x.json"], ["--out", str(tmp_path)]
    )
    assert refused == 2 and "--force" in capsys.readouterr().err
    assert (tmp_path / "x.json").read_text() == "a learner's record"
    with pytest.raises(SystemExit):
        recipe_command("python -m mmgen_lib.x", "Train x.", ["x.json"], ["--help"])
    assert "a.npz, b.npz and x.json" not in capsys.readouterr().out  # one name: no list
    with pytest.raises(SystemExit):
        recipe_command("python -m mmgen_lib.x", "Train x.", ["a.npz", "b.npz", "x.json"], ["--help"])
    assert "a.npz, b.npz and x.json" in " ".join(capsys.readouterr().out.split())


def test_quick_options_add_epochs_and_examples_and_are_recorded_only_when_given(tmp_path):
    from mmgen_lib.shipped import quick_run_record, training_parser

    plain = training_parser("python -m mmgen_lib.x", "Train x.", "x.npz")
    with pytest.raises(SystemExit):
        plain.parse_args(["--out", str(tmp_path), "--epochs", "1"])  # no quick options unless asked
    quick = training_parser("python -m mmgen_lib.x", "Train x.", "x.npz", quick_options=True)
    assert quick_run_record(quick.parse_args(["--out", str(tmp_path)])) is None
    args = quick.parse_args(["--out", str(tmp_path), "--epochs", "1", "--examples", "256"])
    assert quick_run_record(args) == {"epochs": 1, "examples": 256}


def test_history_record_keeps_six_digits_and_refuses_ragged_or_non_numeric_histories():
    assert history_record({"loss": [np.float32(0.1234567), 2], "kl": [1.0, 3]}) == {
        "loss": [0.123457, 2.0],
        "kl": [1.0, 3.0],
    }
    with pytest.raises(ValueError, match="same number of epochs"):
        history_record({"loss": [1.0, 2.0], "kl": [1.0]})
    with pytest.raises(TypeError, match="numbers"):
        history_record({"loss": [True]})
    with pytest.raises(TypeError, match="dict"):
        history_record([1.0])


def test_rebuild_hint_names_the_command_that_rebuilds_a_folder():
    from mmgen_lib.shipped import rebuild_hint

    assert rebuild_hint("vae", "data/vae") == "recreate it with `python -m mmgen_lib.vae --out data/vae --force`"
    assert rebuild_hint("tokens", "t", what="them") == "recreate them with `python -m mmgen_lib.tokens --out t --force`"
