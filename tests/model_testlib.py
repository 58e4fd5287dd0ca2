"""Tiny models and batches shared by the model and training tests."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from seqgan_tf.models.damsm import Damsm
from seqgan_tf.models.seq_attn_gan import SeqAttnGAN

VOCAB = ["make", "it", "red", "blue", "higher", "heel", "has", "laces", "boot", "sneaker"]
S, T, L = 16, 4, 8
TINY = dict(
    image_size=S,
    max_words=L,
    embedding_dim=8,
    text_dim=8,
    state_dim=8,
    noise_dim=4,
    gf_dim=4,
    df_dim=4,
    ef_dim=4,
)


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
    for i, n in enumerate(turns):
        images[i, n + 1 :] = 0.0
    return {
        "images": tf.constant(images),
        "descriptions": tf.constant(desc),
        "prev_attribute_text": tf.constant(prv),
        "turn_mask": tf.constant(mask),
        "num_turns": tf.constant(turns, tf.int32),
        "session_id": tf.constant([f"session-{seed}-{i}" for i in range(b)]),
    }


def tiny_model(**overrides) -> SeqAttnGAN:
    model = SeqAttnGAN(VOCAB, **{**TINY, "recon_weight": 1.0, **overrides})
    model(fake_batch(1))
    return model


def tiny_damsm() -> Damsm:
    damsm = Damsm(VOCAB, max_words=L, image_size=S, embedding_dim=8, feature_dim=8, base_channels=4)
    damsm({"image": tf.zeros([1, S, S, 3]), "text": tf.constant([""])})
    return damsm
