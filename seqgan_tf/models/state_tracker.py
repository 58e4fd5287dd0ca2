"""StateTracker: h0 = MLP(v0); h_t = GRU(h_{t-1}, e-bar_t) (paper eq. 1-2)."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqgan_tf")
class StateTracker(keras.layers.Layer):
    """Tracks the dialogue in a recurrent state of width `state_dim`.

    Args:
      state_dim: d_h.

    Example:
      >>> tracker = StateTracker(state_dim=128)
      >>> h = tracker.initial_state(v0)          # [N, 128]
      >>> h = tracker.step(h, sentence_t)        # [N, 128]
      >>> states = tracker(v0, sentences)        # [N, T+1, 128]
    """

    def __init__(self, state_dim: int = 128, **kwargs):
        super().__init__(**kwargs)
        self.state_dim = state_dim
        self.mlp_hidden = keras.layers.Dense(state_dim * 2, activation="relu", name="mlp_hidden")
        self.mlp_out = keras.layers.Dense(state_dim, activation="tanh", name="mlp_out")
        self.gru = keras.layers.GRUCell(state_dim, name="gru")

    def initial_state(self, v0):
        return self.mlp_out(self.mlp_hidden(v0))

    def step(self, h, sentence, training=False):
        out, _ = self.gru(sentence, [h], training=training)
        return out

    def call(self, v0, sentences, training=False):
        h = self.initial_state(v0)
        states = [h]
        for t in range(sentences.shape[1]):
            h = self.step(h, sentences[:, t], training=training)
            states.append(h)
        return ops.stack(states, axis=1)

    def get_config(self):
        return {**super().get_config(), "state_dim": self.state_dim}
