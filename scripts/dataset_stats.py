"""Table-1 statistics and sample sheets of the session datasets.

    python -m scripts.dataset_stats --datasets=synth_zap_seq,synth_deepfashion_seq \
        --num_sessions=2000 --seed=0 --out_dir=docs/data
    python -m scripts.dataset_stats --datasets=photo_zap_seq,photo_deepfashion_seq \
        --num_sessions=2000 --seed=0 --out_dir=docs/data        # the photographic sets
    python -m scripts.dataset_stats --datasets=zap_seq --data_dir=data   # a build's shards

Synthetic sets are generated on the fly; with --data_dir the sessions are read from a complete
build (every split), e.g. one made from the UT-Zap50K or DeepFashion download.
"""

from __future__ import annotations

import itertools
import os

from absl import app, flags
from tqdm import tqdm

from tfrecords.datasets import DATASETS, SYNTHETIC_DATASETS
from tfrecords.sample_sheet import write_sample_sheet
from tfrecords.statistics import compute_statistics, format_table
from tfrecords.synthetic import generate_sessions

FLAGS = flags.FLAGS
flags.DEFINE_list(
    "datasets",
    list(SYNTHETIC_DATASETS),
    f"Datasets to describe, some of {', '.join(DATASETS)} (the real ones need --data_dir).",
)
flags.register_validator(
    "datasets",
    lambda names: set(names) <= set(DATASETS),
    f"--datasets: expected some of {', '.join(DATASETS)}",
)
flags.DEFINE_integer("num_sessions", 2000, "Sessions per dataset for the statistics.")
flags.DEFINE_integer("seed", 0, "Dataset seed.")
flags.DEFINE_integer("image_size", 64, "Image side in pixels.")
flags.DEFINE_integer("sheet_sessions", 8, "Sessions drawn on each sample sheet.")
flags.DEFINE_string("out_dir", "docs/data", "Where <name>_samples.png are written.")
flags.DEFINE_string("data_dir", None, "Read the sessions of a complete build under this folder.")


def _built_sessions(data_dir: str, name: str):
    """Every session of the newest complete build of `name` (all splits, shard order)."""
    import tensorflow as tf

    from tfrecords.dataset_info import find_build, read_info
    from tfrecords.session_format import example_to_session

    directory = find_build(data_dir, name)
    if directory is None:
        raise app.UsageError(f"no complete build of {name!r} under {data_dir!r}")
    info = read_info(directory)
    files = [
        os.path.join(directory, f) for split in info["splits"].values() for f in split["files"]
    ]
    for record in tf.data.TFRecordDataset(files).as_numpy_iterator():
        yield example_to_session(record)


def main(argv):
    del argv
    unknown = [d for d in FLAGS.datasets if d not in SYNTHETIC_DATASETS]
    if FLAGS.data_dir:
        stats = {}
        for name in FLAGS.datasets:
            stats[name] = compute_statistics(tqdm(_built_sessions(FLAGS.data_dir, name), desc=name))
            sheet = itertools.islice(_built_sessions(FLAGS.data_dir, name), FLAGS.sheet_sessions)
            path = write_sample_sheet(
                sheet, os.path.join(FLAGS.out_dir, f"{name}_samples.png"), FLAGS.sheet_sessions
            )
            print(f"wrote {path} ({os.path.getsize(path) // 1024} KB)")
        print(format_table(stats))
        return
    if unknown:
        raise app.UsageError(f"unknown datasets {unknown}; expected some of {SYNTHETIC_DATASETS}")
    stats = {}
    for name in FLAGS.datasets:
        sessions = generate_sessions(name, FLAGS.num_sessions, FLAGS.seed, FLAGS.image_size)
        stats[name] = compute_statistics(tqdm(sessions, total=FLAGS.num_sessions, desc=name))
        sheet = generate_sessions(name, FLAGS.sheet_sessions, FLAGS.seed, FLAGS.image_size)
        path = write_sample_sheet(
            sheet, os.path.join(FLAGS.out_dir, f"{name}_samples.png"), FLAGS.sheet_sessions
        )
        print(f"wrote {path} ({os.path.getsize(path) // 1024} KB)")
    print(format_table(stats))
    for name, s in stats.items():
        print(f"{name}: images={s['images']} phrase types={s['phrase_types']}")


def run():
    app.run(main)


if __name__ == "__main__":
    run()
