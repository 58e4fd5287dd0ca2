"""What the model understood (issue 22 item 6): the tiny edit model, exported with its attribute
schema, returns the design its state holds with every edit, and the client names it through
the real gRPC server on loopback; older exports keep working without it."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.export import export_editor
from seqgan_tf.export.exporter import attribute_schema_for
from seqgan_tf.models import attribute_slots as slots
from serving import client, contract
from tests.model_testlib import ATTRIBUTE_SIZES, TINY, S, tiny_edit_model
from tests.serving_testlib import (
    MODEL_NAME,
    call_in_process,
    export_tiny,
    random_image,
    running_server,
)

SCHEMA = {"colour": ["red", "blue", "black"], "category": ["boot", "sneaker", "sandal", "slipper"]}
EDITS = ["make it red", "make it blue boot"]


@pytest.fixture(scope="module")
def design_export(tmp_path_factory):
    keras.utils.set_random_seed(0)
    base = tmp_path_factory.mktemp("exports")
    path = export_editor(tiny_edit_model(), str(base), MODEL_NAME, attribute_schema=SCHEMA)
    return str(base), path


def test_the_export_carries_the_design_output_and_the_schema_asset(design_export):
    _, path = design_export
    with open(os.path.join(path, "assets", contract.ATTRIBUTE_SCHEMA_ASSET)) as f:
        assert list(json.load(f).items()) == list(SCHEMA.items())  # order kept
    loaded = tf.saved_model.load(path)
    assert contract.SCHEMA_SIGNATURE in loaded.signatures
    for name in (contract.START_SIGNATURE, contract.EDIT_SIGNATURE, contract.DEFAULT_SIGNATURE):
        design = loaded.signatures[name].structured_outputs[contract.DESIGN_OUTPUT]
        assert design.dtype == tf.float32 and design.shape.as_list() == [None, sum(ATTRIBUTE_SIZES)]
    text = loaded.signatures[contract.SCHEMA_SIGNATURE]()[contract.SCHEMA_OUTPUT]
    assert json.loads(text.numpy().decode()) == SCHEMA


def test_the_client_names_the_design_once_per_version_through_the_server(design_export):
    base, path = design_export
    loaded = tf.saved_model.load(path)
    image = random_image(S, S)
    with running_server(base) as (_, target):
        channel = client.make_channel(target)
        _, signatures = client.model_metadata(channel, MODEL_NAME)
        assert contract.DESIGN_OUTPUT in signatures[contract.EDIT_SIGNATURE].outputs
        assert contract.SCHEMA_SIGNATURE in signatures
        reads = client.SCHEMAS.reads
        with client.EditSession(target, MODEL_NAME, channel=channel) as session:
            state = session.start(image)
            start_design = session.start_design
            current, results = image, []
            for text in EDITS:
                results.append(session.edit(text))
        assert client.SCHEMAS.reads == reads + 1  # read once for the version, not per turn
        channel.close()

    # What the model read off the start image; the state holds its top values.
    read = call_in_process(loaded, contract.START_SIGNATURE, {"image": image[None]})
    np.testing.assert_allclose(read["state"][0], state, atol=1e-6)
    _check_design(start_design, read[contract.DESIGN_OUTPUT][0], state)
    for text, result in zip(EDITS, results, strict=True):
        inputs = {
            "image": current[None],
            "text": np.array([text.encode()], object),
            "state": state[None],
        }
        expected = call_in_process(loaded, contract.EDIT_SIGNATURE, inputs)
        current, state = expected["image"][0], expected["state"][0]
        _check_design(result.design, expected[contract.DESIGN_OUTPUT][0], state)


def _check_design(design, vector, state):
    """`design` names `vector` (sorted, probabilities), and its top values are the state's."""
    assert list(design) == list(SCHEMA)
    start = 0
    held = state[TINY["state_dim"] :]  # the one-hot design the next turn starts from
    for name, values in SCHEMA.items():
        pairs = design[name]
        segment = vector[start : start + len(values)]
        assert sorted(v for v, _ in pairs) == sorted(values)
        probabilities = [p for _, p in pairs]
        assert probabilities == sorted(probabilities, reverse=True)
        assert dict(pairs) == pytest.approx(dict(zip(values, segment.tolist(), strict=True)))
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
        # The most probable value is the one the state holds.
        assert pairs[0][0] == values[int(np.argmax(held[start : start + len(values)]))]
        start += len(values)


def test_an_export_without_design_keeps_working_and_reads_no_schema(tmp_path):
    export_tiny(str(tmp_path), version=1)
    with running_server(str(tmp_path)) as (_, target):
        reads = client.SCHEMAS.reads
        with client.EditSession(target, MODEL_NAME) as session:
            session.start(random_image(32, 32))
            result = session.edit("make it red")
    assert result.design is None and session.start_design is None
    assert client.SCHEMAS.reads == reads


def test_design_probabilities_agree_with_the_hard_design():
    rng = np.random.default_rng(0)
    sizes = ATTRIBUTE_SIZES
    change = tf.constant(rng.normal(size=[16, len(sizes)]), tf.float32)
    values = tf.constant(rng.normal(size=[16, sum(sizes)]), tf.float32)
    previous = slots.ids_to_one_hot(
        tf.constant(np.stack([rng.integers(0, s, 16) for s in sizes], -1)), sizes
    )
    hard = slots.apply_changes(change, values, previous, sizes)
    soft = slots.design_probabilities(change, values, previous, sizes)
    np.testing.assert_array_equal(
        slots.segment_argmax(soft, sizes).numpy(), slots.segment_argmax(hard, sizes).numpy()
    )
    for segment in slots.split_segments(soft, sizes):
        np.testing.assert_allclose(tf.reduce_sum(segment, -1).numpy(), 1.0, atol=1e-6)


def test_design_by_attribute_names_and_sorts():
    named = client.design_by_attribute(np.array([0.2, 0.7, 0.1, 0.0, 1.0, 0.0, 0.0]), SCHEMA)
    assert named == {
        "colour": [("blue", pytest.approx(0.7)), ("red", pytest.approx(0.2)), ("black", 0.1)],
        "category": [("sneaker", 1.0), ("boot", 0.0), ("sandal", 0.0), ("slipper", 0.0)],
    }
    assert client.format_design(named) == "colour: blue 0.70, category: sneaker 1.00"
    assert client.format_design(None) == ""
    with pytest.raises(ValueError, match="design has 3 values"):
        client.design_by_attribute(np.zeros(3), SCHEMA)


def test_the_export_refuses_a_schema_that_does_not_fit_the_model():
    with pytest.raises(ValueError, match=r"sizes \[3, 3\] do not match"):
        attribute_schema_for(7, [3, 4], {"colour": ["a", "b", "c"], "category": ["x", "y", "z"]})
    generic = attribute_schema_for(7, [3, 4], None)
    assert generic == {
        "attribute_1": ["value_1", "value_2", "value_3"],
        "attribute_2": ["value_1", "value_2", "value_3", "value_4"],
    }
