"""EditUNet: edits x_{t-1} by a conditioned encoder-decoder, transforming what it keeps."""

from __future__ import annotations

import keras
from keras import ops

from seqgan_tf.models.blocks import compose_edit, norm
from seqgan_tf.models.image_warp import backward_warp
from seqgan_tf.models.word_attention import WordAttention

DECODER = (2, 1, 0)  # decoder stages, by scale: stage i works at S / 2**i
# The colour transforms the drawing can be, and the channels each predicts per pixel.
COLOUR_TRANSFORMS = {"gain": 6, "matrix": 12}
# With appearance flow, one unit of the flow channels moves a pixel by image_size / FLOW_UNIT px.
FLOW_UNIT = 16


def clip_passing_gradient(x):
    """x clipped to [0, 1] with the identity's gradient (straight-through). A plain clip has
    zero gradient outside the range, so a pixel whose transform overshoots white or black
    would stay there for good: the flat white patches of a model trained that way."""
    return x + ops.stop_gradient(ops.clip(x, 0.0, 1.0) - x)


@keras.saving.register_keras_serializable(package="seqgan_tf")
class EditUNet(keras.layers.Layer):
    """Redraws what a turn changes by transforming the image being edited, and copies the rest.

    Beyond the paper, after the attribute editors that work on photographs (AttGAN, STGAN): an
    encoder-decoder over x_{t-1} whose decoder and skips are modulated (FiLM at every scale)
    by what should change, the design difference a_t - a_{t-1}, the new design a_t and
    [h_t; e-bar_t; eps_t]. At S/4 the decoder's sub-regions attend over the words (eq. 3); the
    word context joins the decoder and those weights are the attention maps the serving
    signature returns. Nothing here knows where the item sits or how it is drawn: the network
    is convolutional, so size, position, pose and shape come from the image itself.

    The drawing is a per-pixel colour transform of x_{t-1} (HDRNet-style affine colour maps):
    x_new = gain * x_{t-1} + bias in [0, 1] units, with gain and bias predicted per pixel and
    channel. A recolour under shading is a per-channel gain (albedo times shading), so light,
    texture and shadow pass through; a new shape sets gain to 0 and paints with the bias. With
    colour_transform="matrix" the gain is a full 3x3 matrix per pixel (HDRNet's 3x4 affine):
    an output channel can take its light and texture from any input channel, so a red shoe
    turned blue keeps the shading its red channel holds, where a diagonal gain on a blue
    channel near 0 can only paint it flat. The maps start at the identity (gain 1, bias 0):
    an untrained model copies. The result is clipped to the colour range with the identity's
    gradient, so an overshoot is pulled back.

    With appearance_flow (Zhou et al., View Synthesis by Appearance Flow) the decoder also
    predicts a dense flow (dy, dx) per pixel, and the colour transform applies to x_{t-1}
    sampled at the flowed positions: a taller heel or a new shaft moves the pixels of the item,
    with their texture and shading, instead of painting them anew. The flow starts at 0.

    The output is composed as m * x_new + (1 - m) * x_{t-1} with a predicted mask m. Training
    uses the soft m; inference with mask_threshold t > 0 composes with m > t, so every pixel is
    redrawn or copied exactly and nothing drifts over the turns of a session.

    Args:
      gf_dim: base width (doubled per down-sampling, at most 8x).
      image_size: S (a multiple of 8).
      mask_threshold: inference-only hard mask threshold (0 = soft mask).
      colour_transform: "gain" (a per-channel gain and bias per pixel) or "matrix" (a 3x3
        colour matrix and a bias per pixel).
      appearance_flow: also move the pixels by a predicted dense flow before the colour
        transform.

    call(previous_image [N,S,S,3], design [N,D], previous_design [N,D], condition [N,Z],
    words [N,L,E], word_mask [N,L], compose=True, training=None) returns a dict: "image",
    "drawn" (x_new), "mask" [N,S,S,1], "attention" [N,S/4,S/4,L]. compose=False returns x_new
    as the image (mask of ones): the single-turn baseline.

    Example:
      >>> g = EditUNet(gf_dim=16, image_size=64)
      >>> out = g(x_prev, a_t, a_prev, h_t, words, word_mask)
    """

    def __init__(
        self,
        gf_dim: int = 32,
        image_size: int = 64,
        mask_threshold: float = 0.0,
        colour_transform: str = "gain",
        appearance_flow: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if colour_transform not in COLOUR_TRANSFORMS:
            raise ValueError(
                f"colour_transform must be one of {COLOUR_TRANSFORMS}, got {colour_transform!r}"
            )
        self.colour_transform = colour_transform
        self.appearance_flow = bool(appearance_flow)
        if image_size % 8:
            raise ValueError(f"EditUNet: image_size must be a multiple of 8, got {image_size}")
        if not 0.0 <= mask_threshold < 1.0:
            raise ValueError(f"mask_threshold must be in [0, 1), got {mask_threshold}")
        self.gf_dim, self.image_size = gf_dim, image_size
        self.mask_threshold = float(mask_threshold)
        conv = keras.layers.Conv2D
        widths = [gf_dim, 2 * gf_dim, 4 * gf_dim, 8 * gf_dim]  # at S, S/2, S/4, S/8
        self.widths = widths
        self.stem = conv(widths[0], 3, padding="same", name="stem")
        self.downs = [
            conv(w, 4, strides=2, padding="same", use_bias=False, name=f"down{i}")
            for i, w in enumerate(widths[1:], start=1)
        ]
        self.down_norms = [norm(w, name=f"down_norm{i}") for i, w in enumerate(widths[1:], 1)]
        self.bottleneck = [
            conv(widths[3], 3, padding="same", use_bias=False, name=f"bottleneck{i}")
            for i in range(2)
        ]
        self.bottleneck_norms = [norm(widths[3], name=f"bottleneck_norm{i}") for i in range(2)]
        # Decoder stage i works at S / 2**i (i = 2, 1, 0), reading the stage below and skip i.
        self.ups = [
            conv(widths[i], 3, padding="same", use_bias=False, name=f"up{i}") for i in DECODER
        ]
        self.up_norms = [norm(widths[i], name=f"up_norm{i}") for i in DECODER]
        self.mixes = [conv(widths[i], 3, padding="same", name=f"mix{i}") for i in DECODER]
        # FiLM (gamma, beta) from the condition: the bottleneck, each decoder stage, each skip.
        film = [("bottleneck", widths[3])]
        film += [(f"up{i}", widths[i]) for i in DECODER] + [
            (f"skip{i}", widths[i]) for i in DECODER
        ]
        self.film_names = [name for name, _ in film]
        self.films = [
            keras.layers.Dense(2 * w, kernel_initializer="zeros", name=f"film_{name}")
            for name, w in film
        ]
        self.attention = WordAttention(widths[2], name="attention")
        channels = COLOUR_TRANSFORMS[colour_transform] + (2 if self.appearance_flow else 0)
        self.to_transform = conv(
            channels, 3, padding="same", kernel_initializer="zeros", name="to_rgb"
        )
        self.to_mask = conv(1, 3, padding="same", name="to_mask")

    def _film(self, name, x, condition):
        film = self.films[self.film_names.index(name)]
        gamma, beta = ops.split(film(condition)[:, None, None, :], 2, axis=-1)
        return x * (1.0 + gamma) + beta

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
        c = ops.concatenate([design - previous_design, design, condition], axis=-1)
        # Encoder: skips at S, S/2, S/4; the bottleneck at S/8.
        skips = [act(self.stem(previous_image), 0.2)]
        x = skips[0]
        for down, down_norm in zip(self.downs, self.down_norms, strict=True):
            x = act(down_norm(down(x)), 0.2)
            skips.append(x)
        for layer, layer_norm in zip(self.bottleneck, self.bottleneck_norms, strict=True):
            x = x + act(layer_norm(layer(x)), 0.2)
        x = self._film("bottleneck", x, c)
        attention = None
        for k, i in enumerate(DECODER):
            x = ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)
            x = act(self.up_norms[k](self.ups[k](x)), 0.2)
            x = self._film(f"up{i}", x, c)
            skip = self._film(f"skip{i}", skips[i], c)
            parts = [x, skip]
            if i == 2:  # word attention over the S/4 sub-regions (eq. 3)
                context, attention = self.attention(x, words, word_mask)
                parts.append(context)
            if i == 0:
                parts.append(previous_image)
            x = act(self.mixes[k](ops.concatenate(parts, axis=-1)), 0.2)
        transform = self.to_transform(x)
        source01 = (previous_image + 1.0) * 0.5
        if self.appearance_flow:  # the last two channels: (dy, dx)
            flow = transform[..., -2:] * (self.image_size / FLOW_UNIT)
            transform = transform[..., :-2]
            source01 = backward_warp(source01, flow)
        if self.colour_transform == "matrix":  # (I + M) x + b, M and b per pixel
            shape = ops.shape(transform)
            matrix = ops.reshape(transform[..., :9], (*shape[:3], 3, 3))
            mixed = ops.einsum("nhwij,nhwj->nhwi", matrix, source01)
            new01 = source01 + mixed + transform[..., 9:]
        else:
            gain, bias = ops.split(transform, 2, axis=-1)
            new01 = (1.0 + gain) * source01 + bias
        drawn = clip_passing_gradient(new01) * 2.0 - 1.0
        mask = ops.sigmoid(self.to_mask(x))
        return compose_edit(
            drawn, mask, previous_image, attention, self.mask_threshold, compose, training
        )

    def get_config(self):
        return {
            **super().get_config(),
            "gf_dim": self.gf_dim,
            "image_size": self.image_size,
            "mask_threshold": self.mask_threshold,
            "colour_transform": self.colour_transform,
            "appearance_flow": self.appearance_flow,
        }
