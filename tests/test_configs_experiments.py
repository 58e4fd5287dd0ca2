"""The named configs train with the settings their documented figures were measured with."""

from seqgan_tf.configs import get_experiment


def _rates(name):
    train = get_experiment(name, "photo_zap_seq").train
    return train.g_learning_rate, train.d_learning_rate


def test_quick_and_long_train_d_at_1e3_and_longer_keeps_2e4():
    # docs/results.md: quick's figures are with D at 1e-3 ("D's learning rate at 1e-3: a second
    # seed and the garments"), long's too ("`long` with D at 1e-3"); longer's were measured
    # with D at 2e-4.
    assert _rates("quick") == _rates("long") == (1e-3, 1e-3)
    assert _rates("longer") == (1e-3, 2e-4)
    # Nothing else of quick's design moves with long's rate.
    quick, long = get_experiment("quick", "photo_zap_seq"), get_experiment("long", "photo_zap_seq")
    assert quick.edit == long.edit and quick.model == long.model
