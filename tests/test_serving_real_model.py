"""End to end with the real SeqAttnGAN: train a tiny model one step, export it, serve it, and run a
3-turn session through the gRPC client; it must match the SavedModel called in-process."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.export import export_editor
from serving import client
from tests.model_testlib import S, compiled, fake_batch, tiny_edit_model
from tests.serving_testlib import MODEL_NAME, in_process_session, random_image, running_server

EDITS = ["make it red", "has a higher heel", "add laces"]


@pytest.fixture(scope="module", params=["previous", "first"])
def trained_export(request, tmp_path_factory):
    """Both anchors: with "first" the state that crosses the wire also carries x_0."""
    keras.utils.set_random_seed(0)
    model = compiled(tiny_edit_model(anchor=request.param))
    before = [w.copy() for w in model.get_weights()]
    ds = tf.data.Dataset.from_tensors(fake_batch(4)).repeat(2).map(model.preprocessor)
    model.fit(ds, epochs=1, verbose=0)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights(), strict=True))
    base = tmp_path_factory.mktemp("exports")
    path = export_editor(model, str(base), MODEL_NAME)
    return str(base), path, request.param


def test_grpc_session_matches_the_saved_model_in_process(trained_export):
    base, path, anchor = trained_export
    loaded = tf.saved_model.load(path)
    image = random_image(S, S)
    with running_server(base) as (_, target):
        with client.EditSession(target, MODEL_NAME) as session:
            state0 = session.start(image)
            results = [session.edit(text) for text in EDITS]
    images, states = in_process_session(loaded, image, EDITS)
    np.testing.assert_allclose(state0, states[0], atol=1e-6)
    for result, current, state in zip(results, images, states[1:], strict=True):
        np.testing.assert_array_equal(result.image, current)
        np.testing.assert_allclose(result.state, state, atol=1e-6)
    assert results[0].tokens[:3] == ["make", "it", "red"]
    assert not np.allclose(results[1].state, results[0].state)
    if anchor == "first":  # x_0 as the model sees it rides at the end of every state
        x0 = image.astype(np.float32) / 127.5 - 1.0
        for state in (state0, *(r.state for r in results)):
            np.testing.assert_allclose(np.reshape(state[-S * S * 3 :], [S, S, 3]), x0, atol=1e-6)
