"""English function words: what a terse request leaves out ("make it red, please" -> "make red").

A general list (articles, pronouns, auxiliaries, politeness, fillers and light prepositions),
not read off any dataset's grammar. Words that change what an edit means are left out of it on
purpose: negations and removal ("no", "not", "without", "off", "remove"), particles of a
value ("slip on", "lace up", "down"), comparison ("more", "less", "than", "very") and verbs.

Example:
    ids = function_word_ids(["red", "it", "make"])   # [3]: "it" (vocabulary ids start at 2)
"""

from __future__ import annotations

from collections.abc import Sequence

FUNCTION_WORDS = frozenset(
    """
    a an the this that these those one ones it its itself
    i me my mine you your yours we us our they them their he she his her
    d m s ll ve re
    is are was were be been being am do does did done have has had having
    would could can should will shall may might must
    please thanks thank kindly just now then also so okay ok alright hmm um well
    actually maybe perhaps really still again instead
    to for of at by as like if about from in into with and or but
    what which who how there here something thing
    """.split()
)


def function_word_ids(vocabulary: Sequence[str]) -> list[int]:
    """The token ids (TextTokenizer's: vocabulary index + 2) of the vocabulary's function words."""
    return [i + 2 for i, word in enumerate(vocabulary) if word in FUNCTION_WORDS]
