"""serving.signature_info: the model's resolution and word limit, read off its SignatureDef."""

from tensorflow.core.protobuf import meta_graph_pb2

from serving import contract
from serving.signature_info import signature_info


def _signature(**outputs):
    signature = meta_graph_pb2.SignatureDef()
    for name, dims in outputs.items():
        for size in dims:
            signature.outputs[name].tensor_shape.dim.add(size=size)
    return signature


def test_image_size_and_max_words_of_the_edit_signature():
    edit = _signature(image=[-1, 64, 64, 3], tokens=[-1, 16], attention=[-1, 16, 16, 16])
    info = signature_info({contract.START_SIGNATURE: _signature(), contract.EDIT_SIGNATURE: edit})
    assert (info.signature, info.image_size, info.max_words) == ("edit", 64, 16)


def test_serving_default_and_attention_when_edit_and_tokens_are_missing():
    default = _signature(image=[-1, 32, 32, 3], attention=[-1, 8, 8, 12])
    info = signature_info({contract.DEFAULT_SIGNATURE: default})
    assert (info.signature, info.image_size, info.max_words) == ("serving_default", 32, 12)


def test_unknown_sizes_are_none():
    info = signature_info({contract.EDIT_SIGNATURE: _signature(image=[-1, -1, -1, 3])})
    assert (info.image_size, info.max_words) == (None, None)
    assert signature_info({}).signature is None
