"""Builds with the real synthetic generator (tfrecords.synthetic), read back through the pipeline."""

import numpy as np
import pytest

from seqgan_tf.data.input_pipeline import load_dataset_info, make_dataset
from tfrecords.design_holdout import HOLDOUT_RULE
from tfrecords.session import PHRASE_TYPES
from tfrecords.split_rule import SPLIT_RULE
from tfrecords.synthetic import attribute_schema, generate_sessions, generator_version
from tfrecords.synthetic_builder import build_synthetic

NUM_SESSIONS = 8
SIZE = 32


@pytest.mark.parametrize(
    "dataset", ["synth_zap_seq", "synth_deepfashion_seq", "photo_zap_seq", "photo_deepfashion_seq"]
)
def test_generator_build_reads_back_through_the_pipeline(tmp_path, dataset):
    info = build_synthetic(
        dataset, str(tmp_path), NUM_SESSIONS, seed=2, num_shards=1, image_size=SIZE
    )
    schema = attribute_schema(dataset)
    assert info["generator"] == {
        "module": "tfrecords.synthetic",
        "version": generator_version(dataset),
        "seed": 2,
    }
    # The held-out design rule beside the split rule, and in the fingerprint.
    assert info["build_params"]["split_rule"] == SPLIT_RULE
    assert info["build_params"]["design_holdout"] == HOLDOUT_RULE
    assert info["fingerprint"]["design_holdout"] == HOLDOUT_RULE
    assert load_dataset_info(str(tmp_path), dataset)["attribute_schema"] == {
        k: list(v) for k, v in schema.items()
    }
    expected = {
        s.session_id: s for s in generate_sessions(dataset, NUM_SESSIONS, 2, image_size=SIZE)
    }
    names = list(schema)
    seen = 0
    for split in ("train", "val", "test"):
        ds = make_dataset(str(tmp_path), dataset, split, 4, is_training=False, image_size=SIZE)
        for batch in ds.as_numpy_iterator():
            for b, session_id in enumerate(batch["session_id"]):
                s = expected[session_id.decode()]
                t = min(s.num_turns, 4)
                seen += 1
                pixels = np.round((batch["images"][b, : t + 1] + 1) * 127.5).astype(np.uint8)
                np.testing.assert_array_equal(pixels, np.stack(s.images[: t + 1]))
                assert [d.decode() for d in batch["descriptions"][b, :t]] == s.descriptions[:t]
                for turn in range(t):
                    values = [a.split("=", 1)[1].replace("_", " ") for a in s.attributes[turn]]
                    assert batch["prev_attribute_text"][b, turn].decode() == " ".join(values)
                    changed = [names.index(n) for n in s.changed_attributes[turn]]
                    assert sorted(np.flatnonzero(batch["changed_mask"][b, turn])) == sorted(changed)
                    assert batch["phrase_type_id"][b, turn] == PHRASE_TYPES.index(
                        s.phrase_types[turn]
                    )
                ids = batch["attribute_ids"][b, : t + 1]
                assert (ids >= 0).all()
                for turn in range(t + 1):
                    values = [
                        list(schema[n]).index(a.split("=", 1)[1])
                        for n, a in zip(names, s.attributes[turn])
                    ]
                    np.testing.assert_array_equal(ids[turn], values)
    assert seen == NUM_SESSIONS
