"""LinearDecayTail: both learning rates constant, then falling linearly over the last updates."""

from __future__ import annotations

import keras


def tail_share(step: int, total_steps: int, decay_steps: int) -> float:
    """The share of the initial rate that update `step` (0-based) uses: 1 for the first
    total_steps - decay_steps updates, then a straight line down to 1 / decay_steps at the
    last update (pix2pix's schedule); steps past the end keep that last share."""
    if decay_steps == 0:
        return 1.0
    return min(1.0, max((total_steps - step) / decay_steps, 1.0 / decay_steps))


class LinearDecayTail(keras.callbacks.Callback):
    """Sets the discriminator's and the generator's learning rates before every update from
    each optimizer's own update count (`tail_share`).

    The rates stay the optimizers' own variables, so a run's weight files keep one layout with
    or without a decay (a Keras schedule object would drop that variable, and Keras then skips
    loading the whole optimizer state of a run saved without one). The update count is in
    every backup, so a resumed run continues on the same line; a finished run continued with
    more epochs gets a new line over the new total.

    Args:
      d_learning_rate, g_learning_rate: the rates before the decay.
      total_steps: the updates of the whole run.
      decay_steps: the last this many updates decay (0 = constant).

    Example:
      >>> callbacks.append(LinearDecayTail(2e-4, 1e-3, total_steps=2160, decay_steps=720))
    """

    def __init__(
        self, d_learning_rate: float, g_learning_rate: float, total_steps: int, decay_steps: int
    ):
        super().__init__()
        if total_steps < 1 or not 0 <= decay_steps <= total_steps:
            raise ValueError(
                f"LinearDecayTail: need 0 <= decay_steps <= total_steps and total_steps >= 1, "
                f"got decay_steps={decay_steps}, total_steps={total_steps}"
            )
        self.initial = {"d_optimizer": d_learning_rate, "g_optimizer": g_learning_rate}
        self.total_steps, self.decay_steps = total_steps, decay_steps

    def on_train_batch_begin(self, batch, logs=None):
        for name, initial in self.initial.items():
            optimizer = getattr(self.model, name)
            step = int(optimizer.iterations.numpy())
            optimizer.learning_rate = initial * tail_share(step, self.total_steps, self.decay_steps)
