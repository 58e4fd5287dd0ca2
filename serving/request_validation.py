"""Checks a PredictRequest's inputs against a signature and the contract's limits.

Everything here runs before anything of the request's declared size is allocated:
the declared shapes are checked against the limits (RESOURCE_EXHAUSTED beyond them),
then the content carried by each TensorProto must match its declared shape
(INVALID_ARGUMENT otherwise; `tf.make_ndarray` would silently fill a short or empty
content up to the declared shape, which let a 2.6 KB request allocate 1.1 GB), and
only then are the tensors decoded and their values checked (UTF-8, words, finite
states).
"""

from __future__ import annotations

import dataclasses
import math

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from serving import contract, edit_text


@dataclasses.dataclass(frozen=True)
class RequestLimits:
    """Size limits checked before the model runs (RESOURCE_EXHAUSTED beyond them).

    Attributes:
        max_text_chars: characters per text.
        min_image_side: smallest accepted image height/width (INVALID_ARGUMENT below).
        max_image_side: largest accepted image height/width.
        max_batch_size: largest batch per request.
        max_pixels_per_request: largest batch * height * width of an image input.
    """

    max_text_chars: int = contract.MAX_TEXT_CHARS
    min_image_side: int = contract.MIN_IMAGE_SIDE
    max_image_side: int = contract.MAX_IMAGE_SIDE
    max_batch_size: int = contract.MAX_BATCH_SIZE
    max_pixels_per_request: int = contract.MAX_PIXELS_PER_REQUEST


class ServingError(Exception):
    """A request failure with its gRPC status code."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def too_big(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.RESOURCE_EXHAUSTED, message)


def dtype_name(dtype_enum: int) -> str:
    return (
        types_pb2.DataType.Name(dtype_enum)
        if dtype_enum in types_pb2.DataType.values()
        else str(dtype_enum)
    )


# The repeated field that carries the values of each dtype when tensor_content is empty,
# and how many field entries one element takes (complex numbers: two).
_VALUE_FIELDS = {
    types_pb2.DT_FLOAT: ("float_val", 1),
    types_pb2.DT_DOUBLE: ("double_val", 1),
    types_pb2.DT_HALF: ("half_val", 1),
    types_pb2.DT_BFLOAT16: ("half_val", 1),
    types_pb2.DT_INT8: ("int_val", 1),
    types_pb2.DT_INT16: ("int_val", 1),
    types_pb2.DT_INT32: ("int_val", 1),
    types_pb2.DT_UINT8: ("int_val", 1),
    types_pb2.DT_UINT16: ("int_val", 1),
    types_pb2.DT_INT64: ("int64_val", 1),
    types_pb2.DT_UINT32: ("uint32_val", 1),
    types_pb2.DT_UINT64: ("uint64_val", 1),
    types_pb2.DT_BOOL: ("bool_val", 1),
    types_pb2.DT_STRING: ("string_val", 1),
    types_pb2.DT_COMPLEX64: ("scomplex_val", 2),
    types_pb2.DT_COMPLEX128: ("dcomplex_val", 2),
}


def proto_shape(name: str, proto: tensor_pb2.TensorProto) -> list[int]:
    if proto.tensor_shape.unknown_rank:
        raise invalid(f"input {name!r} has unknown rank")
    dims = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in dims):
        raise invalid(f"input {name!r} has a negative dimension: {dims}")
    return dims


def check_content_size(name: str, proto: tensor_pb2.TensorProto, dims: list[int]) -> None:
    """Refuses a tensor whose content does not hold exactly prod(dims) elements.

    TensorFlow would broadcast a single value or zero-fill an empty content to the
    declared shape; a request must carry what it declares.

    Raises:
        ServingError: INVALID_ARGUMENT naming the input, its shape and content size.
    """
    elements = math.prod(dims)
    if proto.tensor_content:
        itemsize = tf.as_dtype(proto.dtype).size
        if proto.dtype == types_pb2.DT_STRING or len(proto.tensor_content) != elements * itemsize:
            raise invalid(
                f"input {name!r} declares shape {dims} ({elements} elements, "
                f"{elements * itemsize} bytes) but its tensor_content has "
                f"{len(proto.tensor_content)} bytes"
            )
        return
    field, per_element = _VALUE_FIELDS.get(proto.dtype, (None, 1))
    if field is None:
        raise invalid(f"input {name!r} has unsupported dtype {dtype_name(proto.dtype)}")
    count = len(getattr(proto, field))
    if count != elements * per_element:
        raise invalid(
            f"input {name!r} declares shape {dims} ({elements} elements) but carries "
            f"{count // per_element} value(s) in {field}"
        )


def check_text(name: str, values: np.ndarray, limits: RequestLimits) -> None:
    for i, value in enumerate(values.reshape(-1)):
        raw = value if isinstance(value, bytes) else str(value).encode()
        if len(raw) > 4 * limits.max_text_chars:
            raise too_big(
                f"{name}[{i}] has {len(raw)} bytes; at most {limits.max_text_chars} characters allowed"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise invalid(f"{name}[{i}] is not valid UTF-8: {error}") from None
        problem = edit_text.text_problem(text, limits.max_text_chars)
        if problem == edit_text.EMPTY:
            raise invalid(f"{name}[{i}] is empty; an edit needs a description")
        if problem == edit_text.TOO_LONG:
            raise too_big(
                f"{name}[{i}] has {len(text)} characters; at most {limits.max_text_chars} allowed"
            )
        if problem == edit_text.NO_WORD:
            raise invalid(
                f"{name}[{i}] ({text!r}) has no word (no letter or digit); "
                "an edit needs a description"
            )


def validate_inputs(
    request_inputs: dict[str, tensor_pb2.TensorProto],
    specs: dict[str, tf.TensorSpec],
    signature: str,
    limits: RequestLimits,
) -> dict[str, np.ndarray]:
    """Checks a request's inputs against a signature and the limits, then decodes them.

    Args:
        request_inputs: PredictRequest.inputs.
        specs: input name -> TensorSpec of the signature.
        signature: signature name (for messages).
        limits: size limits.

    Returns:
        Input name -> numpy array.

    Raises:
        ServingError: INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming the problem.
    """
    missing = sorted(set(specs) - set(request_inputs))
    if missing:
        raise invalid(
            f"signature {signature!r} is missing input(s) {missing}; expects {sorted(specs)}"
        )
    unexpected = sorted(set(request_inputs) - set(specs))
    if unexpected:
        raise invalid(
            f"signature {signature!r} got unexpected input(s) {unexpected}; expects {sorted(specs)}"
        )

    shapes = {}
    for name, spec in specs.items():
        proto = request_inputs[name]
        if proto.dtype != spec.dtype.as_datatype_enum:
            raise invalid(
                f"input {name!r} has dtype {dtype_name(proto.dtype)}, expected {dtype_name(spec.dtype.as_datatype_enum)}"
            )
        dims = proto_shape(name, proto)
        expected = spec.shape.as_list()
        if len(dims) != len(expected) or any(
            e is not None and e != d for e, d in zip(expected, dims)
        ):
            expected_text = [-1 if e is None else e for e in expected]
            raise invalid(f"input {name!r} has shape {dims}, expected {expected_text} (-1: any)")
        shapes[name] = dims

    batch_sizes = {name: dims[0] for name, dims in shapes.items() if dims}
    if len(set(batch_sizes.values())) > 1:
        raise invalid(f"inputs have different batch sizes: {batch_sizes}")
    for name, batch in batch_sizes.items():
        if batch < 1:
            raise invalid(f"input {name!r} has an empty batch")
        if batch > limits.max_batch_size:
            raise too_big(f"batch size {batch} is over the limit of {limits.max_batch_size}")

    image_dims = shapes.get(contract.IMAGE_INPUT)
    if image_dims is not None and len(image_dims) == 4:
        batch, height, width = image_dims[:3]
        if min(height, width) < limits.min_image_side:
            raise invalid(
                f"image is {height}x{width}; each side must be at least {limits.min_image_side}"
            )
        if max(height, width) > limits.max_image_side:
            raise too_big(
                f"image is {height}x{width}; each side must be at most {limits.max_image_side}"
            )
        if batch * height * width > limits.max_pixels_per_request:
            raise too_big(
                f"image batch of {batch}x{height}x{width} is {batch * height * width} pixels; "
                f"at most {limits.max_pixels_per_request} per request"
            )

    # Nothing of the declared size has been allocated yet; the content must match it.
    for name, dims in shapes.items():
        check_content_size(name, request_inputs[name], dims)

    arrays = {}
    for name, proto in request_inputs.items():
        try:
            arrays[name] = tf.make_ndarray(proto)
        except Exception:  # the library's text is not for clients; say what is wrong
            raise invalid(
                f"input {name!r} is malformed: its content cannot be read as "
                f"{dtype_name(proto.dtype)} of shape {shapes[name]}"
            ) from None
        if list(arrays[name].shape) != shapes[name]:
            raise invalid(f"input {name!r} content does not match its shape {shapes[name]}")

    for name, array in arrays.items():
        if specs[name].dtype == tf.string:
            check_text(name, array, limits)
        elif specs[name].dtype.is_floating and not np.all(np.isfinite(array)):
            raise invalid(f"input {name!r} contains NaN or infinite values")
    return arrays
