"""The wire contract shared by the exporter, the server, the client and the tests.

Every name that crosses the process boundary lives here, so the exporter that
writes the SavedModel and the client that calls it can never disagree (the
TF Serving `mnist_client.py` habit: never rely on auto-generated tensor names).

Signatures (one SavedModel per integer version folder):

* ``start``: ``image`` uint8 [B, H, W, 3] -> ``state`` float32 [B, state_dim] and, for a
  model with attribute slots, ``design`` (below): what the model read off the image.
* ``edit`` (also exported as ``serving_default``): ``image`` uint8 [B, H, W, 3],
  ``text`` string [B], ``state`` float32 [B, state_dim] -> ``image`` uint8
  [B, S, S, 3], ``state`` float32 [B, state_dim], ``attention`` float32
  [B, S/4, S/4, max_words] (the generator's sub-region grid), ``tokens`` string [B, max_words], ``dropped_words`` int32
  [B] (how many words beyond the model's max_words were ignored; 0 when none), and, for a
  model with attribute slots, ``design`` float32 [B, sum of attribute sizes]: the design
  the returned state holds, one segment of value probabilities per attribute, in the order
  of the attribute schema.
* ``attribute_schema`` (only in exports whose edit signature has ``design``): no inputs ->
  ``attribute_schema`` string scalar, the JSON of the export's
  ``assets/attribute_schema.json``: an object attribute name -> list of value names, both in
  the order of the design's segments. A client reads it once per model version.

Images of any size within [MIN_IMAGE_SIDE, MAX_IMAGE_SIDE] are accepted and
resized in-graph to the model resolution S. Texts must be valid UTF-8, contain at
least one word character (a letter or digit after NFKC normalisation: an empty edit,
"!!!" or a lone zero-width space is rejected with INVALID_ARGUMENT rather than
silently treated as "no change") and at most MAX_TEXT_CHARS characters. Only the
first max_words words (the tokens output's width) reach the model; the rest are
counted in ``dropped_words``. States must be finite. A request's image inputs hold at
most MAX_PIXELS_PER_REQUEST pixels (batch * H * W), and every tensor must carry
exactly the number of values its shape declares.
"""

from __future__ import annotations

# Signature names.
START_SIGNATURE = "start"
EDIT_SIGNATURE = "edit"
DEFAULT_SIGNATURE = "serving_default"  # The same function as EDIT_SIGNATURE.
SIGNATURES = (START_SIGNATURE, EDIT_SIGNATURE, DEFAULT_SIGNATURE)
# Exported beside those by models whose edit signature returns DESIGN_OUTPUT.
SCHEMA_SIGNATURE = "attribute_schema"

# Input tensor names.
IMAGE_INPUT = "image"
TEXT_INPUT = "text"
STATE_INPUT = "state"

# Output tensor names.
IMAGE_OUTPUT = "image"
STATE_OUTPUT = "state"
ATTENTION_OUTPUT = "attention"
TOKENS_OUTPUT = "tokens"
DROPPED_WORDS_OUTPUT = "dropped_words"  # int32 [B]: words beyond max_words, ignored
# float32 [B, sum of attribute sizes]: the design the state holds, as value probabilities
# per attribute segment (models with attribute slots only; older exports lack it).
DESIGN_OUTPUT = "design"
SCHEMA_OUTPUT = "attribute_schema"  # string []: JSON {attribute: [value, ...]} in design order

START_INPUTS = (IMAGE_INPUT,)
START_OUTPUTS = (STATE_OUTPUT,)
EDIT_INPUTS = (IMAGE_INPUT, TEXT_INPUT, STATE_INPUT)
EDIT_OUTPUTS = (
    IMAGE_OUTPUT,
    STATE_OUTPUT,
    ATTENTION_OUTPUT,
    TOKENS_OUTPUT,
    DROPPED_WORDS_OUTPUT,
)

# Limits. Requests beyond the MAX_* limits are refused with RESOURCE_EXHAUSTED by the
# project's server (before the model runs) and with INVALID_ARGUMENT by the in-graph
# checks when the SavedModel runs elsewhere (TF Serving).
MAX_TEXT_CHARS = 1000
MIN_IMAGE_SIDE = 8
MAX_IMAGE_SIDE = 2048
MAX_BATCH_SIZE = 64
# batch * H * W of one request's images: 4 images of 2048x2048, or 64 of 512x512 (48 MiB
# of uint8, 192 MiB once converted to float32 in the graph). Checked before decoding.
MAX_PIXELS_PER_REQUEST = 1 << 24

# gRPC transport.
DEFAULT_PORT = 8500
DEFAULT_HOST = "127.0.0.1"
# The largest request the limits above allow is MAX_PIXELS_PER_REQUEST uint8 RGB pixels
# (48 MiB) plus at most MAX_BATCH_SIZE texts of 4 * MAX_TEXT_CHARS bytes (250 KiB) and a
# float32 state per element; MESSAGE_MARGIN_BYTES (4 MiB) covers the texts, states up to
# ~15,000 floats wide (a 64-px model with edit.anchor="first" carries x_0 in its state:
# 12,288 floats plus [h; a]) and the protobuf framing. A bigger message is refused by gRPC itself
# with RESOURCE_EXHAUSTED before it is read into memory.
MESSAGE_MARGIN_BYTES = 4 * 1024 * 1024
MAX_MESSAGE_BYTES = 3 * MAX_PIXELS_PER_REQUEST + MESSAGE_MARGIN_BYTES  # 52 MiB
# Calls a server holds at once, running or waiting for a worker thread; one more is refused
# with RESOURCE_EXHAUSTED at once instead of queueing without bound.
MAX_CONCURRENT_RPCS = 64

# The attribute schema file, in the SavedModel's assets/ folder.
ATTRIBUTE_SCHEMA_ASSET = "attribute_schema.json"

# TF Serving warm-up file, relative to the SavedModel directory.
WARMUP_DIR = "assets.extra"
WARMUP_FILENAME = "tf_serving_warmup_requests"
