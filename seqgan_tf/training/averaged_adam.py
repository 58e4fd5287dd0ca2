"""AveragedAdam: Adam that keeps an exponential moving average of what it trains."""

from __future__ import annotations

import keras


class AveragedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam with its moving average of the weights (`use_ema`) put in place
    of exactly the variables it trains, at the end of `fit`.

    The generator's optimizer is `model.optimizer` (Keras counts steps with it), and `fit` ends
    with `model.optimizer.finalize_variable_values(model.trainable_weights)`: every trainable
    weight, the discriminator's too. Keras's own Adam then refuses (it pairs the list with its
    averages by position, and the lengths differ). This one pairs them by variable and leaves
    the rest alone, so after `fit` the generator holds its average (Polyak averaging, as
    ProGAN, StyleGAN and BigGAN evaluate their generators; Yazici et al. 2019) and D its last
    weights. The average is an optimizer variable: saved and restored with the optimizer's
    state, so a resumed run keeps averaging where it stopped.

    Example:
      >>> g_optimizer = AveragedAdam(1e-3, 0.5, 0.999, use_ema=True, ema_momentum=0.998)
    """

    def finalize_variable_values(self, var_list):
        if not self.use_ema:
            return
        for var in var_list:
            index = self._trainable_variables_indices.get(self._var_key(var))
            if index is not None:
                var.assign(self._model_variables_moving_average[index])
