"""The one text-normalisation function used in training, vocabulary building and serving.

Unicode NFKC normalisation and case folding (tensorflow-text), punctuation to spaces, whitespace
tokenisation. Runs inside the TensorFlow graph, so the exported SavedModel takes raw strings.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

import tensorflow as tf
import tensorflow_text as tf_text

_WHITESPACE = tf_text.WhitespaceTokenizer()


def split_words_in_graph(texts: tf.Tensor) -> tf.RaggedTensor:
    """Normalises and tokenises a string tensor of shape [N] into ragged words [N, None].

    TensorFlow ops, so it runs inside the exported graph; `serving.edit_text.split_words` is its
    Python twin for clients (one string -> its words), tested to split alike.
    """
    texts = tf_text.normalize_utf8(texts, "NFKC")
    texts = tf_text.case_fold_utf8(texts)
    texts = tf.strings.regex_replace(texts, r"[[:punct:]]", " ")
    return _WHITESPACE.tokenize(texts)


def count_words(texts: Iterable[str], batch_size: int = 1024) -> collections.Counter:
    """Counts normalised words over an iterable of python strings (for vocabulary building)."""
    counts: collections.Counter = collections.Counter()
    batch: list[str] = []

    def flush() -> None:
        if batch:
            words = split_words_in_graph(tf.constant(batch)).flat_values.numpy()
            counts.update(w.decode("utf-8") for w in words)
            batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) >= batch_size:
            flush()
    flush()
    return counts


def build_vocabulary(texts: Iterable[str], min_count: int = 1) -> list[str]:
    """Vocabulary (most frequent first, ties alphabetical) of words seen at least `min_count` times."""
    counts = count_words(texts)
    words = [w for w, c in counts.items() if c >= min_count and w]
    return sorted(words, key=lambda w: (-counts[w], w))


def save_vocabulary(vocabulary: list[str], path: str) -> None:
    """Writes one word per line, atomically."""
    from common.atomic_files import write_text_atomically

    write_text_atomically(path, "\n".join(vocabulary) + "\n")


def load_vocabulary(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.rstrip("\n")]
