"""The step FLOP counter: every forward and backward product of a train step, at runtime shapes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import step_flops


def test_a_conv_and_a_dense_step_count_forward_and_both_backward_products():
    conv = keras.layers.Conv2D(4, 3, padding="same")
    dense = keras.layers.Dense(5)
    conv.build((None, 8, 8, 3))
    dense.build((None, 256))
    optimizer = keras.optimizers.SGD(0.1)
    variables = conv.trainable_variables + dense.trainable_variables
    optimizer.build(variables)

    def step(images):
        with tf.GradientTape() as tape:
            features = conv(images)
            # The batch is only known at run time, as the real turns are in the model's step.
            features = tf.boolean_mask(features, tf.reduce_sum(images, [1, 2, 3]) > -1e9)
            loss = tf.reduce_mean(dense(tf.reshape(features, [-1, 256])))
        optimizer.apply(tape.gradient(loss, variables), variables)

    images = tf.random.normal([2, 8, 8, 3])
    counted = step_flops.count_step_flops(step, images)
    conv_flops = 2 * 2 * 8 * 8 * 4 * (3 * 3 * 3)
    dense_flops = 2 * 2 * 256 * 5
    assert counted.by_type["Conv2D"] == conv_flops
    assert counted.by_type["Conv2DBackpropFilter"] == conv_flops
    assert "Conv2DBackpropInput" not in counted.by_type  # the images need no gradient
    assert counted.by_type["MatMul"] == 3 * dense_flops  # forward, d/dx, d/dW
    assert counted.total == 2 * conv_flops + 3 * dense_flops


@pytest.mark.parametrize(
    "op_type, attrs, operands, out, expected",
    [
        (
            "Conv2DBackpropInput",
            {},
            [[4], [3, 3, 2, 8], [1, 5, 5, 8]],
            [1, 5, 5, 2],
            2 * 25 * 8 * 18,
        ),
        ("MatMul", {"transpose_a": True}, [[7, 3], [7, 4]], [3, 4], 2 * 3 * 4 * 7),
        ("BatchMatMulV2", {"adj_x": False}, [[6, 2, 3], [6, 3, 5]], [6, 2, 5], 2 * 6 * 2 * 5 * 3),
        (
            "Einsum",
            {"equation": "bij,bjk->bik"},
            [[6, 2, 3], [6, 3, 5]],
            [6, 2, 5],
            2 * 6 * 2 * 3 * 5,
        ),
        ("Einsum", {"equation": "ij->ji"}, [[2, 3]], [3, 2], 0),
        ("DepthwiseConv2dNative", {}, [[1, 4, 4, 3], [3, 3, 3, 1]], [1, 4, 4, 3], 2 * 48 * 9),
    ],
)
def test_each_rule_is_two_flops_per_multiply_add(op_type, attrs, operands, out, expected):
    assert step_flops.op_flops(op_type, attrs, operands, out) == expected


def test_an_op_without_a_rule_is_refused():
    with pytest.raises(ValueError, match="no FLOP rule for Conv3D"):
        step_flops.op_flops("Conv3D", {}, [], [1])


def test_the_counted_step_really_trains():
    variable = tf.Variable(np.ones((3, 3), np.float32))

    def step(x):
        variable.assign_sub(tf.matmul(x, variable) * 0.1)

    step_flops.count_step_flops(step, tf.ones((3, 3)))
    assert float(variable[0, 0]) == pytest.approx(1.0 - 0.3)


def test_the_benchmark_batch_has_the_asked_real_turns():
    from benchmarks import training

    mask = training.turn_mask(6, 4, [4, 3, 2, 3])
    assert mask.sum(axis=1).tolist() == [4, 3, 2, 3, 4, 3]
    assert training.turn_mask(2, 4, []).sum() == 8
    with pytest.raises(ValueError, match="5 is not in 1..4"):
        training.turn_mask(2, 4, [5])


def test_the_training_benchmark_reports_the_flops_of_the_step_it_timed():
    from benchmarks import training

    # Under mixed_bfloat16, as --precisions=mixed_bfloat16 times it (the DAMSM stays float32).
    row = training.time_config(
        "tiny_edit", False, 1, 1, True, [1, 2], count_flops=True, precision="mixed_bfloat16"
    )
    assert row["precision"] == "mixed_bfloat16" and row["bf16_layers"] > 0
    assert row["turns"] == 6  # batch 4: sessions of 1, 2, 1, 2 real turns
    assert row["gflop_per_step"] > 0 and row["s_per_step"] > 0
    assert row["gflop_by_type"]["Conv2DBackpropFilter"] > 0


def test_the_training_benchmark_refuses_an_unknown_precision():
    from benchmarks import training

    training.check_precisions(["float32", "mixed_bfloat16"])
    with pytest.raises(ValueError, match="--precisions takes .* got 'bfloat16'"):
        training.check_precisions(["float32", "bfloat16"])
