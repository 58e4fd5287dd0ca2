"""The generator's weight average (train.g_average_momentum, AveragedAdam)."""

import keras
import numpy as np
import pytest

from seqgan_tf.configs import get_experiment
from seqgan_tf.configs.overrides import override
from seqgan_tf.training.averaged_adam import AveragedAdam


def _train_three_steps(use_ema):
    trained, other = keras.Variable([1.0, -2.0]), keras.Variable([5.0])
    optimizer = AveragedAdam(0.1, use_ema=use_ema, ema_momentum=0.5)
    optimizer.build([trained])
    values = []
    for grad in ([1.0, -1.0], [0.5, 2.0], [-3.0, 1.0]):
        optimizer.apply([keras.ops.convert_to_tensor(grad)], [trained])
        values.append(np.array(trained.numpy()))
    return optimizer, trained, other, values


def test_the_average_replaces_the_variables_it_trains_and_nothing_else():
    optimizer, trained, other, values = _train_three_steps(use_ema=True)
    # The first update starts the average at the weights; then a = 0.5 a + 0.5 w.
    expected = values[0]
    for value in values[1:]:
        expected = 0.5 * expected + 0.5 * value
    assert not np.allclose(expected, values[-1])
    # What fit passes: every trainable weight of the model, D's (not trained here) too.
    optimizer.finalize_variable_values([other, trained])
    np.testing.assert_allclose(trained.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(other.numpy(), [5.0])


def test_without_the_average_fit_ends_on_the_weights_as_trained():
    optimizer, trained, other, values = _train_three_steps(use_ema=False)
    optimizer.finalize_variable_values([other, trained])
    np.testing.assert_allclose(trained.numpy(), values[-1])


def test_the_average_is_saved_and_restored_with_the_optimizer_state():
    # What save_weights and BackupAndRestore call on each optimizer.
    optimizer, _, _, _ = _train_three_steps(use_ema=True)
    store = {}
    optimizer.save_own_variables(store)
    restored = AveragedAdam(0.1, use_ema=True, ema_momentum=0.5)
    restored.build([keras.Variable([0.0, 0.0])])
    restored.load_own_variables(store)
    np.testing.assert_allclose(
        restored._model_variables_moving_average[0].numpy(),
        optimizer._model_variables_moving_average[0].numpy(),
    )
    assert restored.iterations.numpy() == 3


def test_the_momentum_is_checked():
    config = get_experiment("quick", "photo_zap_seq")
    assert config.train.g_average_momentum == 0.0
    with pytest.raises(ValueError, match="g_average_momentum must be in"):
        override(config, {"train.g_average_momentum": 1.0})
