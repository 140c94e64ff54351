"""SequenceLayout, UnifiedTransformer and generate: layout, shapes, parameters, causality, cache, serialization;
the shipped transformer (data/unified/): its figures, its bytes, its rebuild command, bad inputs."""

import hashlib
import json

import keras
import numpy as np
import pytest

from mmgen_lib import unified
from mmgen_lib.data import load_split
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.probe import load_probe
from mmgen_lib.shipped import weights_bytes
from mmgen_lib.tokenizer import shapesworld_tokenizer
from mmgen_lib.tokens import load_tokenizers
from mmgen_lib.unified import (
    DEFAULT_TASKS,
    ModalityDecoder,
    SequenceLayout,
    UnifiedTransformer,
    generate,
    mixed_order_sequences,
    shift_for_training,
    task_name,
)

TEXT_VOCAB, IMAGE_CODES, AUDIO_CODES, IMAGE_TOKENS, AUDIO_TOKENS, CAPTION_LEN = 12, 8, 6, 4, 3, 6
D, HEADS, FF = 16, 2, 32


def make_layout(tasks=DEFAULT_TASKS):
    return SequenceLayout(
        TEXT_VOCAB,
        IMAGE_CODES,
        AUDIO_CODES,
        image_tokens=IMAGE_TOKENS,
        audio_tokens=AUDIO_TOKENS,
        caption_len=CAPTION_LEN,
        tasks=tasks,
    )


def make_data(n=5, seed=0):
    rng = np.random.default_rng(seed)
    text = np.zeros((n, CAPTION_LEN), np.int32)
    text[:, 0] = 1  # <start>
    lengths = rng.integers(1, CAPTION_LEN - 1, n)  # words, then <end>, then padding
    for row, length in enumerate(lengths):
        text[row, 1 : 1 + length] = rng.integers(4, TEXT_VOCAB, length)
        text[row, 1 + length] = 2
    return {
        "text": text,
        "image": rng.integers(0, IMAGE_CODES, (n, IMAGE_TOKENS)),
        "audio": rng.integers(0, AUDIO_CODES, (n, AUDIO_TOKENS)),
    }


def make_model(seed=0, num_layers=2, **kwargs):
    keras.utils.set_random_seed(seed)
    return UnifiedTransformer(make_layout(), embed_dim=D, num_heads=HEADS, ff_dim=FF, num_layers=num_layers, **kwargs)


# ----------------------------------------------------------------------------- SequenceLayout
def test_vocabulary_offsets_put_every_modality_in_its_own_range():
    layout = make_layout()
    assert layout.tag_offset == TEXT_VOCAB and layout.image_marker == TEXT_VOCAB + 2
    assert layout.offsets == {"text": 0, "image": TEXT_VOCAB + 4, "audio": TEXT_VOCAB + 4 + IMAGE_CODES}
    assert layout.vocab_size == TEXT_VOCAB + 2 + 2 + IMAGE_CODES + AUDIO_CODES == 30
    assert layout.seq_len == 1 + CAPTION_LEN + (1 + IMAGE_TOKENS) + (1 + AUDIO_TOKENS) == 16
    allowed = {m: layout.allowed(m) for m in ("text", "image", "audio")}
    assert sum(a.sum() for a in allowed.values()) == (TEXT_VOCAB - 3) + IMAGE_CODES + AUDIO_CODES
    assert not (allowed["text"] & allowed["image"]).any() and not (allowed["image"] & allowed["audio"]).any()
    assert allowed["text"][2] and not allowed["text"][[0, 1, 3]].any()  # <end> yes; <pad>, <start>, <unk> no


def test_build_lays_out_tag_markers_offsets_and_the_target_mask():
    layout = make_layout()
    data = make_data(n=1)
    tokens, mask = layout.build(0, data)  # text -> image, audio
    text, image, audio = data["text"][0], data["image"][0], data["audio"][0]
    expected = np.concatenate(
        [
            [layout.task_id(0)],
            text,
            [layout.image_marker],
            image + layout.offsets["image"],
            [layout.audio_marker],
            audio + layout.offsets["audio"],
        ]
    )
    np.testing.assert_array_equal(tokens[0], expected)
    expected_mask = np.concatenate([np.zeros(1 + CAPTION_LEN + 1), np.ones(IMAGE_TOKENS), [0], np.ones(AUDIO_TOKENS)])
    np.testing.assert_array_equal(mask[0], expected_mask)


def test_text_target_mask_covers_words_and_end_but_not_padding():
    layout = make_layout()
    data = make_data(n=4)
    tokens, mask = layout.build(1, data)  # image -> audio, text: text last
    text_mask = mask[:, -CAPTION_LEN:]
    np.testing.assert_array_equal(text_mask[:, 0], 0)  # <start> is given
    np.testing.assert_array_equal(text_mask[:, 1:], (data["text"][:, 1:] != 0).astype("float32"))
    assert tokens.shape == mask.shape == (4, layout.seq_len)


def test_prompt_holds_the_first_modalities_of_the_order():
    layout = make_layout()
    data = make_data(n=3)
    prompt = layout.build(1, {"image": data["image"]}, prompt_only=True)
    assert prompt.shape == (3, 1 + 1 + IMAGE_TOKENS)
    longer = layout.build(1, {"image": data["image"], "audio": data["audio"]}, prompt_only=True)
    np.testing.assert_array_equal(longer[:, : prompt.shape[1]], prompt)
    with pytest.raises(ValueError, match="first modalities"):
        layout.build(1, {"image": data["image"], "text": data["text"]}, prompt_only=True)


def test_to_codes_inverts_the_offsets():
    layout = make_layout()
    data = make_data()
    for modality in ("image", "audio"):
        segment = layout.segment(modality, data[modality])
        np.testing.assert_array_equal(layout.to_codes(modality, segment[:, 1:]), data[modality])
    with pytest.raises(ValueError, match="not all image codes"):
        layout.to_codes("image", np.array([[0, 1]]))


def test_tables_give_modality_and_segment_markers():
    layout = make_layout()
    modality, marker = layout.modality_table(), layout.marker_table()
    assert modality[layout.tag_offset] == 0 and modality[5] == 1
    assert modality[layout.image_marker] == modality[layout.offsets["image"]] == 2
    assert modality[layout.audio_marker] == modality[-1] == 3
    assert set(np.flatnonzero(marker)) == {
        1,
        layout.tag_offset,
        layout.tag_offset + 1,
        layout.image_marker,
        layout.audio_marker,
    }


def test_layout_config_round_trip_and_task_names():
    layout = make_layout()
    assert SequenceLayout(**layout.get_config()) == layout
    assert task_name(DEFAULT_TASKS[1]) == "image → audio, text"
    assert layout.task_id((("image",), ("audio", "text"))) == layout.task_id(1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"text_vocab_size": 3}, "text_vocab_size"),
        ({"image_codebook_size": 0}, "image_codebook_size"),
        ({"audio_tokens": 2.5}, "audio_tokens"),
        ({"caption_len": True}, "caption_len"),
        ({"tasks": ()}, "tasks must be"),
        ({"tasks": ((("text",), ("text",)),)}, "distinct modality"),
        ({"tasks": ((("text",), ("video",)),)}, "distinct modality"),
        ({"tasks": ((("text",), ("image",)), (("text",), ("image",)))}, "tasks must be distinct"),
    ],
)
def test_bad_layout_arguments_raise(kwargs, match):
    arguments = {
        "text_vocab_size": TEXT_VOCAB,
        "image_codebook_size": IMAGE_CODES,
        "audio_codebook_size": AUDIO_CODES,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        SequenceLayout(**arguments)


def test_bad_data_raises_with_the_expected_shape():
    layout = make_layout()
    data = make_data()
    with pytest.raises(ValueError, match=r"image ids must be \(n, 4\) codes in \[0, 8\)"):
        layout.build(0, {**data, "image": data["image"] + IMAGE_CODES})
    with pytest.raises(ValueError, match="starting with <start>"):
        layout.build(0, {**data, "text": data["text"][:, 1:]})
    with pytest.raises(ValueError, match="2-D int array"):
        layout.build(0, {**data, "audio": data["audio"].astype(float)})
    with pytest.raises(ValueError, match="must hold"):
        layout.build(0, {"text": data["text"]})
    with pytest.raises(ValueError, match="same number of examples"):
        layout.build(0, {**data, "audio": data["audio"][:2]})
    with pytest.raises(TypeError, match="must be a dict"):
        layout.build(0, [data["text"]])
    with pytest.raises(ValueError, match="task must be"):
        layout.build(2, data)
    with pytest.raises(ValueError, match="modality must be one of"):
        layout.segment("video", data["image"])


def test_modality_weights_scale_only_that_modalitys_targets():
    layout = make_layout()
    data = make_data(n=3)
    plain = layout.build(0, data)[1]
    weighted = layout.build(0, data, weights={"audio": 3.0})[1]
    audio = layout.modality_table()[layout.build(0, data)[0]] == 3
    np.testing.assert_array_equal(weighted[audio], 3.0 * plain[audio])
    np.testing.assert_array_equal(weighted[~audio], plain[~audio])
    for bad in ({"video": 1.0}, {"audio": 0.0}, {"audio": float("nan")}, [("audio", 2.0)]):
        with pytest.raises(ValueError, match="weights must map"):
            layout.build(0, data, weights=bad)
    assert mixed_order_sequences(layout, data, weights={"text": 2.0})[1].max() == 2.0


def test_mixed_order_sequences_hold_every_example_in_every_order_seeded():
    layout = make_layout()
    tokens, mask, task = mixed_order_sequences(layout, make_data(n=5), seed=3)
    assert tokens.shape == mask.shape == (10, layout.seq_len) and np.bincount(task).tolist() == [5, 5]
    np.testing.assert_array_equal(tokens[:, 0], layout.tag_offset + task)
    again = mixed_order_sequences(layout, make_data(n=5), seed=3)
    np.testing.assert_array_equal(again[0], tokens)
    x, y, w = shift_for_training(tokens, mask)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert w.shape == y.shape and w.sum() == mask.sum()  # the tag (position 0) is never a target
    with pytest.raises(ValueError, match="equal"):
        shift_for_training(tokens, mask[:, :-1])


# ----------------------------------------------------------------------------- UnifiedTransformer
def test_output_shape_is_batch_seq_len_vocab():
    tokens, _ = make_layout().build(0, make_data(n=3))
    assert tuple(make_model()(tokens).shape) == (3, tokens.shape[1], make_layout().vocab_size)


def test_parameter_count_matches_the_formula():
    model = make_model(num_layers=2)
    layout = make_layout()
    model(layout.build(0, make_data(n=2))[0])
    V, max_position = layout.vocab_size, CAPTION_LEN  # the longest segment
    embeddings = V * D + 4 * D + max_position * D
    block = 4 * (D * D + D) + (D * FF + FF + FF * D + D) + 2 * 2 * D
    expected = embeddings + 2 * block + 2 * D + (D * V + V)
    assert model.count_params() == expected == 5_630


def test_segment_positions_restart_at_every_marker():
    layout = make_layout()
    tokens, _ = layout.build(0, make_data(n=1))
    positions = np.asarray(make_model().segment_positions(tokens))[0]
    expected = np.concatenate([[0], np.arange(CAPTION_LEN), np.arange(1 + IMAGE_TOKENS), np.arange(1 + AUDIO_TOKENS)])
    np.testing.assert_array_equal(positions, expected)


def test_future_tokens_do_not_change_past_logits():
    model = make_model()
    tokens, _ = make_layout().build(0, make_data(n=3))
    changed = tokens.copy()
    changed[:, 10:] = np.random.default_rng(1).integers(0, make_layout().vocab_size, changed[:, 10:].shape)
    before, after = np.asarray(model(tokens)), np.asarray(model(changed))
    np.testing.assert_allclose(before[:, :10], after[:, :10], atol=1e-5)
    assert np.abs(before[:, 10:] - after[:, 10:]).max() > 1e-3  # and the future did change


def test_extend_with_the_cache_equals_running_the_whole_sequence():
    model = make_model()
    tokens, _ = make_layout().build(1, make_data(n=3))
    full = np.asarray(model(tokens))
    positions = np.asarray(model.segment_positions(tokens))
    _, cache = model(tokens[:, :6], return_cache=True)
    for t in range(6, tokens.shape[1]):
        logits, cache = model.extend(tokens[:, t], positions[:, t], cache)
        np.testing.assert_allclose(np.asarray(logits), full[:, t], atol=1e-5)


def test_same_seed_gives_the_same_model():
    tokens, _ = make_layout().build(0, make_data(n=2))
    np.testing.assert_array_equal(np.asarray(make_model(seed=4)(tokens)), np.asarray(make_model(seed=4)(tokens)))
    assert not np.allclose(np.asarray(make_model(seed=4)(tokens)), np.asarray(make_model(seed=5)(tokens)))


def test_config_round_trip_gives_equal_outputs():
    model = make_model(dropout=0.1)
    tokens, _ = make_layout().build(0, make_data(n=2))
    expected = np.asarray(model(tokens))
    clone = UnifiedTransformer.from_config(model.get_config())
    clone(tokens)
    clone.set_weights(model.get_weights())
    assert clone.get_config() == model.get_config() and clone.layout == model.layout
    np.testing.assert_allclose(np.asarray(clone(tokens)), expected, atol=1e-6)


def test_keras_save_and_load_gives_equal_outputs(tmp_path):
    ids_in = keras.Input((None,), dtype="int32")
    model = keras.Model(ids_in, make_model()(ids_in))
    path = tmp_path / "unified.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    tokens, _ = make_layout().build(1, make_data(n=3))
    np.testing.assert_allclose(loaded.predict(tokens, verbose=0), model.predict(tokens, verbose=0), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layout": "layout"}, TypeError, "SequenceLayout"),
        ({"embed_dim": 10, "num_heads": 4}, ValueError, "divisible"),
        ({"num_layers": 0}, ValueError, "num_layers"),
        ({"ff_dim": 2.0}, ValueError, "ff_dim"),
        ({"dropout": 1.0}, ValueError, "dropout"),
    ],
)
def test_bad_model_arguments_raise(kwargs, error, match):
    arguments = {"layout": make_layout(), "embed_dim": D, "num_heads": HEADS, **kwargs}
    with pytest.raises(error, match=match):
        UnifiedTransformer(**arguments)


def test_inputs_must_be_a_batch_of_id_sequences():
    with pytest.raises(ValueError, match=r"\(batch, seq_len\)"):
        make_model()(np.zeros((2, 3, 4), "int32"))


# ----------------------------------------------------------------------------- generation
def test_generate_writes_only_target_tokens_and_each_missing_segment():
    layout, model = make_layout(), make_model()
    data = make_data(n=6)
    written = generate(model, layout, 0, {"text": data["text"]})
    assert set(written) == {"image", "audio"}
    assert written["image"].shape == (6, IMAGE_TOKENS) and written["audio"].shape == (6, AUDIO_TOKENS)
    assert written["image"].min() >= 0 and written["image"].max() < IMAGE_CODES
    captions = generate(model, layout, 1, {"image": data["image"], "audio": data["audio"]})
    assert set(captions) == {"text"} and captions["text"].shape == (6, CAPTION_LEN - 1)
    assert np.isin(captions["text"], np.flatnonzero(layout.allowed("text")).tolist() + [0]).all()


def test_greedy_with_and_without_cache_agree_and_sampling_is_seeded():
    layout, model = make_layout(), make_model()
    given = {"image": make_data(n=5)["image"]}
    cached, plain = generate(model, layout, 1, given), generate(model, layout, 1, given, use_cache=False)
    for modality in cached:
        np.testing.assert_array_equal(cached[modality], plain[modality])
    draws = [generate(model, layout, 1, given, temperature=1.5, top_k=4, seed=7) for _ in range(2)]
    np.testing.assert_array_equal(draws[0]["audio"], draws[1]["audio"])
    other = generate(model, layout, 1, given, temperature=1.5, top_k=4, seed=8)
    assert not np.array_equal(other["audio"], draws[0]["audio"])


def test_generate_rejects_bad_requests():
    layout, model = make_layout(), make_model()
    data = make_data(n=2)
    with pytest.raises(ValueError, match="first modalities"):
        generate(model, layout, 1, {"audio": data["audio"]})
    with pytest.raises(ValueError, match="first modalities"):
        generate(model, layout, 0, data)  # nothing left to write
    with pytest.raises(TypeError, match="UnifiedTransformer"):
        generate(object(), layout, 0, {"text": data["text"]})
    with pytest.raises(TypeError, match="UnifiedTransformer"):
        ModalityDecoder(lambda ids: ids, layout, "image")
    with pytest.raises(ValueError, match="temperature"):
        generate(model, layout, 0, {"text": data["text"]}, temperature=-1.0)


# ----------------------------------------------------------------------------- the shipped transformer
@pytest.fixture(scope="module")
def shipped():
    return unified.load_unified()


@pytest.fixture(scope="module")
def course():
    """The test split as tokens, with what scores it: labels, tokenizers, probe."""
    test = load_split("test")
    tokenizer = shapesworld_tokenizer()
    image_tokenizer, sound_tokenizer = load_tokenizers()
    data = unified.token_data(split_arrays(test, tokenizer), image_tokenizer, sound_tokenizer)
    return data, test.labels, image_tokenizer, tokenizer


def test_shipped_transformer_reaches_what_it_recorded_and_the_lessons_bars(shipped, course):
    model, layout, meta = shipped
    data, labels, image_tokenizer, tokenizer = course
    metrics = unified.evaluate_unified(model, layout, data, labels, image_tokenizer, tokenizer, load_probe())
    recorded = meta["metrics"]["test"]
    for group, values in metrics.items():
        for name, value in values.items():
            assert value == pytest.approx(recorded[group][name], abs=2e-3), (group, name)
    assert min(metrics["text_to_image_probe"].values()) >= 0.85
    assert metrics["image_audio_to_text_attr"]["mean"] >= 0.95
    assert layout.text_vocab_size == tokenizer.vocab_size and layout.tasks == unified._check_tasks(
        unified.RECIPE["tasks"]
    )
    assert meta["recipe"] == unified.RECIPE and len(meta["history"]["loss"]) == unified.RECIPE["epochs"]


def test_shipped_weights_rewrite_to_their_recorded_sha256(shipped):
    model, _, meta = shipped
    assert hashlib.sha256(weights_bytes(model.get_weights())).hexdigest() == meta["sha256"]


def test_training_is_seeded_learns_and_round_trips(tmp_path):
    layout, data = make_layout(), make_data(n=64)
    first, history = unified.train_unified(layout, data, epochs=3, seed=4)
    second, _ = unified.train_unified(layout, data, epochs=3, seed=4)
    for w1, w2 in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    unified.save_unified(first, layout, tmp_path, history)
    loaded, loaded_layout, meta = unified.load_unified(tmp_path)
    assert loaded_layout == layout and meta["history"]["loss"] == pytest.approx(history["loss"], abs=1e-5)
    ids = layout.build(0, data)[0][:4]
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), first.predict(ids, verbose=0), atol=1e-5)


def test_stop_after_runs_the_first_epochs_of_the_same_schedule():
    layout, data = make_layout(), make_data(n=64)
    _, full = unified.train_unified(layout, data, epochs=3, seed=2)
    _, first = unified.train_unified(layout, data, epochs=3, seed=2, stop_after=1)
    assert first["loss"] == pytest.approx(full["loss"][:1], rel=1e-6)
    with pytest.raises(ValueError, match="stop_after must be <= epochs"):
        unified.train_unified(layout, data, epochs=3, stop_after=4)
    with pytest.raises(ValueError, match="stop_after"):
        unified.train_unified(layout, data, epochs=3, stop_after=0)


def test_stop_after_steps_runs_the_first_steps_of_the_same_schedule():
    layout, data = make_layout(), make_data(n=96)  # 2 orders x 96 = 192 sequences: 3 steps of 64 per epoch
    _, full = unified.train_unified(layout, data, epochs=2, seed=2)
    running = full["first_epoch_running_loss"]
    assert len(running) == 3 and running[-1] == pytest.approx(full["loss"][0], rel=1e-6)
    _, first = unified.train_unified(layout, data, epochs=2, seed=2, stop_after_steps=2)
    assert first["first_epoch_running_loss"] == pytest.approx(running[:2], rel=1e-6)
    assert first["loss"] == pytest.approx(running[1:2], rel=1e-6)
    for bad, message in (
        ({"stop_after_steps": 0}, "stop_after_steps"),
        ({"stop_after_steps": 4}, "stop_after_steps must be <= the 3 steps of one epoch"),
        ({"stop_after_steps": 1, "stop_after": 1}, "not both"),
        ({"stop_after_steps": 1, "stop_after": 2}, "not both"),  # stop_after == epochs is still a second stop
    ):
        with pytest.raises(ValueError, match=message):
            unified.train_unified(layout, data, epochs=2, **bad)


def test_saving_never_overwrites_without_force(tmp_path):
    layout = make_layout()
    unified.save_unified(unified.build_unified_model(layout, seed=0), layout, tmp_path)
    before = (tmp_path / unified.WEIGHTS_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="force"):
        unified.save_unified(unified.build_unified_model(layout, seed=1), layout, tmp_path)
    assert (tmp_path / unified.WEIGHTS_FILE).read_bytes() == before
    unified.save_unified(unified.build_unified_model(layout, seed=1), layout, tmp_path, force=True)
    assert (tmp_path / unified.WEIGHTS_FILE).read_bytes() != before


def test_missing_corrupted_or_stale_files_are_refused_with_the_rebuild_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.unified"):
        unified.load_unified(tmp_path / "nowhere")
    layout = make_layout()
    unified.save_unified(unified.build_unified_model(layout, seed=0), layout, tmp_path)
    meta_path = tmp_path / unified.META_FILE
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "tokenizers_sha256": {"image": "0" * 64, "sound": "1" * 64}}))
    with pytest.raises(ValueError, match="other tokenizers.*python -m mmgen_lib.unified"):
        unified.load_unified(tmp_path)
    meta_path.write_text(json.dumps(meta))
    path = tmp_path / unified.WEIGHTS_FILE
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(payload))
    with pytest.raises(ValueError, match="sha256.*python -m mmgen_lib.unified"):
        unified.load_unified(tmp_path)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: unified.train_unified("layout", make_data()), TypeError, "SequenceLayout"),
        (lambda: unified.train_unified(make_layout(), make_data(), epochs=0), ValueError, "epochs"),
        (lambda: unified.token_data({"image": 1}, None, None), ValueError, "caption_ids"),
        (lambda: unified.token_data([1, 2], None, None), ValueError, "split_arrays"),
        (lambda: unified.save_unified("model", make_layout(), "/tmp/x"), TypeError, "UnifiedTransformer"),
        (
            lambda: unified.save_unified(
                unified.build_unified_model(make_layout(), seed=0), make_layout(tasks=[[["text"], ["image"]]]), "/tmp/x"
            ),
            ValueError,
            "layout",
        ),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / unified.META_FILE).write_text("{}")
    assert unified.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / unified.META_FILE).read_text() == "{}"


def test_regeneration_command_is_byte_for_byte_reproducible_and_refuses_to_overwrite(
    rebuilds_byte_for_byte, quick_retrain
):
    # The full recipe (`python -m mmgen_lib.unified --out data/unified --force`) takes about two minutes;
    # the same command on 256 examples for one epoch pins down the byte-for-byte property.
    first = rebuilds_byte_for_byte("mmgen_lib.unified", (unified.WEIGHTS_FILE, unified.META_FILE))
    refused = quick_retrain("mmgen_lib.unified", first)
    assert refused.returncode == 2 and "--force" in refused.stderr
