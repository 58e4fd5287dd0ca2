"""Builds a dataset's TFRecord session shards under <data_dir>/<dataset>/<version>/.

Synthetic stand-ins (generated here, deterministic by seed):
  python scripts/build_dataset.py --dataset=synth_zap_seq --data_dir=data --num_sessions=10000 --seed=0
  python scripts/build_dataset.py --dataset=photo_zap_seq --data_dir=data --num_sessions=20000
  python scripts/build_dataset.py --dataset=photo_zap_seq --data_dir=data --retrieved_sessions \
    --version=retrieved-1.0.0   # sessions of different items retrieved as neighbours
The paper's datasets, from a raw folder (layout in tfrecords/build/raw_build.py):
  python scripts/build_dataset.py --dataset=zap_seq --raw_dir=/path/to/raw --data_dir=data
or retrieved from the public source downloads (tfrecords/build/):
  python scripts/build_dataset.py --dataset=zap_seq --source=ut_zap50k --source_dir=/path/to/ut-zap50k
  python scripts/build_dataset.py --dataset=deepfashion_seq --source=deepfashion \
    --source_dir="/path/to/Category and Attribute Prediction Benchmark"

A complete build with the same parameters is reused; --overwrite rebuilds it. A complete build
with different parameters is an error unless --overwrite is given (tfrecords.builders.build of a BuildRequest).
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags

from tfrecords import builders, datasets
from tfrecords.build.request import BuildRequest
from tfrecords.datasets import DATASETS
from tfrecords.shard_writer import dataset_dir

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", None, list(DATASETS), "Dataset to build.")
flags.DEFINE_string("data_dir", "data", "Root directory of the built datasets.")
flags.DEFINE_string(
    "raw_dir", None, "Raw folder (images/, sessions.jsonl) for zap_seq / deepfashion_seq."
)
flags.DEFINE_enum(
    "source",
    None,
    sorted(datasets.SOURCES),
    "Retrieve zap_seq / deepfashion_seq sessions from this public download (--source_dir).",
)
flags.DEFINE_string("source_dir", None, "The --source download's folder.")
flags.DEFINE_string(
    "descriptions_file",
    None,
    "--source builds: human descriptions keyed by (session_id, turn) (.jsonl, .csv or .tsv).",
)
flags.DEFINE_bool(
    "allow_outside_paths",
    False,
    "Raw and source builds: accept image paths that resolve outside the raw/source folder.",
)
flags.DEFINE_integer(
    "num_sessions",
    builders.DEFAULT_NUM_SYNTHETIC_SESSIONS,
    "Sessions to generate (synthetic) or to retrieve (--source).",
)
flags.DEFINE_integer("seed", 0, "Generator and split seed.")
flags.DEFINE_integer("image_size", 64, "Side of the square stored images.")
flags.DEFINE_integer("num_shards", None, "Shards per split (default: one per 256 sessions).")
flags.DEFINE_string("version", "1.0.0", "Dataset version directory.")
flags.DEFINE_bool("strict", False, "Raw builds: fail on the first bad session instead of skipping.")
flags.DEFINE_integer(
    "num_workers", None, "Synthetic builds: generator processes (default: automatic)."
)
flags.DEFINE_bool(
    "retrieved_sessions",
    False,
    "Synthetic builds: sessions of different items retrieved as neighbours (every image its "
    "own item, 1-2 attributes from the previous one, as Zap-Seq was built) instead of one "
    "item edited turn by turn. Give such a build its own --version or --data_dir.",
)
flags.DEFINE_bool("overwrite", False, "Rebuild even if a complete build exists.")
flags.mark_flag_as_required("dataset")


def main(argv: list[str]) -> None:
    del argv
    try:
        info, built = builders.build(
            BuildRequest(
                FLAGS.dataset,
                FLAGS.data_dir,
                raw_dir=FLAGS.raw_dir,
                source=FLAGS.source,
                source_dir=FLAGS.source_dir,
                descriptions_file=FLAGS.descriptions_file,
                num_sessions=FLAGS.num_sessions,
                seed=FLAGS.seed,
                image_size=FLAGS.image_size,
                num_shards=FLAGS.num_shards,
                version=FLAGS.version,
                strict=FLAGS.strict,
                allow_outside_paths=FLAGS.allow_outside_paths,
                retrieved=FLAGS.retrieved_sessions,
                num_workers=FLAGS.num_workers,
                overwrite=FLAGS.overwrite,
            )
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"build_dataset: error: {e}", file=sys.stderr)
        sys.exit(1)
    directory = dataset_dir(FLAGS.data_dir, FLAGS.dataset, FLAGS.version)
    verb = "built" if built else "reused existing complete build (pass --overwrite to rebuild)"
    print(f"{FLAGS.dataset}: {verb} at {os.path.abspath(directory)}")
    print(f"  split sizes: {info['split_sizes']}")
    print(f"  statistics: {json.dumps(info['statistics'])}")
    if info.get("num_skipped"):
        print(f"  skipped sessions: {info['num_skipped']} (see dataset_info.json 'skipped')")
    if info.get("num_source_problems"):
        print(
            f"  bad source input: {info['num_source_problems']} "
            "(see dataset_info.json 'source_problems')"
        )
    if info.get("retrieval", {}).get("shortfall"):
        print(f"  retrieval short by {info['retrieval']['shortfall']} sessions (see 'retrieval')")


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
