"""A start + 3-turn session through gRPC equals the same SavedModel called in-process."""

import os

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from serving_testlib import (
    IMAGE_SIZE,
    MODEL_NAME,
    STATE_DIM,
    export_tiny,
    in_process_session,
    random_image,
    running_server,
)

from serving import client, contract

EDITS = ["make it red", "has a higher heel", "add animal print and laces"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    path = export_tiny(base)
    with running_server(str(base)) as (server, target):
        yield target, tf.saved_model.load(path)


@pytest.mark.parametrize("resize_to_model", [True, False])
def test_session_matches_in_process(served, tmp_path, resize_to_model):
    target, loaded = served
    image = random_image(40, 30)
    with client.EditSession(target, MODEL_NAME, resize_to_model=resize_to_model) as session:
        state0 = session.start(image)
        results = [session.edit(text) for text in EDITS]
        sent = session.images[0]
        assert sent.shape == ((IMAGE_SIZE, IMAGE_SIZE, 3) if resize_to_model else image.shape)
        strip = session.write_strip(os.path.join(tmp_path, "strip.png"), tile_size=32)

    images, states = in_process_session(loaded, sent, EDITS)
    np.testing.assert_allclose(state0, states[0], rtol=0, atol=1e-6)
    for result, expected_image, expected_state in zip(results, images, states[1:]):
        np.testing.assert_array_equal(result.image, expected_image)
        np.testing.assert_allclose(result.state, expected_state, rtol=0, atol=1e-6)
        assert result.state.shape == (STATE_DIM,)
        assert result.attention.shape == (16, 16, 6)
        assert result.version == 1
    assert results[0].tokens == ["make", "it", "red"]
    # States really are carried: the same edit from a fresh state gives another state.
    assert not np.allclose(results[1].state, results[0].state)

    with Image.open(strip) as png:
        assert png.width == 32 * (len(EDITS) + 1)
        assert png.height > 32


def test_status_and_metadata(served):
    target, _ = served
    channel = client.make_channel(target)
    assert client.model_status(channel, MODEL_NAME) == {1: "AVAILABLE"}
    version, signature_defs = client.model_metadata(channel, MODEL_NAME)
    assert version == 1
    assert set(signature_defs) == set(contract.SIGNATURES)
    assert client.model_image_size(channel, MODEL_NAME) == IMAGE_SIZE
    with pytest.raises(client.ServingClientError) as error:
        client.model_status(channel, "nope")
    assert error.value.code == grpc.StatusCode.NOT_FOUND
    assert "nope" in str(error.value)


def test_client_errors(served):
    target, _ = served
    session = client.EditSession(target, MODEL_NAME, timeout_s=5.0)
    with pytest.raises(RuntimeError, match="start"):
        session.edit("red")
    with pytest.raises(ValueError, match="uint8"):
        session.start(np.zeros([16, 16, 3], np.float32))
    session.start(random_image(16, 16))
    with pytest.raises(client.ServingClientError) as error:
        session.edit("")
    assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(session.images) == 1  # a failed turn leaves the session unchanged
    session.edit("red")
    assert len(session.images) == 2
    session.close()


def test_dropped_words_are_reported_and_failed_turns_kept(served, tmp_path, caplog):
    # Issue 14.12: a command longer than max_words was cut without a word.
    target, _ = served
    long_text = "has a higher heel and is red and make it green"  # 11 words, max_words 6
    with client.EditSession(target, MODEL_NAME) as session:
        session.start(random_image(16, 16))
        with caplog.at_level("WARNING", logger="serving.client"):
            result = session.edit(long_text)
        assert result.dropped_words == 5
        assert result.tokens == ["has", "a", "higher", "heel", "and", "is"]
        assert "the last 5 word(s)" in caplog.text
        assert session.edit("make it red").dropped_words == 0
        with pytest.raises(client.ServingClientError):
            session.edit("!!!")
        assert [t.ok for t in session.turns] == [True, True, False]
        assert session.turns[0].caption().endswith("[last 5 word(s) ignored]")
        assert session.turns[2].caption() == "REFUSED (INVALID_ARGUMENT): !!!"
        assert len(session.images) == 3  # the refused turn changed nothing
        strip = session.write_strip(os.path.join(tmp_path, "strip.png"), tile_size=32)
    with Image.open(strip) as png:
        assert png.width == 32 * 4  # the input and the three attempted turns
