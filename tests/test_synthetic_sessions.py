"""Synthetic sessions: determinism, structure, descriptions that name exactly the edits."""

import re

import numpy as np
import pytest

from tfrecords.session import PHRASE_TYPES
from tfrecords.statistics import tokenize
from tfrecords.synthetic import (
    SYNTHETIC_DATASETS,
    attribute_schema,
    generate_sessions,
    lexicon,
    mentioned_attributes,
    plan_session,
)

COMPARATIVE_WORDS = {"higher", "lower", "taller", "darker", "lighter", "longer", "shorter", "paler"}


def test_public_constants():
    assert SYNTHETIC_DATASETS[:2] == ("synth_zap_seq", "synth_deepfashion_seq")
    assert "photo_zap_seq" in SYNTHETIC_DATASETS
    for name in SYNTHETIC_DATASETS:
        schema = attribute_schema(name)
        assert len(schema) >= (5 if name.startswith("photo_") else 6)
        for values in schema.values():
            assert len(values) >= 3 and len(set(values)) == len(values)
    assert "heel" in attribute_schema("synth_zap_seq")
    assert "material" in attribute_schema("photo_zap_seq")
    assert "sleeves" in attribute_schema("synth_deepfashion_seq")


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_same_seed_same_sessions_other_seed_other_sessions(name):
    first = list(generate_sessions(name, 3, seed=5, image_size=32))
    again = list(generate_sessions(name, 3, seed=5, image_size=32))
    other = list(generate_sessions(name, 3, seed=6, image_size=32))
    for a, b in zip(first, again):
        assert a.session_id == b.session_id
        assert a.descriptions == b.descriptions and a.attributes == b.attributes
        assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    assert [s.descriptions for s in first] != [s.descriptions for s in other]
    assert [s.attributes for s in first] != [s.attributes for s in other]


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_session_depends_only_on_its_index(name):
    tail = list(generate_sessions(name, 2, seed=1, image_size=16, start=3))
    full = list(generate_sessions(name, 5, seed=1, image_size=16))
    assert [s.session_id for s in tail] == [f"{name}-1-0000003", f"{name}-1-0000004"]
    for a, b in zip(tail, full[3:]):
        assert a.descriptions == b.descriptions
        assert all(np.array_equal(x, y) for x, y in zip(a.images, b.images))


def _parse(attribute_strings):
    return dict(s.split("=", 1) for s in attribute_strings)


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_session_structure(name):
    schema = attribute_schema(name)
    for session in generate_sessions(name, 30, seed=2, image_size=16):
        assert re.fullmatch(rf"{name}-2-\d{{7}}", session.session_id)
        assert 3 <= len(session.images) <= 5
        assert session.num_turns == len(session.images) - 1
        assert len(session.attributes) == len(session.images)
        assert len(session.phrase_types) == len(session.changed_attributes) == session.num_turns
        for image in session.images:
            assert image.shape == (16, 16, 3) and image.dtype == np.uint8
        states = []
        for strings in session.attributes:
            assert [s.split("=")[0] for s in strings] == list(schema)
            state = _parse(strings)
            assert all(state[k] in schema[k] for k in schema)
            states.append(state)
        for t in range(session.num_turns):
            diff = [k for k in schema if states[t][k] != states[t + 1][k]]
            assert diff == session.changed_attributes[t]
            assert 1 <= len(diff) <= 2
            assert session.phrase_types[t] in PHRASE_TYPES
            if len(diff) == 1:
                assert session.phrase_types[t] != "composition"
            else:
                assert session.phrase_types[t] != "single"


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_descriptions_mention_exactly_the_changed_attributes(name):
    words = lexicon(name)
    checked = 0
    for i in range(400):
        plan = plan_session(name, 0, i)
        for text, changed in zip(plan.descriptions, plan.changed_attributes):
            assert mentioned_attributes(words, text) == set(changed), text
            checked += 1
    assert checked > 1000


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_vocabulary_phrase_types_and_comparatives(name):
    vocabulary, types, turns = set(), {}, 0
    comparative_turns = 0
    for i in range(1000):
        plan = plan_session(name, 0, i)
        for text, phrase_type in zip(plan.descriptions, plan.phrase_types):
            tokens = tokenize(text)
            vocabulary.update(tokens)
            types[phrase_type] = types.get(phrase_type, 0) + 1
            comparative_turns += bool(COMPARATIVE_WORDS & set(tokens))
            turns += 1
    assert len(vocabulary) >= 300, len(vocabulary)
    assert set(types) == set(PHRASE_TYPES)
    assert min(types.values()) > 0.15 * turns
    assert comparative_turns > 0.05 * turns


@pytest.mark.parametrize("name", SYNTHETIC_DATASETS)
def test_coarse_attributes_change_early_fine_ones_late(name):
    coarse, fine = [], []
    for i in range(600):
        plan = plan_session(name, 0, i)
        last = len(plan.descriptions) - 1
        for t, changed in enumerate(plan.changed_attributes):
            for attribute in changed:
                position = t / last
                if attribute in ("category", "colour"):
                    coarse.append(position)
                elif attribute in ("pattern", "strap", "closure", "toe", "neckline"):
                    fine.append(position)
    assert np.mean(coarse) + 0.25 < np.mean(fine)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="unknown synthetic dataset"):
        attribute_schema("nope")
    with pytest.raises(ValueError, match="unknown synthetic dataset"):
        list(generate_sessions("nope", 1, 0))
    with pytest.raises(ValueError, match="num_sessions"):
        list(generate_sessions("synth_zap_seq", -1, 0))
    with pytest.raises(ValueError, match="image_size"):
        list(generate_sessions("synth_zap_seq", 1, 0, image_size=2))
    with pytest.raises(ValueError, match="seed"):
        plan_session("synth_zap_seq", -1, 0)
