"""Round trips of one session through the SequenceExample format (Python and TF side)."""

import numpy as np
import pytest
import tensorflow as tf

from tests.tfrecords_testlib import FAKE_SCHEMA, fake_generate_sessions
from tfrecords.session import Session
from tfrecords.session_format import (
    attribute_ids,
    example_to_session,
    parse_session,
    session_to_example,
)


def _assert_sessions_equal(a: Session, b: Session) -> None:
    assert a.session_id == b.session_id
    assert len(a.images) == len(b.images)
    for x, y in zip(a.images, b.images):
        np.testing.assert_array_equal(x, y)
    assert a.descriptions == b.descriptions
    assert a.attributes == b.attributes
    assert a.phrase_types == b.phrase_types
    assert a.changed_attributes == b.changed_attributes


def test_python_round_trip_keeps_every_field():
    for session in fake_generate_sessions("synth_zap_seq", 3, seed=5, image_size=16):
        data = session_to_example(session, "synth_zap_seq", FAKE_SCHEMA).SerializeToString()
        _assert_sessions_equal(example_to_session(data), session)


def test_unicode_description_and_session_without_optional_fields():
    rng = np.random.default_rng(0)
    session = Session(
        session_id="s-ü",
        images=[rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2)],
        descriptions=["is rot — und höher"],
        attributes=[["leather"], ["suede", "red"]],
    )
    decoded = example_to_session(session_to_example(session, "zap_seq").SerializeToString())
    _assert_sessions_equal(decoded, session)


def test_tf_parse_matches_python_side():
    session = next(fake_generate_sessions("synth_zap_seq", 1, seed=1, image_size=16, turns=(3,)))
    data = session_to_example(session, "synth_zap_seq", FAKE_SCHEMA).SerializeToString()
    parsed = parse_session(tf.constant(data), num_attributes=len(FAKE_SCHEMA))
    assert parsed["session_id"].numpy().decode() == session.session_id
    assert parsed["dataset"].numpy() == b"synth_zap_seq"
    assert int(parsed["num_turns"]) == 3
    for encoded, image in zip(parsed["encoded_images"].numpy(), session.images):
        np.testing.assert_array_equal(tf.io.decode_png(encoded).numpy(), image)
    assert [d.decode() for d in parsed["descriptions"].numpy()] == session.descriptions
    assert parsed["attributes"].to_list() == [[a.encode() for a in x] for x in session.attributes]
    expected_ids = [attribute_ids(a, FAKE_SCHEMA) for a in session.attributes]
    np.testing.assert_array_equal(parsed["attribute_ids"].numpy(), expected_ids)
    names = list(FAKE_SCHEMA)
    assert parsed["changed_attribute_ids"].to_list() == [
        [names.index(n) for n in c] for c in session.changed_attributes
    ]


def test_attribute_ids_unknown_values_are_minus_one():
    ids = attribute_ids(["color=red", "heel=stiletto", "plain"], FAKE_SCHEMA)
    assert ids == [1, -1, -1]
    assert attribute_ids(["color=red"], None) == []


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(descriptions=[]), "descriptions for"),
        (dict(images=[np.zeros((4, 4, 3), np.uint8)], descriptions=[]), "at least 2 images"),
        (dict(phrase_types=["weird"]), "unknown phrase type"),
        (dict(images=[np.zeros((4, 4, 3), np.uint8), np.zeros((5, 5, 3), np.uint8)]), "shape"),
    ],
)
def test_malformed_sessions_are_rejected(change, message):
    fields = dict(
        session_id="bad",
        images=[np.zeros((4, 4, 3), np.uint8)] * 2,
        descriptions=["x"],
        attributes=[[], []],
    )
    fields.update(change)
    with pytest.raises(ValueError, match=message):
        session_to_example(Session(**fields), "zap_seq")
