"""SessionBackbone: the parts of one edit turn (text encoding, state, attribute slots, drawing)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from seqgan_tf.models import attribute_slots as slots
from seqgan_tf.models.attribute_editor import AttributeEditor
from seqgan_tf.models.attribute_reader import AttributeReader
from seqgan_tf.models.blocks import to_float32
from seqgan_tf.models.edit_generator import EditGenerator
from seqgan_tf.models.edit_unet import EditUNet
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.image_encoder import ImageEncoder
from seqgan_tf.models.state_tracker import StateTracker
from seqgan_tf.models.text_encoder import TextEncoder
from seqgan_tf.models.upsampler import Upsampler
from seqgan_tf.models.word_attention import WordAttention

Tensors = dict[str, tf.Tensor]  # a turn's parts or outputs, by name
# Slots of the edit generator's templates when the state has no attribute slots.
LATENT_SLOTS = (8,) * 8
# Every part, in the order it is built (a model's variables, and so its optimizers' slots, are
# listed in this order). A part the configuration does not use is None.
PARTS = (
    *("text_encoder", "image_encoder", "state_tracker", "upsampler", "attention", "generator"),
    *("latent_design", "attribute_reader", "attribute_editor"),
)


class SessionBackbone:
    """The parts of one turn and the methods that run them, on word ids (paper section 4).

    A turn: the text encoder reads the words o_t (`encode_text`); the state tracker, and with
    attribute slots the attribute editor, update the state (`track`); the generator draws the
    turn's image (`draw`); the attribute reader reads a design off an image (`read`, and
    `start` for x_0). `edit` is one served turn. The session unroll and the training task
    (SeqAttnGAN, which holds a backbone with the tokenizer, D and the optimizers) use only
    these methods and the settings below.

    The backbone is not a Keras layer: its parts are Keras layers that the task tracks under
    their own names (`parts`), which is the layout of every weight file written so far.

    Args (as SeqAttnGAN's; see it for what each switch does):
      vocab_size: word ids are in [0, vocab_size).
      attribute_sizes, image_size, max_words, embedding_dim, text_dim, state_dim, noise_dim,
      gf_dim, ef_dim, use_attention, use_history, edit_mode, attribute_state, edit_generator,
      read_previous, mask_threshold, resnet101_weights.
      anchor: "previous": a turn redraws the image it is given. "first": the serving state
        also carries the session's first image x_0 (flattened, after [h; a]), and every turn
        redraws x_0 from the design read off it to a_t; the image a turn is given is not
        drawn from (a client that sends the last output gets the same answer).
      colour_transform: the EditUNet's drawing, "gain" or "matrix" (see EditUNet).
      appearance_flow: the EditUNet also moves the pixels by a dense flow (see EditUNet).

    Raises:
      ValueError: a switch needs another that is off (attribute_state without edit_mode or a
        schema, mask_threshold without edit_mode, read_previous without attribute_state,
        anchor="first" without attribute_state), or edit_generator or anchor is unknown.
    """

    def __init__(
        self,
        vocab_size: int,
        attribute_sizes: Sequence[int] = (),
        image_size: int = 64,
        max_words: int = 16,
        embedding_dim: int = 128,
        text_dim: int = 300,
        state_dim: int = 128,
        noise_dim: int = 100,
        gf_dim: int = 32,
        ef_dim: int = 32,
        use_attention: bool = True,
        use_history: bool = True,
        edit_mode: bool = False,
        attribute_state: bool = False,
        edit_generator: str = "unet",
        read_previous: bool = False,
        mask_threshold: float = 0.0,
        resnet101_weights: str = "",
        anchor: str = "previous",
        colour_transform: str = "gain",
        appearance_flow: bool = False,
    ):
        if anchor not in ("previous", "first"):
            raise ValueError(f"anchor must be 'previous' or 'first', got {anchor!r}")
        if anchor == "first" and not attribute_state:
            raise ValueError("anchor='first' needs attribute_state")
        if attribute_state and not (edit_mode and attribute_sizes):
            raise ValueError("attribute_state needs edit_mode and a non-empty attribute_sizes")
        if mask_threshold and not edit_mode:
            raise ValueError("mask_threshold applies to edit_mode only")
        if edit_generator not in ("unet", "templates"):
            raise ValueError(
                f"edit_generator must be 'unet' or 'templates', got {edit_generator!r}"
            )
        if read_previous and not attribute_state:
            raise ValueError("read_previous needs attribute_state")
        self.attribute_sizes = [int(s) for s in attribute_sizes]
        self.image_size, self.max_words, self.text_dim = image_size, max_words, text_dim
        self.state_dim, self.noise_dim = state_dim, noise_dim
        self.use_attention, self.use_history = use_attention, use_history
        self.edit_mode, self.attribute_state = edit_mode, attribute_state
        self.read_previous, self.anchor = read_previous, anchor
        # Template slots: the schema's attributes, or latent ones without attribute slots.
        self.slot_sizes = self.attribute_sizes if attribute_state else LATENT_SLOTS
        for name in PARTS:
            setattr(self, name, None)

        self.text_encoder = TextEncoder(vocab_size, embedding_dim, text_dim, name="text_encoder")
        self.image_encoder = ImageEncoder(
            state_dim,
            ef_dim,
            image_size,
            resnet101_weights,
            return_regions=False,
            name="image_encoder",
        )
        self.state_tracker = StateTracker(state_dim, name="state_tracker")
        if not edit_mode:
            self.upsampler = Upsampler(gf_dim, image_size, name="upsampler")
            self.attention = WordAttention(self.upsampler.channels, name="attention")
            self.generator = Generator(gf_dim, image_size, name="generator")
        elif edit_generator == "unet":
            self.generator = EditUNet(
                gf_dim,
                image_size,
                mask_threshold=mask_threshold,
                colour_transform=colour_transform,
                appearance_flow=appearance_flow,
                name="generator",
            )
        else:
            self.generator = EditGenerator(
                self.slot_sizes, gf_dim, image_size, mask_threshold=mask_threshold, name="generator"
            )
        if edit_mode and not attribute_state:
            self.latent_design = keras.layers.Dense(sum(self.slot_sizes), name="latent_design")
        if attribute_state:
            self.attribute_reader = AttributeReader(
                self.attribute_sizes, ef_dim, image_size, name="attribute_reader"
            )
            self.attribute_editor = AttributeEditor(
                self.attribute_sizes, text_dim, use_attention, name="attribute_editor"
            )

    @property
    def parts(self) -> dict[str, keras.layers.Layer]:
        """The Keras layers this configuration uses, by name, in the order they are built."""
        return {name: getattr(self, name) for name in PARTS if getattr(self, name) is not None}

    @property
    def design_dim(self) -> int:
        """Width of the attribute slots in the state (0 without them)."""
        return sum(self.attribute_sizes) if self.attribute_state else 0

    @property
    def serving_state_dim(self) -> int:
        """Width of the state that crosses the wire: [h; attribute slots], and with
        anchor="first" the first image, flattened (S * S * 3)."""
        first = self.image_size * self.image_size * 3 if self.anchor == "first" else 0
        return self.state_dim + self.design_dim + first

    def split_state(self, state: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor | None, tf.Tensor]:
        """state -> (h [N, state_dim], design [N, design_dim] or None, the rest: the first
        image, flattened, with anchor="first", else [N, 0])."""
        d = self.state_dim + self.design_dim
        design = state[:, self.state_dim : d] if self.attribute_state else None
        return state[:, : self.state_dim], design, state[:, d:]

    def with_design(self, state: tf.Tensor, design: tf.Tensor) -> tf.Tensor:
        """state with its attribute slots replaced by `design` (teacher forcing)."""
        h, _, rest = self.split_state(state)
        return tf.concat([h, design, rest], axis=-1)

    def first_image(self, state: tf.Tensor) -> tf.Tensor:
        """The session's first image [N,S,S,3] that an anchor="first" state carries."""
        s = self.image_size
        return tf.reshape(self.split_state(state)[2], [-1, s, s, 3])

    # ------------------------------------------------------------------ reading
    def encode_text(self, ids: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """word ids int32 [N,L] -> (words [N,L,D], sentence [N,D], mask [N,L])."""
        return to_float32(self.text_encoder(ids))

    def read(self, images: tf.Tensor) -> tf.Tensor:
        """The attribute reader's logits [N, sum(attribute_sizes)] for images [N,S,S,3]."""
        return to_float32(self.attribute_reader(images))

    def start(self, images: tf.Tensor) -> tf.Tensor:
        """First image(s) [N,S,S,3] in [-1,1] -> initial serving state [N, serving_state_dim]."""
        return self.start_outputs(images)["state"]

    def start_outputs(self, images: tf.Tensor, design: tf.Tensor | None = None) -> Tensors:
        """`start` with what the model read: dict "state" and, with attribute slots, "design"
        [N, sum(attribute_sizes)], the attribute reader's value probabilities per attribute
        (the state holds each segment's most probable value). `design` forces a_0 (teacher
        forcing: the reader is not run)."""
        _, v0 = self.image_encoder(images)
        h0 = to_float32(self.state_tracker.initial_state(v0))
        if not self.attribute_state:
            return {"state": h0}
        first = []
        if self.anchor == "first":
            first = [tf.reshape(tf.cast(images, tf.float32), [tf.shape(images)[0], -1])]
        if design is not None:
            return {"state": tf.concat([h0, design, *first], axis=-1)}
        read = slots.segment_softmax(self.read(images), self.attribute_sizes)
        design = slots.segment_one_hot(read, self.attribute_sizes)
        return {"state": tf.concat([h0, design, *first], axis=-1), "design": read}

    # ------------------------------------------------------------------ one turn
    def track(
        self,
        state: tf.Tensor,
        words: tf.Tensor,
        sentence: tf.Tensor,
        word_mask: tf.Tensor,
        design: tf.Tensor | None = None,
    ) -> Tensors:
        """The dialogue part of a turn: (state_{t-1}, o_t) -> dict "state" (state_t) and, with
        attribute slots, the editor's "change_logits", "value_logits", "design" a_t and
        "previous_design" a_{t-1}. `design` forces a_t (teacher forcing); otherwise each slot
        takes the editor's value where it predicts a change (hard decisions)."""
        h, previous, rest = self.split_state(state)
        if not self.use_history:
            h = tf.zeros_like(h)
            previous = None if previous is None else tf.zeros_like(previous)
        out = {"h_prev": h}
        if not self.attribute_state:
            out["h"] = to_float32(self.state_tracker.step(h, sentence))
            out["state"] = out["h"]
            return out
        change, values, _ = to_float32(self.attribute_editor(words, word_mask, h, previous))
        if design is None:
            design = slots.apply_changes(change, values, previous, self.attribute_sizes)
        out.update(change_logits=change, value_logits=values)
        out.update(design=design, previous_design=previous)
        out["h"] = to_float32(self.state_tracker.step(h, tf.concat([sentence, design], axis=-1)))
        out["state"] = tf.concat([out["h"], design, rest], axis=-1)
        return out

    def draw(
        self,
        tracked: Tensors,
        sentence: tf.Tensor,
        words: tf.Tensor,
        word_mask: tf.Tensor,
        noise: tf.Tensor,
        previous_image: tf.Tensor,
        training: bool = False,
    ) -> Tensors:
        """The drawing part of a turn, for any batch of turns -> dict "image", "attention"
        (and "drawn", "mask" in edit mode)."""
        if not self.edit_mode:
            regions = self.upsampler(tf.concat([tracked["h_prev"], noise], axis=-1))
            context, weights = self.attention(regions, words, word_mask)
            if not self.use_attention:
                context = tf.zeros_like(context)
            image = self.generator(regions, context, tracked["h"])
            return to_float32({"image": image, "attention": weights})
        if self.attribute_state:
            design, previous_design = tracked["design"], tracked["previous_design"]
        else:  # latent slots read from the state (no attribute supervision)
            design, previous_design = (
                slots.segment_softmax(self.latent_design(tracked[h]), self.slot_sizes)
                for h in ("h", "h_prev")
            )
        if not self.use_attention:
            word_mask = tf.zeros_like(word_mask)  # no word is attended: zero context
        if not self.use_history:
            previous_image = tf.zeros_like(previous_image)
        condition = tf.concat([tracked["h"], sentence, noise], axis=-1)
        parts = (previous_image, design, previous_design, condition, words, word_mask)
        return to_float32(self.generator(*parts, compose=self.use_history, training=training))

    def edit(self, images: tf.Tensor, ids: tf.Tensor, state: tf.Tensor) -> Tensors:
        """One served turn. images: the current image [N,S,S,3] in [-1,1] (with
        anchor="first" the first image in the state is redrawn instead); ids: word ids
        [N,L]; state [N, serving_state_dim]. Zero noise: the same request gives the same
        answer. Returns "image", "state", "attention" and, with attribute slots, "design"
        [N, sum(attribute_sizes)]: the design the state now holds, as value probabilities
        (`attribute_slots.design_probabilities`)."""
        words, sentence, mask = self.encode_text(ids)
        tracked = self.track(state, words, sentence, mask)
        to_draw = dict(tracked)
        source = images
        if self.anchor == "first":  # redraw x_0 from the design read off it (= start's a_0)
            source = self.first_image(state)
        if self.read_previous or self.anchor == "first":  # from what the image shows
            to_draw["previous_design"] = slots.segment_one_hot(
                self.read(source), self.attribute_sizes
            )
        noise = tf.zeros([tf.shape(state)[0], self.noise_dim], tf.float32)
        drawn = self.draw(to_draw, sentence, words, mask, noise, source)
        out = {"image": drawn["image"], "state": tracked["state"], "attention": drawn["attention"]}
        if self.attribute_state:
            out["design"] = slots.design_probabilities(
                tracked["change_logits"],
                tracked["value_logits"],
                tracked["previous_design"],
                self.attribute_sizes,
            )
        return out
