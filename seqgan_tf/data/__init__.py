"""The input pipeline over TFRecord session shards (see input_pipeline.py)."""

from seqgan_tf.data.input_pipeline import (
    load_dataset_info,
    make_dataset,
    make_distributed_dataset,
    missing_build_message,
)

__all__ = ["load_dataset_info", "make_dataset", "make_distributed_dataset", "missing_build_message"]
