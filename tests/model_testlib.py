"""Tiny models and batches shared by the model, training, export and serving tests."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from seqgan_tf.configs.experiments import tiny
from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN

VOCAB = ["make", "it", "red", "blue", "higher", "heel", "has", "laces", "boot", "sneaker"]
ATTRIBUTE_SIZES = [3, 4]  # e.g. colour (red, blue, black), category (4 kinds)
# The model widths of the `tiny` experiment (the tests' size), taken from it, not copied.
_TINY_CONFIG = tiny("synth_zap_seq")
S, T, L = _TINY_CONFIG.data.image_size, 4, _TINY_CONFIG.model.max_words
TINY = dict(
    image_size=S,
    **{
        key: getattr(_TINY_CONFIG.model, key)
        for key in ("max_words", "embedding_dim", "text_dim", "state_dim", "noise_dim")
        + ("gf_dim", "df_dim", "ef_dim")
    },
)
# The edit mode with attribute slots, as in the `quick` config.
EDIT = dict(
    edit_mode=True, attribute_state=True, attribute_sizes=ATTRIBUTE_SIZES, mask_threshold=0.5
)
EDIT_LOSS = SeqAttnGANLoss(recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0)


def fake_batch(b: int = 4, seed: int = 0, turns: list[int] | None = None) -> dict:
    """A batch in the input pipeline's layout; session i has turns[i] real turns."""
    rng = np.random.default_rng(seed)
    turns = turns or [2 + (i % 3) for i in range(b)]
    texts = ["make it red", "higher heel", "has laces", "make it blue boot"]
    prev = ["blue sneaker", "red sneaker", "red boot", "red boot laces"]
    mask = np.array([[1.0 if t < n else 0.0 for t in range(T)] for n in turns], np.float32)
    desc = [[texts[(t + i) % 4] if t < n else "" for t in range(T)] for i, n in enumerate(turns)]
    prv = [[prev[(t + i) % 4] if t < n else "" for t in range(T)] for i, n in enumerate(turns)]
    images = rng.uniform(-1, 1, (b, T + 1, S, S, 3)).astype(np.float32)
    ids = np.stack([rng.integers(0, s, (b, T + 1)) for s in ATTRIBUTE_SIZES], -1).astype(np.int32)
    for i, n in enumerate(turns):
        images[i, n + 1 :] = 0.0
        ids[i, n + 1 :] = -1
    changed = (ids[:, 1:] != ids[:, :-1]).astype(np.float32) * mask[..., None]
    return {
        "images": tf.constant(images),
        "descriptions": tf.constant(desc),
        "prev_attribute_text": tf.constant(prv),
        "turn_mask": tf.constant(mask),
        "attribute_ids": tf.constant(ids),
        "changed_mask": tf.constant(changed),
        "num_turns": tf.constant(turns, tf.int32),
        "session_id": tf.constant([f"session-{seed}-{i}" for i in range(b)]),
    }


def tiny_model(**overrides) -> SeqAttnGAN:
    """A built tiny SeqAttnGAN (the paper's generator unless overrides say edit_mode)."""
    model = SeqAttnGAN(VOCAB, **{**TINY, **overrides})
    model(model.preprocessor(fake_batch(1)))
    return model


def tiny_edit_model(**overrides) -> SeqAttnGAN:
    """A built tiny SeqAttnGAN in edit mode with attribute slots (the `quick` design)."""
    return tiny_model(**{**EDIT, **overrides})


def compiled(
    model: SeqAttnGAN, loss: SeqAttnGANLoss = EDIT_LOSS, lr: float = 1e-3, **kwargs
) -> SeqAttnGAN:
    model.compile(
        d_optimizer=keras.optimizers.Adam(lr),
        g_optimizer=keras.optimizers.Adam(lr),
        loss=loss,
        **kwargs,
    )
    model.build_optimizers()
    return model


def tiny_trained_edit_model(steps: int = 2) -> SeqAttnGAN:
    """The tiny edit-mode model after `steps` training steps (for export and serving tests)."""
    model = compiled(tiny_edit_model())
    ds = tf.data.Dataset.from_tensors(fake_batch(4)).repeat(steps).map(model.preprocessor)
    model.fit(ds, epochs=1, verbose=0)
    return model


def tiny_damsm() -> Damsm:
    damsm = Damsm(VOCAB, max_words=L, image_size=S, embedding_dim=8, feature_dim=8, base_channels=4)
    damsm({"image": tf.zeros([1, S, S, 3]), "text": tf.constant([""])})
    return damsm


# The tiny models whose behaviour (tests/test_models_behaviour_lock.py) and weight-file layout
# (tests/test_models_weights_layout.py) are locked, by kind.
LOCKED_MODELS = {
    "paper": lambda: tiny_model(),
    "edit": lambda: tiny_edit_model(edit_generator="templates"),
    "edit_unet": lambda: tiny_edit_model(
        edit_generator="unet",
        classify_attributes=True,
        read_previous=True,
        skip_turn_rate=0.5,
        own_output_rate=0.5,
    ),
    "edit_latent": lambda: tiny_edit_model(
        edit_generator="templates", attribute_state=False, attribute_sizes=()
    ),
}
