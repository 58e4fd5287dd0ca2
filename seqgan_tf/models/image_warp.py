"""Backward warping of images by a dense flow, with bilinear sampling (appearance flow)."""

from __future__ import annotations

import tensorflow as tf


def backward_warp(images: tf.Tensor, flow: tf.Tensor) -> tf.Tensor:
    """Samples each output pixel (y, x) of `images` at (y + dy, x + dx), bilinearly.

    Zhou et al.'s appearance flow (View Synthesis by Appearance Flow, ECCV 2016): a new shape is
    drawn by moving the pixels of the image it comes from, so their texture and shading move
    with them. Positions outside the image take the nearest border pixel. Differentiable in
    both the images and the flow (the flow's gradient comes from the bilinear weights).

    Args:
      images: [N, H, W, C] float.
      flow: [N, H, W, 2] float, (dy, dx) in pixels.

    Returns:
      [N, H, W, C], the images warped.

    Example:
      >>> still = backward_warp(images, tf.zeros_like(images[..., :2]))   # == images
    """
    images = tf.convert_to_tensor(images)
    flow = tf.cast(flow, images.dtype)
    shape = tf.shape(images)
    n, h, w, c = shape[0], shape[1], shape[2], shape[3]
    grid_y, grid_x = tf.meshgrid(
        tf.range(h, dtype=images.dtype), tf.range(w, dtype=images.dtype), indexing="ij"
    )
    y = tf.clip_by_value(grid_y[None] + flow[..., 0], 0.0, tf.cast(h - 1, images.dtype))
    x = tf.clip_by_value(grid_x[None] + flow[..., 1], 0.0, tf.cast(w - 1, images.dtype))
    y0, x0 = tf.floor(y), tf.floor(x)
    wy, wx = (y - y0)[..., None], (x - x0)[..., None]
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    y1, x1 = tf.minimum(y0 + 1, h - 1), tf.minimum(x0 + 1, w - 1)
    flat = tf.reshape(images, [-1, c])
    base = (tf.range(n) * h * w)[:, None, None]

    def at(yy, xx):
        return tf.gather(flat, base + yy * w + xx)

    top = at(y0, x0) * (1.0 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1.0 - wx) + at(y1, x1) * wx
    return top * (1.0 - wy) + bottom * wy
