"""How much of a set's edits one colour transform per image could draw (an oracle on the truth).

    python scripts/colour_transform_oracle.py --dataset=photo_zap_seq --data_dir=data

For the turn-1 edits of a split that change only --attribute (colour by default), each edit is
redrawn as the best single colour transform of x_{t-1} over its edited pixels (fitted on x_t:
seqgan_tf/evaluation/colour_transform_oracle.py) and the edit-region error is pooled as in
`evaluate.py`. No model is involved; it reads the validation split by default, so it says
something about the data, not about a test slice.
"""

from __future__ import annotations

import sys

import numpy as np
from absl import app, flags
from tqdm import tqdm

from tfrecords.datasets import DATASETS, DEFAULT_DATASET

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", DEFAULT_DATASET, list(DATASETS), "Dataset name.")
flags.DEFINE_string("data_dir", "data", "Root of the built shards.")
flags.DEFINE_string("split", "val", "Split to read.")
flags.DEFINE_string("attribute", "colour", "The attribute whose lone turn-1 edits are fitted.")


def main(argv):
    del argv
    from seqgan_tf.data.input_pipeline import load_dataset_info, make_dataset
    from seqgan_tf.evaluation.colour_transform_oracle import KINDS, oracle_errors

    names = list(load_dataset_info(FLAGS.data_dir, FLAGS.dataset)["attribute_schema"])
    if FLAGS.attribute not in names:
        raise app.UsageError(f"--attribute={FLAGS.attribute!r} is not one of {names}")
    a = names.index(FLAGS.attribute)
    sums = {kind: np.zeros(2) for kind in KINDS}
    turns = 0
    dataset = make_dataset(FLAGS.data_dir, FLAGS.dataset, FLAGS.split, 50, is_training=False)
    for batch in tqdm(dataset, desc=FLAGS.split, unit="batch"):
        images = (batch["images"].numpy() + 1.0) / 2.0
        changed = batch["changed_mask"].numpy()[:, 0] > 0.5
        valid = batch["turn_mask"].numpy()[:, 0] > 0.5
        for n in np.nonzero(valid & changed[:, a] & (changed.sum(axis=-1) == 1))[0]:
            for kind, pair in oracle_errors(images[n, 0], images[n, 1]).items():
                sums[kind] += pair
            turns += 1
    print(
        f"{FLAGS.dataset} ({FLAGS.split}): {turns} turn-1 edits that change only {FLAGS.attribute}"
    )
    for kind in KINDS:
        error, previous_error = sums[kind]
        ratio = error / previous_error if previous_error else float("nan")
        print(f"  one {kind} transform over the edited pixels: edit-region error {ratio:.3f}")
    print("command: python " + " ".join(sys.argv))


def run():
    app.run(main)


if __name__ == "__main__":
    run()
