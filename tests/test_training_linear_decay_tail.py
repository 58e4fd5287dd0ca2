"""The learning-rate tail of train.decay_share."""

import keras
import numpy as np
import pytest

from seqgan_tf.configs import get_experiment
from seqgan_tf.configs.overrides import override
from seqgan_tf.training.linear_decay_tail import (
    LinearDecayTail,
    learning_rate_schedule,
    tail_share,
)


def test_constant_then_a_straight_line_that_never_reaches_zero():
    shares = [tail_share(step, total_steps=10, decay_steps=4) for step in range(12)]
    assert shares[:7] == pytest.approx([1.0] * 7)  # updates 0-6 at the full rate
    assert shares[6:10] == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert shares[10:] == pytest.approx([0.25, 0.25])  # past the end: the last share
    assert [tail_share(s, 5, 0) for s in (0, 4, 99)] == [1.0, 1.0, 1.0]


def test_a_warm_restart_goes_back_to_the_full_rate_and_falls_again():
    # 10 updates: the first 6 decay over their last 2, the last 4 restart and decay over all 4.
    shares = [tail_share(step, 10, 2, restart_steps=4) for step in range(12)]
    assert shares[:6] == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.5])
    assert shares[6:] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.25, 0.25])


def test_longer_is_long_then_a_restart_over_its_last_16_epochs():
    steps = 180
    long = learning_rate_schedule(get_experiment("long", "photo_zap_seq").train, steps)
    longer = learning_rate_schedule(get_experiment("longer", "photo_zap_seq").train, steps)

    def share(schedule, epoch, update):  # epoch 1-based, update 0-based within it
        step = (epoch - 1) * steps + update
        return tail_share(step, schedule.total_steps, schedule.decay_steps, schedule.restart_steps)

    # Epochs 1-32 as `long` trains them: constant to 28, then down to 1/720 at 32's last update.
    for epoch, update in [(1, 0), (28, 179), (29, 0), (30, 90), (32, 179)]:
        assert share(longer, epoch, update) == pytest.approx(share(long, epoch, update))
    assert share(longer, 32, 179) == pytest.approx(1 / 720)
    # Epochs 33-48: back at the full rates, falling over all 16 epochs.
    assert share(longer, 33, 0) == pytest.approx(1.0)
    assert share(longer, 41, 0) == pytest.approx(0.5)
    assert share(longer, 48, 179) == pytest.approx(1 / 2880)
    assert learning_rate_schedule(get_experiment("tiny", "synth_zap_seq").train, 3) is None


class _TwoOptimizers(keras.Model):
    def __init__(self):
        super().__init__()
        self.d_optimizer = keras.optimizers.Adam(2e-4)
        self.g_optimizer = keras.optimizers.Adam(1e-3)


def test_the_callback_sets_both_rates_from_each_optimizers_own_count():
    model = _TwoOptimizers()
    model.g_optimizer.build([keras.Variable(0.0)])
    model.d_optimizer.build([keras.Variable(0.0)])
    model.g_optimizer.iterations.assign(8)  # e.g. a resumed run's count
    model.d_optimizer.iterations.assign(2)
    tail = LinearDecayTail(2e-4, 1e-3, total_steps=10, decay_steps=4)
    tail.set_model(model)
    tail.on_train_batch_begin(0)
    assert float(np.asarray(model.g_optimizer.learning_rate)) == pytest.approx(5e-4)
    assert float(np.asarray(model.d_optimizer.learning_rate)) == pytest.approx(2e-4)
    # The rate stays the optimizer's variable: the weight files keep their layout.
    assert len(model.g_optimizer.variables) == len(keras.optimizers.Adam(1e-3).variables) + 2


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="decay_steps=5, restart_steps=0, total_steps=4"):
        LinearDecayTail(2e-4, 1e-3, 4, 5)
    with pytest.raises(ValueError, match="decay_steps=2, restart_steps=3, total_steps=4"):
        LinearDecayTail(2e-4, 1e-3, 4, 2, restart_steps=3)
    config = get_experiment("tiny", "synth_zap_seq")
    with pytest.raises(ValueError, match="train.decay_share must be in"):
        override(config, {"train.decay_share": 1.5}).validate()
    with pytest.raises(
        ValueError, match=r"train.restart_epochs must be in \[0, train.epochs = 1\)"
    ):
        override(get_experiment("tiny", "synth_zap_seq"), {"train.restart_epochs": 1})


def test_a_backup_whose_optimizer_state_does_not_fit_is_refused(tmp_path):
    from seqgan_tf.training.callbacks import AtomicBackupAndRestore

    def fitted(optimizer, callbacks):
        model = keras.Sequential([keras.Input([2]), keras.layers.Dense(1)])
        model.compile(optimizer=optimizer, loss="mse")
        x, y = np.ones([4, 2], np.float32), np.ones([4, 1], np.float32)
        model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks)

    backup = str(tmp_path / "backup")
    fitted(keras.optimizers.Adam(1e-3), [AtomicBackupAndRestore(backup, delete_checkpoint=False)])
    # A schedule object drops the optimizer's learning-rate variable: Keras would only warn.
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.5)
    with pytest.raises(ValueError, match="does not fit this model"):
        fitted(keras.optimizers.Adam(schedule), [AtomicBackupAndRestore(backup)])
