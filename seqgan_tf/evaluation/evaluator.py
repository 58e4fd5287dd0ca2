"""Model-agnostic evaluation of session generators: IS, FID, SSIM and edit metrics per turn.

A generator is any callable `batch -> images [B, T, S, S, 3] in [-1, 1]`: image t is the
model's result for turn t (description t applied, starting from batch["images"][:, 0]).
For a trained model: `lambda batch: model.generate_session(batch)` (its own previous output is
each turn's input; no teacher forcing). A generator whose `previous` attribute is "true" edits
the true x_{t-1} at every turn instead (a teacher-forced diagnostic, runs.load_generator), and
its "closer than its input" is measured against that. Built-in rows frame the scale:

- `ground_truth`: the target images themselves (sanity row: FID 0, SSIM 1, edit metrics = the
  classifier's accuracy on real renders);
- `copy_previous`: every turn returns its input image (perfect preservation, no edits);
- `blurred_truth`: every edit drawn one pixel out of focus and served like a model: on the
  pixels the edit changes (pixel_metrics.changed_pixels) the target blurred by a Gaussian of
  sigma BLUR_SIGMA_PX, elsewhere its own previous output copied (x_0 at turn 1), as a masked
  editor composes. Every outline and texture is in place, a pixel soft, and what one turn drew
  stays in the later ones; its pixel figures give the others a scale in pixels.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Set

import numpy as np
import scipy.ndimage
import tensorflow as tf
from tqdm import tqdm

from seqgan_tf.evaluation.attribute_classifier import AttributeClassifier
from seqgan_tf.evaluation.domain_feature_extractor import DomainFeatureExtractor
from seqgan_tf.evaluation.edit_metrics import compute_edit_metrics
from seqgan_tf.evaluation.feature_extractor import FeatureExtractor
from seqgan_tf.evaluation.image_metrics import (
    fid_from_features,
    inception_score,
    mean_head_inception_score,
    minus_one_one_to_unit,
    ssim,
)
from seqgan_tf.evaluation.pixel_metrics import ROW_KEYS, changed_pixels, pixel_group, pixel_rows
from tfrecords.session import PHRASE_TYPES

Batch = Mapping[str, tf.Tensor]
Generator = Callable[[Batch], tf.Tensor]


def ground_truth_generator(batch: Batch) -> tf.Tensor:
    """The target images x1..xT (batch["images"][:, 1:])."""
    return batch["images"][:, 1:]


def copy_previous_generator(batch: Batch) -> tf.Tensor:
    """The copy baseline: each turn returns its ground-truth input image x_{t-1}."""
    return batch["images"][:, :-1]


BLUR_SIGMA_PX = 1.0


def blurred_truth_generator(batch: Batch) -> np.ndarray:
    """Each turn's edit drawn one pixel soft, as served: x_t blurred by BLUR_SIGMA_PX
    (scipy.ndimage.gaussian_filter) on its edited pixels (pixel_metrics.changed_pixels), and
    the row's own previous output everywhere else (x_0 at turn 1)."""
    images = np.asarray(batch["images"], np.float32)
    previous, target = images[:, :-1], images[:, 1:]
    blurred = scipy.ndimage.gaussian_filter(target, (0, 0, BLUR_SIGMA_PX, BLUR_SIGMA_PX, 0))
    changed = changed_pixels(target, previous)[..., None]
    outputs, own_previous = np.empty_like(target), images[:, 0]
    for t in range(target.shape[1]):
        own_previous = outputs[:, t] = np.where(changed[:, t], blurred[:, t], own_previous)
    return outputs


BUILTIN_GENERATORS: dict[str, Generator] = {
    "ground_truth": ground_truth_generator,
    "copy_previous": copy_previous_generator,
    "blurred_truth": blurred_truth_generator,
}


def _to_numpy(value) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _decode(strings) -> list:
    """Nested lists of str from a (nested) array of bytes / str."""
    if isinstance(strings, np.ndarray):
        strings = strings.tolist()
    if isinstance(strings, list):
        return [_decode(s) for s in strings]
    return strings.decode("utf-8") if isinstance(strings, bytes) else str(strings)


class _Rows:
    """Everything measured on one generator's (or the reference's) images, one row per image.

    Rows are in (session, turn) order over all batches; `turn` and `is_last` select groups.
    """

    def __init__(self, labels: Sequence[str]):
        self.features = {label: [] for label in labels}
        self.probs = {label: [] for label in labels}
        self.turn: list[np.ndarray] = []
        self.is_last: list[np.ndarray] = []
        self.ssim: list[np.ndarray] = []
        self.predicted_ids: list[np.ndarray] = []
        self.pixels: dict[str, list[np.ndarray]] = {key: [] for key in ROW_KEYS}
        self.seconds = 0.0

    def finalize(self) -> None:
        for label in self.features:
            self.features[label] = np.concatenate(self.features[label])
            heads = self.probs[label]
            self.probs[label] = (
                [np.concatenate([h[i] for h in heads]) for i in range(len(heads[0]))]
                if heads and heads[0]
                else []
            )
        self.turn = np.concatenate(self.turn)
        self.is_last = np.concatenate(self.is_last)
        self.ssim = np.concatenate(self.ssim) if self.ssim else np.zeros([0])
        self.pixels = {k: np.concatenate(v) if v else np.zeros([0]) for k, v in self.pixels.items()}


def _measure(
    images: np.ndarray,
    valid: np.ndarray,
    extractors: Sequence[FeatureExtractor],
    rows: _Rows,
    num_attributes: int,
) -> None:
    """Runs the extractors on the valid images of a batch and appends their rows."""
    batch_size, num_turns = valid.shape
    flat = images[valid]
    last = valid.sum(axis=1) - 1
    rows.turn.append(np.nonzero(valid)[1])
    rows.is_last.append((np.arange(num_turns)[None, :] == last[:, None])[valid])
    predicted = -np.ones([batch_size, num_turns, num_attributes], np.int32)
    for extractor in extractors:
        out = extractor(flat)
        rows.features[extractor.label].append(out.features)
        rows.probs[extractor.label].append(out.class_probs)
        if isinstance(extractor, DomainFeatureExtractor):
            predicted[valid] = np.stack([np.argmax(p, axis=-1) for p in out.class_probs], -1)
    rows.predicted_ids.append(predicted)


def _group_metrics(gen: _Rows, ref: _Rows, gen_sel, ref_sel, is_splits: int) -> dict:
    """IS / FID for every feature source, and SSIM, over the selected rows."""
    out: dict = {"num_images": int(gen_sel.sum())}
    for label, features in gen.features.items():
        g_feat, r_feat = features[gen_sel], ref.features[label][ref_sel]
        enough = len(g_feat) >= 2 and len(r_feat) >= 2
        out[f"FID ({label})"] = fid_from_features(g_feat, r_feat) if enough else None
        heads = [p[gen_sel] for p in gen.probs[label]]
        if heads and len(heads[0]) >= max(is_splits, 1):
            if len(heads) == 1:
                mean, std = inception_score(heads[0], is_splits)
            else:
                mean, std = mean_head_inception_score(heads, is_splits)
            out[f"IS ({label})"], out[f"IS ({label}) std"] = mean, std
        else:
            out[f"IS ({label})"] = None
    out["SSIM"] = float(gen.ssim[gen_sel].mean()) if gen_sel.any() else None
    return out


def _pixel_by_changed_attribute(gen, changed_rows: np.ndarray, names: Sequence[str]) -> dict:
    """Pixel figures of the turns that change each attribute: at turn 1, where the input is the
    true x_0 (how exactly one edit is drawn), and over all turns. A turn that changes two
    attributes counts under both."""
    return {
        name: {
            "turn 1": pixel_group(gen.pixels, (gen.turn == 0) & changed_rows[:, a]),
            "all": pixel_group(gen.pixels, changed_rows[:, a]),
        }
        for a, name in enumerate(names)
    }


def evaluate_generators(
    generators: Mapping[str, Generator],
    batches: Iterable[Batch],
    classifier: AttributeClassifier,
    feature_extractors: Sequence[FeatureExtractor] = (),
    max_batches: int | None = None,
    num_examples: int = 4,
    is_splits: int = 1,
    phrase_types: Sequence[str] = PHRASE_TYPES,
    train_designs: Set[tuple[int, ...]] | None = None,
) -> dict:
    """Runs every generator over the batches and measures its images against the ground truth.

    Args:
      generators: name -> callable(batch) returning float [B, T, S, S, 3] in [-1, 1]
        (see BUILTIN_GENERATORS).
      batches: input-pipeline batches (eval mode, no augmentation) of the split to evaluate.
      classifier: the trained AttributeClassifier (edit metrics and domain features).
      feature_extractors: extra feature sources (e.g. InceptionFeatureExtractor); the domain
        features of `classifier` are always included.
      max_batches: stop after this many batches.
      num_examples: keep this many sessions (images and descriptions) for figures.
      is_splits: splits for the Inception Score.
      phrase_types: names of phrase_type_id values.
      train_designs: the attribute-id tuples of the training split (train_designs.py); turns
        whose target design is not among them are also reported apart ("unseen_designs").

    Returns:
      {"metrics": JSON-able dict, "examples": dict of arrays for figures}. metrics holds
      "feature_sources", "num_sessions", "attribute_names", "unseen_designs" (turn count and
      share, None without `train_designs`) and per model "image" ({"all", "last_turn",
      "per_turn": {"1": ...}, ["unseen_designs"]} each with "IS (<source>)", "FID (<source>)",
      "SSIM", "num_images"), "pixel" (pixel_metrics.pixel_group for the same groups, and
      "by_changed_attribute": {attribute: {"turn 1", "all"}}, the turns that change it),
      "is_per_head (domain features)", "edit" (see compute_edit_metrics; plus
      "unseen_designs": the overall group on those turns) and "seconds_per_session".

    Raises:
      ValueError: if no generator is given, a generator returns the wrong shape, or the
        batches carry no attribute ids.
    """
    if not generators:
        raise ValueError("evaluate_generators: no generators given")
    extractors = [DomainFeatureExtractor(classifier), *feature_extractors]
    labels = [e.label for e in extractors]
    if len(set(labels)) != len(labels):
        raise ValueError(f"evaluate_generators: duplicate feature source labels {labels}")
    names = classifier.attribute_names
    reference = _Rows(labels)
    rows = {name: _Rows(labels) for name in generators}
    fields = {k: [] for k in ("attribute_ids", "changed_mask", "turn_mask", "phrase_type_id")}
    examples: dict = {"models": {name: [] for name in generators}, "first": [], "targets": []}
    examples.update(descriptions=[], num_turns=[], session_id=[])
    num_sessions = 0
    for index, batch in enumerate(tqdm(batches, desc="evaluate", unit="batch")):
        if max_batches is not None and index >= max_batches:
            break
        images = _to_numpy(batch["images"])
        if _to_numpy(batch["attribute_ids"]).shape[-1] != len(names):
            raise ValueError(
                f"batches carry {_to_numpy(batch['attribute_ids']).shape[-1]} attributes, "
                f"the classifier {len(names)}"
            )
        valid = _to_numpy(batch["turn_mask"]) > 0.5
        targets = images[:, 1:]
        _measure(targets, valid, extractors, reference, len(names))
        for key in fields:
            fields[key].append(_to_numpy(batch[key]))
        keep = max(0, min(num_examples - num_sessions, images.shape[0]))
        if keep:
            examples["first"].append(images[:keep, 0])
            examples["targets"].append(targets[:keep])
            examples["descriptions"].extend(_decode(_to_numpy(batch["descriptions"])[:keep]))
            examples["num_turns"].append(_to_numpy(batch["num_turns"])[:keep])
            examples["session_id"].extend(_decode(_to_numpy(batch["session_id"])[:keep]))
        for name, generator in generators.items():
            start = time.time()
            generated = _to_numpy(generator(batch)).astype(np.float32)
            rows[name].seconds += time.time() - start
            if generated.shape != targets.shape:
                raise ValueError(
                    f"generator {name!r} returned shape {generated.shape}, expected {targets.shape}"
                )
            _measure(generated, valid, extractors, rows[name], len(names))
            rows[name].ssim.append(
                ssim(minus_one_one_to_unit(generated[valid]), minus_one_one_to_unit(targets[valid]))
            )
            # The model's input of turn t: x0, then its own previous output; for a
            # teacher-forced diagnostic generator (previous == "true") the true x_{t-1}, which
            # is what pixel_rows compares with when given no inputs.
            inputs = None
            if getattr(generator, "previous", "own") != "true":
                inputs = np.concatenate([images[:, :1], generated[:, :-1]], axis=1)[valid]
            first = np.broadcast_to(images[:, :1], targets.shape)[valid]
            pixels = pixel_rows(
                generated[valid], targets[valid], images[:, :-1][valid], inputs, first=first
            )
            for key, value in pixels.items():
                rows[name].pixels[key].append(value)
            if keep:
                examples["models"][name].append(generated[:keep])
        num_sessions += images.shape[0]
    if num_sessions == 0:
        raise ValueError("evaluate_generators: no batches")

    reference.finalize()
    data = {key: np.concatenate(value) for key, value in fields.items()}
    num_values = [len(classifier.attribute_schema[n]) for n in names]
    metrics: dict = {
        "feature_sources": labels,
        "num_sessions": num_sessions,
        "num_images": int(len(reference.turn)),
        "attribute_names": list(names),
        "attribute_values": {n: list(classifier.attribute_schema[n]) for n in names},
        "is_definition": {
            "domain features": "mean over attribute heads of each head's Inception Score",
            "InceptionV3": "Inception Score over the 1000 ImageNet classes",
        },
        "is_splits": is_splits,
        "models": {},
    }
    max_turn = int(reference.turn.max()) + 1 if len(reference.turn) else 0
    valid_cells = data["turn_mask"] > 0.5
    unseen_cells = np.zeros_like(valid_cells)
    if train_designs is not None:
        target_ids = data["attribute_ids"][:, 1:]
        for n, t in zip(*np.nonzero(valid_cells)):
            unseen_cells[n, t] = tuple(int(v) for v in target_ids[n, t]) not in train_designs
    unseen = unseen_cells[valid_cells]  # one per generated image, in row order
    changed_rows = data["changed_mask"][valid_cells] > 0.5  # [images, A], in row order
    metrics["unseen_designs"] = (
        {
            "num_turns": int(unseen.sum()),
            "share": float(unseen.mean()) if len(unseen) else None,
            "definition": "turns whose target's full attribute combination is on no image of "
            "the training split",
        }
        if train_designs is not None
        else None
    )
    for name, gen in rows.items():
        gen.finalize()
        groups = {
            "all": gen.turn >= 0,
            "last_turn": gen.is_last,
            **{f"turn {t + 1}": gen.turn == t for t in range(max_turn)},
        }
        if train_designs is not None:
            groups["unseen_designs"] = unseen
        pixel = {key: pixel_group(gen.pixels, sel) for key, sel in groups.items()}
        pixel = {
            "all": pixel["all"],
            "last_turn": pixel["last_turn"],
            "per_turn": {str(t + 1): pixel[f"turn {t + 1}"] for t in range(max_turn)},
            **({"unseen_designs": pixel["unseen_designs"]} if "unseen_designs" in pixel else {}),
            "by_changed_attribute": _pixel_by_changed_attribute(gen, changed_rows, names),
        }
        image = {
            "all": _group_metrics(gen, reference, gen.turn >= 0, reference.turn >= 0, is_splits),
            "last_turn": _group_metrics(gen, reference, gen.is_last, reference.is_last, is_splits),
            "per_turn": {
                str(t + 1): _group_metrics(
                    gen, reference, gen.turn == t, reference.turn == t, is_splits
                )
                for t in range(max_turn)
            },
        }
        if train_designs is not None:
            image["unseen_designs"] = _group_metrics(gen, reference, unseen, unseen, is_splits)
        predicted = np.concatenate(gen.predicted_ids)
        edit = compute_edit_metrics(
            predicted,
            data["attribute_ids"][:, 1:],
            data["attribute_ids"][:, :-1],
            data["changed_mask"],
            data["turn_mask"],
            data["phrase_type_id"],
            names,
            num_values,
            phrase_types,
        )
        domain_probs = gen.probs[labels[0]]
        per_head = {
            n: (inception_score(p, is_splits)[0] if len(p) >= is_splits else None)
            for n, p in zip(names, domain_probs)
        }
        if train_designs is not None:
            edit["unseen_designs"] = compute_edit_metrics(
                predicted,
                data["attribute_ids"][:, 1:],
                data["attribute_ids"][:, :-1],
                data["changed_mask"],
                data["turn_mask"] * unseen_cells,
                data["phrase_type_id"],
                names,
                num_values,
                phrase_types,
            )["overall"]
        metrics["models"][name] = {
            "image": image,
            "pixel": pixel,
            f"is_per_head ({labels[0]})": per_head,
            "edit": edit,
            "seconds_per_session": gen.seconds / num_sessions,
        }
    if examples["first"]:
        examples["first"] = np.concatenate(examples["first"])
        examples["targets"] = np.concatenate(examples["targets"])
        examples["num_turns"] = np.concatenate(examples["num_turns"])
        examples["models"] = {k: np.concatenate(v) for k, v in examples["models"].items()}
    return {"metrics": metrics, "examples": examples}
