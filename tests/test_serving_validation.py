"""Every bad input maps to the right gRPC code, and the server keeps serving afterwards."""

import grpc
import numpy as np
import pytest
from serving_testlib import (
    STATE_DIM,
    edit_inputs,
    export_tiny,
    make_request,
    random_image,
    running_server,
)
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import client, contract

INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED


@pytest.fixture(scope="module")
def stub(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    export_tiny(base)
    with running_server(str(base)) as (_, target):
        channel = client.make_channel(target)
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
        channel.close()


def _edit(**changes):
    inputs = edit_inputs()
    inputs.update(changes)
    return make_request(contract.EDIT_SIGNATURE, {k: v for k, v in inputs.items() if v is not None})


def _text(value: bytes | str):
    value = value.encode() if isinstance(value, str) else value
    return np.array([value], dtype=object)


CASES = {
    "wrong_dtype": (
        lambda: _edit(image=edit_inputs()["image"].astype(np.float32)),
        INVALID,
        "dtype",
    ),
    "wrong_shape": (lambda: _edit(image=edit_inputs()["image"][0]), INVALID, "shape"),
    "missing_input": (lambda: _edit(text=None), INVALID, "missing"),
    "unexpected_input": (lambda: _edit(extra=np.zeros([1], np.float32)), INVALID, "unexpected"),
    "unknown_signature": (
        lambda: make_request("nope", edit_inputs()),
        NOT_FOUND,
        "signature",
    ),
    "unknown_model": (
        lambda: make_request(contract.EDIT_SIGNATURE, edit_inputs(), model_name="nope"),
        NOT_FOUND,
        "model",
    ),
    "unknown_version": (
        lambda: make_request(contract.EDIT_SIGNATURE, edit_inputs(), version=99),
        NOT_FOUND,
        "version 99",
    ),
    "empty_text": (lambda: _edit(text=_text("")), INVALID, "empty"),
    "text_100k_chars": (lambda: _edit(text=_text("a" * 100_000)), EXHAUSTED, "characters"),
    "text_1001_chars": (lambda: _edit(text=_text("é" * 1001)), EXHAUSTED, "1001 characters"),
    "invalid_utf8": (lambda: _edit(text=_text(b"red \xff\xfe")), INVALID, "UTF-8"),
    "nan_state": (
        lambda: _edit(state=np.full([1, STATE_DIM], np.nan, np.float32)),
        INVALID,
        "NaN",
    ),
    "wrong_state_width": (
        lambda: _edit(state=np.zeros([1, STATE_DIM + 1], np.float32)),
        INVALID,
        "state",
    ),
    "mismatched_batch": (
        lambda: _edit(text=np.array([b"a", b"b"], dtype=object)),
        INVALID,
        "batch sizes",
    ),
    "image_1x1": (lambda: _edit(image=random_image(1, 1)[None]), INVALID, "1x1"),
    "image_4000x4000": (
        lambda: make_request(
            contract.START_SIGNATURE, {"image": np.zeros([1, 4000, 4000, 3], np.uint8)}
        ),
        EXHAUSTED,
        "4000x4000",
    ),
    "batch_over_limit": (
        lambda: make_request(
            contract.START_SIGNATURE,
            {"image": np.zeros([contract.MAX_BATCH_SIZE + 1, 8, 8, 3], np.uint8)},
        ),
        EXHAUSTED,
        "batch size",
    ),
    "empty_model_name": (
        lambda: make_request(contract.EDIT_SIGNATURE, edit_inputs(), model_name=""),
        INVALID,
        "model_spec.name",
    ),
    "unknown_output_filter": (
        lambda: _with_filter(_edit(), "nope"),
        INVALID,
        "output_filter",
    ),
}


def _declared_only(shape, signature=contract.START_SIGNATURE, content=b""):
    """A request whose image declares `shape` but carries only `content` (issue 14.9)."""
    request = make_request(signature, {"image": np.zeros([1, 8, 8, 3], np.uint8)})
    if signature == contract.EDIT_SIGNATURE:
        request = _edit()
    proto = request.inputs["image"]
    proto.ClearField("tensor_content")
    proto.ClearField("int_val")
    del proto.tensor_shape.dim[:]
    for size in shape:
        proto.tensor_shape.dim.add().size = size
    proto.tensor_content = content
    return request


def _short_state():
    request = _edit()
    proto = request.inputs["state"]
    proto.ClearField("tensor_content")
    proto.float_val.append(0.5)  # TF would broadcast one value to [1, STATE_DIM]
    return request


CASES.update(
    {
        # Issue 14.9: 2.6 KB declaring 64x2048x2048x3 allocated 1.1 GB and returned OK.
        "pixels_over_budget_empty_content": (
            lambda: _declared_only([64, 2048, 2048, 3]),
            EXHAUSTED,
            "pixels",
        ),
        # Over the pixel budget (17.1 M pixels) yet under the message limit (49 MiB of 52).
        "pixels_over_budget": (
            lambda: make_request(
                contract.START_SIGNATURE, {"image": np.zeros([5, 1800, 1900, 3], np.uint8)}
            ),
            EXHAUSTED,
            "pixels",
        ),
        "empty_content": (lambda: _declared_only([1, 512, 512, 3]), INVALID, "carries 0 value(s)"),
        "edit_empty_content": (
            lambda: _declared_only([1, 64, 64, 3], contract.EDIT_SIGNATURE),
            INVALID,
            "declares shape [1, 64, 64, 3]",
        ),
        "short_content": (
            lambda: _declared_only([1, 16, 16, 3], content=b"\x01" * (16 * 16 * 3 - 1)),
            INVALID,
            "767 bytes",
        ),
        "long_content": (
            lambda: _declared_only([1, 16, 16, 3], content=b"\x01" * (16 * 16 * 3 + 1)),
            INVALID,
            "769 bytes",
        ),
        "broadcast_state_value": (_short_state, INVALID, "1 value(s) in float_val"),
        # Issue 14.10: no word after normalisation is an empty edit.
        "punctuation_only_text": (lambda: _edit(text=_text("!!!")), INVALID, "no word"),
        "zero_width_space_text": (lambda: _edit(text=_text("\u200b")), INVALID, "no word"),
        "symbols_only_text": (lambda: _edit(text=_text(" ?! \u200b … ")), INVALID, "no word"),
    }
)


def _with_filter(request, name):
    request.output_filter.append(name)
    return request


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_server_survives(stub, case):
    make, code, fragment = CASES[case]
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(make(), timeout=30)
    assert error.value.code() == code, error.value.details()
    assert fragment in error.value.details()
    # The next good request still succeeds.
    response = stub.Predict(_edit(), timeout=30)
    assert response.outputs[contract.IMAGE_OUTPUT].dtype  # decoded fine
    assert response.model_spec.version.value == 1


def test_output_filter_and_default_signature(stub):
    request = _with_filter(_edit(), contract.STATE_OUTPUT)
    request.model_spec.signature_name = ""  # serving_default is the edit signature
    response = stub.Predict(request, timeout=30)
    assert set(response.outputs) == {contract.STATE_OUTPUT}
    assert response.model_spec.signature_name == contract.DEFAULT_SIGNATURE


@pytest.mark.parametrize("text", ["é!", "٣", "R", "red\u200b", "ｒｅｄ"])
def test_any_word_is_accepted(stub, text):
    response = stub.Predict(_edit(text=_text(text)), timeout=30)
    assert response.model_spec.version.value == 1


def test_pixel_budget_is_refused_before_decoding(stub):
    # A request at the budget is served; one pixel row more is refused, whatever its content.
    budget = contract.MAX_PIXELS_PER_REQUEST
    assert budget == 4 * 2048 * 2048
    ok = make_request(contract.START_SIGNATURE, {"image": np.zeros([1, 64, 64, 3], np.uint8)})
    assert stub.Predict(ok, timeout=30).outputs[contract.STATE_OUTPUT]
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(_declared_only([4, 2048, 2049, 3]), timeout=30)
    assert error.value.code() == EXHAUSTED
