"""Shared pytest setup: quiet TensorFlow logs and split the CPU into two logical devices.

The split must happen before TensorFlow initialises its devices, so it is done at import time
here (conftest is imported before any test module). Tests that need a 2-replica
MirroredStrategy use ["CPU:0", "CPU:1"].
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def _split_cpu() -> None:
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:
        pass  # Already initialised (e.g. by a plugin); tests needing 2 devices will skip.


_split_cpu()


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    import keras

    keras.backend.clear_session()
