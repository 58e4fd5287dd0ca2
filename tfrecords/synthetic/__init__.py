"""Procedural synthetic session datasets: flat-colour shoes (synth_zap_seq) and garments
(synth_deepfashion_seq), and shoes and garments that look like product photographs
(photo_zap_seq, photo_deepfashion_seq).

from tfrecords.synthetic import SYNTHETIC_DATASETS, GENERATOR_VERSION, attribute_schema, generate_sessions
for session in generate_sessions("synth_zap_seq", num_sessions=10, seed=0):
    ...
"""

from tfrecords.synthetic.grammar import mentioned_attributes
from tfrecords.synthetic.lexicon import Lexicon
from tfrecords.synthetic.sessions import (
    GENERATOR_VERSION,
    GRAMMAR_VERSION,
    SPECS,
    SYNTHETIC_DATASETS,
    attribute_schema,
    generate_sessions,
    generator_version,
    layout_offset,
    make_session,
    plan_session,
    render,
)


def lexicon(name: str) -> Lexicon:
    """Returns the description Lexicon of synthetic dataset `name` (for mentioned_attributes).

    Raises:
      ValueError: `name` is not a synthetic dataset.
    """
    if name not in SPECS:
        raise ValueError(
            f"unknown synthetic dataset {name!r}; expected one of {SYNTHETIC_DATASETS}"
        )
    return SPECS[name].lexicon


__all__ = [
    "GENERATOR_VERSION",
    "GRAMMAR_VERSION",
    "Lexicon",
    "SYNTHETIC_DATASETS",
    "attribute_schema",
    "generate_sessions",
    "generator_version",
    "layout_offset",
    "lexicon",
    "make_session",
    "mentioned_attributes",
    "plan_session",
    "render",
]
