"""AttributeReader: image -> one categorical distribution per schema attribute (beyond the paper)."""

from __future__ import annotations

import keras

from seqgan_tf.models.blocks import norm


@keras.saving.register_keras_serializable(package="seqgan_tf")
class AttributeReader(keras.layers.Layer):
    """Reads the design off an image: logits over each attribute's values.

    Part of the generator's side of the model (it starts a session's attribute state from x0),
    trained with cross-entropy on the training split's true images and their attribute labels
    only. It is not the evaluation's classifier (a separately trained network).

    Each stage is a stride-1 3x3 conv then a 2x2 max-pool, so fine textures (patterns) survive
    the down-sampling; the last map is flattened, keeping where things are (heel, shaft, toe).

    Args:
      attribute_sizes: number of values of each attribute (V_1, ..., V_K).
      base_channels: width of the first stage (doubled per stage).
      image_size: S (a multiple of 16).
      hidden_dim: width of the dense layer before the logits.

    Example:
      >>> reader = AttributeReader([6, 13, 4], base_channels=16, image_size=64)
      >>> logits = reader(images)   # [N, 23]: segment k holds attribute k's logits
    """

    def __init__(
        self,
        attribute_sizes,
        base_channels: int = 16,
        image_size: int = 64,
        hidden_dim: int = 256,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if image_size % 16:
            raise ValueError(
                f"AttributeReader: image_size must be a multiple of 16, got {image_size}"
            )
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.base_channels = base_channels
        self.image_size = image_size
        self.hidden_dim = hidden_dim
        widths = [base_channels * 2**i for i in range(4)]
        self.convs = [
            keras.layers.Conv2D(w, 3, padding="same", use_bias=False, name=f"conv{i}")
            for i, w in enumerate(widths)
        ]
        self.norms = [norm(w) for w in widths]
        self.pool = keras.layers.MaxPooling2D(2)
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(hidden_dim, activation="relu", name="hidden")
        self.logits = keras.layers.Dense(sum(self.attribute_sizes), name="logits")

    def call(self, images):
        x = images
        for conv, n in zip(self.convs, self.norms, strict=True):
            x = self.pool(keras.activations.relu(n(conv(x))))
        return self.logits(self.hidden(self.flatten(x)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], sum(self.attribute_sizes))

    def get_config(self):
        return {
            **super().get_config(),
            "attribute_sizes": self.attribute_sizes,
            "base_channels": self.base_channels,
            "image_size": self.image_size,
            "hidden_dim": self.hidden_dim,
        }
