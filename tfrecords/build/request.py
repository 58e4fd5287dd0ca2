"""What to build: a `BuildRequest` is the one argument of `tfrecords.builders.build`.

A request names the dataset and where it goes, what it is built from (generated, a raw folder
or a public download) and how (seed, sizes, checks). `kind` says which builder writes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from tfrecords.datasets import SYNTHETIC_DATASETS

DEFAULT_NUM_SYNTHETIC_SESSIONS = 10000
DEFAULT_VERSION = "1.0.0"

# What a build is made from (BuildRequest.kind).
SYNTHETIC = "synthetic"
RAW = "raw"
SOURCE = "source"


@dataclasses.dataclass(frozen=True)
class BuildRequest:
    """One dataset build.

    Attributes:
      dataset: one of tfrecords.DATASETS.
      data_dir: root data directory; the build goes to `<data_dir>/<dataset>/<version>/`.
      raw_dir: raw folder (required for zap_seq / deepfashion_seq without `source`).
      source: retrieve sessions from this public download ("ut_zap50k", "deepfashion").
      source_dir: the download's folder (required with `source`).
      descriptions_file: human descriptions keyed by (session_id, turn) for source builds.
      num_sessions: sessions to generate (synthetic sets) or to retrieve (source builds).
      seed: generator / split seed.
      image_size: stored image side.
      num_shards: shards per split ({split: n}), one count, or None for the default.
      version: dataset version directory.
      strict: raw and source builds fail on the first bad input.
      allow_outside_paths: accept image paths resolving outside the raw / source folder.
      retrieved: synthetic builds: sessions of different items retrieved as neighbours
        (tfrecords.synthetic.make_session) instead of one item edited turn by turn.
      num_workers: generator processes for synthetic builds (None: automatic).
      overwrite: rebuild even when a complete build with the same parameters exists.

    Example:
    ```python
    info, built = builders.build(BuildRequest("synth_zap_seq", "data", num_sessions=2000))
    ```
    """

    dataset: str
    data_dir: str
    raw_dir: str | None = None
    source: str | None = None
    source_dir: str | None = None
    descriptions_file: str | None = None
    num_sessions: int = DEFAULT_NUM_SYNTHETIC_SESSIONS
    seed: int = 0
    image_size: int = 64
    num_shards: Mapping[str, int] | int | None = None
    version: str = DEFAULT_VERSION
    strict: bool = False
    allow_outside_paths: bool = False
    retrieved: bool = False
    num_workers: int | None = None
    overwrite: bool = False

    @property
    def kind(self) -> str:
        """SOURCE (retrieved from a public download), SYNTHETIC (generated) or RAW (a raw
        folder)."""
        if self.source is not None:
            return SOURCE
        return SYNTHETIC if self.dataset in SYNTHETIC_DATASETS else RAW
