"""The report's look, shared by its parts (pure): fonts, estimated text widths, the colour
of each group and the ink that reads on it, attribute escaping."""

from __future__ import annotations

import colorsys
from html import escape

from sgnet.core.model import Lab

# -- text metrics --------------------------------------------------------------------
# The picture is laid out here, before any browser sees it, so text widths are estimated
# from the advance widths (in em) of DejaVu Sans, the first font asked for and wider than
# most a browser falls back to, plus a margin: boxes are a little generous, never short.
SANS = "'DejaVu Sans', Verdana, 'Liberation Sans', Arial, sans-serif"
MONO = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
_ADVANCE = {c: em for chars, em in (
    ("il.,:;'|!j", 0.30), (" ", 0.32), ("/()[]-", 0.39), ("ftI", 0.40), ("r", 0.42),
    ("szc", 0.56), ("kvxyJ", 0.60), ("abdeghnopqu", 0.64), ("0123456789_·", 0.64),
    ("w", 0.82), ("mMW", 1.0)) for c in chars}
_WIDE = 0.76  # capitals and anything else
_BOLD = 1.12  # DejaVu Sans Bold against Book
MONO_EM = 0.61


def text_width(text: str, size: float, kind: str = "sans") -> float:
    """The width in pixels of text at a font size; kind: sans, bold or mono."""
    if kind == "mono":
        return len(text) * size * MONO_EM
    em = sum(_ADVANCE.get(c, _WIDE) for c in text) * 1.05
    return em * size * (_BOLD if kind == "bold" else 1.0)


# Tableau 10, then golden-angle hues for labs with more groups.
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac"]


def _colour(i: int) -> str:
    if i < len(_PALETTE):
        return _PALETTE[i]
    h = (i * 137.508) % 360 / 360
    r, g, b = colorsys.hls_to_rgb(h, 0.55, 0.55)
    return "#%02x%02x%02x" % (round(r * 255), round(g * 255), round(b * 255))


def ink(bg: str) -> str:
    """Black or white text, whichever reads better on the background colour."""
    r, g, b = (int(bg[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#111" if lum > 0.5 else "#fff"


def group_colours(lab: Lab) -> dict:
    """group name -> colour, in the lab's group order (stable for one lab file)."""
    return {name: _colour(i) for i, name in enumerate(lab.groups)}


def attr(value) -> str:
    """A value escaped for an attribute in double quotes."""
    return escape(str(value), quote=True)
