"""Exports an editor (see the editor contract) as a TF-Serving-ready SavedModel.

Layout: `<export_base_dir>/<model_name>/<integer version>/` with the signatures of
`serving.contract`, a warm-up file and (from a trained run) `assets.extra/provenance.json`:
the run folder and the fingerprint of the dataset build it was trained on. The version folder
appears atomically: the model is written to a hidden temporary folder beside it and renamed,
so a server watching the model folder never sees half a model.

An editor whose `edit` returns "design" (SeqAttnGAN with attribute slots) is exported with
the `design` output, its attribute schema as `assets/attribute_schema.json` (attribute name ->
value names, in the design's segment order) and the `attribute_schema` signature that
returns that file's text, so a gRPC client can read it (TF Serving or serving/server.py).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf
import tensorflow_text as tf_text

from common.atomic_files import write_json_atomically
from seqgan_tf.text.normalization import split_words_in_graph
from serving import contract, warmup

PROVENANCE_FILENAME = "provenance.json"


def _to_model_range(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """uint8 [B,H,W,3] -> float32 [B,S,S,3] in [-1, 1], resized (antialiased) when needed."""
    x = tf.cast(image, tf.float32) / 127.5 - 1.0
    shape = tf.shape(x)
    same_size = tf.logical_and(tf.equal(shape[1], image_size), tf.equal(shape[2], image_size))
    x = tf.cond(
        same_size,
        lambda: x,
        lambda: tf.image.resize(x, [image_size, image_size], antialias=True),
    )
    return tf.ensure_shape(tf.clip_by_value(x, -1.0, 1.0), [None, image_size, image_size, 3])


def _to_uint8(image: tf.Tensor) -> tf.Tensor:
    """float32 in [-1, 1] -> uint8 in [0, 255] (rounded, clipped)."""
    return tf.cast(tf.round(tf.clip_by_value((image + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)


def _image_checks(image: tf.Tensor) -> list[tf.Operation]:
    shape = tf.shape(image)
    pixels = tf.cast(shape[0], tf.int64) * tf.cast(shape[1], tf.int64) * tf.cast(shape[2], tf.int64)
    checks = [
        tf.debugging.assert_less_equal(
            pixels,
            tf.constant(contract.MAX_PIXELS_PER_REQUEST, tf.int64),
            message=f"images must hold at most {contract.MAX_PIXELS_PER_REQUEST} pixels "
            "(batch * height * width) per request",
        )
    ]
    for axis, name in ((1, "height"), (2, "width")):
        checks.append(
            tf.debugging.assert_greater_equal(
                shape[axis],
                contract.MIN_IMAGE_SIDE,
                message=f"image {name} must be >= {contract.MIN_IMAGE_SIDE}",
            )
        )
        checks.append(
            tf.debugging.assert_less_equal(
                shape[axis],
                contract.MAX_IMAGE_SIDE,
                message=f"image {name} must be <= {contract.MAX_IMAGE_SIDE}",
            )
        )
    return checks


# A letter or a digit: what the tokenizer keeps as (part of) a word. Punctuation becomes
# spaces there, and a zero-width space alone is no word either.
_WORD_CHARACTER = r"(?s).*[\pL\pN].*"


def _text_checks(text: tf.Tensor) -> list[tf.Operation]:
    max_bytes = 4 * contract.MAX_TEXT_CHARS  # a UTF-8 character has at most 4 bytes
    short_enough = tf.debugging.assert_less_equal(
        tf.strings.length(text),
        max_bytes,
        message=f"text must have at most {contract.MAX_TEXT_CHARS} characters",
    )
    with tf.control_dependencies([short_enough]):
        # errors="strict" raises InvalidArgumentError on invalid UTF-8.
        chars = tf.strings.unicode_decode(text, "UTF-8", errors="strict").row_lengths()
    few_chars = tf.debugging.assert_less_equal(
        chars,
        tf.cast(contract.MAX_TEXT_CHARS, chars.dtype),
        message=f"text must have at most {contract.MAX_TEXT_CHARS} characters",
    )
    with tf.control_dependencies([few_chars]):
        normalised = tf_text.normalize_utf8(text, "NFKC")
    has_word = tf.debugging.assert_equal(
        tf.strings.regex_full_match(normalised, _WORD_CHARACTER),
        True,
        message="text must contain a word (a letter or digit); an edit needs a description",
    )
    return [short_enough, few_chars, has_word]


def _dropped_words(text: tf.Tensor, max_words: int) -> tf.Tensor:
    """int32 [B]: words of each text beyond `max_words`, which the model's tokenizer cuts.

    Counted with the tokenizer's own normalisation and splitting (`split_words_in_graph`: NFKC,
    case folding, punctuation to spaces, whitespace tokens).
    """
    count = tf.cast(split_words_in_graph(text).row_lengths(), tf.int32)
    return tf.maximum(count - max_words, 0)


def _lookup_tables(editor: Any) -> list[Any]:
    """TrackableResources (e.g. StringLookup's hash table) reachable from `editor`.

    The walk uses checkpoint dependencies, which never trace functions.
    """
    from tensorflow.saved_model.experimental import TrackableResource

    if not isinstance(editor, tf.__internal__.tracking.Trackable):
        return []
    descendants = tf.train.TrackableView(editor).descendants()
    return [t for t in descendants if isinstance(t, TrackableResource)]


def attribute_schema_for(
    width: int,
    attribute_sizes: Sequence[int] | None,
    schema: Mapping[str, Sequence[str]] | None,
) -> dict[str, list[str]]:
    """The schema to export with a design of `width` values, checked against the model.

    Args:
        width: the design output's width (sum of the attribute sizes).
        attribute_sizes: the model's attribute sizes in order, if it says.
        schema: attribute name -> value names, in the model's order; None: generic names
            ("attribute_1": ["value_1", ...]) with a warning.

    Returns:
        The schema as a plain dict of lists.

    Raises:
        ValueError: the schema is malformed or does not match the design's segments.

    Example:
        >>> attribute_schema_for(5, [2, 3], {"colour": ["red", "blue"], "heel": ["flat", "mid", "high"]})
        {'colour': ['red', 'blue'], 'heel': ['flat', 'mid', 'high']}
    """
    sizes = list(attribute_sizes) if attribute_sizes else [width]
    if schema is None:
        logging.warning(
            "No attribute schema given: the design output is exported with generic names"
        )
        return {
            f"attribute_{k + 1}": [f"value_{v + 1}" for v in range(size)]
            for k, size in enumerate(sizes)
        }
    result = {}
    for name, values in schema.items():
        values = list(values)
        if not isinstance(name, str) or not name or not all(isinstance(v, str) for v in values):
            raise ValueError(f"attribute schema: {name!r} must map a name to value names")
        if len(set(values)) != len(values):
            raise ValueError(f"attribute schema: {name!r} has repeated values {values}")
        result[name] = values
    given = [len(values) for values in result.values()]
    if given != sizes or sum(given) != width:
        raise ValueError(
            f"attribute schema sizes {given} do not match the model's attribute sizes {sizes} "
            f"(design width {width})"
        )
    return result


class EditorExportModule(tf.Module):
    """Wraps an editor with uint8 image I/O, in-graph resizing and input checks.

    The editor itself is deliberately not an attribute: tf.saved_model.save walks every
    tracked object for functions to serialize, and a Keras model exposes an
    auto-generated default signature that cannot be traced for string inputs. Only
    what the signatures use is tracked: the captured variables and the editor's
    lookup tables.

    Args:
        editor: object following the editor contract (image_size, state_dim,
            max_words, start(images), edit(images, texts, state)); an `edit` that also
            returns "design" adds the design output and the attribute_schema signature.
        attribute_schema: attribute name -> value names for the design (see
            `attribute_schema_for`); None: the editor's `attribute_schema` attribute if it
            has one, else generic names.
    """

    def __init__(self, editor: Any, attribute_schema: Mapping[str, Sequence[str]] | None = None):
        super().__init__(name="editor_export")
        self.image_size = int(editor.image_size)
        # The state that crosses the wire (SeqAttnGAN: [h; attribute slots]).
        self.state_dim = int(getattr(editor, "serving_state_dim", editor.state_dim))
        self.max_words = int(editor.max_words)
        image_spec = tf.TensorSpec([None, None, None, 3], tf.uint8, name=contract.IMAGE_INPUT)
        text_spec = tf.TensorSpec([None], tf.string, name=contract.TEXT_INPUT)
        state_spec = tf.TensorSpec([None, self.state_dim], tf.float32, name=contract.STATE_INPUT)
        size, words, state_dim = self.image_size, self.max_words, self.state_dim

        def start(image):
            with tf.control_dependencies(_image_checks(image)):
                x = _to_model_range(image, size)
            if hasattr(editor, "start_outputs"):
                out = editor.start_outputs(x)
            else:
                out = {"state": editor.start(x)}
            state = tf.cast(out["state"], tf.float32)
            result = {contract.STATE_OUTPUT: tf.ensure_shape(state, [None, state_dim])}
            if "design" in out:
                design = tf.cast(out["design"], tf.float32)
                result[contract.DESIGN_OUTPUT] = tf.ensure_shape(design, [None, design.shape[-1]])
            return result

        def edit(image, text, state):
            batch = tf.shape(image)[0]
            checks = _image_checks(image) + _text_checks(text)
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(text)[0], batch, message="text and image batch sizes differ"
                )
            )
            checks.append(
                tf.debugging.assert_equal(
                    tf.shape(state)[0], batch, message="state and image batch sizes differ"
                )
            )
            with tf.control_dependencies(checks):
                state = tf.debugging.check_numerics(state, "state must be finite")
                x = _to_model_range(image, size)
            out = editor.edit(x, text, state)
            # The attention grid is the model's sub-region grid (S/4 for SeqAttnGAN: 16 at 64x64).
            attention_shape = [None, None, None, words]
            extra = {}
            if "design" in out:
                design = tf.cast(out["design"], tf.float32)
                extra[contract.DESIGN_OUTPUT] = tf.ensure_shape(design, [None, design.shape[-1]])
            return {
                **extra,
                contract.IMAGE_OUTPUT: tf.ensure_shape(
                    _to_uint8(out["image"]), [None, size, size, 3]
                ),
                contract.STATE_OUTPUT: tf.ensure_shape(
                    tf.cast(out["state"], tf.float32), [None, state_dim]
                ),
                contract.ATTENTION_OUTPUT: tf.ensure_shape(
                    tf.cast(out["attention"], tf.float32), attention_shape
                ),
                contract.TOKENS_OUTPUT: tf.ensure_shape(out["tokens"], [None, words]),
                contract.DROPPED_WORDS_OUTPUT: tf.ensure_shape(_dropped_words(text, words), [None]),
            }

        self.start = tf.function(start, input_signature=[image_spec])
        self.edit = tf.function(edit, input_signature=[image_spec, text_spec, state_spec])
        concrete = [self.start.get_concrete_function(), self.edit.get_concrete_function()]
        used = {id(v): v for fn in concrete for v in fn.variables}
        self.editor_variables = list(used.values())
        self.editor_tables = _lookup_tables(editor)
        # Plain strings: tf.Module would wrap a dict of lists into trackable containers.
        self.schema_json: str | None = None
        self._schema_dir: str | None = None
        design = concrete[1].structured_outputs.get(contract.DESIGN_OUTPUT)
        if design is not None:
            if attribute_schema is None:
                attribute_schema = getattr(editor, "attribute_schema", None)
            sizes = getattr(editor, "attribute_sizes", None)
            schema = attribute_schema_for(int(design.shape[-1]), sizes, attribute_schema)
            self.schema_json = json.dumps(schema, ensure_ascii=False, indent=1)
            # The asset is copied into the SavedModel's assets/ under this file name.
            self._schema_dir = tempfile.mkdtemp(prefix="attribute-schema-")
            path = os.path.join(self._schema_dir, contract.ATTRIBUTE_SCHEMA_ASSET)
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.schema_json)
            self.attribute_schema_asset = tf.saved_model.Asset(path)

            def schema_text():
                text = tf.io.read_file(self.attribute_schema_asset)
                return {contract.SCHEMA_OUTPUT: text}

            self.attribute_schema = tf.function(schema_text, input_signature=[])

    def cleanup(self) -> None:
        """Removes the temporary copy of the schema file (after saving)."""
        if self._schema_dir is not None:
            shutil.rmtree(self._schema_dir, ignore_errors=True)

    def signatures(self) -> dict[str, Any]:
        """The concrete functions to export, keyed by signature name."""
        edit = self.edit.get_concrete_function()
        signatures = {
            contract.START_SIGNATURE: self.start.get_concrete_function(),
            contract.EDIT_SIGNATURE: edit,
            contract.DEFAULT_SIGNATURE: edit,
        }
        if self.schema_json is not None:
            signatures[contract.SCHEMA_SIGNATURE] = self.attribute_schema.get_concrete_function()
        return signatures


def existing_versions(model_dir: str) -> list[int]:
    """Integer version folders under `model_dir` (sorted ascending; [] if none)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(int(name) for name in os.listdir(model_dir) if name.isdigit())


def export_editor(
    editor: Any,
    export_base_dir: str,
    model_name: str,
    version: int | None = None,
    write_warmup: bool = True,
    provenance: Mapping[str, Any] | None = None,
    attribute_schema: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """Writes `editor` as SavedModel `<export_base_dir>/<model_name>/<version>/`.

    Args:
        editor: object following the editor contract.
        export_base_dir: root of the exports (TF Serving's model base paths live below).
        model_name: model folder name (also put in the warm-up requests).
        version: integer version; None picks 1 + the largest existing version (or 1).
        write_warmup: whether to write `assets.extra/tf_serving_warmup_requests`.
        provenance: what the version was made from (e.g. {"run_dir", "data_build": the build's
          fingerprint}); written as `assets.extra/provenance.json` (TF Serving ignores the
          folder's other files; the version carries its own record).
        attribute_schema: attribute name -> value names of the design (editors with
            attribute slots; see `EditorExportModule`).

    Returns:
        The path of the new version folder.

    Raises:
        ValueError: on an empty model name or a negative version.
        FileExistsError: if the version folder already exists.
    """
    if not model_name or os.sep in model_name:
        raise ValueError(f"model_name must be a non-empty folder name, got {model_name!r}")
    model_dir = os.path.join(export_base_dir, model_name)
    os.makedirs(model_dir, exist_ok=True)
    if version is None:
        version = (existing_versions(model_dir) or [0])[-1] + 1
    if version < 0:
        raise ValueError(f"version must be >= 0, got {version}")
    final_dir = os.path.join(model_dir, str(version))
    if os.path.exists(final_dir):
        raise FileExistsError(f"version folder already exists: {final_dir}")

    # Traces the signatures: fails early on a bad editor.
    module = EditorExportModule(editor, attribute_schema)
    # Hidden, non-integer name: ignored by TF Serving and by serving/server.py.
    tmp_dir = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=model_dir)
    try:
        tf.saved_model.save(module, tmp_dir, signatures=module.signatures())
        if write_warmup:  # one request per exported signature
            requests = warmup.warmup_requests(
                model_name, module.image_size, module.state_dim, tuple(module.signatures())
            )
            warmup.write_warmup_file(tmp_dir, requests)
        if provenance is not None:
            extra_dir = os.path.join(tmp_dir, "assets.extra")
            os.makedirs(extra_dir, exist_ok=True)
            write_json_atomically(os.path.join(extra_dir, PROVENANCE_FILENAME), dict(provenance))
        os.chmod(tmp_dir, 0o755)  # mkdtemp creates 0700; the server may run as another user.
        os.rename(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    finally:
        module.cleanup()
    return final_dir
