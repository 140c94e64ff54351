"""Tokenizer: ids, padding, special tokens, round trips and save/load."""

import numpy as np
import pytest

from mmgen_lib import data
from mmgen_lib.tokenizer import Tokenizer, shapesworld_tokenizer, split_words


@pytest.fixture(scope="module")
def tokenizer():
    return shapesworld_tokenizer()


def test_special_tokens_come_first_and_padding_is_zero(tokenizer):
    assert tokenizer.vocabulary[:4] == ["<pad>", "<start>", "<end>", "<unk>"]
    assert (tokenizer.pad_id, tokenizer.start_id, tokenizer.end_id, tokenizer.unk_id) == (0, 1, 2, 3)


def test_vocabulary_is_deterministic_and_small(tokenizer):
    assert shapesworld_tokenizer().vocabulary == tokenizer.vocabulary
    assert 40 <= tokenizer.vocab_size <= 60


def test_every_caption_and_question_round_trips_without_unknown_words(tokenizer):
    for split in data.SPLITS:
        loaded = data.load_split(split, noise=False)
        for text in loaded.captions + loaded.questions:
            ids = tokenizer.encode(text)
            assert tokenizer.unk_id not in ids
            assert ids[0] == tokenizer.start_id and ids[-1] == tokenizer.end_id
            assert tokenizer.decode(ids) == text


def test_unknown_words_map_to_unk(tokenizer):
    assert tokenizer.encode("a purple circle", add_start_end=False)[1] == tokenizer.unk_id


def test_encode_batch_pads_with_zeros(tokenizer):
    batch = tokenizer.encode_batch(["a big red circle", "where is it?"], max_len=10)
    assert batch.shape == (2, 10) and batch.dtype == np.int32
    assert batch[0, 6:].tolist() == [0, 0, 0, 0]
    assert tokenizer.decode(batch[1]) == "where is it?"


def test_decode_stops_at_end_and_skips_padding(tokenizer):
    ids = tokenizer.encode("a big circle") + [tokenizer.encode("red", add_start_end=False)[0], 0, 0]
    assert tokenizer.decode(ids) == "a big circle"


def test_save_and_load_round_trip(tmp_path, tokenizer):
    path = tmp_path / "vocab.json"
    tokenizer.save(path)
    assert Tokenizer.load(path).vocabulary == tokenizer.vocabulary


def test_save_refuses_to_overwrite(tmp_path, tokenizer):
    path = tmp_path / "vocab.json"
    path.write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        tokenizer.save(path)
    assert path.read_text() == "mine"
    tokenizer.save(path, overwrite=True)


def test_fit_orders_by_frequency_then_alphabet():
    assert Tokenizer.fit(["b a", "a c", "a b"]).vocabulary[4:] == ["a", "b", "c"]


def test_split_words_separates_punctuation():
    assert split_words("At the top: a Big circle?") == ["at", "the", "top", ":", "a", "big", "circle", "?"]


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda t: t.encode(""), ValueError, "empty"),
        (lambda t: t.encode(5), TypeError, "must be a str"),
        (lambda t: t.encode_batch("a circle", 5), TypeError, "list of strings"),
        (lambda t: t.encode_batch(["a big red circle"], 3), ValueError, "more than max_len"),
        (lambda t: t.encode_batch(["a"], 0), ValueError, "max_len must be a positive int"),
        (lambda t: t.decode([999]), ValueError, "outside the vocabulary"),
    ],
)
def test_bad_inputs_are_rejected_clearly(tokenizer, call, error, match):
    with pytest.raises(error, match=match):
        call(tokenizer)


def test_bad_vocabularies_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="at least one word"):
        Tokenizer([])
    with pytest.raises(ValueError, match="duplicate"):
        Tokenizer(["a", "a"])
    with pytest.raises(ValueError, match="special tokens"):
        Tokenizer(["<pad>", "a"])
    with pytest.raises(ValueError, match="no words"):
        Tokenizer.fit(["", "  "])
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a saved Tokenizer"):
        Tokenizer.load(tmp_path / "bad.json")


def test_tokenizer_is_fitted_on_train_only():
    with pytest.raises(ValueError, match="train split only"):
        shapesworld_tokenizer(train=data.load_split("test", noise=False))


def test_encode_batch_accepts_any_integral_max_len_and_refuses_bool():
    tokenizer = Tokenizer.fit(["a red circle"])
    assert tokenizer.encode_batch(["a red circle"], max_len=np.int64(16)).shape == (1, 16)
    with pytest.raises(ValueError, match="max_len must be a positive int. Received: max_len=True"):
        tokenizer.encode_batch(["a red circle"], max_len=True)


@pytest.mark.parametrize("payload", ['{"words": ["a", "b"', "", "\xff", '{"words": [1, 2]}', "[]"])
def test_a_corrupt_tokenizer_file_raises_data_integrity_error_with_the_fix(tmp_path, payload):
    path = tmp_path / "tokenizer.json"
    path.write_bytes(payload.encode("latin-1"))
    with pytest.raises(data.DataIntegrityError, match=r"tokenizer.json .*Tokenizer.save\(path, overwrite=True\)"):
        Tokenizer.load(path)
