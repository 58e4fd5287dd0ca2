"""SeqAttnGANLoss: every term of one training step, composed from the configured weights."""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from seqgan_tf.losses.adversarial import fake_loss, real_loss
from seqgan_tf.losses.attribute_cross_entropy import segment_cross_entropy
from seqgan_tf.losses.texture_energy import texture_energy_difference

# Pixels whose largest channel moved more than this (in [-1, 1] units) count as edited.
EDITED_PIXEL_THRESHOLD = 0.1


def gradient_difference(fake: tf.Tensor, real: tf.Tensor, pixel_weight: tf.Tensor) -> tf.Tensor:
    """Mathieu et al.'s gradient difference loss per image: the mean over pixels of
    |d fake - d real| for the differences of neighbouring pixels in y and in x, each weighted by
    the larger pixel_weight of its two pixels. fake, real [R,S,S,C]; pixel_weight [R,S,S,1]."""
    pairs = (  # (ahead, behind) slices of a neighbouring pair in y, then in x
        (lambda x: x[:, 1:], lambda x: x[:, :-1]),
        (lambda x: x[:, :, 1:], lambda x: x[:, :, :-1]),
    )
    total = tf.zeros(tf.shape(fake)[:1])
    for ahead, behind in pairs:
        weight = tf.maximum(ahead(pixel_weight), behind(pixel_weight))
        difference = (ahead(fake) - behind(fake)) - (ahead(real) - behind(real))
        total += tf.reduce_mean(weight * tf.abs(difference), [1, 2, 3])
    return total


@dataclasses.dataclass(frozen=True)
class SeqAttnGANLoss:
    """The objective: the paper's terms (eq. 4-8) plus the switched-on terms beyond it.

    Discriminator: d_real + d_fake (unconditional) + d_cond (conditional on e-bar_t, with a
    mismatched description as a third negative) + classify_weight * d_attr. Generator:

        g_loss = g_adv + damsm_weight * g_damsm + recon_weight * recon
                 + attribute_weight * attributes + g_classify_weight * g_attr
                 + feature_match_weight * feature_match

    - recon (beyond the paper, 0 in `paper`): L1 to x_t with the edited pixels weighted
      (1 + edit_weight); in edit mode also edit_weight * L1 of the drawing x_new on the
      edited pixels, and the cross-entropy of the mask against the edited pixels ("edit_mask");
      with gradient_weight, also that weight times the gradient difference loss (Mathieu et
      al. 2016): the L1 between fake's and x_t's differences of neighbouring pixels in x and y,
      weighted like the L1 (sharp outlines, which L1 alone blurs); with texture_weight, also
      that weight times the L1 between fake's and x_t's local contrast over small windows
      (textures and prints whose phase the words do not fix, which L1 draws flat).
    - attributes (beyond the paper, with the attribute state): the reader's cross-entropy on
      true images ("attr_read"), the editor's change cross-entropy ("attr_change") and its
      value cross-entropy on the attributes the turn changes ("attr_value").
    - d_attr, g_attr (beyond the paper, AttGAN's classification constraint, when D has an
      attribute head): D's head reads the target design off the true x_t (d_attr); G is trained
      so that the head reads the target design off its output (g_attr).

    Every per-sample term is summed over real turns and divided by the GLOBAL number of
    sessions: each replica holds its share and the optimizer sums gradients over replicas.

    Attributes:
      damsm_weight: lambda of eq. 8 (0 = no DAMSM).
      recon_weight: weight of the reconstruction sum.
      edit_weight: extra weight of the edited pixels.
      attribute_weight: weight of the attribute terms.
      classify_weight: weight of d_attr in D's loss, and of g_attr in G's unless
        g_classify_weight is set.
      g_classify_weight: weight of g_attr in G's loss (None: classify_weight).
      feature_match_weight: weight of feature matching on D's feature maps.
      gradient_weight: weight of the gradient difference loss inside recon.
      texture_weight: weight of the local-contrast (texture energy) term inside recon.
      damsm_pairs: DAMSM scores only the first this many drawn turns (0 = all).
    """

    damsm_weight: float = 0.0
    recon_weight: float = 0.0
    edit_weight: float = 0.0
    attribute_weight: float = 0.0
    classify_weight: float = 0.0
    g_classify_weight: float | None = None
    feature_match_weight: float = 0.0
    gradient_weight: float = 0.0
    texture_weight: float = 0.0
    damsm_pairs: int = 0

    TERMS = (
        "d_loss",
        "d_real",
        "d_fake",
        "d_cond",
        "g_loss",
        "g_adv",
        "g_damsm",
        "recon",
        "edit_mask",
        "attributes",
        "attr_read",
        "attr_change",
        "attr_value",
        "d_attr",
        "g_attr",
        "feature_match",
    )

    def __call__(self, step: dict, global_batch) -> dict:
        """step: the model's `training_outputs`: per drawn turn the fake, real and previous
        images, the drawing and mask (edit mode), D's logits, the DAMSM loss, the attribute
        logits and targets, and "weight" (1 for a real turn, 0 for a padded one).

        Returns a dict of scalar terms named as in TERMS."""

        def reduce(per_sample, weight=step["weight"]):  # weight: 0 for padded turns
            return tf.reduce_sum(per_sample * weight) / tf.cast(global_batch, tf.float32)

        d = step["logits"]
        terms = {
            "d_real": reduce(real_loss(d["real_u"])),
            "d_fake": reduce(fake_loss(d["fake_u"])),
            "d_cond": reduce(
                real_loss(d["real_c"])
                + 0.5 * (fake_loss(d["fake_c"]) + d["wrong_weight"] * fake_loss(d["wrong_c"]))
            ),
        }
        terms.update(self._classification(step, reduce))
        terms["d_loss"] = (
            terms["d_real"]
            + terms["d_fake"]
            + terms["d_cond"]
            + self.classify_weight * terms["d_attr"]
        )
        terms["g_adv"] = reduce(real_loss(d["fake_u"]) + real_loss(d["fake_c"]))
        terms["feature_match"] = (
            reduce(d["feature_match"]) if "feature_match" in d else tf.zeros([])
        )
        terms["g_damsm"] = reduce(step["damsm"]) if step.get("damsm") is not None else tf.zeros([])
        terms.update(self._reconstruction(step, reduce))
        terms.update(self._attributes(step, reduce))
        terms["g_loss"] = (
            terms["g_adv"]
            + self.damsm_weight * terms["g_damsm"]
            + self.recon_weight * terms["recon"]
            + self.attribute_weight * terms["attributes"]
            + self._g_classify_weight * terms["g_attr"]
            + self.feature_match_weight * terms["feature_match"]
        )
        return terms

    @property
    def _g_classify_weight(self) -> float:
        if self.g_classify_weight is None:
            return self.classify_weight
        return self.g_classify_weight

    def _classification(self, step, reduce):
        d = step["logits"]
        if "attr_real" not in d:
            return {"d_attr": tf.zeros([]), "g_attr": tf.zeros([])}
        sizes, ids = step["attribute_sizes"], step["target_ids"]

        def cross_entropy(logits):
            return tf.reduce_sum(segment_cross_entropy(logits, ids, sizes), -1)

        return {
            "d_attr": reduce(cross_entropy(d["attr_real"])),
            "g_attr": reduce(cross_entropy(d["attr_fake"])),
        }

    def _reconstruction(self, step, reduce):
        fake, real, previous = step["fake"], step["real"], step["previous"]
        edited = tf.cast(
            tf.reduce_max(tf.abs(real - previous), -1, keepdims=True) > EDITED_PIXEL_THRESHOLD,
            tf.float32,
        )
        pixel_weight = 1.0 + self.edit_weight * edited
        recon = tf.reduce_mean(pixel_weight * tf.abs(fake - real), [1, 2, 3])
        if self.gradient_weight > 0:
            recon += self.gradient_weight * gradient_difference(fake, real, pixel_weight)
        if self.texture_weight > 0:
            recon += self.texture_weight * texture_energy_difference(fake, real, pixel_weight)
        edit_mask = tf.zeros_like(recon)
        if step.get("mask") is not None:
            recon += self.edit_weight * tf.reduce_mean(
                edited * tf.abs(step["drawn"] - real), [1, 2, 3]
            )
            edit_mask = tf.reduce_mean(
                keras.losses.binary_crossentropy(edited, step["mask"]), [1, 2]
            )
            recon += edit_mask
        return {"recon": reduce(recon), "edit_mask": reduce(edit_mask)}

    def _attributes(self, step, reduce):
        zero = tf.zeros([])
        if step.get("change_logits") is None:
            return {"attributes": zero, "attr_read": zero, "attr_change": zero, "attr_value": zero}
        sizes = step["attribute_sizes"]
        known = tf.cast(step["target_ids"] >= 0, tf.float32)  # [R, K]
        changed = step["changed"] * known
        change = tf.reduce_sum(
            known * tf.nn.sigmoid_cross_entropy_with_logits(changed, step["change_logits"]), -1
        )
        value = tf.reduce_sum(
            changed * segment_cross_entropy(step["value_logits"], step["target_ids"], sizes),
            -1,
        )
        read = tf.reduce_sum(
            segment_cross_entropy(step["read_logits"], step["read_ids"], sizes), -1
        )
        terms = {
            "attr_read": reduce(read, 1.0),  # padded images have no labels: 0 already
            "attr_change": reduce(change),
            "attr_value": reduce(value),
        }
        terms["attributes"] = terms["attr_read"] + terms["attr_change"] + terms["attr_value"]
        return terms
