"""An attribute classifier on disk: `<dir>/attribute_classifier.keras` and its schema JSON.

Loading knows every classifier class (the plain CNN and the judge, its residual subclass), so
a caller that only loads needs no import of its own to register the judge's class with Keras.
"""

from __future__ import annotations

import json
import os

import keras

from common.atomic_files import save_model_atomically, write_json_atomically
from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier
from seqgan_tf.evaluation.residual_attribute_classifier import (  # noqa: F401 (registers it)
    ResidualAttributeClassifier,
)

MODEL_FILENAME = "attribute_classifier.keras"
SCHEMA_FILENAME = "attribute_schema.json"


def save_attribute_classifier(model: AttributeClassifier, out_dir: str) -> str:
    """Saves `model` as `<out_dir>/attribute_classifier.keras` plus its schema JSON.

    Returns:
      The path of the .keras file.
    """
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, MODEL_FILENAME)
    save_model_atomically(model, path)
    write_json_atomically(os.path.join(out_dir, SCHEMA_FILENAME), model.attribute_schema)
    return path


def load_attribute_classifier(run_dir: str) -> AttributeClassifier:
    """Loads a classifier saved by `save_attribute_classifier`.

    Args:
      run_dir: folder holding attribute_classifier.keras and attribute_schema.json.

    Returns:
      The AttributeClassifier.

    Raises:
      FileNotFoundError: if the model file is missing.
      ValueError: if the saved schema JSON disagrees with the model's schema.
    """
    path = os.path.join(run_dir, MODEL_FILENAME)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no attribute classifier at {path}; train one with scripts/train_attribute_classifier.py"
        )
    model = keras.models.load_model(path)
    schema_path = os.path.join(run_dir, SCHEMA_FILENAME)
    if os.path.exists(schema_path):
        with open(schema_path) as f:
            schema = json.load(f)
        if schema != model.attribute_schema:
            raise ValueError(f"{schema_path} does not match the schema stored in {path}")
    return model
