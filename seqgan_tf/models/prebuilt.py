"""A mixin for models whose variables and optimizers are all built before `fit`."""

from __future__ import annotations


class PrebuiltUnderStrategy:
    """Skips Keras 3's symbolic build at the start of `fit` / `evaluate`.

    Under a distribution strategy, Keras 3 (3.15) takes the first distributed batch and averages
    it over replicas with `strategy.reduce("MEAN", ...)` to build the model symbolically
    (keras/src/backend/tensorflow/trainer.py, `_maybe_symbolic_build`). Our batches carry
    strings (descriptions, session ids), which cannot be averaged: the step fails with
    "Value for attr 'T' of string is not in the list of allowed values ... AddN". These models
    are built by calling them once, and their optimizers with `optimizer.build(...)`, before
    `fit`, and they compile no loss or metric objects, so the symbolic build has nothing left to do.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        return None
