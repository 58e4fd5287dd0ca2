"""What a model's edit signature says about it: its resolution and how many words it reads.

The one place that reads them off a SignatureDef (the client, the editor's backend and the
server's warm-up all need them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from serving import contract

EDIT_SIGNATURES = (contract.EDIT_SIGNATURE, contract.DEFAULT_SIGNATURE)


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
    """Attributes:
    signature: the signature read (None: none of the names asked for is there).
    image_size: S of the `image` output [B, S, S, 3] (None: not a fixed size).
    max_words: L of the `tokens` output [B, L], else of `attention` [B, h, w, L] (None: neither).
    """

    signature: str | None = None
    image_size: int | None = None
    max_words: int | None = None


def _dims(signature_def: Any, name: str) -> list[int]:
    if name not in signature_def.outputs:
        return []
    return [d.size for d in signature_def.outputs[name].tensor_shape.dim]


def signature_info(
    signature_defs: Mapping[str, Any], names: Sequence[str] = EDIT_SIGNATURES
) -> SignatureInfo:
    """Reads the first of `names` present in `signature_defs` (name -> SignatureDef proto).

    Example:
      >>> info = signature_info(loaded.signature_defs)
      >>> info.image_size, info.max_words
      (64, 16)
    """
    name = next((n for n in names if n in signature_defs), None)
    if name is None:
        return SignatureInfo()
    signature_def = signature_defs[name]
    image = _dims(signature_def, contract.IMAGE_OUTPUT)
    image_size = image[1] if len(image) == 4 and image[1] > 0 else None
    max_words = None
    for output, axis in ((contract.TOKENS_OUTPUT, 1), (contract.ATTENTION_OUTPUT, 3)):
        shape = _dims(signature_def, output)
        if len(shape) > axis and shape[axis] > 0:
            max_words = shape[axis]
            break
    return SignatureInfo(name, image_size, max_words)
