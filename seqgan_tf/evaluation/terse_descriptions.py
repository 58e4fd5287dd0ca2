"""Descriptions in words the dataset's grammar never uses: a person naming the new values.

The grammar (tfrecords/synthetic/grammar.py) always wraps a change in a verb phrase ("make it
red", "has a high heel", "i'm looking for a boot that ..."). People editing a picture often
just name what they want: "red", "suede material, please", "what about knee length". This
module rewrites each turn's description that way, from the turn's changed attributes and the
attribute schema's value names alone (no lexicon of ours), so an evaluation can ask how much
of a model's editing survives a phrasing it was not trained on.

A value is named bare for the category and the colour ("boot", "red"), and with its attribute
otherwise ("high heel", "slip on closure", "knee length", "no strap" for a value "none"; "t
strap" names its attribute already), so a
value shared by two attributes ("short" sleeves and length) stays unambiguous.

Example:
    text = terse_description({"colour": "red", "heel": "high"}, rng)   # e.g. "red and high heel"
    batches = (with_terse_descriptions(b, schema, rng) for b in dataset)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

BARE_ATTRIBUTES = ("category", "colour", "color")
SINGLE_FRAMES = (
    "{p}",
    "{p}",
    "{p} please",
    "{p}?",
    "{p}, thanks",
    "rather {p}",
    "{p} would be nice",
    "i'd go for {p}",
    "what about {p}",
    "maybe {p}",
)
PAIR_FRAMES = ("{p}, {q}", "{p} and {q}", "{p} with {q}", "{p}, {q} please", "{p} plus {q}")


def value_phrase(attribute: str, value: str) -> str:
    """The words naming `value` of `attribute` ("high heel", "red", "no strap", "t strap")."""
    words = value.replace("_", " ")
    if attribute in BARE_ATTRIBUTES or attribute in words.split():
        return words
    if value == "none":
        return f"no {attribute}"
    return f"{words} {attribute}"


def terse_description(changes: Mapping[str, str], rng: np.random.Generator) -> str:
    """One or two changes (attribute -> new value) as a terse request.

    Raises:
      ValueError: if there is no change or more than two.
    """
    phrases = [value_phrase(a, v) for a, v in changes.items()]
    if len(phrases) == 1:
        return SINGLE_FRAMES[int(rng.integers(len(SINGLE_FRAMES)))].format(p=phrases[0])
    if len(phrases) == 2:
        order = rng.permutation(2)
        frame = PAIR_FRAMES[int(rng.integers(len(PAIR_FRAMES)))]
        return frame.format(p=phrases[order[0]], q=phrases[order[1]])
    raise ValueError(f"a turn changes one or two attributes, got {dict(changes)}")


def with_terse_descriptions(
    batch: Mapping, schema: Mapping[str, Sequence[str]], rng: np.random.Generator
) -> dict:
    """The input-pipeline batch with every real turn's description rewritten tersely.

    Args:
      batch: a batch of seqgan_tf.data.input_pipeline.make_dataset (attribute_ids [B, T+1, A],
        changed_mask [B, T, A], turn_mask [B, T], descriptions [B, T]).
      schema: attribute name -> value names, in the order of the ids.
      rng: the random generator of the frames.

    Returns:
      A new dict; padded turns keep their (empty) descriptions; a turn whose change mask names
      no attribute keeps its own.
    """
    ids = np.asarray(batch["attribute_ids"])
    changed = np.asarray(batch["changed_mask"]) > 0.5
    valid = np.asarray(batch["turn_mask"]) > 0.5
    names = list(schema)
    texts = np.array(batch["descriptions"], dtype=object)
    for n, t in zip(*np.nonzero(valid)):
        attributes = np.nonzero(changed[n, t])[0]
        if 1 <= len(attributes) <= 2:
            changes = {names[a]: schema[names[a]][ids[n, t + 1, a]] for a in attributes}
            texts[n, t] = terse_description(changes, rng).encode()
    return {**batch, "descriptions": tf.constant(texts.astype(bytes))}
