"""A texture term that does not care where a texture's threads or dots fall.

A weave, a knit, a print of dots or flowers has a phase that nothing in the description fixes:
the same "canvas" shoe is drawn with its threads anywhere. L1 to one true image then rewards
the average over phases, which is the flat colour; the gradient difference loss compares
neighbouring-pixel differences pixel by pixel and averages out the same way. What the texture
has at every phase is its local contrast: how much the image changes from pixel to pixel within
a small window. This term matches that, the mean absolute difference of neighbouring pixels
over windows of a few pixels, per colour channel, between the drawing and the truth. A flat
patch where the truth has a weave pays for the missing contrast; a weave shifted by half a
period pays nothing.
"""

from __future__ import annotations

import tensorflow as tf

# (window, stride) in pixels: a fine weave and stitch (periods of 2-4 px at 64x64), then
# dots, checks and flowers (up to 8 px).
WINDOWS = ((4, 2), (8, 4))


def neighbour_differences(images: tf.Tensor) -> tf.Tensor:
    """[R,S,S,C] -> |difference to the pixel below| + |difference to the pixel on the right|
    per channel: [R,S-1,S-1,C]."""
    dy = tf.abs(images[:, 1:, :-1] - images[:, :-1, :-1])
    dx = tf.abs(images[:, :-1, 1:] - images[:, :-1, :-1])
    return dy + dx


def local_contrast(images: tf.Tensor, window: int, stride: int) -> tf.Tensor:
    """[R,S,S,C] -> the mean |difference of neighbouring pixels| (in y plus in x) per channel
    over window x window patches, every `stride` pixels: [R,S',S',C]."""
    return tf.nn.avg_pool2d(neighbour_differences(images), window, stride, "VALID")


def texture_energy_difference(
    fake: tf.Tensor, real: tf.Tensor, pixel_weight: tf.Tensor
) -> tf.Tensor:
    """Per image: the L1 between fake's and real's local contrast (`local_contrast`), averaged
    over the windows of WINDOWS, each window weighted by the largest pixel_weight inside it.

    Args:
      fake, real: [R,S,S,C] images.
      pixel_weight: [R,S,S,1] (the reconstruction's: 1 + edit_weight on edited pixels).

    Returns:
      [R] float32.
    """
    # Pooling is linear: pool the difference of the two images' neighbour differences once per
    # window instead of each image's.
    fake_d, real_d = neighbour_differences(fake), neighbour_differences(real)
    weight = pixel_weight[:, :-1, :-1]
    total = tf.zeros(tf.shape(fake)[:1])
    for window, stride in WINDOWS:
        patch_weight = tf.nn.max_pool2d(weight, window, stride, "VALID")
        difference = tf.nn.avg_pool2d(fake_d - real_d, window, stride, "VALID")
        total += tf.reduce_mean(patch_weight * tf.abs(difference), [1, 2, 3])
    return total / len(WINDOWS)
