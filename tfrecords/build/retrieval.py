"""Retrieval (`retrieve`), per split pool of images (UT-Zap50K: a seeded 85/5/10 hash of the image
path; DeepFashion: its evaluation partition), so no image is in two splits: a session starts
at a random image and walks to an unused neighbour that differs in one or two attributes
(never an unknown one), changing coarse attributes before fine ones: every attribute a turn
changes is at least as fine as every attribute the turns before it changed. Images are not
reused within a session; across sessions of a split the least used neighbour is preferred.
Sessions have 3 to 5 images, as many sessions as asked are built per split (85/5/10 of
--num_sessions) when the pool allows, and everything is deterministic from the seed. What the
walk could not do (changes with no neighbour, dead ends, isolated images, a shortfall) is
reported in dataset_info.json ("retrieval") and on the console."""

from __future__ import annotations

import collections
import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tfrecords.build.source_spec import TWO_CHANGE_P, UNKNOWN, Item, SourceSpec
from tfrecords.dataset_info import SPLITS, split_sizes

MIN_IMAGES, MAX_IMAGES = 3, 5


@dataclasses.dataclass
class Retrieved:
    """One retrieved session: item indices and, per turn, the changed attributes."""

    split: str
    items: list[int]
    changes: list[list[str]]


def _change_sets(spec: SourceSpec) -> list[tuple[str, ...]]:
    return [(a,) for a in spec.attributes] + list(itertools.combinations(spec.attributes, 2))


def retrieve(
    items: Sequence[Item], spec: SourceSpec, num_sessions: int, seed: int
) -> tuple[list[Retrieved], dict[str, Any]]:
    """Retrieves sessions per split pool (see the module docstring).

    Returns:
      (sessions in split order, the retrieval report for dataset_info.json).
    """
    change_sets = _change_sets(spec)
    level = spec.coarseness
    wanted = split_sizes(num_sessions)
    sessions: list[Retrieved] = []
    report: dict[str, Any] = {"requested": dict(wanted), "built": {}, "per_split": {}}
    no_neighbour: collections.Counter[str] = collections.Counter()
    for split_index, split in enumerate(SPLITS):
        pool = [i for i, item in enumerate(items) if item.pool == split]
        # For each change set S: (group, values outside S) -> items.
        buckets: dict[tuple[str, ...], dict[tuple, list[int]]] = {}
        for change in change_sets:
            table: dict[tuple, list[int]] = collections.defaultdict(list)
            for i in pool:
                item = items[i]
                key = (item.group,) + tuple(
                    item.values[a] for a in spec.attributes if a not in change
                )
                table[key].append(i)
            buckets[change] = table

        def neighbours(
            i: int, change: tuple[str, ...], buckets: dict = buckets
        ) -> tuple[list[int], list[str]]:
            item = items[i]
            key = (item.group,) + tuple(item.values[a] for a in spec.attributes if a not in change)
            found = []
            for j in buckets[change].get(key, ()):
                other = items[j]
                changed = [a for a in change if other.values[a] != item.values[a]]
                if changed and all(
                    UNKNOWN not in (item.values[a], other.values[a]) for a in changed
                ):
                    found.append(j)
            return found, list(change)

        isolated = [i for i in pool if not any(neighbours(i, c)[0] for c in change_sets)]
        isolated_set = set(isolated)
        starts = [i for i in pool if i not in isolated_set]
        rng = np.random.default_rng([seed, split_index])
        usage: collections.Counter[int] = collections.Counter()
        built: list[Retrieved] = []
        attempts = dead_ends = 0
        max_attempts = 20 * wanted[split] + 100
        while starts and len(built) < wanted[split] and attempts < max_attempts:
            attempts += 1
            length = int(rng.integers(MIN_IMAGES, MAX_IMAGES + 1))
            chain = [starts[int(rng.integers(len(starts)))]]
            turn_changes: list[list[str]] = []
            floor = 0
            while len(chain) < length:
                sizes = (2, 1) if rng.random() < TWO_CHANGE_P else (1, 2)
                options = [c for c in change_sets if min(level[a] for a in c) >= floor]
                order = sorted(
                    options,
                    key=lambda c: (sizes.index(len(c)), max(level[a] for a in c) + rng.random()),
                )
                step = None
                for change in order:
                    found, _ = neighbours(chain[-1], change)
                    found = [j for j in found if j not in chain]
                    if not found:
                        no_neighbour["+".join(change)] += 1
                        continue
                    least = min(usage[j] for j in found)
                    found = [j for j in found if usage[j] == least]
                    step = found[int(rng.integers(len(found)))]
                    changed = [
                        a for a in change if items[step].values[a] != items[chain[-1]].values[a]
                    ]
                    break
                if step is None:
                    break
                chain.append(step)
                turn_changes.append(changed)
                floor = max(level[a] for a in changed)
            if len(chain) < MIN_IMAGES:
                dead_ends += 1
                continue
            usage.update(chain)
            built.append(Retrieved(split, chain, turn_changes))
        sessions.extend(built)
        report["built"][split] = len(built)
        report["per_split"][split] = {
            "pool_images": len(pool),
            "isolated_images": len(isolated),
            "attempts": attempts,
            "dead_end_starts": dead_ends,
            "shortfall": wanted[split] - len(built),
            "distinct_images_used": len(usage),
            "max_sessions_per_image": max(usage.values(), default=0),
        }
    report["changes_without_neighbour"] = dict(no_neighbour.most_common())
    report["turns_histogram"] = dict(
        sorted(collections.Counter(str(len(s.changes)) for s in sessions).items())
    )
    report["shortfall"] = sum(wanted.values()) - len(sessions)
    return sessions, report


def format_retrieval(report: Mapping[str, Any]) -> str:
    lines = [
        f"retrieval: built {report['built']} of requested {report['requested']} sessions"
        + (f" (short by {report['shortfall']})" if report["shortfall"] else "")
    ]
    for split, entry in report["per_split"].items():
        lines.append(
            f"  {split}: {entry['pool_images']} images in the pool, {entry['isolated_images']} "
            f"with no neighbour, {entry['dead_end_starts']} dead-end starts"
        )
    missing = list(report["changes_without_neighbour"].items())[:8]
    if missing:
        lines.append(
            "  changes with no unused neighbour (times): "
            + ", ".join(f"{name} {count}" for name, count in missing)
        )
    return "\n".join(lines)
