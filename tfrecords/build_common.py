"""What the synthetic and raw builders share: split assignment and the split-writing loop."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

from tqdm import tqdm

from tfrecords import split_rule
from tfrecords.dataset_info import StatisticsAccumulator
from tfrecords.session import Session
from tfrecords.session_format import serialize_session
from tfrecords.shard_writer import ShardedWriter

DEFAULT_SESSIONS_PER_SHARD = 256


def assign_splits(keys: Sequence[str] | int, seed: int) -> tuple[list[str], dict[str, int]]:
    """Assigns each session to a split, 85/5/10, by tfrecords.split_rule (a hash of the seed and
    the session's key, so that builds of different sizes agree).

    Args:
      keys: one key per session in index order (synthetic: str(index); raw: the session id), or
        the number of sessions n (keys "0" .. "n-1", the session indices).
      seed: the build's seed; the same seed gives the same assignment.

    Returns:
      (split name per session, split sizes).
    """
    if isinstance(keys, int):
        keys = [str(i) for i in range(keys)]
    return split_rule.assign_splits(keys, seed)


def resolve_num_shards(
    sizes: Mapping[str, int], num_shards: Mapping[str, int] | int | None
) -> dict[str, int]:
    """Number of shards per split: given explicitly, or one per DEFAULT_SESSIONS_PER_SHARD.

    Raises:
      ValueError: if a shard count is < 1.
    """
    result = {}
    for split, size in sizes.items():
        if num_shards is None:
            count = max(1, math.ceil(size / DEFAULT_SESSIONS_PER_SHARD))
        elif isinstance(num_shards, int):
            count = num_shards
        else:
            count = num_shards.get(split, max(1, math.ceil(size / DEFAULT_SESSIONS_PER_SHARD)))
        if count < 1:
            raise ValueError(f"num_shards for split {split!r} must be >= 1, got {count}")
        # No more shards than sessions (but one, possibly empty, shard per split).
        result[split] = max(1, min(count, size))
    return result


def serialize_sessions(
    sessions: Iterable[Session], dataset_name: str, schema: Mapping[str, Sequence[str]] | None
) -> Iterator[tuple[bytes, Session]]:
    """Yields (serialized record, session) pairs for `write_splits`."""
    for session in sessions:
        yield serialize_session(session, dataset_name, schema), session


def write_splits(
    records: Iterable[tuple[bytes, Session]],
    assignment: Sequence[str],
    sizes: Mapping[str, int],
    num_shards: Mapping[str, int],
    directory: str,
    stats: StatisticsAccumulator,
    description: str = "",
) -> dict[str, list[str]]:
    """Writes record i into the split `assignment[i]`, in order, with a progress bar.

    Args:
      records: (serialized record, session) pairs in index order, exactly len(assignment) of
        them (from `serialize_sessions`); the session feeds the statistics (its images are only
        counted, so they may be placeholders).
      assignment: split per session index.
      sizes: sessions per split.
      num_shards: shards per split.
      directory: the build directory (prepared by `shard_writer.prepare_output_dir`).
      stats: statistics accumulator, updated per session.
      description: progress-bar label.

    Returns:
      {split: shard file names}.

    Raises:
      ValueError: if the number of sessions does not match `assignment`.
      Any exception of `records`: open temporary shards are deleted, completed shards stay
      (without dataset_info.json they are not a build).
    """
    writers = {
        split: ShardedWriter(directory, split, sizes[split], num_shards[split]) for split in sizes
    }
    try:
        count = 0
        for record, session in tqdm(
            records, total=len(assignment), desc=description, unit="session"
        ):
            if count >= len(assignment):
                raise ValueError(f"more sessions than the {len(assignment)} announced")
            writers[assignment[count]].write(record)
            stats.add(session)
            count += 1
        return {split: writer.close() for split, writer in writers.items()}
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
