"""What the model understood: the `design` output named by the export's attribute schema.

A model with attribute slots returns, with every edit, the design its state now holds
(`design` output: value probabilities per attribute). Its names come from the export's
attribute schema (`assets/attribute_schema.json`), read once per model version through the
export's `attribute_schema` signature and cached per server, model and version (`SCHEMAS`).
"""

from __future__ import annotations

import json
import threading

import grpc
import numpy as np

from serving import contract
from serving.rpc import ServingClientError, predict


def attribute_schema(
    channel: grpc.Channel, model_name: str, version: int, timeout_s: float = 10.0
) -> dict[str, list[str]]:
    """Reads one model version's attribute schema (its `attribute_schema` signature).

    Args:
        channel: gRPC channel to the server.
        model_name: model name.
        version: the version whose schema is wanted (the one that answered an edit).
        timeout_s: deadline of the call.

    Returns:
        Attribute name -> value names, in the order of the `design` output's segments.

    Raises:
        ServingClientError: the call failed (NOT_FOUND: the version has no such signature,
            or is not loaded any more); also when the answer is not a schema.
    """
    outputs, _ = predict(
        channel, model_name, contract.SCHEMA_SIGNATURE, {}, timeout_s, version=version
    )
    try:
        schema = json.loads(outputs[contract.SCHEMA_OUTPUT].item().decode("utf-8"))
        if not isinstance(schema, dict) or not all(
            isinstance(values, list) and all(isinstance(v, str) for v in values)
            for values in schema.values()
        ):
            raise ValueError("not an object of attribute -> list of value names")
    except (KeyError, ValueError, AttributeError) as error:
        raise ServingClientError(
            "Predict",
            grpc.StatusCode.DATA_LOSS,
            f"version {version} of {model_name!r} answered no attribute schema ({error})",
        ) from None
    return schema


def design_by_attribute(
    design: np.ndarray, schema: dict[str, list[str]]
) -> dict[str, list[tuple[str, float]]]:
    """Names a `design` vector: attribute -> [(value, probability)], most probable first.

    Args:
        design: float [sum of attribute sizes], one segment per attribute in schema order.
        schema: attribute name -> value names (see `attribute_schema`).

    Returns:
        Attribute -> list of (value, probability), sorted by probability, descending (ties
        in schema order).

    Raises:
        ValueError: the design's width is not the schema's.

    Example:
        >>> design_by_attribute(np.array([0.1, 0.9, 1.0, 0.0]),
        ...                     {"colour": ["red", "blue"], "heel": ["flat", "high"]})
        {'colour': [('blue', 0.9), ('red', 0.1)], 'heel': [('flat', 1.0), ('high', 0.0)]}
    """
    design = np.asarray(design, np.float64).reshape(-1)
    width = sum(len(values) for values in schema.values())
    if design.size != width:
        raise ValueError(f"design has {design.size} values, the attribute schema {width}")
    result, start = {}, 0
    for name, values in schema.items():
        probabilities = [float(p) for p in design[start : start + len(values)]]
        start += len(values)
        pairs = list(zip(values, probabilities, strict=True))
        result[name] = sorted(pairs, key=lambda pair: -pair[1])
    return result


def format_design(design: dict[str, list[tuple[str, float]]] | None) -> str:
    """One line saying what the model understood: each attribute's most probable value.

    Example:
        >>> format_design({"colour": [("red", 0.97), ("blue", 0.03)], "heel": [("high", 0.88)]})
        'colour: red 0.97, heel: high 0.88'
    """
    if not design:
        return ""
    return ", ".join(
        f"{name}: {pairs[0][0]} {pairs[0][1]:.2f}" for name, pairs in design.items() if pairs
    )


class _SchemaCache:
    """Attribute schemas read so far, per (server, model, version): read once per version."""

    def __init__(self, max_entries: int = 256):
        self._lock = threading.Lock()
        self._schemas: dict[tuple[str, str, int], dict[str, list[str]]] = {}
        self.max_entries = max_entries
        self.reads = 0  # calls made (for tests)

    def get(
        self, channel: grpc.Channel, target: str, model_name: str, version: int, timeout_s: float
    ) -> dict[str, list[str]]:
        key = (target, model_name, version)
        with self._lock:
            if key in self._schemas:
                return self._schemas[key]
        schema = attribute_schema(channel, model_name, version, timeout_s)
        with self._lock:
            self.reads += 1
            if len(self._schemas) >= self.max_entries:
                self._schemas.pop(next(iter(self._schemas)))
            self._schemas[key] = schema
        return schema


SCHEMAS = _SchemaCache()
