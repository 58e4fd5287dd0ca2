"""The dataset registry: every dataset name the project knows, defined here and only here.

Everything else derives from it: the builders (`tfrecords.builders`), the synthetic generators
(`tfrecords.synthetic.sessions.SPECS`), the public-download readers (`tfrecords.build`), the
experiment configs (`seqgan_tf.configs.experiments`) and every script's `--dataset` flag
(`flags.DEFINE_enum("dataset", DEFAULT_DATASET, DATASETS, ...)`). The module imports nothing,
so scripts can read it before TensorFlow loads.

    synth_zap_seq           synthetic shoes (the embedded default; built on demand)
    synth_deepfashion_seq   synthetic garments
    photo_zap_seq           synthetic shoes that look like product photographs
    photo_deepfashion_seq   synthetic garments that look like product photographs
    zap_seq                 Zap-Seq from a raw folder or the UT-Zap50K download (source ut_zap50k)
    deepfashion_seq         DeepFashion-Seq from a raw folder or the DeepFashion download
"""

from __future__ import annotations

import dataclasses

SHOES = "shoes"
GARMENTS = "garments"
# What a dataset's images look like: flat-colour drawings or product photographs.
FLAT = "flat"
PHOTO = "photo"


@dataclasses.dataclass(frozen=True)
class DatasetEntry:
    """One dataset.

    Attributes:
      name: the dataset name (the shard folder under --data_dir, the --dataset flag value).
      domain: SHOES or GARMENTS (the synthetic generator, the paper's per-dataset settings).
      synthetic: generated procedurally (else built from a raw folder or a public download).
      source: for a real dataset, the public download it can be retrieved from (--source).
      style: FLAT (flat-colour drawings) or PHOTO (product photographs); a synthetic set's
        generator is chosen by (domain, style) in `tfrecords.synthetic.sessions`.
    """

    name: str
    domain: str
    synthetic: bool
    source: str | None = None
    style: str = PHOTO


REGISTRY: dict[str, DatasetEntry] = {
    e.name: e
    for e in (
        DatasetEntry("synth_zap_seq", SHOES, synthetic=True, style=FLAT),
        DatasetEntry("synth_deepfashion_seq", GARMENTS, synthetic=True, style=FLAT),
        DatasetEntry("photo_zap_seq", SHOES, synthetic=True, style=PHOTO),
        DatasetEntry("photo_deepfashion_seq", GARMENTS, synthetic=True, style=PHOTO),
        DatasetEntry("zap_seq", SHOES, synthetic=False, source="ut_zap50k"),
        DatasetEntry("deepfashion_seq", GARMENTS, synthetic=False, source="deepfashion"),
    )
}
DATASETS: tuple[str, ...] = tuple(REGISTRY)
SYNTHETIC_DATASETS: tuple[str, ...] = tuple(n for n, e in REGISTRY.items() if e.synthetic)
RAW_DATASETS: tuple[str, ...] = tuple(n for n, e in REGISTRY.items() if not e.synthetic)
# Public download (--source) -> the real dataset it is retrieved into.
SOURCES: dict[str, str] = {e.source: n for n, e in REGISTRY.items() if e.source}
# The embedded default of every script: no download needed.
DEFAULT_DATASET = "synth_zap_seq"


def entry(dataset: str) -> DatasetEntry:
    """Returns the registry entry of `dataset`; raises ValueError naming the valid choices."""
    if dataset not in REGISTRY:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")
    return REGISTRY[dataset]


def synthetic_standin(dataset: str) -> str:
    """Returns the first synthetic dataset of the same domain ("zap_seq" -> "synth_zap_seq")."""
    domain = entry(dataset).domain
    return next(n for n in SYNTHETIC_DATASETS if REGISTRY[n].domain == domain)
