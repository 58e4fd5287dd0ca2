"""Weight files written before the model was split into backbone, unroll and task still load.

Keras 3 `save_weights` keys every variable by the attribute path of its layer (and, for the
optimizers, by its index in the optimizer's variable list), so moving a part under another
attribute, or building the parts in another order, would silently orphan every run snapshot.

The fixture (`data/weights_before_split.npz`) was recorded with `python -m
tests.test_models_weights_layout` from the code before the split (commit 5d9590e): for each tiny
model kind, the dataset paths, shapes and dtypes of its `.weights.h5` (optimizer states included)
and what the model gave after loading a file written at those paths with the values of
`_fixture_values` (outputs, one train step's logs, and the drawings after that step, whose
update read the optimizers' moments).
The test writes that file again, loads it into today's model and compares: the same layout
gives the same figures. A model saved today must also write exactly the recorded paths, so that
its files load into code from before the split too.
"""

from __future__ import annotations

import json
import os
import zlib

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from tests.model_testlib import LOCKED_MODELS, compiled, fake_batch

FIXTURE = os.path.join(os.path.dirname(__file__), "data", "weights_before_split.npz")
LOSS = SeqAttnGANLoss(recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0, classify_weight=1.0)
# Between them the kinds hold every part: the paper's upsampler and attention, both edit
# generators, the latent design, the attribute reader and editor, D's attribute head.
MODELS = {kind: LOCKED_MODELS[kind] for kind in ("paper", "edit_unet", "edit_latent")}
TERMS_ADDED_AFTER_THE_FIXTURE = {"feature_match"}


def _compiled_model(kind: str):
    keras.utils.set_random_seed(4321)
    # A learning rate at which one step's update shows in every weight's projection.
    return compiled(MODELS[kind](), LOSS, lr=1e-2)


def _layout(path: str) -> list[dict]:
    """Every dataset of a .weights.h5 file: path, shape, dtype (and the value of a scalar)."""
    entries = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            entry = {"path": name, "shape": list(obj.shape), "dtype": str(obj.dtype)}
            if not obj.shape:
                entry["value"] = obj[()].item()
            entries.append(entry)

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return entries


def _fixture_values(entry: dict) -> np.ndarray:
    """A value per dataset, drawn from its path: scalars (the optimizers' step and learning
    rate) as recorded, optimizer moments >= 0, weights N(0, 0.1)."""
    if not entry["shape"]:
        return np.asarray(entry["value"], dtype=entry["dtype"])
    rng = np.random.default_rng(zlib.crc32(entry["path"].encode()))
    values = rng.normal(0.0, 0.1, entry["shape"])
    if "optimizer" in entry["path"]:
        values = np.abs(values)
    return values.astype(entry["dtype"])


def _write(layout: list[dict], path: str) -> None:
    with h5py.File(path, "w") as f:
        for entry in layout:
            f.create_dataset(entry["path"], data=_fixture_values(entry))


def _observe(model) -> dict[str, np.ndarray]:
    """What a loaded model gives: teacher-forced drawings, a session, an edit, a train step and
    the drawings after it."""
    batch = fake_batch(2, seed=11, turns=[2, 3])
    prepared = model.preprocessor(batch)
    first = batch["images"][:, 0]
    edited = model.edit(first, batch["descriptions"][:, 0], model.start(first))
    seen = {
        "teacher_forced": model.training_outputs(prepared, step=None, training=False)["fake"],
        "session": model.generate_session(batch)["images"],
        "edit_image": edited["image"],
        "edit_state": edited["state"],
    }
    logs = model.train_step(prepared)
    # The logs the fixture was recorded with (terms added since are locked by
    # test_models_behaviour_lock), in name order.
    recorded_logs = sorted(set(logs) - TERMS_ADDED_AFTER_THE_FIXTURE)
    seen["train_step"] = tf.concat([logs[name] for name in recorded_logs], 0)
    # The step's update reads the optimizers' loaded moments, variable by variable: a random
    # projection of each weight after it tells whether every variable got its own moments.
    seen["after_step"] = model.training_outputs(prepared, step=None, training=False)["fake"]
    seen["after_step_weights"] = [
        np.sum(np.ravel(w) * np.random.default_rng(i).normal(size=np.size(w)))
        for i, w in enumerate(model.get_weights())
    ]
    return {name: np.asarray(value) for name, value in seen.items()}


@pytest.fixture(scope="module")
def recorded():
    with np.load(FIXTURE) as data:
        return {name: data[name] for name in data.files}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_weight_files_from_before_the_split_load_and_give_the_same_outputs(
    kind, recorded, tmp_path
):
    layout = json.loads(str(recorded[f"{kind}/layout"]))
    path = str(tmp_path / "before_split.weights.h5")
    _write(layout, path)
    model = _compiled_model(kind)
    model.load_weights(path)
    seen = _observe(model)
    for name, value in seen.items():
        expected = recorded[f"{kind}/{name}"]
        assert np.all(np.isfinite(expected)), name
        np.testing.assert_allclose(value, expected, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_model_saves_the_layout_it_had_before_the_split(kind, recorded, tmp_path):
    path = str(tmp_path / "now.weights.h5")
    _compiled_model(kind).save_weights(path)
    now = [{k: e[k] for k in ("path", "shape", "dtype")} for e in _layout(path)]
    before = json.loads(str(recorded[f"{kind}/layout"]))
    assert now == [{k: e[k] for k in ("path", "shape", "dtype")} for e in before]


def _record() -> dict[str, np.ndarray]:
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in sorted(MODELS):
            model = _compiled_model(kind)
            genuine = os.path.join(tmp, f"{kind}.weights.h5")
            model.save_weights(genuine)
            layout = _layout(genuine)
            generated = os.path.join(tmp, f"{kind}.generated.weights.h5")
            _write(layout, generated)
            model = _compiled_model(kind)
            model.load_weights(generated)
            out[f"{kind}/layout"] = np.asarray(json.dumps(layout))
            for name, value in _observe(model).items():
                out[f"{kind}/{name}"] = value
    return out


if __name__ == "__main__":
    os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
    np.savez_compressed(FIXTURE, **_record())
    print(FIXTURE, os.path.getsize(FIXTURE), "bytes")
