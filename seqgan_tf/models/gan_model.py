"""GANModel: the Keras plumbing of a model trained with two optimizers and a loss object."""

from __future__ import annotations

import keras
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models.prebuilt import PrebuiltUnderStrategy


class GANModel(PrebuiltUnderStrategy, keras.Model):
    """A keras.Model trained as a GAN: a discriminator optimizer, a generator optimizer, a loss
    object handed to `compile`, and one `keras.metrics.Mean` per loss term.

    The subclass provides `train_step`, `training_outputs(batch, step, training)` (what the
    loss reads), a `discriminator` attribute and `self.trackers` (term name -> Mean), and builds
    its parts on its first call. This class provides the rest: `compile`, `build_optimizers`,
    `generator_variables` (every trainable variable but D's), `metrics`, `test_step`, the
    jit_compile override (and `compiled_with_xla`) and the helpers `_check_prepared`,
    `_global_batch` and `_log`.
    """

    def compile(
        self,
        d_optimizer: keras.optimizers.Optimizer,
        g_optimizer: keras.optimizers.Optimizer,
        loss: SeqAttnGANLoss | None = None,
        **kwargs,
    ) -> None:
        # model.optimizer is the generator's (Keras counts steps with it); both optimizers are
        # attributes, so save_weights / BackupAndRestore keep both states.
        if self.dtype_policy.name == "mixed_float16":  # float16 gradients underflow unscaled
            d_optimizer, g_optimizer = (
                o
                if isinstance(o, keras.optimizers.LossScaleOptimizer)
                else keras.optimizers.LossScaleOptimizer(o)
                for o in (d_optimizer, g_optimizer)
            )
        super().compile(optimizer=g_optimizer, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.seq_loss = loss or SeqAttnGANLoss()

    def build_optimizers(self) -> None:
        """Creates both optimizers' slots up front (needed under tf.distribute and for
        BackupAndRestore to restore their state). Call inside strategy.scope()."""
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def generator_variables(self) -> list[keras.Variable]:
        """Every trainable variable but the discriminator's: what g_loss trains."""
        skip = {id(v) for v in self.discriminator.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in skip]

    def build(self, input_shape=None) -> None:
        self.built = True  # sub-layers build on the first call (see runs.build_model)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers.values())

    # Keras refuses jit_compile=True for any model holding a StringLookup (the tokenizer). The
    # tokenizer runs in the input pipeline (the preprocessor) and never inside a compiled step
    # (_check_compilable says so if it would), so the request is honoured.
    @property
    def jit_compile(self) -> bool:
        if self._jit_compile is None:
            self._jit_compile = self._resolve_auto_jit_compile()
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        self._jit_compile = bool(value)

    @property
    def compiled_with_xla(self) -> bool:
        """Whether `compile` set XLA for the steps (then they need static shapes). Unlike
        `jit_compile`, reading it before `compile` does not resolve "auto"."""
        return getattr(self, "_jit_compile", None) is True

    def test_step(self, batch: dict) -> dict:
        """Validation: the subclass's training_outputs with zero noise, scored, nothing trained."""
        self._check_prepared(batch)
        outputs = self.training_outputs(batch, training=False)
        return self._log(self.seq_loss(outputs, self._global_batch(batch)))

    def _check_prepared(self, batch: dict) -> None:
        if "description_ids" not in batch:
            raise ValueError(
                "train_step and test_step need prepared batches: map the dataset "
                "with model.preprocessor (it tokenizes in the input pipeline, so "
                "the step holds no string op and can be compiled)"
            )

    def _global_batch(self, batch: dict) -> tf.Tensor:
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return tf.shape(batch["images"])[0] * replicas

    def _log(self, terms: dict) -> dict:
        # Each replica holds its share of the global loss; the trackers average over replicas,
        # so scale back up. Logs are rank-1: MultiWorkerMirroredStrategy cannot reduce scalar
        # logs in Keras 3 fit (tensorflow#72388, keras#20585).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for name, value in terms.items():
            self.trackers[name].update_state(value * replicas)
        return {name: tf.reshape(t.result(), [1]) for name, t in self.trackers.items()}
