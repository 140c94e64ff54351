"""A word-level tokenizer with padding, start/end/unknown tokens and save/load (lesson 01).

``ids = tokenizer.encode("a big red circle at the top")`` gives
``[START, a, big, red, circle, at, the, top, END]`` as integers; ``decode`` inverts it.
Punctuation (``: , ? .``) is split off as its own token and glued back on decode, so
``decode(encode(caption)) == caption`` for every ShapesWorld caption.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

from mmgen_lib import validation

__all__ = ["Tokenizer", "PAD", "START", "END", "UNK", "shapesworld_tokenizer"]

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIAL_TOKENS = (PAD, START, END, UNK)  # ids 0, 1, 2, 3: padding is id 0, as Keras masking expects
_TOKEN_RE = re.compile(r"[a-z0-9']+|[:,?.!;]")


def split_words(text: str) -> list[str]:
    """Lower-case ``text`` and split it into words and punctuation marks."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str. Received: {type(text).__name__}")
    return _TOKEN_RE.findall(text.lower())


class Tokenizer:
    """Maps words to integer ids and back.

    Args:
        words: the vocabulary, without the special tokens (they are added first, so
            ``<pad>`` is id 0, ``<start>`` 1, ``<end>`` 2 and ``<unk>`` 3).
    """

    def __init__(self, words):
        words = list(words)
        if not words:
            raise ValueError("a Tokenizer needs at least one word. Received: an empty vocabulary")
        duplicates = sorted(w for w, count in Counter(words).items() if count > 1)
        if duplicates:
            raise ValueError(f"the vocabulary has duplicate words: {duplicates[:5]}")
        clashes = sorted(set(words) & set(SPECIAL_TOKENS))
        if clashes:
            raise ValueError(f"special tokens are added automatically; remove {clashes} from the words")
        self.vocabulary = list(SPECIAL_TOKENS) + words
        self._index = {word: i for i, word in enumerate(self.vocabulary)}

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @classmethod
    def fit(cls, texts, min_count: int = 1) -> Tokenizer:
        """Build a vocabulary from texts: most frequent first, ties alphabetical (deterministic)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        counts = Counter(word for text in texts for word in split_words(text))
        if not counts:
            raise ValueError("cannot fit a Tokenizer on no words: texts is empty or blank")
        words = [w for w, c in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if c >= min_count]
        return cls(words)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def encode(self, text: str, add_start_end: bool = True) -> list[int]:
        """Text -> list of ids (unknown words become ``<unk>``)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str. Received: {type(text).__name__}")
        if not text.strip():
            raise ValueError("cannot encode an empty text")
        ids = [self._index.get(word, self.unk_id) for word in split_words(text)]
        return [self.start_id, *ids, self.end_id] if add_start_end else ids

    def encode_batch(self, texts, max_len: int, add_start_end: bool = True) -> np.ndarray:
        """Texts -> (n, max_len) int32 array, right-padded with 0; too-long texts raise."""
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings, not one string")
        max_len = validation.positive_int(max_len, "max_len")  # any integral number, np.int64 too
        out = np.zeros((len(texts), max_len), np.int32)
        for row, text in enumerate(texts):
            ids = self.encode(text, add_start_end)
            if len(ids) > max_len:
                raise ValueError(f"text {text!r} has {len(ids)} tokens, more than max_len={max_len}")
            out[row, : len(ids)] = ids
        return out

    def decode(self, ids) -> str:
        """Ids -> text. Stops at ``<end>``; skips ``<pad>`` and ``<start>``."""
        words = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"token id {i} is outside the vocabulary (size {self.vocab_size})")
            if i == self.end_id:
                break
            if i not in (self.pad_id, self.start_id):
                words.append(self.vocabulary[i])
        return re.sub(r" ([:,?.!;])", r"\1", " ".join(words))

    def save(self, path, overwrite: bool = False) -> None:
        """Write the vocabulary as JSON; refuses to replace a file unless ``overwrite=True``."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        path.write_text(json.dumps({"words": self.vocabulary[len(SPECIAL_TOKENS) :]}, indent=1) + "\n")

    @classmethod
    def load(cls, path) -> Tokenizer:
        """Read a vocabulary written by :meth:`save`.

        Raises:
            DataIntegrityError: the file is missing, not JSON, or not a saved Tokenizer; the
                message says how to fix it.
        """
        from mmgen_lib.data import DataIntegrityError, read_json

        hint = "save the tokenizer again with Tokenizer.save(path, overwrite=True) or rebuild it with Tokenizer.fit"
        data = read_json(path, hint)
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("words"), list)
            or not all(isinstance(w, str) for w in data["words"])
        ):
            raise DataIntegrityError(
                f"{path} is not a saved Tokenizer (expected a JSON object with a 'words' list of strings); {hint}"
            )
        return cls(data["words"])

    def __repr__(self) -> str:
        return f"Tokenizer(vocab_size={self.vocab_size})"


def shapesworld_tokenizer(train=None, data_dir=None) -> Tokenizer:
    """The course tokenizer: fitted on the train split's captions, questions and answers.

    Args:
        train: an already loaded train split (saves loading it again), or None.
        data_dir: where to load the train split from when ``train`` is None.
    """
    if train is None:
        from mmgen_lib.data import load_split

        train = load_split("train", data_dir=data_dir, noise=False)
    elif getattr(train, "name", None) != "train":
        raise ValueError(
            "shapesworld_tokenizer is fitted on the train split only; "
            f"received the {getattr(train, 'name', type(train).__name__)!r} split"
        )
    return Tokenizer.fit(train.captions + train.questions + train.answers)
