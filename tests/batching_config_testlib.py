"""`tensorflow.serving.BatchingParameters` for parsing and checking batching configs.

tensorflow-serving-api does not ship `session_bundle_config_pb2` (it lives in the
model server's sources, tensorflow_serving/servables/tensorflow/session_bundle_config.proto),
so when that module is missing this builds the message from the same field
definitions, in a private descriptor pool so it can never clash with the real one.
"""

from __future__ import annotations

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_format,
    wrappers_pb2,
)

_FIELDS = (  # (name, number, wrapper message type or scalar kind)
    ("max_batch_size", 1, ".google.protobuf.Int64Value"),
    ("batch_timeout_micros", 2, ".google.protobuf.Int64Value"),
    ("max_enqueued_batches", 3, ".google.protobuf.Int64Value"),
    ("num_batch_threads", 4, ".google.protobuf.Int64Value"),
    ("thread_pool_name", 5, ".google.protobuf.StringValue"),
    ("allowed_batch_sizes", 6, "repeated int64"),
    ("pad_variable_length_inputs", 7, "bool"),
)


def _build_message_class():
    field = descriptor_pb2.FieldDescriptorProto
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="seqgan_serving/session_bundle_config_mirror.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"],
    )
    message = file_proto.message_type.add(name="BatchingParameters")
    for name, number, kind in _FIELDS:
        if kind.startswith(".google"):
            message.field.add(
                name=name,
                number=number,
                type=field.TYPE_MESSAGE,
                type_name=kind,
                label=field.LABEL_OPTIONAL,
            )
        elif kind == "repeated int64":
            message.field.add(
                name=name, number=number, type=field.TYPE_INT64, label=field.LABEL_REPEATED
            )
        else:
            message.field.add(
                name=name, number=number, type=field.TYPE_BOOL, label=field.LABEL_OPTIONAL
            )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(file_proto.SerializeToString())
    descriptor = pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters")
    return message_factory.GetMessageClass(descriptor)


try:  # The real module, when a build of tensorflow_serving provides it.
    from tensorflow_serving.servables.tensorflow.session_bundle_config_pb2 import (
        BatchingParameters,
    )
except ImportError:
    BatchingParameters = _build_message_class()


def parse_batching_parameters(text: str):
    """Parses a `--batching_parameters_file` body.

    Args:
        text: BatchingParameters in protobuf text format.

    Returns:
        The BatchingParameters message.

    Raises:
        google.protobuf.text_format.ParseError: on an unknown field or bad syntax.
    """
    return text_format.Parse(text, BatchingParameters())
