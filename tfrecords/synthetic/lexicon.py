"""Words for the synthetic description grammar: one Lexicon per dataset.

Every phrase that names an attribute value lives here, so the grammar can only mention an
attribute through these phrases and `grammar.mentioned_attributes` can parse them back.
Phrases are lower case; noun phrases carry their article.
"""

from __future__ import annotations

import dataclasses

from tfrecords.synthetic.palette import COLOURS

Phrases = dict[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Comparative:
    """Ways to say "one step up/down" an ordered attribute (e.g. "a higher heel").

    Attributes:
      adjectives: predicate adjectives ("darker").
      nouns: noun phrases ("a higher heel").
      propositions: noun phrases with a relative clause ("a heel that is a bit higher").
      imperatives: complete imperative verb phrases ("raise the heel a little").
    """

    adjectives: tuple[str, ...] = ()
    nouns: tuple[str, ...] = ()
    propositions: tuple[str, ...] = ()
    imperatives: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class AttributeWords:
    """Phrases for one attribute.

    Attributes:
      kind: "identity" (is a sneaker), "property" (is red) or "part" (has laces).
      adjectives: value -> predicate adjectives ("red", "lace-up").
      nouns: value -> noun phrases ("laces", "a high heel").
      propositions: value -> noun phrases with a relative clause.
      imperatives: value -> complete imperative verb phrases ("make the sole white").
      removal: values that mean "nothing"; a change to them may say "remove the <old>".
      removal_nouns: value -> bare nouns used after "remove the".
      order: the ordered values comparatives move along (empty: no comparatives).
      up, down: comparative phrases for one step along `order`.
    """

    kind: str
    adjectives: Phrases = dataclasses.field(default_factory=dict)
    nouns: Phrases = dataclasses.field(default_factory=dict)
    propositions: Phrases = dataclasses.field(default_factory=dict)
    imperatives: Phrases = dataclasses.field(default_factory=dict)
    removal: tuple[str, ...] = ()
    removal_nouns: Phrases = dataclasses.field(default_factory=dict)
    order: tuple[str, ...] = ()
    up: Comparative = Comparative()
    down: Comparative = Comparative()


@dataclasses.dataclass(frozen=True)
class Lexicon:
    """All phrases of one dataset.

    Attributes:
      item_nouns: generic nouns for the item that name no attribute ("shoe", "piece").
      attributes: attribute name -> AttributeWords.
    """

    item_nouns: tuple[str, ...]
    attributes: dict[str, AttributeWords]


COLOUR_ADJECTIVES: Phrases = {
    "black": ("black", "jet black", "all black", "pitch black"),
    "white": ("white", "bright white", "snow white", "pure white"),
    "grey": ("grey", "gray", "ash grey", "slate gray", "stone grey"),
    "brown": ("brown", "chocolate brown", "coffee brown", "chestnut brown"),
    "tan": ("tan", "beige", "camel", "sand colored", "khaki"),
    "red": ("red", "bright red", "scarlet", "cherry red", "crimson"),
    "pink": ("pink", "light pink", "rose pink", "bubblegum pink", "baby pink"),
    "orange": ("orange", "bright orange", "tangerine", "pumpkin orange"),
    "yellow": ("yellow", "bright yellow", "lemon yellow", "sunny yellow", "canary yellow"),
    "green": ("green", "grass green", "emerald green", "kelly green", "forest green"),
    "blue": ("blue", "bright blue", "royal blue", "cobalt blue", "sky blue"),
    "navy": ("navy", "navy blue", "dark blue", "midnight blue"),
    "purple": ("purple", "violet", "deep purple", "plum", "lilac purple"),
}
assert set(COLOUR_ADJECTIVES) == set(COLOURS)


def _colour_words(surface: str) -> AttributeWords:
    adjectives = COLOUR_ADJECTIVES
    return AttributeWords(
        kind="property",
        adjectives=adjectives,
        nouns={
            c: (f"a {a[0]} color", f"a {a[1]} shade", f"{a[0]} {surface}")
            for c, a in adjectives.items()
        },
        propositions={
            c: (f"a color that is {a[0]}", f"{surface} that is {a[1]}", f"a shade that is {a[-1]}")
            for c, a in adjectives.items()
        },
        order=(),  # colour comparatives follow palette.SHADE_FAMILIES, see grammar.py
        up=Comparative(  # darker
            adjectives=(
                "darker",
                "a bit darker",
                "a shade darker",
                "slightly darker",
                "a little darker",
                "deeper in tone",
            ),
            nouns=("a darker color", "a darker shade", "a deeper tone", "a richer darker hue"),
            propositions=(
                "a color that is a shade darker",
                "a tone that is darker than before",
                "a hue that is a little deeper",
            ),
            imperatives=(
                "darken the color",
                "make the color darker",
                "go a shade darker",
                "tone the color down",
            ),
        ),
        down=Comparative(  # lighter
            adjectives=(
                "lighter",
                "a bit lighter",
                "a shade lighter",
                "slightly lighter",
                "paler",
                "brighter in tone",
            ),
            nouns=("a lighter color", "a lighter shade", "a paler tone", "a softer lighter hue"),
            propositions=(
                "a color that is a shade lighter",
                "a tone that is lighter than before",
                "a hue that is a little paler",
            ),
            imperatives=(
                "lighten the color",
                "make the color lighter",
                "go a shade lighter",
                "tone the color up",
            ),
        ),
    )


def _pattern_words(stripe_word: str, extra: Phrases, extra_props: Phrases) -> AttributeWords:
    nouns: Phrases = {
        "solid": (
            "a solid color",
            "no pattern",
            "a plain finish",
            "a single flat color",
            "no print",
        ),
        "stripes": (
            "stripes",
            "a striped pattern",
            f"{stripe_word} stripes",
            "bold stripes",
            "wide stripes",
        ),
        "dots": ("polka dots", "dots", "a dotted pattern", "round dots", "a polka dot print"),
        "checks": (
            "checks",
            "a checkered pattern",
            "a check print",
            "a checkerboard pattern",
            "gingham checks",
        ),
    }
    nouns.update({k: v for k, v in extra.items()})
    props: Phrases = {
        "solid": ("a surface that has no pattern at all", "a finish that is totally plain"),
        "stripes": ("a pattern that is made of stripes", "a print that runs in broad stripes"),
        "dots": ("a pattern that is covered in dots", "a print that has little round dots"),
        "checks": ("a pattern that looks like a checkerboard", "a print that is made of squares"),
    }
    props.update(extra_props)
    adjectives: Phrases = {
        "solid": ("plain", "solid colored", "unpatterned", "one solid color"),
        "stripes": ("striped", "stripy", "banded"),
        "dots": ("polka dot", "dotted", "polka dotted"),
        "checks": ("checkered", "checked", "gingham"),
    }
    return AttributeWords(
        kind="part",
        adjectives=adjectives,
        nouns=nouns,
        propositions=props,
        removal=("solid",),
        removal_nouns={
            "stripes": ("stripes", "striped pattern"),
            "dots": ("dots", "polka dots"),
            "checks": ("checks", "check pattern"),
            "zebra": ("animal print", "zebra print"),
            "floral": ("flowers", "floral print"),
        },
    )


def _with_adjectives(words: AttributeWords, adjectives: Phrases) -> AttributeWords:
    return dataclasses.replace(words, adjectives={**words.adjectives, **adjectives})


_SHOE_PATTERN = _with_adjectives(
    _pattern_words(
        "vertical",
        {
            "zebra": (
                "animal print",
                "zebra print",
                "a zebra pattern",
                "an animal pattern",
                "zebra markings",
                "a wild animal print",
            )
        },
        {
            "zebra": (
                "a pattern that looks like zebra skin",
                "a print that resembles a wild animal",
            )
        },
    ),
    {"zebra": ("zebra printed", "animal printed")},
)

_GARMENT_PATTERN = _with_adjectives(
    _pattern_words(
        "horizontal",
        {
            "floral": (
                "flowers",
                "a floral print",
                "a flower pattern",
                "little flowers",
                "a blossom print",
                "daisies",
            )
        },
        {"floral": ("a print that is covered in flowers", "a pattern that has little blossoms")},
    ),
    {"floral": ("floral", "flowery", "flowered")},
)

SHOE_LEXICON = Lexicon(
    item_nouns=("shoe", "pair", "style", "design", "model", "option", "version"),
    attributes={
        "category": AttributeWords(
            kind="identity",
            adjectives={
                "sneaker": ("sporty", "athletic"),
                "boot": ("knee high",),
                "sandal": ("strappy",),
            },
            nouns={
                "sneaker": (
                    "a sneaker",
                    "a trainer",
                    "a sporty sneaker",
                    "a running shoe",
                    "a canvas sneaker",
                    "an athletic shoe",
                ),
                "boot": (
                    "a tall boot",
                    "a knee high boot",
                    "a riding boot",
                    "a long boot",
                    "a knee boot",
                ),
                "ankle_boot": (
                    "an ankle boot",
                    "a bootie",
                    "a short boot",
                    "an ankle bootie",
                    "a chukka",
                ),
                "pump": ("a pump", "a court shoe", "a dress pump", "a classic pump"),
                "loafer": ("a loafer", "a moccasin", "a driving loafer", "a moccasin style loafer"),
                "sandal": ("a sandal", "a strappy sandal", "an open sandal", "a summer sandal"),
            },
            propositions={
                "sneaker": (
                    "a shoe that is made for running",
                    "a shoe that looks sporty and casual",
                ),
                "boot": ("a boot that reaches up to the knee", "a boot that covers the whole calf"),
                "ankle_boot": (
                    "a boot that stops at the ankle",
                    "a boot that ends just above the ankle",
                ),
                "pump": (
                    "a shoe that has a low cut top",
                    "a shoe that leaves the top of the foot bare",
                ),
                "loafer": ("a shoe that has a moccasin seam", "a shoe that looks like a moccasin"),
                "sandal": ("a shoe that is made of thin bands", "a shoe that is open on the sides"),
            },
        ),
        "colour": _colour_words("leather"),
        "heel": AttributeWords(
            kind="part",
            adjectives={
                "flat": ("flat", "completely flat", "flat soled"),
                "low": ("low heeled", "slightly heeled"),
                "mid": ("mid heeled", "medium heeled"),
                "high": ("high heeled", "sky high", "stiletto heeled"),
            },
            nouns={
                "flat": ("no heel", "a flat heel", "flat heels", "a flat base"),
                "low": ("a low heel", "a small heel", "a short heel", "a kitten heel", "low heels"),
                "mid": (
                    "a mid heel",
                    "a medium heel",
                    "a moderate heel",
                    "a mid height heel",
                    "a block heel of medium height",
                ),
                "high": (
                    "a high heel",
                    "a tall heel",
                    "a stiletto heel",
                    "a very high heel",
                    "high heels",
                ),
            },
            propositions={
                "flat": ("a heel that is completely flat", "a base that sits flat on the ground"),
                "low": ("a heel that is just a little raised", "a heel that is quite low"),
                "mid": ("a heel that is of medium height", "a heel that is neither high nor low"),
                "high": ("a heel that is very high", "a heel that lifts the foot a lot"),
            },
            order=("flat", "low", "mid", "high"),
            up=Comparative(
                adjectives=("higher at the heel", "taller at the back"),
                nouns=(
                    "a higher heel",
                    "a taller heel",
                    "a slightly higher heel",
                    "a bit more heel",
                    "more height in the heel",
                ),
                propositions=("a heel that is a bit higher", "a heel that is taller than this one"),
                imperatives=("raise the heel a little", "make the heel higher", "bump up the heel"),
            ),
            down=Comparative(
                adjectives=("lower at the heel", "less tall at the back"),
                nouns=(
                    "a lower heel",
                    "a shorter heel",
                    "a slightly lower heel",
                    "less heel",
                    "less height in the heel",
                ),
                propositions=("a heel that is a bit lower", "a heel that is shorter than this one"),
                imperatives=(
                    "lower the heel a little",
                    "make the heel lower",
                    "bring the heel down",
                ),
            ),
        ),
        "sole": AttributeWords(
            kind="part",
            nouns={
                "black": ("a black sole", "black soles", "a dark rubber sole", "a black outsole"),
                "white": ("a white sole", "white soles", "a white rubber sole", "a white outsole"),
                "gum": (
                    "a gum sole",
                    "a gum rubber sole",
                    "a caramel sole",
                    "a honey colored sole",
                ),
            },
            propositions={
                "black": ("a sole that is black", "a bottom that is dark"),
                "white": ("a sole that is white", "a bottom that is bright and clean"),
                "gum": ("a sole that is made of gum rubber", "a bottom that is caramel colored"),
            },
            imperatives={
                "black": ("make the sole black", "use a black sole"),
                "white": ("make the sole white", "put it on a white sole"),
                "gum": ("make the sole gum rubber", "put it on a gum sole"),
            },
        ),
        "toe": AttributeWords(
            kind="part",
            adjectives={
                "round": ("round toed", "round toe"),
                "pointed": ("pointy", "pointed", "pointy toed"),
                "open": ("open toed", "peep toe"),
            },
            nouns={
                "round": (
                    "a round toe",
                    "a rounded toe",
                    "a round toe box",
                    "a soft rounded front",
                ),
                "pointed": (
                    "a pointed toe",
                    "a pointy toe",
                    "a sharp toe",
                    "a narrow pointed front",
                ),
                "open": ("an open toe", "a peep toe", "an open front", "a cut out toe"),
            },
            propositions={
                "round": ("a toe that is nicely rounded", "a front that curves round at the end"),
                "pointed": ("a toe that comes to a sharp point", "a front that narrows to a point"),
                "open": ("a toe that is open", "a front that shows the toes"),
            },
        ),
        "closure": AttributeWords(
            kind="part",
            adjectives={
                "laces": ("lace up", "laced"),
                "buckle": ("buckled",),
                "zipper": ("zip up", "zippered"),
                "slip_on": ("slip on", "fastener free"),
            },
            nouns={
                "laces": ("laces", "shoelaces", "a lace up front", "criss cross laces"),
                "buckle": (
                    "a buckle",
                    "a monk strap with a buckle",
                    "a big metal buckle",
                    "a buckled strap",
                ),
                "zipper": ("a zipper", "a zip", "a zip at the back", "a back zipper"),
                "slip_on": ("no fastening", "no fasteners", "a slip on design"),
            },
            propositions={
                "laces": ("laces that cross over the instep", "laces that tie up the front"),
                "buckle": (
                    "a strap that fastens with a buckle",
                    "a buckle that closes across the top",
                ),
                "zipper": ("a zipper that runs up the back", "a zip that closes at the heel"),
                "slip_on": (
                    "an opening that you simply slip into",
                    "a design that needs no fastening at all",
                ),
            },
            removal=("slip_on",),
            removal_nouns={
                "laces": ("laces", "shoelaces"),
                "buckle": ("buckle", "buckled strap"),
                "zipper": ("zipper", "zip"),
            },
        ),
        "pattern": _SHOE_PATTERN,
        "strap": AttributeWords(
            kind="part",
            adjectives={"ankle": ("ankle strapped",), "t_strap": ("t strapped",)},
            nouns={
                "none": ("no strap", "no straps", "no extra strap"),
                "ankle": (
                    "an ankle strap",
                    "a strap around the ankle",
                    "an ankle wrap",
                    "a band around the ankle",
                ),
                "t_strap": ("a t strap", "a t shaped strap", "a t bar strap", "a t bar"),
            },
            propositions={
                "none": ("an ankle that is left free", "a back that has no strap"),
                "ankle": (
                    "a strap that goes around the ankle",
                    "a strap that wraps around the ankle",
                    "a band that circles the ankle",
                ),
                "t_strap": (
                    "a strap that runs down the front in a t shape",
                    "a strap that forms a t over the foot",
                ),
            },
            removal=("none",),
            removal_nouns={
                "ankle": ("ankle strap", "strap around the ankle"),
                "t_strap": ("t strap", "t shaped strap"),
            },
        ),
    },
)

GARMENT_LEXICON = Lexicon(
    item_nouns=("piece", "outfit", "garment", "item", "look", "design", "style", "version"),
    attributes={
        "category": AttributeWords(
            kind="identity",
            nouns={
                "dress": (
                    "a dress",
                    "a flared dress",
                    "an a line dress",
                    "a skater dress",
                    "a fit and flare dress",
                ),
                "tunic": (
                    "a tunic",
                    "a straight tunic",
                    "a shift",
                    "a loose tunic",
                    "a simple shift",
                ),
                "shirt": (
                    "a shirt",
                    "a button up shirt",
                    "a button down shirt",
                    "a buttoned shirt",
                    "a blouse with buttons",
                ),
                "coat": (
                    "a coat",
                    "a belted coat",
                    "a trench coat",
                    "an overcoat",
                    "a belted jacket",
                ),
                "jumpsuit": (
                    "a jumpsuit",
                    "a one piece with legs",
                    "an all in one",
                    "a boiler suit",
                ),
            },
            propositions={
                "dress": (
                    "a dress that flares out from the waist",
                    "a dress that is fitted at the waist",
                ),
                "tunic": ("a tunic that hangs straight", "a shift that falls straight down"),
                "shirt": ("a shirt that buttons down the front", "a top that has a button placket"),
                "coat": ("a coat that ties with a belt", "a coat that opens at the front"),
                "jumpsuit": ("a one piece that has trouser legs", "an outfit that has two legs"),
            },
        ),
        "colour": _colour_words("fabric"),
        "sleeves": AttributeWords(
            kind="part",
            adjectives={
                "sleeveless": ("sleeveless", "bare armed"),
                "short": ("short sleeved",),
                "long": ("long sleeved",),
            },
            nouns={
                "sleeveless": ("no sleeves", "bare arms", "a sleeveless cut"),
                "short": ("short sleeves", "half sleeves", "tee sleeves"),
                "long": (
                    "long sleeves",
                    "full length sleeves",
                    "wrist length sleeves",
                    "full sleeves",
                ),
            },
            propositions={
                "sleeveless": ("arms that are left bare", "a cut that shows the shoulders"),
                "short": ("sleeves that stop above the elbow", "sleeves that end at the upper arm"),
                "long": (
                    "sleeves that reach the wrists",
                    "sleeves that go all the way down the arm",
                ),
            },
            removal=("sleeveless",),
            removal_nouns={
                "short": ("sleeves", "short sleeves"),
                "long": ("sleeves", "long sleeves"),
            },
            order=("short", "long"),
            up=Comparative(
                nouns=("longer sleeves", "slightly longer sleeves", "more sleeve"),
                propositions=("sleeves that are longer", "sleeves that reach further down the arm"),
                imperatives=("lengthen the sleeves", "make the sleeves longer"),
            ),
            down=Comparative(
                nouns=("shorter sleeves", "slightly shorter sleeves", "less sleeve"),
                propositions=("sleeves that are shorter", "sleeves that stop higher up the arm"),
                imperatives=(
                    "shorten the sleeves",
                    "make the sleeves shorter",
                    "cut the sleeves shorter",
                ),
            ),
        ),
        "neckline": AttributeWords(
            kind="part",
            adjectives={
                "round": ("crew necked", "round necked"),
                "v_neck": ("v necked",),
                "square": ("square necked",),
                "collar": ("collared",),
            },
            nouns={
                "round": ("a round neck", "a crew neck", "a round neckline", "a scoop neck"),
                "v_neck": ("a v neck", "a v neckline", "a deep v neck", "a plunging neckline"),
                "square": (
                    "a square neck",
                    "a square neckline",
                    "a straight cut neckline",
                    "a boxy neckline",
                ),
                "collar": ("a collar", "a pointed collar", "a shirt collar", "a folded collar"),
            },
            propositions={
                "round": ("a neckline that is round", "a neck opening that curves"),
                "v_neck": ("a neckline that dips into a v", "a neckline that is cut in a v shape"),
                "square": ("a neckline that is cut square", "a neck opening with straight edges"),
                "collar": ("a collar that folds over", "a neckline that has a folded collar"),
            },
        ),
        "length": AttributeWords(
            kind="part",
            adjectives={
                "short": ("short", "mini", "thigh length"),
                "knee": ("knee length", "midi"),
                "long": ("long", "floor length", "maxi", "ankle length"),
            },
            nouns={
                "short": (
                    "a short hem",
                    "a mini length",
                    "a short cut",
                    "a hemline above the knee",
                ),
                "knee": (
                    "a knee length hem",
                    "a hem at the knee",
                    "a knee length cut",
                    "a hemline at the knee",
                ),
                "long": (
                    "a long hem",
                    "a floor length hem",
                    "a maxi length",
                    "a hemline down to the ankles",
                ),
            },
            propositions={
                "short": ("a hem that ends above the knee", "a hemline that shows the legs"),
                "knee": ("a hem that reaches the knee", "a hemline that stops right at the knee"),
                "long": ("a hem that reaches the floor", "a hemline that goes down to the ankles"),
            },
            order=("short", "knee", "long"),
            up=Comparative(
                adjectives=("longer", "a bit longer", "slightly longer", "a little longer"),
                nouns=("a longer hem", "a longer cut", "more length"),
                propositions=("a hem that is longer", "a hemline that falls lower"),
                imperatives=("lengthen the hem", "make the hem longer", "let the hem down"),
            ),
            down=Comparative(
                adjectives=("shorter", "a bit shorter", "slightly shorter", "a little shorter"),
                nouns=("a shorter hem", "a shorter cut", "less length"),
                propositions=("a hem that is shorter", "a hemline that sits higher"),
                imperatives=("shorten the hem", "make the hem shorter", "take the hem up"),
            ),
        ),
        "pattern": _GARMENT_PATTERN,
    },
)

# The photographic shoes (photo_zap_seq): category, colour, heel and closure as for the flat
# shoes, plus the upper's material. Colours are named without a material ("red color"), and
# the sneaker's nouns drop "a canvas sneaker", since the material is an attribute there.
_MATERIAL_WORDS = AttributeWords(
    kind="property",
    adjectives={
        "leather": ("leather", "smooth leather", "full grain leather", "polished leather"),
        "suede": ("suede", "brushed suede", "soft suede", "nubuck"),
        "canvas": ("canvas", "woven canvas", "cotton canvas"),
        "knit": ("knit", "knitted", "sock knit", "rib knit"),
        "patent": ("patent", "patent leather", "glossy", "shiny", "high gloss"),
    },
    nouns={
        "leather": ("a smooth leather upper", "a leather upper", "a polished leather finish"),
        "suede": (
            "a suede upper",
            "a brushed suede finish",
            "a soft suede upper",
            "a nubuck upper",
        ),
        "canvas": ("a canvas upper", "a woven canvas upper", "a cotton canvas finish"),
        "knit": ("a knit upper", "a ribbed knit upper", "a sock like knit", "a knitted upper"),
        "patent": ("a patent upper", "a glossy finish", "a mirror shine", "a high gloss finish"),
    },
    propositions={
        "leather": ("an upper that is made of smooth leather", "a finish that is plain leather"),
        "suede": ("an upper that is made of soft suede", "a finish that is brushed and matte"),
        "canvas": ("an upper that is made of woven canvas", "a finish that shows a fine weave"),
        "knit": ("an upper that is knitted in ribs", "an upper that looks like a sock"),
        "patent": ("an upper that shines like a mirror", "a finish that is high gloss patent"),
    },
    imperatives={
        "leather": ("make the upper leather", "switch the material to leather"),
        "suede": ("make the upper suede", "switch the material to suede"),
        "canvas": ("make the upper canvas", "switch the material to canvas"),
        "knit": ("make the upper knit", "switch the material to knit"),
        "patent": ("make the upper patent", "give it a patent shine"),
    },
)

_PHOTO_SHOE_CATEGORY = dataclasses.replace(
    SHOE_LEXICON.attributes["category"],
    nouns={
        **SHOE_LEXICON.attributes["category"].nouns,
        "sneaker": (
            "a sneaker",
            "a trainer",
            "a sporty sneaker",
            "a running shoe",
            "a casual sneaker",
            "an athletic shoe",
        ),
    },
)

PHOTO_SHOE_LEXICON = Lexicon(
    item_nouns=SHOE_LEXICON.item_nouns,
    attributes={
        "category": _PHOTO_SHOE_CATEGORY,
        "colour": _colour_words("color"),
        "heel": SHOE_LEXICON.attributes["heel"],
        "closure": SHOE_LEXICON.attributes["closure"],
        "material": _MATERIAL_WORDS,
    },
)
