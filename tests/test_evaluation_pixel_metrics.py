"""Pixel figures on hand-made images whose values are computed by hand in the comments."""

import numpy as np
import pytest

from seqgan_tf.evaluation.pixel_metrics import pixel_group, pixel_rows


def image(values) -> np.ndarray:
    """A 2x2 grey image from [0, 1] values, as the model sees it ([-1, 1], 3 channels)."""
    grey = np.asarray(values, np.float32).reshape(2, 2, 1)
    return np.repeat(grey, 3, axis=-1) * 2.0 - 1.0


PREVIOUS = image([[0, 0], [0, 0]])
TARGET = image([[1, 0], [0, 0]])  # the edit changes the top-left pixel only


def test_one_partial_edit_by_hand():
    output = image([[0.5, 0], [0, 0.1]])
    rows = pixel_rows(output[None], TARGET[None], PREVIOUS[None])
    group = pixel_group(rows, np.array([True]))
    # MAE(output, target) = (0.5 + 0.1) / 4 = 0.15 < MAE(previous, target) = 1 / 4 = 0.25.
    assert group["mae"] == pytest.approx(0.15)
    assert group["mae_copy"] == pytest.approx(0.25)
    assert group["closer_than_previous"] == 1.0
    # Edited pixel: error 0.5 against 1.0 for not editing.
    assert group["edit_region_error"] == pytest.approx(0.5)
    assert group["edit_region_mae"] == pytest.approx(0.5)
    # Unchanged pixels: 0.1 over 3 pixels; copying the previous image is exact there.
    assert group["unchanged_mae"] == pytest.approx(0.1 / 3)
    assert group["unchanged_mae_copy"] == 0.0


def test_groups_pool_the_sums_and_copying_is_not_closer():
    outputs = np.stack([image([[0.5, 0], [0, 0.1]]), PREVIOUS, TARGET])
    targets = np.stack([TARGET] * 3)
    previous = np.stack([PREVIOUS] * 3)
    rows = pixel_rows(outputs, targets, previous)
    first_two = pixel_group(rows, np.array([True, True, False]))
    # Copying ties with the previous image (0.25 == 0.25): not closer. 1 of 2 turns.
    assert first_two["closer_than_previous"] == 0.5
    # Pooled edit region: (0.5 + 1.0) / (1.0 + 1.0).
    assert first_two["edit_region_error"] == pytest.approx(0.75)
    # Pooled unchanged pixels: (0.1 + 0) / 6.
    assert first_two["unchanged_mae"] == pytest.approx(0.1 / 6)
    perfect = pixel_group(rows, np.array([False, False, True]))
    assert perfect["closer_than_previous"] == 1.0 and perfect["edit_region_error"] == 0.0
    empty = pixel_group(rows, np.zeros(3, bool))
    assert empty["num_turns"] == 0 and empty["closer_than_previous"] is None


def test_closer_than_its_input_uses_the_models_own_input():
    # The model's input was already far off (all 0.6); its output 0.5/0.1 is nearer the truth
    # than that input (MAE 0.15 < (0.4 + 3 * 0.6) / 4 = 0.55) but not than the true previous
    # image would be for a worse output.
    output = image([[0.2, 0.3], [0.3, 0.3]])  # MAE (0.8 + 0.9) / 4 = 0.425 > 0.25
    model_input = image([[0.6, 0.6], [0.6, 0.6]])
    rows = pixel_rows(output[None], TARGET[None], PREVIOUS[None], model_input[None])
    group = pixel_group(rows, np.array([True]))
    assert group["mae"] == pytest.approx(0.425)
    assert group["closer_than_previous"] == 0.0
    assert group["closer_than_input"] == 1.0


def test_small_differences_are_not_edited_pixels():
    noisy_target = image([[1, 0.04], [0, 0]])  # 0.04 <= the 0.05 threshold: not edited
    rows = pixel_rows(noisy_target[None], noisy_target[None], PREVIOUS[None])
    assert rows["changed_pixels"][0] == 1 and rows["unchanged_pixels"][0] == 3
    group = pixel_group(rows, np.array([True]))
    assert group["unchanged_mae_copy"] == pytest.approx(0.04 / 3)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="must share"):
        pixel_rows(TARGET[None], TARGET[None, :1], PREVIOUS[None])


def test_edge_and_interior_of_the_edit_region_by_hand():
    """An 8x8 image whose edit turns a 6x6 square (rows/cols 1-6) white: with a 2-pixel band,
    the edge is the square's outer two rings (36 - 4 = 32 pixels), the interior its 2x2 centre.
    The output gets the centre right and the whole edge half wrong."""

    def grey(values):
        return np.repeat(values[..., None], 3, axis=-1) * 2.0 - 1.0

    previous = np.zeros((8, 8), np.float32)
    target = previous.copy()
    target[1:7, 1:7] = 1.0
    output = target.copy()
    output[1:7, 1:7] = 0.5
    output[3:5, 3:5] = 1.0
    rows = pixel_rows(grey(output)[None], grey(target)[None], grey(previous)[None])
    assert rows["changed_pixels"][0] == 36 and rows["edge_pixels"][0] == 32
    group = pixel_group(rows, np.array([True]))
    assert group["edge_share"] == pytest.approx(32 / 36)
    assert group["edge_error"] == pytest.approx(0.5)
    assert group["interior_error"] == 0.0
    # Pooled: 32 * 0.5 over 36 * 1.
    assert group["edit_region_error"] == pytest.approx(16 / 36)


def test_an_edit_along_the_image_border_has_no_edge_there():
    """The image border is not an unchanged pixel: a full-image edit is all interior."""
    from seqgan_tf.evaluation.pixel_metrics import edge_of

    assert not edge_of(np.ones((1, 6, 6), bool)).any()
    one = np.zeros((1, 6, 6), bool)
    one[0, 2, 2] = True
    np.testing.assert_array_equal(edge_of(one), one)


def test_unchanged_pixels_split_into_untouched_and_carried_by_hand():
    """A second turn: turn 1 turned the top-left pixel white (x_0 -> x_1); turn 2 turns the
    bottom-right one white. At turn 2 the top-left pixel is unchanged but carried (an earlier
    turn edited it); the other two unchanged pixels are untouched since x_0."""
    first = image([[0, 0], [0, 0]])
    previous = image([[1, 0], [0, 0]])
    target = image([[1, 0], [0, 1]])
    # The model drew turn 1's white at 0.7 and kept it; it drifts one untouched pixel by 0.1.
    output = image([[0.7, 0.1], [0, 1]])
    rows = pixel_rows(output[None], target[None], previous[None], first=first[None])
    assert rows["unchanged_pixels"][0] == 3 and rows["untouched_pixels"][0] == 2
    group = pixel_group(rows, np.array([True]))
    assert group["unchanged_mae"] == pytest.approx((0.3 + 0.1) / 3)
    assert group["untouched_mae"] == pytest.approx(0.1 / 2)
    assert group["carried_share"] == pytest.approx(1 / 3)
    assert group["carried_mae"] == pytest.approx(0.3)
    assert group["carried_mae_copy"] == 0.0 and group["untouched_mae_copy"] == 0.0
    # Without x_0 every unchanged pixel counts as untouched and nothing is carried.
    plain = pixel_group(pixel_rows(output[None], target[None], previous[None]), np.array([True]))
    assert plain["untouched_mae"] == pytest.approx(group["unchanged_mae"])
    assert plain["carried_share"] == 0.0 and plain["carried_mae"] is None
