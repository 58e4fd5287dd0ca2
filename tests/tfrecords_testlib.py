"""A tiny, fast fake session generator with the `generate_sessions` signature (for tests).

Images are seeded random noise with a turn-dependent colour block, attributes are "name=value"
strings over FAKE_SCHEMA, and each turn changes one attribute.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tfrecords.session import PHRASE_TYPES, Session

FAKE_SCHEMA = {
    "color": ("black", "red", "blue", "white"),
    "heel": ("flat", "low", "high"),
    "toe": ("round", "pointed"),
}


def fake_generate_sessions(
    name: str,
    num_sessions: int,
    seed: int,
    image_size: int = 32,
    start: int = 0,
    turns: tuple[int, ...] = (2, 3, 4),
) -> Iterator[Session]:
    """Yields sessions whose content depends only on (name, seed, index).

    Args:
      name: dataset name (part of the session id).
      num_sessions: how many sessions.
      seed: seed.
      image_size: image side.
      start: index of the first session.
      turns: session i has turns[i % len(turns)] turns.

    Yields:
      Session objects with ids f"{name}-{seed}-{i:07d}".
    """
    names = list(FAKE_SCHEMA)
    for i in range(start, start + num_sessions):
        rng = np.random.default_rng([seed, i])
        num_turns = turns[i % len(turns)]
        values = {n: str(rng.choice(FAKE_SCHEMA[n])) for n in names}
        images, attributes, descriptions, changed, phrase_types = [], [], [], [], []
        for t in range(num_turns + 1):
            if t > 0:
                attribute = names[int(rng.integers(len(names)))]
                options = [v for v in FAKE_SCHEMA[attribute] if v != values[attribute]]
                values[attribute] = str(rng.choice(options))
                descriptions.append(f"make the {attribute} {values[attribute]} now")
                changed.append([attribute])
                phrase_types.append(PHRASE_TYPES[int(rng.integers(len(PHRASE_TYPES)))])
            images.append(rng.integers(0, 256, size=(image_size, image_size, 3), dtype=np.uint8))
            attributes.append([f"{n}={values[n]}" for n in names])
        yield Session(
            session_id=f"{name}-{seed}-{i:07d}",
            images=images,
            descriptions=descriptions,
            attributes=attributes,
            phrase_types=phrase_types,
            changed_attributes=changed,
        )


def slow_fake_generate_sessions(
    name: str, num_sessions: int, seed: int, image_size: int = 32, start: int = 0
) -> Iterator[Session]:
    """`fake_generate_sessions` at 0.5 s per session (a worker busy on a long chunk; tests)."""
    import time

    for session in fake_generate_sessions(name, num_sessions, seed, image_size, start):
        time.sleep(0.5)
        yield session
