"""Adapts an exported-style "editor" (start / edit, see COMMON contract) to a session generator."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf


class EditorGenerator:
    """Runs an editor turn by turn on its own outputs (no teacher forcing).

    Turn t's input image is the editor's output of turn t-1 (the batch's first image for t=1);
    the recurrent state is carried along. The last call's attention maps and tokens are kept
    for `attention_session`.

    Args:
      editor: object with `start(images) -> state` and
        `edit(images, texts, state) -> {"image", "state", ["attention", "tokens"]}`.

    Example:
    ```python
    generator = EditorGenerator(load_editor("runs/seqattngan"))
    images = generator(batch)           # [B, T, S, S, 3] in [-1, 1]
    figure_input = generator.attention_session(batch, index=0)
    ```
    """

    def __init__(self, editor):
        self.editor = editor
        self.last_attention: np.ndarray | None = None
        self.last_tokens: np.ndarray | None = None

    def __call__(self, batch: Mapping[str, tf.Tensor]) -> tf.Tensor:
        images = tf.convert_to_tensor(batch["images"], tf.float32)
        descriptions = tf.convert_to_tensor(batch["descriptions"])
        current = images[:, 0]
        state = self.editor.start(current)
        outputs, attention, tokens = [], [], []
        for t in range(int(descriptions.shape[1])):
            result = self.editor.edit(current, descriptions[:, t], state)
            current, state = result["image"], result["state"]
            outputs.append(current)
            if "attention" in result:
                attention.append(np.asarray(result["attention"]))
                tokens.append(np.asarray(result["tokens"]))
        self.last_attention = np.stack(attention, axis=1) if attention else None
        self.last_tokens = np.stack(tokens, axis=1) if tokens else None
        return tf.stack(outputs, axis=1)

    def attention_session(self, batch: Mapping[str, tf.Tensor], index: int = 0) -> dict | None:
        """Inputs of `report.attention_figure` for session `index` of `batch` (None if the
        editor returns no attention)."""
        images = np.asarray(self(batch))
        if self.last_attention is None:
            return None
        num_turns = int(np.asarray(batch["num_turns"])[index])
        descriptions = [
            d.decode("utf-8") if isinstance(d, bytes) else str(d)
            for d in np.asarray(batch["descriptions"])[index, :num_turns].tolist()
        ]
        return {
            "images": images[index, :num_turns],
            "attention": self.last_attention[index, :num_turns],
            "tokens": self.last_tokens[index, :num_turns].tolist(),
            "descriptions": descriptions,
        }
