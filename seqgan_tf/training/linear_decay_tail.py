"""LinearDecayTail: both learning rates constant, then falling linearly over the last updates,
optionally followed by a warm restart (the rates back at full, falling again to the end)."""

from __future__ import annotations

import keras

from seqgan_tf.configs.experiment import TrainConfig


def tail_share(step: int, total_steps: int, decay_steps: int, restart_steps: int = 0) -> float:
    """The share of the initial rate that update `step` (0-based) uses: 1 for the first
    total_steps - decay_steps updates, then a straight line down to 1 / decay_steps at the
    last update (pix2pix's schedule); steps past the end keep that last share.

    With restart_steps, the last restart_steps updates are a second cycle (SGDR's warm
    restart): the first total_steps - restart_steps updates follow the line above with
    their own decay_steps, and the restart begins at the full rate and falls over all of it.
    """
    first = total_steps - restart_steps
    if restart_steps and step >= first:
        return tail_share(step - first, restart_steps, restart_steps)
    if decay_steps == 0:
        return 1.0
    return min(1.0, max((first - step) / decay_steps, 1.0 / decay_steps))


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
      decay_steps: the last this many updates (of the first cycle, with a restart) decay
        (0 = constant).
      restart_steps: the last this many updates restart at the full rates and decay to the
        end (0 = no restart).

    Example:
      >>> callbacks.append(LinearDecayTail(2e-4, 1e-3, total_steps=2160, decay_steps=720))
    """

    def __init__(
        self,
        d_learning_rate: float,
        g_learning_rate: float,
        total_steps: int,
        decay_steps: int,
        restart_steps: int = 0,
    ):
        super().__init__()
        if (
            not 0 <= restart_steps < total_steps
            or not 0 <= decay_steps <= total_steps - restart_steps
        ):
            raise ValueError(
                "LinearDecayTail: need 0 <= restart_steps < total_steps and "
                "0 <= decay_steps <= total_steps - restart_steps, got "
                f"decay_steps={decay_steps}, restart_steps={restart_steps}, total_steps={total_steps}"
            )
        self.initial = {"d_optimizer": d_learning_rate, "g_optimizer": g_learning_rate}
        self.total_steps, self.decay_steps = total_steps, decay_steps
        self.restart_steps = restart_steps

    def on_train_batch_begin(self, batch, logs=None):
        for name, initial in self.initial.items():
            optimizer = getattr(self.model, name)
            step = int(optimizer.iterations.numpy())
            optimizer.learning_rate = initial * tail_share(
                step, self.total_steps, self.decay_steps, self.restart_steps
            )


def learning_rate_schedule(train: TrainConfig, steps_per_epoch: int) -> LinearDecayTail | None:
    """The run's LinearDecayTail from train.decay_share and train.restart_epochs (None when
    both rates stay constant)."""
    decay_steps = round(train.decay_share * (train.epochs - train.restart_epochs) * steps_per_epoch)
    if not decay_steps and not train.restart_epochs:
        return None
    return LinearDecayTail(
        train.d_learning_rate,
        train.g_learning_rate,
        train.epochs * steps_per_epoch,
        decay_steps,
        restart_steps=train.restart_epochs * steps_per_epoch,
    )
