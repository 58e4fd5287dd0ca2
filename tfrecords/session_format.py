"""The on-disk format of one editing session: a `tf.train.SequenceExample`.

One SequenceExample per session. Context features hold what is scalar per session; feature
lists hold one entry per image (x0..xT) or per turn (o1..oT):

| key                          | where        | per     | type                                  |
|------------------------------|--------------|---------|---------------------------------------|
| `session/id`                 | context      | session | bytes                                 |
| `session/dataset`            | context      | session | bytes                                 |
| `session/num_turns`          | context      | session | int64 (T)                             |
| `image/encoded`              | feature list | image   | bytes: PNG (lossless), T+1 entries    |
| `image/attributes`           | feature list | image   | bytes list: attribute strings         |
| `image/attribute_ids`        | feature list | image   | int64 list of length A (-1: unknown)  |
| `turn/description`           | feature list | turn    | bytes: utf-8, T entries               |
| `turn/phrase_type`           | feature list | turn    | bytes: a PHRASE_TYPES entry or ""     |
| `turn/changed_attributes`    | feature list | turn    | bytes list: attribute names           |
| `turn/changed_attribute_ids` | feature list | turn    | int64 list: schema positions          |

A is the number of attributes of the dataset's schema (0 when the dataset has none); the
value of attribute a of an image is `schema[name_a].index(value)` for a "name=value" string.

`session_to_example` / `example_to_session` convert on the Python side (builders, tests,
tools); `parse_session` is the TF-side parser used by the input pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from tfrecords.image_codec import decode_png, encode_png, png_size
from tfrecords.session import PHRASE_TYPES, Session

# Context features.
SESSION_ID_KEY = "session/id"
DATASET_KEY = "session/dataset"
NUM_TURNS_KEY = "session/num_turns"
# Per-image feature lists (T+1 entries).
IMAGE_KEY = "image/encoded"
ATTRIBUTES_KEY = "image/attributes"
ATTRIBUTE_IDS_KEY = "image/attribute_ids"
# Per-turn feature lists (T entries).
DESCRIPTION_KEY = "turn/description"
PHRASE_TYPE_KEY = "turn/phrase_type"
CHANGED_ATTRIBUTES_KEY = "turn/changed_attributes"
CHANGED_ATTRIBUTE_IDS_KEY = "turn/changed_attribute_ids"

AttributeSchema = Mapping[str, Sequence[str]]


def split_attribute(attribute: str) -> tuple[str, str] | None:
    """Splits a "name=value" attribute string; returns None when it has no "="."""
    name, sep, value = attribute.partition("=")
    if not sep:
        return None
    return name, value


def attribute_ids(attributes: Sequence[str], schema: AttributeSchema | None) -> list[int]:
    """Maps the attribute strings of one image to one value index per schema attribute.

    Args:
      attributes: "name=value" strings (others are ignored).
      schema: ordered attribute name -> ordered values, or None.

    Returns:
      A list with one entry per schema attribute: the index of the image's value, or -1
      when the image has no (known) value for it. Empty when `schema` is None.
    """
    if not schema:
        return []
    ids = {name: -1 for name in schema}
    for attribute in attributes:
        parts = split_attribute(attribute)
        if parts is None or parts[0] not in schema:
            continue
        values = list(schema[parts[0]])
        if parts[1] in values:
            ids[parts[0]] = values.index(parts[1])
    return [ids[name] for name in schema]


def _bytes_feature(values: Sequence[str | bytes]) -> tf.train.Feature:
    encoded = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=encoded))


def _int64_feature(values: Sequence[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))


def validate_session(session: Session) -> None:
    """Checks the structural invariants of a session.

    Raises:
      ValueError: naming the session and what is wrong with it.
    """
    where = f"session {session.session_id!r}"
    num_images = len(session.images)
    if num_images < 2:
        raise ValueError(f"{where}: needs at least 2 images, got {num_images}")
    if len(session.descriptions) != num_images - 1:
        raise ValueError(
            f"{where}: {len(session.descriptions)} descriptions for {num_images} images "
            "(expected len(images) - 1)"
        )
    if session.attributes and len(session.attributes) != num_images:
        raise ValueError(
            f"{where}: {len(session.attributes)} attribute lists for {num_images} images"
        )
    for name, values in (
        ("phrase_types", session.phrase_types),
        ("changed_attributes", session.changed_attributes),
    ):
        if values and len(values) != num_images - 1:
            raise ValueError(f"{where}: {len(values)} {name} for {num_images - 1} turns")
    for phrase_type in session.phrase_types:
        if phrase_type and phrase_type not in PHRASE_TYPES:
            raise ValueError(f"{where}: unknown phrase type {phrase_type!r}")
    shapes = {
        (*png_size(image), 3) if isinstance(image, bytes) else np.asarray(image).shape
        for image in session.images
    }
    if len(shapes) != 1:
        raise ValueError(f"{where}: images differ in shape: {sorted(shapes)}")


def session_to_example(
    session: Session, dataset_name: str, schema: AttributeSchema | None = None
) -> tf.train.SequenceExample:
    """Converts a session to its SequenceExample.

    Args:
      session: the session; images uint8 [H, W, 3] (or their PNG bytes), all of one shape.
      dataset_name: stored in the context (e.g. "synth_zap_seq").
      schema: the dataset's attribute schema, used to write attribute ids.

    Returns:
      The SequenceExample (call `.SerializeToString()` to write it).

    Raises:
      ValueError: if the session is malformed (see `validate_session`).
    """
    validate_session(session)
    num_turns = session.num_turns
    attributes = session.attributes or [[] for _ in session.images]
    phrase_types = session.phrase_types or [""] * num_turns
    changed = session.changed_attributes or [[] for _ in range(num_turns)]
    names = list(schema) if schema else []

    context = tf.train.Features(
        feature={
            SESSION_ID_KEY: _bytes_feature([session.session_id]),
            DATASET_KEY: _bytes_feature([dataset_name]),
            NUM_TURNS_KEY: _int64_feature([num_turns]),
        }
    )
    feature_lists = {
        IMAGE_KEY: [
            _bytes_feature([image if isinstance(image, bytes) else encode_png(image)])
            for image in session.images
        ],
        ATTRIBUTES_KEY: [_bytes_feature(list(a)) for a in attributes],
        ATTRIBUTE_IDS_KEY: [_int64_feature(attribute_ids(a, schema)) for a in attributes],
        DESCRIPTION_KEY: [_bytes_feature([d]) for d in session.descriptions],
        PHRASE_TYPE_KEY: [_bytes_feature([p]) for p in phrase_types],
        CHANGED_ATTRIBUTES_KEY: [_bytes_feature(list(c)) for c in changed],
        CHANGED_ATTRIBUTE_IDS_KEY: [
            _int64_feature([names.index(n) for n in c if n in names]) for c in changed
        ],
    }
    return tf.train.SequenceExample(
        context=context,
        feature_lists=tf.train.FeatureLists(
            feature_list={k: tf.train.FeatureList(feature=v) for k, v in feature_lists.items()}
        ),
    )


def serialize_session(
    session: Session, dataset_name: str, schema: AttributeSchema | None = None
) -> bytes:
    """`session_to_example(...)` serialized deterministically (map keys sorted).

    The same session gives the same bytes in any process (plain `SerializeToString` may order
    the feature-list map differently from one process to the next).
    """
    return session_to_example(session, dataset_name, schema).SerializeToString(deterministic=True)


def _strings(feature: tf.train.Feature) -> list[str]:
    return [v.decode("utf-8") for v in feature.bytes_list.value]


def example_to_session(serialized: bytes) -> Session:
    """Decodes a serialized SequenceExample back into a Session (Python side).

    Args:
      serialized: bytes written by `session_to_example(...).SerializeToString()`.

    Returns:
      The Session; phrase types / changed attributes are empty lists when none were stored.

    Raises:
      ValueError: if a required key is missing.
    """
    example = tf.train.SequenceExample.FromString(serialized)
    context = example.context.feature
    lists = example.feature_lists.feature_list
    for key in (SESSION_ID_KEY, NUM_TURNS_KEY):
        if key not in context:
            raise ValueError(f"not a session record: context key {key!r} missing")
    for key in (IMAGE_KEY, DESCRIPTION_KEY):
        if key not in lists:
            raise ValueError(f"not a session record: feature list {key!r} missing")
    phrase_types = [_strings(f)[0] for f in lists[PHRASE_TYPE_KEY].feature]
    changed = [_strings(f) for f in lists[CHANGED_ATTRIBUTES_KEY].feature]
    return Session(
        session_id=_strings(context[SESSION_ID_KEY])[0],
        images=[decode_png(f.bytes_list.value[0]) for f in lists[IMAGE_KEY].feature],
        descriptions=[_strings(f)[0] for f in lists[DESCRIPTION_KEY].feature],
        attributes=[_strings(f) for f in lists[ATTRIBUTES_KEY].feature],
        phrase_types=phrase_types if any(phrase_types) else [],
        changed_attributes=changed if any(changed) else [],
    )


_CONTEXT_FEATURES = {
    SESSION_ID_KEY: tf.io.FixedLenFeature([], tf.string),
    DATASET_KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
    NUM_TURNS_KEY: tf.io.FixedLenFeature([], tf.int64),
}
_SEQUENCE_FEATURES = {
    IMAGE_KEY: tf.io.FixedLenSequenceFeature([], tf.string),
    ATTRIBUTES_KEY: tf.io.RaggedFeature(tf.string),
    ATTRIBUTE_IDS_KEY: tf.io.RaggedFeature(tf.int64),
    DESCRIPTION_KEY: tf.io.FixedLenSequenceFeature([], tf.string),
    PHRASE_TYPE_KEY: tf.io.FixedLenSequenceFeature([], tf.string),
    CHANGED_ATTRIBUTE_IDS_KEY: tf.io.RaggedFeature(tf.int64),
}


def parse_session(serialized: tf.Tensor, num_attributes: int | None = None) -> dict:
    """Parses one serialized session in TF (graph-friendly; images stay PNG-encoded).

    Args:
      serialized: scalar tf.string.
      num_attributes: A, the schema size, to give `attribute_ids` a static last dimension.

    Returns:
      A dict of tensors: session_id, dataset (string scalars), num_turns (int32 scalar),
      encoded_images (string [T+1]), attributes (ragged string [T+1, None]),
      attribute_ids (int32 [T+1, A]), descriptions (string [T]), phrase_types (string [T]),
      changed_attribute_ids (ragged int32 [T, None]).
    """
    context, sequence = tf.io.parse_single_sequence_example(
        serialized, context_features=_CONTEXT_FEATURES, sequence_features=_SEQUENCE_FEATURES
    )
    ids = sequence[ATTRIBUTE_IDS_KEY]
    num_images = tf.shape(sequence[IMAGE_KEY])[0]
    width = num_attributes if num_attributes is not None else None
    attribute_id_tensor = tf.cast(
        ids.to_tensor(default_value=-1, shape=[num_images, width] if width is not None else None),
        tf.int32,
    )
    if width is not None:
        attribute_id_tensor = tf.ensure_shape(attribute_id_tensor, [None, width])
    return {
        "session_id": context[SESSION_ID_KEY],
        "dataset": context[DATASET_KEY],
        "num_turns": tf.cast(context[NUM_TURNS_KEY], tf.int32),
        "encoded_images": sequence[IMAGE_KEY],
        "attributes": sequence[ATTRIBUTES_KEY],
        "attribute_ids": attribute_id_tensor,
        "descriptions": sequence[DESCRIPTION_KEY],
        "phrase_types": sequence[PHRASE_TYPE_KEY],
        "changed_attribute_ids": tf.cast(sequence[CHANGED_ATTRIBUTE_IDS_KEY], tf.int32),
    }
