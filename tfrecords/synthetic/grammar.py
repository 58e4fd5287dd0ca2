"""The description grammar: edit descriptions that mention exactly the changed attributes.

Three phrase types, as in the paper's Table 6:
  single:        one attribute, plain phrase         ("is brown", "make it red")
  composition:   two attributes joined               ("has laces and animal print")
  propositional: a relative clause describes a part  ("has a strap that goes around the ankle")
Ordered attributes (heel height, hem length, sleeve length, shades of a colour) are often
described with comparatives ("a higher heel", "darker", "make the sleeves longer").
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from tfrecords.synthetic import palette
from tfrecords.synthetic.lexicon import AttributeWords, Comparative, Lexicon

DECLARATIVE_PREFIXES = (
    "",
    "",
    "",
    "",
    "",
    "it",
    "one that",
    "i want one that",
    "i'd like one that",
    "i want a {noun} that",
    "i would like a {noun} that",
    "show me a {noun} that",
    "find me one that",
    "i'm looking for a {noun} that",
    "i prefer one that",
    "i need a {noun} that",
    "something that",
    "similar, but it",
    "same thing, but it",
    "like this one, but it",
    "the next one",
    "the one i want",
    "this time it",
    "now it",
    "what about one that",
    "how about a {noun} that",
    "do you have one that",
    "is there a {noun} that",
    "maybe one that",
    "ideally it",
    "my ideal {noun}",
    "the perfect {noun}",
    "my favorite {noun}",
    "i'm after a {noun} that",
    "can i see a {noun} that",
)
IMPERATIVE_PREFIXES = (
    "",
    "",
    "",
    "",
    "please",
    "now",
    "next,",
    "okay,",
    "ok",
    "can you",
    "could you",
    "would you",
    "let's",
    "try to",
    "i'd like you to",
    "go ahead and",
    "i want you to",
    "hmm,",
    "actually,",
    "then",
    "alright,",
    "first,",
    "quickly",
    "kindly",
    "just",
)
SUFFIXES = (
    "",
    "",
    "",
    "",
    "",
    "",
    " instead",
    " please",
    " this time",
    " now",
    " if possible",
    " for me",
    " thanks",
    " if you can",
    " on this one",
    " for a change",
)
DECL_JOINERS = (" and ", " and ", " and ", ", and ", " and also ", ", plus it ", " and it also ")
IMP_JOINERS = (" and ", " and ", " and ", ", and ", " and also ", ", then ", " and then ")

DECL_ADJ = ("is {a}", "should be {a}", "looks {a}", "is {a} now", "would be {a}")
DECL_NOUN = (
    "has {n}",
    "has {n}",
    "comes with {n}",
    "features {n}",
    "with {n}",
    "has got {n}",
    "sports {n}",
)
DECL_IDENTITY = ("is {n}", "should be {n}", "looks like {n}", "is more like {n}", "is actually {n}")
IMP_ADJ = ("make it {a}", "make this one {a}", "turn it {a}", "make the {noun} {a}")
IMP_NOUN = (
    "add {n}",
    "give it {n}",
    "put {n} on it",
    "go with {n}",
    "switch to {n}",
    "use {n}",
    "try {n}",
)
IMP_NOUN_NOT_ADD = ("give it {n}", "go with {n}", "switch to {n}", "use {n}", "try {n}")
IMP_IDENTITY = (
    "make it {n}",
    "turn it into {n}",
    "change it to {n}",
    "switch to {n}",
    "go with {n}",
    "show me {n}",
    "try {n}",
)
IMP_REMOVE = (
    "remove the {r}",
    "take off the {r}",
    "get rid of the {r}",
    "drop the {r}",
    "lose the {r}",
)
COLOUR_ONLY = ("comes in {a}", "is a {a} one", "is in {a}", "is colored {a}")
IMP_COLOUR_ONLY = (
    "change it to {a}",
    "change the color to {a}",
    "paint it {a}",
    "dye it {a}",
    "recolor it {a}",
)


@dataclasses.dataclass(frozen=True)
class Change:
    """One attribute edit: `attribute` goes from `old` to `new`."""

    attribute: str
    old: str
    new: str


def comparative_direction(attribute: str, words: AttributeWords, change: Change) -> int:
    """Returns +1 / -1 when `change` is one step up / down an ordered attribute, else 0.

    For colours "up" means one shade darker inside a palette.SHADE_FAMILIES family.
    """
    if attribute == "colour":
        for direction in (1, -1):
            if palette.shade_step(change.old, direction) == change.new:
                return direction
        return 0
    if change.old in words.order and change.new in words.order:
        step = words.order.index(change.new) - words.order.index(change.old)
        if abs(step) == 1:
            return step
    return 0


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def _verb_phrase(
    lexicon: Lexicon,
    change: Change,
    mood: str,
    propositional: bool,
    comparative_p: float,
    rng: np.random.Generator,
) -> str:
    """Returns one verb phrase (declarative "has ..." or imperative "add ...") for `change`."""
    words = lexicon.attributes[change.attribute]
    noun = _pick(rng, lexicon.item_nouns)
    direction = comparative_direction(change.attribute, words, change)
    if direction and rng.random() < comparative_p:
        comp: Comparative = words.up if direction > 0 else words.down
        if propositional and comp.propositions:
            frames = DECL_NOUN if mood == "decl" else IMP_NOUN_NOT_ADD
            return _pick(rng, frames).format(n=_pick(rng, comp.propositions))
        if not propositional:
            options = []
            if mood == "decl":
                options += [f.format(a=a) for f in DECL_ADJ for a in comp.adjectives]
                options += [f.format(n=n) for f in DECL_NOUN for n in comp.nouns]
            else:
                options += [f.format(a=a, noun=noun) for f in IMP_ADJ for a in comp.adjectives]
                options += [f.format(n=n) for f in IMP_NOUN_NOT_ADD for n in comp.nouns]
                options += list(comp.imperatives) * 4
            if options:
                return _pick(rng, options)
    if propositional:
        prop = _pick(rng, words.propositions[change.new])
        if words.kind == "identity":
            return _pick(rng, DECL_IDENTITY if mood == "decl" else IMP_IDENTITY).format(n=prop)
        return _pick(rng, DECL_NOUN if mood == "decl" else IMP_NOUN_NOT_ADD).format(n=prop)
    options: list[str] = []
    adjectives = words.adjectives.get(change.new, ())
    nouns = words.nouns.get(change.new, ())
    if words.kind == "identity":
        frames = DECL_IDENTITY if mood == "decl" else IMP_IDENTITY
        options += [f.format(n=n) for f in frames for n in nouns]
        adj_frames = DECL_ADJ if mood == "decl" else IMP_ADJ
        options += [f.format(a=a, noun=noun) for f in adj_frames for a in adjectives]
    else:
        if mood == "decl":
            options += [f.format(a=a) for f in DECL_ADJ for a in adjectives]
            if change.attribute == "colour":
                options += [f.format(a=a) for f in COLOUR_ONLY for a in adjectives]
            options += [f.format(n=n) for f in DECL_NOUN for n in nouns]
        else:
            options += [f.format(a=a, noun=noun) for f in IMP_ADJ for a in adjectives]
            if change.attribute == "colour":
                options += [f.format(a=a) for f in IMP_COLOUR_ONLY for a in adjectives]
            removal = change.new in words.removal
            options += [
                f.format(n=n) for f in (IMP_NOUN_NOT_ADD if removal else IMP_NOUN) for n in nouns
            ]
            if removal and change.old in words.removal_nouns:
                removed = [
                    f.format(r=r) for f in IMP_REMOVE for r in words.removal_nouns[change.old]
                ]
                options += removed * 3
            options += list(words.imperatives.get(change.new, ())) * 6
    return _pick(rng, options)


def _join(first: str, second: str, mood: str, rng: np.random.Generator) -> str:
    """Joins two verb phrases; "has A" + "has B" becomes "has A and B"."""
    for verb in ("has ", "with ", "comes with ", "features ", "add ", "give it ", "is "):
        if first.startswith(verb) and second.startswith(verb) and rng.random() < 0.8:
            return f"{first} and {second[len(verb) :]}"
    if second.startswith("with "):  # "is red and with laces" needs a verb
        second = "comes " + second
    return first + _pick(rng, DECL_JOINERS if mood == "decl" else IMP_JOINERS) + second


def describe(
    lexicon: Lexicon, changes: list[Change], rng: np.random.Generator, comparative_p: float = 0.6
) -> tuple[str, str]:
    """Returns (description, phrase type) for one turn.

    Args:
      lexicon: the dataset's phrases.
      changes: the one or two attribute changes of the turn.
      rng: the session's random generator.
      comparative_p: probability of a comparative when the change is one step along an order.

    Returns:
      The description (lower case, mentions only the changed attributes) and its phrase type
      from tfrecords.session.PHRASE_TYPES.

    Raises:
      ValueError: not one or two changes.
    """
    if not 1 <= len(changes) <= 2:
        raise ValueError(f"a turn changes one or two attributes, got {len(changes)}")
    mood = "decl" if rng.random() < 0.55 else "imp"
    if len(changes) == 1:
        propositional = rng.random() < 0.3
        text = _verb_phrase(lexicon, changes[0], mood, propositional, comparative_p, rng)
        phrase_type = "propositional" if propositional else "single"
    else:
        prop_index = int(rng.integers(2)) if rng.random() < 0.15 else -1
        phrases = [
            _verb_phrase(lexicon, ch, mood, k == prop_index, comparative_p, rng)
            for k, ch in enumerate(changes)
        ]
        text = _join(phrases[0], phrases[1], mood, rng)
        phrase_type = "propositional" if prop_index >= 0 else "composition"
    prefixes = DECLARATIVE_PREFIXES if mood == "decl" else IMPERATIVE_PREFIXES
    noun = _pick(rng, lexicon.item_nouns)
    prefix = _pick(rng, prefixes).format(noun=noun)
    if prefix and text.startswith("with "):  # "my ideal shoe with laces" needs a verb
        text = "comes " + text
    if prefix.split(" ")[-1:] == text.split(" ")[:1]:  # no "try to try ..."
        prefix = ""
    if noun[0] in "aeiou":
        prefix = prefix.replace(f" a {noun}", f" an {noun}")
    text = f"{prefix} {text}".strip() + _pick(rng, SUFFIXES)
    return text, phrase_type


def _attribute_phrases(words: AttributeWords) -> set[str]:
    phrases: set[str] = set()
    for table in (
        words.adjectives,
        words.nouns,
        words.propositions,
        words.imperatives,
        words.removal_nouns,
    ):
        for values in table.values():
            phrases.update(values)
    for comp in (words.up, words.down):
        phrases.update(comp.adjectives + comp.nouns + comp.propositions + comp.imperatives)
    return phrases


_ARTICLE = re.compile(r"^(a|an|the) ")


_INDEX_CACHE: dict[int, tuple[Lexicon, list[tuple[str, str]]]] = {}


def phrase_index(lexicon: Lexicon) -> list[tuple[str, str]]:
    """Returns (phrase without leading article, attribute) pairs, longest phrase first."""
    cached = _INDEX_CACHE.get(id(lexicon))
    if cached is not None and cached[0] is lexicon:
        return cached[1]
    pairs = set()
    for name, words in lexicon.attributes.items():
        for phrase in _attribute_phrases(words):
            pairs.add((_ARTICLE.sub("", phrase), name))
    index = sorted(pairs, key=lambda p: (-len(p[0]), p))
    _INDEX_CACHE[id(lexicon)] = (lexicon, index)
    return index


def mentioned_attributes(lexicon: Lexicon, description: str) -> set[str]:
    """Parses a description back into the set of attributes it mentions.

    Longest phrases match first and consume their words, so "a black sole" counts as the
    sole, not the colour.

    Args:
      lexicon: the dataset's phrases.
      description: a description produced by `describe`.

    Returns:
      The attribute names whose phrases occur in the description.
    """
    text = " " + re.sub(r"[^a-z' ]+", " ", description.lower()) + " "
    text = re.sub(" +", " ", text)
    found: set[str] = set()
    for phrase, name in phrase_index(lexicon):
        needle = f" {phrase} "
        while needle in text:
            found.add(name)
            text = text.replace(needle, " | ", 1)
    return found
