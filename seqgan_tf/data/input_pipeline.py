"""The tf.data input pipeline: session shards -> padded, augmented, batched sessions.

Files -> (shard per input context) -> interleaved TFRecord reads -> shuffle (training) ->
parse + decode + augment (parallel) -> pad to `max_turns` -> batch -> prefetch.

Each batch is a dict (B = per-replica batch, T = max_turns, S = image_size, A = number of
schema attributes, 0 when the dataset has no schema):

    images               float32 [B, T+1, S, S, 3] in [-1, 1]; padded images are zeros
    descriptions         string  [B, T]       "" for padded turns
    prev_attribute_text  string  [B, T]       values of image t's attributes joined by " ", with
                                              "_" inside values read as " " ("slip_on" -> "slip on");
                                              DAMSM text = prev_attribute_text + " " + description
    turn_mask            float32 [B, T]       1.0 real turn, 0.0 padding
    attribute_ids        int32   [B, T+1, A]  value index per attribute; -1 unknown / padding
    changed_mask         float32 [B, T, A]    1.0 where turn t changed attribute a
    phrase_type_id       int32   [B, T]       index into tfrecords.session.PHRASE_TYPES; -1
    num_turns            int32   [B]          real turns (after truncation)
    session_id           string  [B]

Sessions with more than `max_turns` turns are truncated to their first `max_turns` turns (and
first max_turns + 1 images); `num_turns` reports the truncated count.

Training augmentation applies the same transform to every image of a session (the turns must
stay aligned): the images are padded by S/16 on each side (mirroring the border, so a product's
background continues), one random S x S crop is taken from the stacked [T+1, ...] tensor, and
one coin decides a horizontal flip for the whole session (the paper's "flips + crops"). Nothing
is resampled: training sees pixels at the scale evaluation sees them. Evaluation resizes to S
(no-op when the shards are stored at S).

Example:
    ds = make_dataset("data", "synth_zap_seq", "train", global_batch_size=50, is_training=True)
    batch = next(iter(ds))
"""

from __future__ import annotations

import functools
import os
from typing import Any

import tensorflow as tf

from tfrecords.build_marker import interrupted_build_note
from tfrecords.builders import build_command
from tfrecords.dataset_info import SPLITS, find_build, read_info
from tfrecords.datasets import DATASETS, SYNTHETIC_DATASETS, synthetic_standin
from tfrecords.session import PHRASE_TYPES
from tfrecords.session_format import NUM_TURNS_KEY, SESSION_ID_KEY, parse_session
from tfrecords.split_rule import TEST_SLICES, slice_of

CROP_PADDING_DIVISOR = 16  # Pad S/16 per side, then crop S x S (the paper's "flips + crops").
DEFAULT_SHUFFLE_BUFFER = 1000
SPLIT_ALIASES = {"validation": "val", "valid": "val", "eval": "val"}


def missing_build_message(data_dir: str, dataset: str) -> str:
    """The error text for a dataset without a complete build, with the commands that build it."""
    lines = [f"no complete build of {dataset!r} under data_dir={data_dir!r}"]
    interrupted = interrupted_build_note(data_dir, dataset)
    if interrupted:
        lines.append(interrupted)
    if dataset in SYNTHETIC_DATASETS:
        if not interrupted:
            lines.append(f"build it with:\n  {build_command(dataset, data_dir)}")
    else:
        standin = synthetic_standin(dataset)
        lines.append(f"build it from its raw folder with:\n  {build_command(dataset, data_dir)}")
        lines.append(
            f"or use the synthetic stand-in {standin} (--dataset={standin}), built with:\n"
            f"  {build_command(standin, data_dir)}"
        )
    return "\n".join(lines)


def load_dataset_info(data_dir: str, dataset: str, version: str | None = None) -> dict[str, Any]:
    """Reads the dataset_info.json of a complete build.

    Args:
      data_dir: root data directory.
      dataset: dataset name, e.g. "synth_zap_seq".
      version: dataset version; None picks the newest complete one.

    Returns:
      The parsed dataset_info.json, plus "build_dir" (the directory holding it).

    Raises:
      FileNotFoundError: no complete build; the message gives the command that builds it.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")
    directory = find_build(data_dir, dataset, version)
    if directory is None:
        raise FileNotFoundError(missing_build_message(data_dir, dataset))
    info = read_info(directory)
    info["build_dir"] = directory
    return info


def canonical_split(split: str) -> str:
    """Maps split aliases ("validation", "eval") to the stored names ("train", "val", "test")."""
    split = SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    return split


def _pad(x: tf.Tensor, length: int, value: Any) -> tf.Tensor:
    """Pads axis 0 of `x` up to `length` with `value`."""
    paddings = [[0, length - tf.shape(x)[0]]] + [[0, 0]] * (x.shape.rank - 1)
    return tf.pad(x, paddings, constant_values=value)


def _attribute_text(attributes: tf.RaggedTensor) -> tf.Tensor:
    """["color=red", "toe=slip_on"] -> "red slip on", per image (ragged [N, None] -> [N])."""
    values = tf.ragged.map_flat_values(tf.strings.regex_replace, attributes, "^[^=]*=", "")
    values = tf.ragged.map_flat_values(tf.strings.regex_replace, values, "_", " ")
    return tf.strings.reduce_join(values, axis=-1, separator=" ")


def _phrase_type_ids(phrase_types: tf.Tensor) -> tf.Tensor:
    equal = tf.equal(phrase_types[:, None], tf.constant(PHRASE_TYPES)[None, :])
    index = tf.argmax(tf.cast(equal, tf.int32), axis=-1, output_type=tf.int32)
    return tf.where(tf.reduce_any(equal, axis=-1), index, -1)


def _augment(images: tf.Tensor, image_size: int, seed: int | None) -> tf.Tensor:
    """One random crop and one random horizontal flip for all images [N, H, W, 3] of a session."""
    images = tf.image.resize(images, [image_size, image_size])  # no-op at the stored size
    pad = max(image_size // CROP_PADDING_DIVISOR, 1)
    images = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
    size = tf.stack([tf.shape(images)[0], image_size, image_size, 3])
    images = tf.image.random_crop(images, size, seed=seed)
    flip = tf.random.uniform([], seed=None if seed is None else seed + 1) < 0.5
    return tf.cond(flip, lambda: tf.reverse(images, axis=[2]), lambda: images)


def decode_session(
    serialized: tf.Tensor,
    *,
    is_training: bool,
    max_turns: int,
    image_size: int,
    stored_image_size: int | None,
    num_attributes: int,
    seed: int | None = None,
    augment: bool | None = None,
) -> dict[str, tf.Tensor]:
    """Parses, decodes, augments and pads one serialized session (see the module docstring).

    Args:
      serialized: scalar tf.string record.
      is_training: training element (augmented unless `augment` says otherwise).
      max_turns: T; longer sessions are truncated, shorter ones padded.
      image_size: S, the output side.
      stored_image_size: side of the stored images (None: unknown, decoded shape is dynamic).
      num_attributes: A.
      seed: op seed of the random crop and flip.
      augment: apply the random crop and flip; defaults to `is_training`.

    Returns:
      One unbatched element of the dataset.
    """
    parsed = parse_session(serialized, num_attributes)
    num_turns = tf.minimum(parsed["num_turns"], max_turns)
    num_images = num_turns + 1

    stored = stored_image_size
    images = tf.map_fn(
        lambda data: tf.io.decode_png(data, channels=3),
        parsed["encoded_images"][:num_images],
        fn_output_signature=tf.TensorSpec([stored, stored, 3], tf.uint8),
    )
    images = tf.cast(images, tf.float32)
    if is_training if augment is None else augment:
        images = _augment(images, image_size, seed)
    elif stored != image_size:
        images = tf.image.resize(images, [image_size, image_size])
    images = tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)

    changed = parsed["changed_attribute_ids"][:num_turns].to_tensor(default_value=-1)
    changed_mask = tf.minimum(
        tf.reduce_sum(tf.one_hot(changed, num_attributes, dtype=tf.float32), axis=1), 1.0
    )
    changed_mask = tf.reshape(changed_mask, [num_turns, num_attributes])
    t, a = max_turns, num_attributes
    return {
        "images": tf.ensure_shape(_pad(images, t + 1, 0.0), [t + 1, image_size, image_size, 3]),
        "descriptions": tf.ensure_shape(_pad(parsed["descriptions"][:num_turns], t, ""), [t]),
        "prev_attribute_text": tf.ensure_shape(
            _pad(_attribute_text(parsed["attributes"][:num_turns]), t, ""), [t]
        ),
        "turn_mask": tf.sequence_mask(num_turns, t, dtype=tf.float32),
        "attribute_ids": tf.ensure_shape(
            _pad(parsed["attribute_ids"][:num_images], t + 1, -1), [t + 1, a]
        ),
        "changed_mask": tf.ensure_shape(_pad(changed_mask, t, 0.0), [t, a]),
        "phrase_type_id": tf.ensure_shape(
            _pad(_phrase_type_ids(parsed["phrase_types"][:num_turns]), t, -1), [t]
        ),
        "num_turns": num_turns,
        "session_id": parsed["session_id"],
    }


def make_dataset(
    data_dir: str,
    dataset: str,
    split: str,
    global_batch_size: int,
    is_training: bool,
    max_turns: int = 4,
    image_size: int = 64,
    input_context: tf.distribute.InputContext | None = None,
    repeat: bool | None = None,
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
    version: str | None = None,
    seed: int | None = None,
    augment: bool | None = None,
    test_slice: str | None = None,
) -> tf.data.Dataset:
    """Builds the batched session dataset of one split (batch layout in the module docstring).

    Args:
      data_dir: root data directory (holds <dataset>/<version>/).
      dataset: dataset name, e.g. "synth_zap_seq".
      split: "train", "val" (or "validation") or "test".
      global_batch_size: batch size over all replicas; each pipeline batches
        `input_context.get_per_replica_batch_size(global_batch_size)`.
      is_training: shuffle, augment, drop the last partial batch and (by default) repeat.
      max_turns: T, the padded number of turns (longer sessions are truncated).
      image_size: S, the output image side.
      input_context: from `strategy.distribute_datasets_from_function`; files are sharded by
        input_pipeline_id over num_input_pipelines (records instead, when there are fewer files
        than pipelines).
      repeat: repeat forever; defaults to `is_training`.
      shuffle_buffer: sessions in the shuffle buffer (training).
      version: dataset version, None for the newest build.
      seed: seed for file order, shuffling and augmentation (None: nondeterministic).
      augment: the random crop and flip (defaults to `is_training`; DataConfig.augment).
      test_slice: keep only the sessions of this slice of the test split ("dev" or "final",
        tfrecords/split_rule.py: by the session id alone); None keeps the whole split.

    Returns:
      A tf.data.Dataset of batch dicts.

    Raises:
      FileNotFoundError: the dataset is not built (the message has the build command), or a
        shard listed in dataset_info.json is missing.
      ValueError: unknown split, empty split, or bad sizes.
    """
    if max_turns < 1 or image_size < 1 or global_batch_size < 1:
        raise ValueError(
            f"max_turns, image_size and global_batch_size must be >= 1, got "
            f"{max_turns}, {image_size}, {global_batch_size}"
        )
    info = load_dataset_info(data_dir, dataset, version)
    split = canonical_split(split)
    split_info = info["splits"][split]
    if split_info["num_sessions"] == 0:
        raise ValueError(f"split {split!r} of {dataset} has no sessions ({info['build_dir']})")
    files = [os.path.join(info["build_dir"], name) for name in split_info["files"]]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} shard(s) listed in dataset_info.json are missing, e.g. {missing[0]}; "
            f"rebuild with --overwrite: {build_command(dataset, data_dir)}"
        )
    repeat = is_training if repeat is None else repeat
    batch_size = global_batch_size
    num_pipelines, pipeline_id = 1, 0
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(global_batch_size)
        num_pipelines, pipeline_id = (
            input_context.num_input_pipelines,
            input_context.input_pipeline_id,
        )
    shard_files = num_pipelines > 1 and len(files) >= num_pipelines

    file_ds = tf.data.Dataset.list_files(files, shuffle=False)
    if shard_files:
        file_ds = file_ds.shard(num_pipelines, pipeline_id)
    if is_training:
        file_ds = file_ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    records = file_ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), 16),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not is_training,
    )
    if num_pipelines > 1 and not shard_files:
        records = records.shard(num_pipelines, pipeline_id)
    if test_slice is not None:
        records = records.filter(_in_test_slice(split, test_slice))
    if is_training:
        records = records.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        records = records.repeat()
    decode = functools.partial(
        decode_session,
        is_training=is_training,
        max_turns=max_turns,
        image_size=image_size,
        stored_image_size=info.get("image_size"),
        num_attributes=len(info["attribute_schema"]),
        seed=seed,
        augment=augment,
    )
    sessions = records.map(
        decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not is_training
    )
    return sessions.batch(batch_size, drop_remainder=is_training).prefetch(tf.data.AUTOTUNE)


def _in_test_slice(split: str, test_slice: str):
    """A record predicate: the session (by its id, read from the context alone) is in
    `test_slice` of the test split."""
    if split != "test" or test_slice not in TEST_SLICES:
        raise ValueError(
            f"test_slice={test_slice!r} on split {split!r}: slices {TEST_SLICES} cut the test split"
        )
    context = {SESSION_ID_KEY: tf.io.FixedLenFeature([], tf.string)}

    def in_slice(session_id) -> bool:
        return slice_of(session_id.numpy().decode("utf-8")) == test_slice

    def keep(record):
        parsed, _ = tf.io.parse_single_sequence_example(record, context_features=context)
        flag = tf.py_function(in_slice, [parsed[SESSION_ID_KEY]], tf.bool)
        return tf.ensure_shape(flag, [])

    return keep


def count_turns(
    data_dir: str, dataset: str, split: str, max_turns: int, version: str | None = None
) -> int:
    """The real turns of a split, each session truncated to `max_turns` as `make_dataset` does:
    the number of (text, image) pairs DAMSM pretraining draws from it. Reads only each record's
    context (no image is decoded)."""
    info = load_dataset_info(data_dir, dataset, version)
    split_info = info["splits"][canonical_split(split)]
    if split_info["num_sessions"] == 0:
        return 0
    files = [os.path.join(info["build_dir"], name) for name in split_info["files"]]
    context = {NUM_TURNS_KEY: tf.io.FixedLenFeature([], tf.int64)}

    def turns(record):
        parsed, _ = tf.io.parse_single_sequence_example(record, context_features=context)
        return tf.minimum(parsed[NUM_TURNS_KEY], max_turns)

    ds = tf.data.TFRecordDataset(files).map(turns, num_parallel_calls=tf.data.AUTOTUNE)
    return int(ds.reduce(tf.constant(0, tf.int64), lambda total, n: total + n))


def held_batches(dataset: tf.data.Dataset, count: int) -> tf.data.Dataset:
    """The first `count` batches of `dataset`, read once and held in memory as a finite dataset.

    For the validation inside `fit`: Keras drops its validation iterator at every epoch's
    `evaluate` (EpochIterator.reset), and dropping one over a repeated, prefetching pipeline
    waited 0.9-19.4 s here (py-spy; the `quick` epoch's two validation steps themselves take about
    1 s). The same batches are validated every epoch, as with the repeated pipeline.

    Raises:
      ValueError: `count` < 1 or `dataset` holds no batch.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    batches = list(dataset.take(count))
    if not batches:
        raise ValueError("the dataset holds no batch to validate on")
    held = tf.data.Dataset.from_tensors(batches[0])
    for batch in batches[1:]:
        held = held.concatenate(tf.data.Dataset.from_tensors(batch))
    return held


def make_distributed_dataset(
    strategy: tf.distribute.Strategy,
    data_dir: str,
    dataset: str,
    split: str,
    global_batch_size: int,
    is_training: bool,
    **kwargs: Any,
) -> tf.distribute.DistributedDataset:
    """`make_dataset` per input pipeline via `strategy.distribute_datasets_from_function`.

    Args:
      strategy: the distribution strategy.
      data_dir, dataset, split, global_batch_size, is_training: as for `make_dataset`.
      **kwargs: further `make_dataset` arguments (max_turns, image_size, ...).

    Returns:
      A distributed dataset whose per-replica batches hold global_batch_size / replicas sessions.
    """
    make_dataset_args = dict(
        data_dir=data_dir,
        dataset=dataset,
        split=split,
        global_batch_size=global_batch_size,
        is_training=is_training,
        **kwargs,
    )
    return strategy.distribute_datasets_from_function(
        lambda input_context: make_dataset(input_context=input_context, **make_dataset_args)
    )
