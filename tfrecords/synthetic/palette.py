"""Colours shared by the synthetic renderers: item colours, their pattern and trim colours.

Item colours are well separated in RGB so a small classifier can tell them apart at 64x64.
Every item colour gets a deterministic contrasting pattern colour (so a pattern stays visible
on every colour) and a trim colour for laces, straps, plackets and collars.
"""

from __future__ import annotations

BACKGROUND = (236, 234, 228)
OUTLINE = (38, 38, 44)
METAL = (214, 176, 48)

COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (28, 28, 30),
    "white": (248, 248, 248),
    "grey": (132, 132, 136),
    "brown": (108, 60, 28),
    "tan": (210, 168, 112),
    "red": (208, 30, 38),
    "pink": (246, 144, 190),
    "orange": (246, 132, 22),
    "yellow": (246, 216, 44),
    "green": (36, 148, 64),
    "blue": (48, 118, 230),
    "navy": (24, 36, 108),
    "purple": (128, 52, 170),
}

# Shade families ordered from light to dark: "darker" / "lighter" move one step inside a family.
SHADE_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("white", "grey", "black"),
    ("tan", "brown"),
    ("pink", "red"),
    ("blue", "navy"),
)


def luminance(rgb: tuple[int, int, int]) -> float:
    """Returns the Rec. 601 luma of an RGB triple in [0, 255]."""
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def pattern_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Returns the contrasting colour that patterns are drawn in on top of `rgb`.

    Light colours get a dark shade of themselves, dark colours a light tint, so the
    pattern is visible on every colour and the base colour stays recognisable.
    """
    if luminance(rgb) > 120:
        return tuple(int(c * 0.38) for c in rgb)
    return tuple(int(c + (255 - c) * 0.68) for c in rgb)


def trim_colour(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Returns the colour of laces, straps, collars and plackets on an item of colour `rgb`."""
    if luminance(rgb) > 150:
        return (44, 44, 52)
    return (244, 242, 236)


def shade_step(colour: str, direction: int) -> str | None:
    """Returns the colour one shade darker (direction=+1) or lighter (-1), or None if there is none."""
    for family in SHADE_FAMILIES:
        if colour in family:
            j = family.index(colour) + direction
            if 0 <= j < len(family):
                return family[j]
    return None
