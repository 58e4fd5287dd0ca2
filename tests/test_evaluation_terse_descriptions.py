"""Terse descriptions: the new values named in words the grammar does not frame them with."""

import numpy as np
import pytest

from seqgan_tf.evaluation.terse_descriptions import (
    terse_description,
    value_phrase,
    with_terse_descriptions,
)

SCHEMA = {"category": ("boot", "sandal"), "colour": ("red", "blue"), "strap": ("none", "t_strap")}


def test_values_are_named_bare_or_with_their_attribute():
    assert value_phrase("colour", "red") == "red"
    assert value_phrase("category", "ankle_boot") == "ankle boot"
    assert value_phrase("heel", "high") == "high heel"
    assert value_phrase("strap", "none") == "no strap"
    assert value_phrase("strap", "t_strap") == "t strap"
    rng = np.random.default_rng(0)
    texts = {terse_description({"colour": "blue", "strap": "t_strap"}, rng) for _ in range(50)}
    assert all("blue" in t and "t strap" in t for t in texts)
    assert len(texts) > 5  # the frames and the order vary
    with pytest.raises(ValueError, match="one or two"):
        terse_description({}, rng)


def test_a_batch_gets_terse_descriptions_for_its_real_turns_only():
    ids = np.array([[[0, 0, 0], [0, 1, 0], [1, 1, 1]]])  # red boot -> blue -> sandal, t strap
    changed = np.array([[[0, 1, 0], [1, 0, 1]]], np.float32)
    batch = {
        "attribute_ids": ids,
        "changed_mask": changed,
        "turn_mask": np.array([[1.0, 0.0]]),
        "descriptions": np.array([[b"make it blue", b""]]),
    }
    out = with_terse_descriptions(batch, SCHEMA, np.random.default_rng(0))
    texts = out["descriptions"].numpy()
    assert b"blue" in texts[0, 0] and b"make it" not in texts[0, 0]
    assert texts[0, 1] == b""  # padding stays empty
    batch["turn_mask"] = np.array([[1.0, 1.0]])
    second = with_terse_descriptions(batch, SCHEMA, np.random.default_rng(0))["descriptions"]
    assert b"sandal" in second.numpy()[0, 1] and b"t strap" in second.numpy()[0, 1]
    assert batch["descriptions"][0, 0] == b"make it blue"  # the input batch is left alone
