"""The in-memory session record shared by the dataset builders and the shard format."""

from __future__ import annotations

import dataclasses

import numpy as np

# Phrase types of the paper's Table 6 (single phrase, composition, propositional).
PHRASE_TYPES = ("single", "composition", "propositional")


@dataclasses.dataclass
class Session:
    """One editing session: images x0..xT and the descriptions o1..oT between them.

    Attributes:
      session_id: unique id within the dataset.
      images: T+1 uint8 arrays of shape [H, W, 3].
      descriptions: T utf-8 strings; descriptions[t] turns images[t] into images[t+1].
      attributes: T+1 lists of attribute strings, one list per image. Synthetic sets use
        "name=value" strings in the order of the dataset's attribute schema.
      phrase_types: T strings from PHRASE_TYPES, or empty when unknown (real datasets).
      changed_attributes: T lists of attribute names the description changed, or empty
        when unknown (real datasets).
    """

    session_id: str
    images: list[np.ndarray]
    descriptions: list[str]
    attributes: list[list[str]]
    phrase_types: list[str] = dataclasses.field(default_factory=list)
    changed_attributes: list[list[str]] = dataclasses.field(default_factory=list)

    @property
    def num_turns(self) -> int:
        return len(self.descriptions)
