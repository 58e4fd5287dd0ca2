"""Mixed precision (for GPU users): the tiny models build and train a step under a policy.

bf16 convolutions are 7-13x slower than float32 on CPUs without AVX-512 BF16, so the models
are as small as they go and one step is run. The policy is global: it is reset afterwards.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.model_testlib import EDIT_LOSS, compiled, fake_batch, tiny_edit_model, tiny_model


@pytest.fixture
def mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("edit", [False, True], ids=["paper", "edit"])
def test_builds_and_trains_a_step_under_mixed_bfloat16(mixed_bfloat16, edit):
    model = compiled(tiny_edit_model() if edit else tiny_model(), EDIT_LOSS)
    assert model.generator.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    batch = model.preprocessor(fake_batch(2, turns=[2, 1]))
    logs = model.train_step(batch)
    for name, value in logs.items():
        assert value.dtype == tf.float32, name
        assert np.isfinite(value.numpy()).all(), name
    assert int(model.g_optimizer.iterations) == 1
    # The images that leave the model (served, evaluated, scored by the losses) are float32.
    session = model.generate_session(fake_batch(1, turns=[2]))
    assert session["images"].dtype == tf.float32
    assert model.training_outputs(batch, step=1)["fake"].dtype == tf.float32


def test_mixed_float16_scales_the_losses_of_both_optimizers():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = compiled(tiny_model(), EDIT_LOSS)
        for optimizer in (model.d_optimizer, model.g_optimizer):
            assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert model.optimizer is model.g_optimizer
        logs = model.train_step(model.preprocessor(fake_batch(2, turns=[2, 1])))
        assert all(np.isfinite(v.numpy()).all() for v in logs.values())
    finally:
        keras.mixed_precision.set_global_policy("float32")
