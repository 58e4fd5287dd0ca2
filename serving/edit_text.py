"""The rules an edit text must meet, in Python: the server's checks and the editor's.

The exported graph checks the same rules in TensorFlow (`seqgan_tf/export/exporter.py`); these
mirror its tokenizer (NFKC, case folding, punctuation to spaces, whitespace split), so a client
can count the words the model will read before it sends them.
"""

from __future__ import annotations

import unicodedata

# RE2's [[:punct:]], which the exported tokenizer maps to spaces before splitting on whitespace.
_PUNCTUATION = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"})

# What can be wrong with an edit text (text_problem).
EMPTY = "empty"
TOO_LONG = "too_long"
NO_WORD = "no_word"


def split_words(text: str) -> list[str]:
    """The words the model reads, as the in-graph tokenizer splits them (NFKC, case fold,
    ASCII punctuation to spaces, whitespace split): the Python twin of
    `seqgan_tf.text.normalization.split_words_in_graph`, for clients without TensorFlow text.

    Example:
      >>> split_words("Make it RED!")
      ['make', 'it', 'red']
    """
    return unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION).split()


def has_word(text: str) -> bool:
    """True if `text` has a letter or digit after NFKC normalisation (as the exported graph)."""
    normalised = unicodedata.normalize("NFKC", text)
    return any(unicodedata.category(ch)[0] in "LN" for ch in normalised)


def text_problem(text: str, max_chars: int) -> str | None:
    """EMPTY (nothing but whitespace), TOO_LONG (over `max_chars` characters), NO_WORD (no
    letter or digit), checked in that order; None when the model can take the text.

    Example:
      >>> text_problem("!!!", 1000)
      'no_word'
    """
    if not text.strip():
        return EMPTY
    if len(text) > max_chars:
        return TOO_LONG
    if not has_word(text):
        return NO_WORD
    return None
