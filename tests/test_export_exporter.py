"""Export: layout, versions, atomicity, signatures, warm-up file, in-graph checks."""

import os

import numpy as np
import pytest
import tensorflow as tf
from serving_testlib import (
    IMAGE_SIZE,
    MAX_WORDS,
    MODEL_NAME,
    STATE_DIM,
    call_in_process,
    edit_inputs,
    export_tiny,
    random_image,
    tiny_editor,
)

from seqgan_tf.export import existing_versions, export_editor
from serving import contract
from serving.warmup import read_warmup_file


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    path = export_tiny(base)
    return base, path, tf.saved_model.load(path)


def test_layout_and_next_versions(exported, tmp_path):
    base, path, _ = exported
    assert path == os.path.join(str(base), MODEL_NAME, "1")
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
    # Only the version folder is left behind: no temporary folders.
    assert os.listdir(os.path.join(str(base), MODEL_NAME)) == ["1"]

    assert export_tiny(tmp_path, version=7).endswith(os.path.join(MODEL_NAME, "7"))
    assert export_tiny(tmp_path).endswith(os.path.join(MODEL_NAME, "8"))
    assert existing_versions(os.path.join(str(tmp_path), MODEL_NAME)) == [7, 8]
    with pytest.raises(FileExistsError):
        export_tiny(tmp_path, version=7)


def test_failed_export_leaves_nothing(tmp_path):
    class BrokenEditor:
        image_size, state_dim, max_words = IMAGE_SIZE, STATE_DIM, MAX_WORDS

        def start(self, images):
            raise RuntimeError("boom")

        def edit(self, images, texts, state):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        export_editor(BrokenEditor(), str(tmp_path), MODEL_NAME)
    assert os.listdir(os.path.join(str(tmp_path), MODEL_NAME)) == []


def test_signatures(exported):
    _, path, loaded = exported
    assert set(loaded.signatures) == set(contract.SIGNATURES)
    start = loaded.signatures[contract.START_SIGNATURE]
    assert set(start.structured_input_signature[1]) == set(contract.START_INPUTS)
    assert set(start.structured_outputs) == set(contract.START_OUTPUTS)
    for name in (contract.EDIT_SIGNATURE, contract.DEFAULT_SIGNATURE):
        fn = loaded.signatures[name]
        specs = fn.structured_input_signature[1]
        assert set(specs) == set(contract.EDIT_INPUTS)
        assert specs[contract.IMAGE_INPUT].dtype == tf.uint8
        assert specs[contract.IMAGE_INPUT].shape.as_list() == [None, None, None, 3]
        assert specs[contract.TEXT_INPUT].dtype == tf.string
        assert specs[contract.STATE_INPUT].shape.as_list() == [None, STATE_DIM]
        outputs = fn.structured_outputs
        assert set(outputs) == set(contract.EDIT_OUTPUTS)
        assert outputs[contract.IMAGE_OUTPUT].shape.as_list() == [None, IMAGE_SIZE, IMAGE_SIZE, 3]
        assert outputs[contract.IMAGE_OUTPUT].dtype == tf.uint8
        assert outputs[contract.ATTENTION_OUTPUT].shape.as_list() == [None, 16, 16, MAX_WORDS]
        assert outputs[contract.TOKENS_OUTPUT].shape.as_list() == [None, MAX_WORDS]
        assert outputs[contract.DROPPED_WORDS_OUTPUT].shape.as_list() == [None]
        assert outputs[contract.DROPPED_WORDS_OUTPUT].dtype == tf.int32


def test_saved_model_cli_lists_exactly_the_signatures(exported):
    # saved_model_utils is what `saved_model_cli show` reads (in-process: no second TF start).
    from tensorflow.python.tools import saved_model_utils

    _, path, _ = exported
    listed = set(saved_model_utils.get_meta_graph_def(path, "serve").signature_def)
    assert listed - {"__saved_model_init_op"} == set(contract.SIGNATURES)


def test_warmup_file_covers_every_signature(exported):
    # Issue 14.6: `edit` (what the client calls) was missing, so every swap left its
    # first-call initialisation to the first users.
    _, path, loaded = exported
    requests = read_warmup_file(path)
    assert sorted(r.model_spec.signature_name for r in requests) == sorted(loaded.signatures)
    assert set(loaded.signatures) == set(contract.SIGNATURES)
    for request in requests:  # each one runs against the exported signature
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        call_in_process(loaded, request.model_spec.signature_name, inputs)


def test_matches_editor_and_resizes(exported):
    _, _, loaded = exported
    editor = tiny_editor()
    image = random_image(IMAGE_SIZE, IMAGE_SIZE)[None]
    state = call_in_process(loaded, contract.START_SIGNATURE, {"image": image})["state"]
    expected = editor.start(tf.constant(image, tf.float32) / 127.5 - 1.0).numpy()
    np.testing.assert_allclose(state, expected, atol=1e-5)

    big = random_image(40, 24)[None]  # any size is resized in-graph
    out = call_in_process(loaded, contract.EDIT_SIGNATURE, {**edit_inputs(), "image": big})
    assert out["image"].shape == (1, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert out["image"].dtype == np.uint8
    assert [t.decode() for t in out["tokens"][0]] == ["make", "it", "red", "", "", ""]


@pytest.mark.parametrize(
    "bad",
    [
        {"text": np.array([b"   "], dtype=object)},
        {"text": np.array([b"\xff\xfe"], dtype=object)},
        {"text": np.array([("x" * (contract.MAX_TEXT_CHARS + 1)).encode()], dtype=object)},
        {"state": np.full([1, STATE_DIM], np.nan, np.float32)},
        {"image": random_image(1, 1)[None]},
        {"text": np.array([b"a", b"b"], dtype=object)},
        {"text": np.array([b"!!!"], dtype=object)},
        {"text": np.array(["\u200b".encode()], dtype=object)},
        {"text": np.array([" ?! \u200b ...".encode()], dtype=object)},
        {
            "image": np.zeros([5, 2048, 2048, 3], np.uint8),
            "text": np.array([b"make it red"] * 5, dtype=object),
            "state": np.zeros([5, STATE_DIM], np.float32),
        },
    ],
    ids=[
        "blank_text",
        "invalid_utf8",
        "long_text",
        "nan_state",
        "1x1_image",
        "batch_mismatch",
        "punctuation_only",
        "zero_width_space",
        "no_word_mixed",
        "over_pixel_budget",
    ],
)
def test_in_graph_checks(exported, bad):
    _, _, loaded = exported
    with pytest.raises(tf.errors.InvalidArgumentError):
        call_in_process(loaded, contract.EDIT_SIGNATURE, {**edit_inputs(), **bad})


@pytest.mark.parametrize("text", ["é!", "٣", "R", "a\u200b"])
def test_in_graph_text_check_accepts_any_word(exported, text):
    _, _, loaded = exported
    inputs = {**edit_inputs(), "text": np.array([text.encode()], dtype=object)}
    outputs = call_in_process(loaded, contract.EDIT_SIGNATURE, inputs)
    assert outputs["image"].shape[0] == 1
    assert outputs["tokens"][0][0] != b""  # the word was read, not normalised away


def test_dropped_words_counts_what_the_tokenizer_cuts(exported):
    # Issue 14.12: words beyond max_words were cut without a word.
    _, _, loaded = exported
    texts = [
        "make it red",  # 3 words
        "has a higher heel, and is red, and make it green",  # 11 words after punctuation
        "one two three four five six",  # exactly MAX_WORDS
        "Ｍake  it\tRED!!! now please ok",  # NFKC + punctuation: 6 words... plus none
    ]
    inputs = {
        "image": np.stack([random_image(IMAGE_SIZE, IMAGE_SIZE, i) for i in range(4)]),
        "text": np.array([t.encode() for t in texts], dtype=object),
        "state": np.zeros([4, STATE_DIM], np.float32),
    }
    out = call_in_process(loaded, contract.EDIT_SIGNATURE, inputs)
    assert MAX_WORDS == 6
    np.testing.assert_array_equal(out[contract.DROPPED_WORDS_OUTPUT], [0, 5, 0, 0])
    assert out[contract.DROPPED_WORDS_OUTPUT].dtype == np.int32
    assert [t.decode() for t in out["tokens"][1]] == ["has", "a", "higher", "heel", "and", "is"]


def test_export_records_its_provenance(tmp_path):
    build = {"id": "0123456789abcdef", "name": "synth_zap_seq", "seed": 0}
    path = export_editor(
        tiny_editor(),
        str(tmp_path),
        MODEL_NAME,
        provenance={"run_dir": "/runs/x", "data_build": build},
    )
    import json

    with open(os.path.join(path, "assets.extra", "provenance.json")) as f:
        assert json.load(f) == {"run_dir": "/runs/x", "data_build": build}
    # The SavedModel still loads with the extra file beside it.
    assert tf.saved_model.load(path).signatures
