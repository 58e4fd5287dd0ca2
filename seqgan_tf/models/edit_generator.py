"""EditGenerator: draws a design from learned per-value templates and composes it over x_{t-1}."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from seqgan_tf.models.blocks import compose_edit
from seqgan_tf.models.word_attention import WordAttention

TEMPLATE_SCALE = 10.0  # see EditGenerator.build


@keras.saving.register_keras_serializable(package="seqgan_tf")
class EditGenerator(keras.layers.Layer):
    """Redraws what a turn changes, sharply and at full resolution, and copies the rest.

    Beyond the paper. Every value v of every attribute owns a learned full-resolution template
    T_v [S+2P, S+2P, C]. A design a (one probability vector per attribute) places the sum of
    its values' templates, M(a) = sum_v a_v T_v, so each pixel knows what the design puts there
    (the category's outline, the pattern's ink, the closure's laces), and a per-pixel decoder
    turns that code into colour. Items sit a few pixels off-centre from session to session: a
    small CNN reads the shift from x_{t-1} as a distribution over -P..P pixels per axis, and the
    templates are moved by it (a separable per-sample convolution), so patterns are drawn in
    phase with the item. At S/4 the placed templates attend over the words (eq. 3); the word
    context joins the decoder, and those weights are the attention maps the serving signature
    returns. The state h_t and the noise modulate the decoder (FiLM).

    The output is composed as m * x_new + (1 - m) * x_{t-1} with a predicted mask m, so the
    mask can erase as well as paint (x_new is a whole image, background included). Training
    uses the soft m; inference with mask_threshold t > 0 composes with m > t, so every pixel
    is redrawn or copied exactly and no blur piles up over the turns of a session.

    Args:
      attribute_sizes: values per attribute (V_1..V_K).
      gf_dim: decoder width (the template code has gf_dim channels).
      image_size: S.
      max_shift: P, the largest shift (pixels) the templates are moved by.
      mask_threshold: inference-only hard mask threshold (0 = soft mask).

    call(previous_image [N,S,S,3], design [N,sum V], previous_design [N,sum V],
    condition [N,Z], words [N,L,D], word_mask [N,L], compose=True, training=None) returns a
    dict: "image", "drawn" (x_new), "mask" [N,S,S,1], "attention" [N,S/4,S/4,L].
    compose=False returns x_new as the image (mask of ones): the single-turn baseline, which
    has no image to edit.

    Example:
      >>> g = EditGenerator([6, 13, 4], gf_dim=16, image_size=64)
      >>> out = g(x_prev, a_t, a_prev, h_t, words, word_mask)
    """

    def __init__(
        self,
        attribute_sizes,
        gf_dim: int = 16,
        image_size: int = 64,
        max_shift: int = 2,
        mask_threshold: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if image_size % 8:
            raise ValueError(f"EditGenerator: image_size must be a multiple of 8, got {image_size}")
        if not 0.0 <= mask_threshold < 1.0:
            raise ValueError(f"mask_threshold must be in [0, 1), got {mask_threshold}")
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.gf_dim, self.image_size = gf_dim, image_size
        self.max_shift, self.mask_threshold = max_shift, float(mask_threshold)
        conv = keras.layers.Conv2D
        hidden = 4 * gf_dim
        self.shift_net = [
            conv(gf_dim, 4, strides=2, padding="same", name="shift0"),
            conv(2 * gf_dim, 4, strides=2, padding="same", name="shift1"),
            conv(2 * gf_dim, 4, strides=2, padding="same", name="shift2"),
        ]
        self.shift_logits = keras.layers.Dense(
            2 * (2 * max_shift + 1), name="shift_logits", kernel_initializer="zeros"
        )
        self.stem = conv(gf_dim, 3, padding="same", name="stem")
        self.attention = WordAttention(gf_dim, name="attention")
        self.fuse = conv(hidden, 1, name="fuse")
        self.film = keras.layers.Dense(2 * hidden, name="film")
        self.mix = conv(hidden, 1, name="mix")
        self.local = conv(2 * gf_dim, 3, padding="same", name="local")
        self.to_rgb = conv(3, 1, name="to_rgb")
        self.to_mask = conv(1, 3, padding="same", name="to_mask")

    def build(self, *shapes):
        side = self.image_size + 2 * self.max_shift
        # Stored divided by TEMPLATE_SCALE: Adam moves a weight by about the learning rate per
        # step whatever its gradient, and a template pixel has to travel ~1, so the scale makes
        # templates learn TEMPLATE_SCALE times faster (an equalised learning rate). Near-zero
        # start: no speckle left in the templates of rarely seen values.
        self.templates = self.add_weight(
            shape=(sum(self.attribute_sizes), side, side, self.gf_dim),
            name="templates",
            initializer=keras.initializers.RandomNormal(stddev=0.01 / TEMPLATE_SCALE),
        )
        self.built = True

    def shift_distribution(self, previous_image):
        """[N, 2, 2P+1]: where the item sits, read off the image being edited (x, then y)."""
        x = previous_image
        for layer in self.shift_net:
            x = keras.activations.leaky_relu(layer(x), 0.2)
        logits = self.shift_logits(ops.reshape(x, (ops.shape(x)[0], -1)))
        return ops.softmax(ops.reshape(logits, (-1, 2, 2 * self.max_shift + 1)), axis=-1)

    def place(self, design, shift):
        """Templates of `design` [N, sum V] moved by `shift` [N,2,2P+1] -> [N,S,S,C]."""
        codes = tf.einsum("nv,vhwc->nhwc", design, self.templates * TEMPLATE_SCALE)
        n, c, side = tf.shape(codes)[0], self.gf_dim, self.image_size + 2 * self.max_shift
        # One separable per-sample convolution: batch and channels folded into depth.
        x = tf.reshape(tf.transpose(codes, [1, 2, 0, 3]), [1, side, side, n * c])
        kx = tf.repeat(tf.transpose(shift[:, 0]), c, axis=1)[None, :, :, None]  # [1,k,NC,1]
        ky = tf.repeat(tf.transpose(shift[:, 1]), c, axis=1)[:, None, :, None]  # [k,1,NC,1]
        x = tf.nn.depthwise_conv2d(x, kx, [1, 1, 1, 1], "VALID")
        x = tf.nn.depthwise_conv2d(x, ky, [1, 1, 1, 1], "VALID")
        s = self.image_size
        return tf.transpose(tf.reshape(x, [s, s, n, c]), [2, 0, 1, 3])

    def call(
        self,
        previous_image,
        design,
        previous_design,
        condition,
        words,
        word_mask,
        compose=True,
        training=None,
    ):
        act = keras.activations.leaky_relu
        shift = self.shift_distribution(previous_image)
        new_codes = self.place(design, shift)
        old_codes = self.place(previous_design, shift)
        # Word attention (eq. 3) over the S/4 sub-regions of the placed design.
        regions = ops.average_pool(new_codes, 4, 4)
        context, attention = self.attention(regions, words, word_mask)
        context = ops.repeat(ops.repeat(context, 4, axis=1), 4, axis=2)
        x = ops.concatenate(
            [new_codes, old_codes, previous_image, act(self.stem(previous_image), 0.2), context],
            axis=-1,
        )
        x = act(self.fuse(x), 0.2)
        gamma, beta = ops.split(self.film(condition)[:, None, None, :], 2, axis=-1)
        x = x * (1.0 + gamma) + beta
        x = x + act(self.mix(x), 0.2)
        x = act(self.local(x), 0.2)
        drawn = ops.tanh(self.to_rgb(x))
        mask = ops.sigmoid(self.to_mask(x))
        return compose_edit(
            drawn, mask, previous_image, attention, self.mask_threshold, compose, training
        )

    def get_config(self):
        return {
            **super().get_config(),
            "attribute_sizes": self.attribute_sizes,
            "gf_dim": self.gf_dim,
            "image_size": self.image_size,
            "max_shift": self.max_shift,
            "mask_threshold": self.mask_threshold,
        }
