"""Shared pytest setup: quiet TensorFlow logs and split the CPU into two logical devices.

The split must happen before TensorFlow initialises its devices, so it is done at import time
here (conftest is imported before any test module). Tests that need a 2-replica
MirroredStrategy use ["CPU:0", "CPU:1"].
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def _split_cpu() -> str | None:
    """Splits the CPU; returns why it could not (TensorFlow already initialised), or None."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError as error:
        return f"{type(error).__name__}: {error}"
    return None


CPU_SPLIT_ERROR = _split_cpu()


@pytest.fixture
def two_cpu_devices() -> list[str]:
    """["CPU:0", "CPU:1"] for a 2-replica MirroredStrategy. Fails, with the reason, when the
    CPU could not be split: a 2-replica test must not pass by being skipped."""
    import tensorflow as tf

    if len(tf.config.list_logical_devices("CPU")) < 2:
        pytest.fail(f"the CPU was not split into 2 logical devices: {CPU_SPLIT_ERROR}")
    return ["CPU:0", "CPU:1"]


@pytest.fixture(scope="module")
def tiny_export_base(tmp_path_factory) -> str:
    """A model base folder holding the tiny editor exported as version 1 of
    tests/serving_testlib.py's MODEL_NAME: what a module of server tests serves."""
    from tests.serving_testlib import export_tiny

    base = tmp_path_factory.mktemp("exports")
    export_tiny(str(base), version=1)
    return str(base)


@pytest.fixture(autouse=True)
def _clear_keras_session():
    yield
    import keras

    keras.backend.clear_session()
