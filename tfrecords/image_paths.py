"""Image paths read from annotation lines: why one cannot name a file, before the OS is asked.

An annotation line is data from elsewhere; a path in it may hold what no file name can (a NUL
character), what this project never reads from a file name (control characters), text that is
not Unicode (a lone surrogate: "\\ud800" in JSON, or bytes that were not UTF-8 and came back
surrogate-escaped from the file system), or be longer than the file system allows
(ENAMETOOLONG). Asked of the OS, some of these raise (`os.path.realpath("a\\0b")`:
ValueError "embedded null byte") and stopped a whole build; `path_problem` names the problem
instead, so the builder skips and reports that one session.
"""

from __future__ import annotations

import os
import unicodedata

# Linux's limits (<limits.h>), used when the file system cannot be asked.
DEFAULT_NAME_MAX = 255  # bytes of one path component
DEFAULT_PATH_MAX = 4096  # bytes of a whole path, its terminating NUL included
SHOWN_CHARS = 80


def shown(path: str) -> str:
    """`path` for a message: ASCII only (escapes for the rest), cut after SHOWN_CHARS characters.

    Example:
        >>> shown("a\\x00b")
        "'a\\\\x00b'"
    """
    text = ascii(path[:SHOWN_CHARS])
    return text + f"... ({len(path)} characters)" if len(path) > SHOWN_CHARS else text


def file_system_limits(directory: str) -> tuple[int, int]:
    """(NAME_MAX, PATH_MAX) in bytes of the file system holding `directory`."""
    limits = []
    for name, default in (("PC_NAME_MAX", DEFAULT_NAME_MAX), ("PC_PATH_MAX", DEFAULT_PATH_MAX)):
        try:
            limits.append(int(os.pathconf(directory, name)))
        except (OSError, ValueError, AttributeError):
            limits.append(default)
    return limits[0], limits[1]


def path_problem(
    path: str,
    base_dir: str = "",
    name_max: int = DEFAULT_NAME_MAX,
    path_max: int = DEFAULT_PATH_MAX,
) -> str | None:
    """Why `path` cannot name an image file (relative to `base_dir`), or None if it can.

    Args:
        path: the path as read from the annotation line.
        base_dir: the folder it is relative to (counts towards the whole path's length).
        name_max: longest path component in bytes (ENAMETOOLONG beyond).
        path_max: longest whole path in bytes, terminating NUL included.

    Returns:
        A message naming the problem and where it is in the path, or None.

    Example:
        >>> path_problem("images/a\\x00.png")
        "image path 'images/a\\\\x00.png' holds a NUL character (U+0000) at character 8"
    """
    if not path:
        return "image path is empty"
    for index, char in enumerate(path):
        code = ord(char)
        if code == 0:
            return f"image path {shown(path)} holds a NUL character (U+0000) at character {index}"
        if 0xD800 <= code <= 0xDFFF:
            return (
                f"image path {shown(path)} holds a lone surrogate U+{code:04X} at character "
                f"{index}: not Unicode text (an escaped surrogate, or bytes that are not UTF-8)"
            )
        if unicodedata.category(char) == "Cc":
            return (
                f"image path {shown(path)} holds the control character U+{code:04X} at "
                f"character {index}"
            )
    encoded = path.encode("utf-8")
    for component in encoded.split(b"/"):
        if len(component) > name_max:
            return (
                f"image path {shown(path)} has a name of {len(component)} bytes; the file "
                f"system allows {name_max} (ENAMETOOLONG)"
            )
    whole = len(os.fsencode(os.path.join(base_dir, "images", path))) + 1 if base_dir else 0
    if max(whole, len(encoded) + 1) > path_max:
        return (
            f"image path {shown(path)} is {len(encoded)} bytes long; with its folder it is "
            f"over the file system's {path_max} (ENAMETOOLONG)"
        )
    return None
