"""AttributeEditor: (words of o_t, h_{t-1}, design a_{t-1}) -> which attributes change, and to what."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.masked_scores import MASKED_SCORE


@keras.saving.register_keras_serializable(package="seqgan_tf")
class AttributeEditor(keras.layers.Layer):
    """Word-level attention from attribute slots to the words of an edit (beyond the paper).

    The paper's future work is a representation disentangled into attributes; this layer is
    that step for the state tracker. Each attribute k has a learned query that attends over the
    words e(j) of o_t (softmax_j(q_k . W e(j)), the word attention of eq. 3 with attribute slots
    in place of image sub-regions). From the attended words c_k, the slot's current value
    a_{t-1,k} (needed for comparatives: "a higher heel", "darker") and the dialogue state
    h_{t-1}, a shared MLP gives a change logit and per-attribute value logits.

    Args:
      attribute_sizes: number of values of each attribute (V_1, ..., V_K).
      hidden_dim: width of the query/key space and of the shared MLP.
      use_attention: False replaces each slot's attention by the mean over the real words (the
        "no attention" ablation).

    call(words [N,L,D], word_mask [N,L], state [N,H], previous [N,sum V]) returns
    (change_logits [N,K], value_logits [N,sum V], attention [N,K,L]).

    Example:
      >>> editor = AttributeEditor([6, 13, 4], hidden_dim=64)
      >>> change, values, attention = editor(words, word_mask, h, a_prev)
    """

    def __init__(
        self, attribute_sizes, hidden_dim: int = 128, use_attention: bool = True, **kwargs
    ):
        super().__init__(**kwargs)
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.hidden_dim = hidden_dim
        self.use_attention = use_attention
        k = len(self.attribute_sizes)
        self.key = keras.layers.Dense(hidden_dim, use_bias=False, name="key")
        self.value_embeddings = [
            keras.layers.Dense(hidden_dim, use_bias=False, name=f"current{i}") for i in range(k)
        ]
        self.state_proj = keras.layers.Dense(hidden_dim, name="state_proj")
        self.hidden = keras.layers.Dense(hidden_dim, activation="relu", name="hidden")
        self.hidden2 = keras.layers.Dense(hidden_dim, activation="relu", name="hidden2")
        self.change = keras.layers.Dense(1, name="change")
        self.values = [
            keras.layers.Dense(v, name=f"values{i}") for i, v in enumerate(self.attribute_sizes)
        ]

    def build(self, words_shape, *args):
        k = len(self.attribute_sizes)
        self.key.build(words_shape)  # also without attention: the same weights either way
        self.queries = self.add_weight(
            shape=(k, self.hidden_dim), name="queries", initializer="random_normal"
        )
        self.slots = self.add_weight(
            shape=(k, self.hidden_dim), name="slots", initializer="random_normal"
        )
        self.built = True

    def call(self, words, word_mask, state, previous):
        k = len(self.attribute_sizes)
        real = ops.cast(word_mask, "bool")[:, None, :]  # [N,1,L]
        if self.use_attention:
            scores = ops.einsum("kd,nld->nkl", self.queries, self.key(words))
            scores = scores / float(self.hidden_dim) ** 0.5
            scores = ops.where(real, scores, ops.full_like(scores, MASKED_SCORE))
            attention = ops.softmax(scores, axis=-1)
        else:
            uniform = ops.cast(
                ops.broadcast_to(real, (ops.shape(words)[0], k, ops.shape(words)[1])), words.dtype
            )
            attention = uniform / ops.maximum(ops.sum(uniform, axis=-1, keepdims=True), 1.0)
        attention = ops.where(real, attention, ops.zeros_like(attention))
        context = ops.einsum("nkl,nld->nkd", attention, words)  # c_k
        bounds = [sum(self.attribute_sizes[:i]) for i in range(k + 1)]
        segments = [previous[:, bounds[i] : bounds[i + 1]] for i in range(k)]
        current = ops.stack(
            [emb(s) for emb, s in zip(self.value_embeddings, segments, strict=True)], axis=1
        )  # [N,K,H]
        h = self.state_proj(state)[:, None, :]
        x = ops.concatenate(
            [
                context,
                current,
                ops.broadcast_to(self.slots[None], ops.shape(current)),
                ops.broadcast_to(h, ops.shape(current)),
            ],
            axis=-1,
        )
        x = self.hidden2(self.hidden(x))  # [N,K,H]
        change_logits = ops.squeeze(self.change(x), -1)
        value_logits = ops.concatenate(
            [head(x[:, i]) for i, head in enumerate(self.values)], axis=-1
        )
        return change_logits, value_logits, attention

    def get_config(self):
        return {
            **super().get_config(),
            "attribute_sizes": self.attribute_sizes,
            "hidden_dim": self.hidden_dim,
            "use_attention": self.use_attention,
        }
