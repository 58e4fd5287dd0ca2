"""evaluate_generators on toy sessions, and the report writer on its output and a fake dict."""

import json
import os

import keras
import numpy as np
import pytest
from scipy import ndimage

from seqgan_tf.evaluation.evaluator import (
    BUILTIN_GENERATORS,
    blurred_truth_generator,
    evaluate_generators,
)
from seqgan_tf.evaluation.report import write_report
from seqgan_tf.evaluation.report_figures import attention_figure
from tests.test_evaluation_classifier import render, tiny_classifier


def _batches(num_batches=2, batch=6, turns=3, seed=0):
    """Toy input-pipeline batches: each turn changes the colour of the square."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_batches):
        ids = np.zeros((batch, turns + 1, 2), np.int32)
        ids[:, 0] = np.stack([rng.integers(0, 3, batch), rng.integers(0, 2, batch)], -1)
        for t in range(turns):
            ids[:, t + 1] = ids[:, t]
            ids[:, t + 1, 0] = (ids[:, t, 0] + 1) % 3
        changed = np.zeros((batch, turns, 2), np.float32)
        changed[..., 0] = 1.0
        num_turns = rng.integers(2, turns + 1, batch).astype(np.int32)
        turn_mask = (np.arange(turns)[None] < num_turns[:, None]).astype(np.float32)
        images = render(ids.reshape(-1, 2)).reshape(batch, turns + 1, 16, 16, 3)
        out.append(
            {
                "images": images,
                "descriptions": np.array([[b"is another colour"] * turns] * batch),
                "turn_mask": turn_mask,
                "attribute_ids": ids,
                "changed_mask": changed,
                "phrase_type_id": np.zeros((batch, turns), np.int32),
                "num_turns": num_turns,
                "session_id": np.array([f"toy-{i}".encode() for i in range(batch)]),
            }
        )
    return out


@pytest.fixture(scope="module")
def trained_classifier():
    from seqgan_tf.evaluation.classifier_training import (
        per_attribute_accuracy,
        train_attribute_classifier,
    )

    rng = np.random.default_rng(1)
    ids = np.stack([rng.integers(0, 3, 300), rng.integers(0, 2, 300)], -1).astype(np.int32)
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    train_attribute_classifier(
        model, render(ids), ids, epochs=12, batch_size=32, learning_rate=5e-3, verbose=0
    )
    # The exact-row assertions below need a classifier that reads the toy renders perfectly.
    assert per_attribute_accuracy(model, render(ids), ids) == {"color": 1.0, "size": 1.0}
    return model


def test_evaluate_builtin_generators(trained_classifier, tmp_path):
    result = evaluate_generators(BUILTIN_GENERATORS, _batches(), trained_classifier, num_examples=3)
    metrics = result["metrics"]
    gt, copy = metrics["models"]["ground_truth"], metrics["models"]["copy_previous"]
    assert gt["image"]["all"]["FID (domain features)"] == pytest.approx(0.0, abs=1e-3)
    assert gt["image"]["all"]["SSIM"] == pytest.approx(1.0, abs=1e-5)
    assert copy["image"]["all"]["SSIM"] < 1.0
    assert copy["image"]["all"]["FID (domain features)"] > 0.0
    assert "IS (domain features)" in gt["image"]["per_turn"]["1"]
    # The classifier reads the toy renders perfectly, so the rows are exact.
    assert gt["edit"]["overall"]["edit_accuracy"] == 1.0
    assert copy["edit"]["overall"]["edit_accuracy"] == 0.0
    assert copy["edit"]["overall"]["preservation"] == 1.0
    assert gt["edit"]["overall"]["num_images"] == metrics["num_images"]
    assert result["examples"]["models"]["copy_previous"].shape == (3, 3, 16, 16, 3)
    # Pixel figures: the truth is always closer than the previous image, copying never is.
    assert gt["pixel"]["all"]["closer_than_previous"] == 1.0
    assert gt["pixel"]["all"]["edit_region_error"] == 0.0
    assert copy["pixel"]["all"]["closer_than_previous"] == 0.0
    assert copy["pixel"]["all"]["edit_region_error"] == pytest.approx(1.0)
    assert copy["pixel"]["per_turn"]["1"]["unchanged_mae"] == 0.0
    # Each edit one pixel soft, the rest copied: in place, its outlines off by a blur.
    blurred = metrics["models"]["blurred_truth"]["pixel"]["all"]
    assert 0.0 < blurred["edit_region_error"] < 0.5
    assert blurred["edge_error"] > blurred["interior_error"]
    assert blurred["unchanged_mae"] == copy["pixel"]["all"]["unchanged_mae"] == 0.0
    assert metrics["unseen_designs"] is None
    assert result["examples"]["descriptions"][0][0] == "is another colour"

    paths = write_report(result, str(tmp_path / "report"))
    for key in ("report", "metrics", "grid"):
        assert os.path.getsize(paths[key]) > 0
    text = open(paths["report"]).read()
    assert "FID (domain features)" in text and "copy_previous" in text
    assert json.load(open(paths["metrics"]))["num_sessions"] == 12


def test_blurred_truth_keeps_what_an_earlier_turn_drew():
    """Turn 1 paints the left half, turn 2 the right half. The row draws each edit one pixel
    soft and, like a served model, keeps its own turn-1 drawing on the left at turn 2."""
    x0 = -np.ones((8, 8, 3), np.float32)
    x1, x2 = x0.copy(), x0.copy()
    x1[:, :4] = 1.0
    x2[:, :4], x2[:, 4:] = 1.0, 0.5
    images = np.stack([x0, x1, x2])[None]
    out = blurred_truth_generator({"images": images})[0]
    soft1, soft2 = (ndimage.gaussian_filter(x, (1.0, 1.0, 0)) for x in (x1, x2))
    np.testing.assert_allclose(out[0][:, :4], soft1[:, :4], atol=1e-6)
    np.testing.assert_array_equal(out[0][:, 4:], x0[:, 4:])
    np.testing.assert_allclose(out[1][:, :4], soft1[:, :4], atol=1e-6)  # not x1, not soft2
    np.testing.assert_allclose(out[1][:, 4:], soft2[:, 4:], atol=1e-6)
    assert np.abs(out[1][:, :4] - x2[:, :4]).max() > 0.1


def test_a_teacher_forced_generator_is_measured_against_the_true_previous_image(
    trained_classifier,
):
    """The "closer than its input" figure compares with the image the turn edited: the model's
    own previous output, or, for a generator marked previous="true", the true x_{t-1}. The
    generator here draws white at turn 1 and returns x_{t-1} unchanged after: against its own white turn 1,
    turn 2 is closer; against the true x_1 it is not."""

    def white_then_true_previous(batch):
        previous = np.asarray(batch["images"][:, :-1])
        return np.concatenate([np.ones_like(previous[:, :1]), previous[:, 1:]], axis=1)

    def teacher_forced(batch):
        return white_then_true_previous(batch)

    teacher_forced.previous = "true"
    generators = {"own": white_then_true_previous, "forced": teacher_forced}
    models = evaluate_generators(generators, _batches(), trained_classifier)["metrics"]["models"]
    own, forced = models["own"]["pixel"]["per_turn"], models["forced"]["pixel"]["per_turn"]
    assert own["2"]["closer_than_input"] == 1.0
    assert forced["2"]["closer_than_input"] == forced["3"]["closer_than_input"] == 0.0
    assert own["2"]["closer_than_previous"] == forced["2"]["closer_than_previous"] == 0.0


def test_unseen_design_turns_are_reported_apart(trained_classifier, tmp_path):
    batches = _batches()
    targets = [
        tuple(int(v) for v in ids)
        for b in batches
        for n in range(len(b["num_turns"]))
        for ids in b["attribute_ids"][n, 1 : 1 + b["num_turns"][n]]
    ]
    seen = set(targets[:5])  # a "training split" holding the designs of the first 5 turns
    result = evaluate_generators(
        BUILTIN_GENERATORS, batches, trained_classifier, train_designs=seen
    )
    metrics = result["metrics"]
    expected = sum(t not in seen for t in targets)
    assert 0 < expected < len(targets)
    assert metrics["unseen_designs"]["num_turns"] == expected
    gt = metrics["models"]["ground_truth"]
    assert gt["pixel"]["unseen_designs"]["num_turns"] == expected
    assert gt["edit"]["unseen_designs"]["num_images"] == expected
    assert gt["edit"]["unseen_designs"]["edit_accuracy"] == 1.0
    assert metrics["models"]["copy_previous"]["edit"]["unseen_designs"]["edit_accuracy"] == 0.0
    text = open(write_report(result, str(tmp_path))["report"]).read()
    assert "never occurs in training" in text and "closer than previous" in text


def test_pixel_figures_are_reported_by_changed_attribute(trained_classifier, tmp_path):
    batches = _batches()
    for b in batches:  # odd sessions edit the size at every turn instead of the colour
        ids = b["attribute_ids"]
        for n in range(1, len(ids), 2):
            for t in range(ids.shape[1] - 1):
                ids[n, t + 1] = ids[n, t]
                ids[n, t + 1, 1] = 1 - ids[n, t, 1]
            b["changed_mask"][n] = [0.0, 1.0]
        b["images"] = render(ids.reshape(-1, 2)).reshape(b["images"].shape)

    def colour_only(batch):
        """Draws the colour edits exactly and leaves the size edits undone."""
        images = np.asarray(batch["images"])
        colour = np.asarray(batch["changed_mask"])[..., 0, None, None, None] > 0.5
        return np.where(colour, images[:, 1:], images[:, :-1])

    result = evaluate_generators({"colour_only": colour_only}, batches, trained_classifier)
    by_attribute = result["metrics"]["models"]["colour_only"]["pixel"]["by_changed_attribute"]
    assert by_attribute["color"]["turn 1"]["edit_region_error"] == 0.0
    assert by_attribute["color"]["turn 1"]["closer_than_previous"] == 1.0
    assert by_attribute["size"]["turn 1"]["edit_region_error"] == pytest.approx(1.0)
    assert by_attribute["size"]["all"]["closer_than_previous"] == 0.0
    assert (
        by_attribute["color"]["turn 1"]["num_turns"]
        == by_attribute["size"]["turn 1"]["num_turns"]
        == 6
    )  # 3 sessions of each kind in each of the 2 batches
    text = open(write_report(result, str(tmp_path))["report"]).read()
    assert "## Pixel figures by changed attribute" in text
    assert "| colour_only | size | 6 | 1.000 | 0.000 |" in text


def test_the_report_says_which_asked_for_value_is_drawn_as_which(trained_classifier, tmp_path):
    """A generator that draws every colour right but the last one, which it draws as the
    first: the report names that colour and what it comes out as."""
    names = trained_classifier.attribute_schema["color"]

    def last_colour_as_first(batch):
        targets = np.asarray(batch["attribute_ids"])[:, 1:].copy()
        targets[..., 0] = np.where(targets[..., 0] == len(names) - 1, 0, targets[..., 0])
        return render(targets.reshape(-1, 2)).reshape(np.asarray(batch["images"])[:, 1:].shape)

    result = evaluate_generators({"swaps": last_colour_as_first}, _batches(), trained_classifier)
    per = result["metrics"]["models"]["swaps"]["edit"]["per_attribute"]["color"]
    per = per["per_asked_value"]
    last = str(len(names) - 1)
    assert per[last]["edit_accuracy"] == 0.0 and list(per[last]["read_instead"]) == ["0"]
    assert per["0"]["edit_accuracy"] == per["1"]["edit_accuracy"] == 1.0
    text = open(write_report(result, str(tmp_path))["report"]).read()
    asked = per[last]["num_asked"]
    assert f"| swaps | color | {names[-1]} | {asked} | 0.000 | {names[0]} 1.00 |" in text


def test_generator_with_wrong_shape_is_rejected(trained_classifier):
    with pytest.raises(ValueError, match="returned shape"):
        evaluate_generators({"bad": lambda batch: batch["images"]}, _batches(1), trained_classifier)


def test_report_from_fake_metrics_and_attention(tmp_path):
    group = {
        "num_images": 4,
        "IS (domain features)": 1.5,
        "FID (domain features)": 2.0,
        "SSIM": 0.5,
    }
    edit_group = {"num_images": 4, "edit_accuracy": 0.5, "preservation": 1.0, "exact_match": None}
    metrics = {
        "feature_sources": ["domain features"],
        "num_sessions": 2,
        "num_images": 4,
        "attribute_names": ["color"],
        "models": {
            "fake": {
                "image": {"all": group, "last_turn": group, "per_turn": {"1": group}},
                "edit": {
                    "overall": edit_group,
                    "last_turn": edit_group,
                    "per_turn": {"1": edit_group},
                    "per_phrase_type": {"single": edit_group},
                    "per_attribute": {"color": {"f1": 0.25}},
                },
            }
        },
    }
    rng = np.random.default_rng(0)
    attention = {
        "images": rng.uniform(-1, 1, (2, 16, 16, 3)),
        "attention": rng.uniform(0, 1, (2, 4, 4, 3)),
        "tokens": [["is", "red", ""], [b"higher", b"heel", b""]],
        "descriptions": ["is red", "higher heel"],
    }
    paths = write_report({"metrics": metrics}, str(tmp_path), attention=attention)
    text = open(paths["report"]).read()
    assert "| fake | 1.500 | 2.000 | 0.500 | 0.500 | 1.000 | – |" in text
    assert os.path.getsize(paths["attention"]) > 0
    assert json.load(open(paths["metrics"]))["models"]["fake"]["edit"]["per_attribute"]
    with pytest.raises(ValueError, match="token lists"):
        attention_figure(attention["images"], attention["attention"], [[]], str(tmp_path / "a.png"))


def test_inception_extractor_needs_a_local_file():
    from seqgan_tf.evaluation.inception_feature_extractor import InceptionFeatureExtractor

    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        InceptionFeatureExtractor("/nonexistent/inception_v3.h5")
