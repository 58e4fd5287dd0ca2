"""FLOPs of one train step, counted from the ops that ran, at the shapes they ran with.

TensorFlow's own counter (tfprof's flops registry) reads static shapes, and the step's shapes
are not static: the real turns of a batch are gathered before the generator runs, so most of
the step has a batch dimension of "however many turns were real". So the step is traced once
more, inside one tf.function, with every multiply-accumulate op of its graph also returning its
operands' runtime shapes; the FLOPs are then counted from those shapes (2 per multiply-add):

    Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, DepthwiseConv2dNative,
    MatMul, BatchMatMul(V2/V3), Einsum (two operands)

These are the forward and both backward passes of every convolution and dense/attention
product. Not counted: element-wise ops, reductions and the optimizer updates (each a few FLOPs
per element, small beside the convolutions), and ops inside nested functions and loops (the
BiLSTM text encoders' while loops; by their sizes, an estimate not a count, some 0.1 GFLOP
of the quick step's 64).
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

COUNTED = (
    "Conv2D",
    "Conv2DBackpropInput",
    "Conv2DBackpropFilter",
    "DepthwiseConv2dNative",
    "MatMul",
    "BatchMatMul",
    "BatchMatMulV2",
    "BatchMatMulV3",
    "Einsum",
)
NESTED = ("While", "StatelessWhile", "PartitionedCall", "StatefulPartitionedCall")


@dataclasses.dataclass
class StepFlops:
    """The counted FLOPs of one step.

    Attributes:
      total: FLOPs of the counted ops.
      by_type: FLOPs per op type (e.g. Conv2DBackpropFilter).
      nested_calls: how many nested functions and loops were not looked into.
    """

    total: float
    by_type: dict
    nested_calls: int


def _einsum_flops(equation: str, shapes: list) -> float:
    inputs = equation.replace(" ", "").split("->")[0].split(",")
    if len(inputs) != 2 or "." in equation:
        return 0.0  # one operand (a transpose or a sum), or an ellipsis: not a product
    sizes = {}
    for labels, shape in zip(inputs, shapes):
        for label, size in zip(labels, shape):
            sizes[label] = int(size)
    return 2.0 * float(np.prod([float(s) for s in sizes.values()]))


def op_flops(op_type: str, attrs: dict, in_shapes: list, out_shape) -> float:
    """FLOPs of one op from its operands' and output's shapes (lists of ints)."""
    out = [float(s) for s in out_shape]
    if op_type == "Conv2D":
        kh, kw, ci, _ = in_shapes[1]
        return 2.0 * np.prod(out) * kh * kw * ci
    if op_type == "DepthwiseConv2dNative":
        kh, kw, _, _ = in_shapes[1]
        return 2.0 * np.prod(out) * kh * kw
    if op_type == "Conv2DBackpropInput":  # (input_sizes, filter, out_backprop)
        kh, kw, ci, _ = in_shapes[1]
        return 2.0 * np.prod([float(s) for s in in_shapes[2]]) * kh * kw * ci
    if op_type == "Conv2DBackpropFilter":  # (input, filter_sizes, out_backprop) -> filter
        kh, kw, ci, _ = out
        return 2.0 * np.prod([float(s) for s in in_shapes[2]]) * kh * kw * ci
    if op_type == "MatMul":
        a = in_shapes[0]
        k = a[0] if attrs.get("transpose_a") else a[1]
        return 2.0 * np.prod(out) * k
    if op_type.startswith("BatchMatMul"):
        a = in_shapes[0]
        k = a[-2] if attrs.get("adj_x") else a[-1]
        return 2.0 * np.prod(out) * k
    if op_type == "Einsum":
        return _einsum_flops(attrs["equation"], in_shapes)
    raise ValueError(f"no FLOP rule for {op_type}")


def _attrs(op) -> dict:
    names = {"MatMul": ("transpose_a",), "Einsum": ("equation",)}.get(op.type, ())
    if op.type.startswith("BatchMatMul"):
        names = ("adj_x",)
    out = {}
    for name in names:
        value = op.get_attr(name)
        out[name] = value.decode() if isinstance(value, bytes) else value
    return out


def count_step_flops(step_fn, *args) -> StepFlops:
    """Runs `step_fn(*args)` once (it trains: the caller's model takes one step) and counts the
    FLOPs of the multiply-accumulate ops it runs, at their runtime shapes."""
    import tensorflow as tf

    found = []

    @tf.function
    def step_and_shapes(*inner):
        outputs = step_fn(*inner)
        graph = tf.compat.v1.get_default_graph()
        live = _live_ops(graph, tf.nest.flatten(outputs))
        shapes, nested = [], 0
        for op in graph.get_operations():
            if op.name not in live:
                continue
            if op.type in NESTED:
                nested += 1
            if op.type not in COUNTED:
                continue
            operands = [tf.shape(t, out_type=tf.int64) for t in op.inputs]
            shapes.append((operands, tf.shape(op.outputs[0], out_type=tf.int64)))
            found.append((op.type, _attrs(op)))
        found.append(nested)
        return shapes

    shapes = step_and_shapes(*args)
    nested = found.pop()
    by_type = collections.Counter()
    for (op_type, attrs), (operands, out) in zip(found, shapes):
        by_type[op_type] += op_flops(
            op_type, attrs, [list(s.numpy()) for s in operands], list(out.numpy())
        )
    return StepFlops(float(sum(by_type.values())), dict(by_type), nested)


def _live_ops(graph, outputs) -> set:
    """Names of the ops a call of the function runs: what its stateful ops (variable updates,
    random draws: a function runs them all) and its outputs depend on. The gradient tape also
    builds products nobody reads (a convolution's input gradient where the input is data);
    the runtime prunes them, and so does this count."""
    todo = [op for op in graph.get_operations() if op.op_def is not None and op.op_def.is_stateful]
    todo += [t.op for t in outputs if hasattr(t, "op")]
    live = set()
    while todo:
        op = todo.pop()
        if op.name in live:
            continue
        live.add(op.name)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
    return live
