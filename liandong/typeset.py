"""Chinese typesetting: line breaking with kinsoku, per-line justification, title balancing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

OPENING = frozenset("（《「『【“‘〔〖〈([{")
"""Opening punctuation: never at the end of a line."""
CLOSING = frozenset("，。、；：？！）》」』】”’〕〗〉…—·‐-)]},.;:?!%")
"""Closing punctuation (and the halves of …… ——): never at the start of a line."""

_ATOM = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9.,@_\-/%×:+'&]*[A-Za-z0-9%]"  # words, numbers, 4×4, e-mail
    r"|——|……"                                            # two-character marks stay together
    r"|.", re.S)


UNITS = frozenset("年月日时分秒号期件人次个名项届万亿元岁")
"""Units a careful typesetter keeps with the number before them when the spacing allows."""
UNIT_PENALTY = 10.0
"""Cost of breaking between a number and its unit (a spacing deviation of about 0.03 em)."""


DIGITS = "零一二三四五六七八九"
SECTION_UNITS = ("", "万", "亿", "万亿")


def chinese_number(n: int) -> str:
    """714 → 七百一十四, 10 → 十, 1005 → 一千零五, 100010 → 十万零一十: cn2an.an2cn's numerals.

    Written out here rather than calling cn2an because importing cn2an compiles its parsers'
    regular expressions (0.13 s), a tenth of a whole build, to spell one 总期号; the importer,
    which reads Chinese numerals, still uses cn2an, and tests/test_typeset.py checks this
    function against cn2an.an2cn number by number."""
    if n < 0:
        return "负" + chinese_number(-n)
    if n == 0:
        return DIGITS[0]
    sections = []
    while n:
        n, value = divmod(n, 10000)
        sections.append(value)
    text, gap = "", False
    for index in range(len(sections) - 1, -1, -1):
        value = sections[index]
        if value == 0:
            gap = bool(text)  # a whole empty section: one 零 before whatever follows
            continue
        if text and (gap or value < 1000):
            text += DIGITS[0]
        text += _section(value) + SECTION_UNITS[index]
        gap = False
    return text[1:] if text.startswith("一十") else text


def _section(value: int) -> str:
    """1 to 9999: 三千零五, 一百一十 (zeros inside collapse into one 零)."""
    text, zero = "", False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, value = divmod(value, power)
        if digit:
            text += (DIGITS[0] if zero else "") + DIGITS[digit] + unit
            zero = False
        elif text:
            zero = True
    return text


FULL_WIDTH = {"“": "left", "‘": "left", "”": "right", "’": "right", "·": "both"}
"""Marks that take a full character cell in Chinese text, and the side their blank goes on.
Fonts without zh-CN forms (LXGW WenKai has proportional quotes) get the cell filled by padding."""


BLANK_RIGHT = frozenset("，。、；：？！）》」』】〕〗”’")
"""Full-width marks whose blank half is on the right."""
BLANK_LEFT = frozenset("（《「『【〔〖“‘")
"""Full-width marks whose blank half is on the left."""


@dataclass(frozen=True)
class Piece:
    """A run of text with one style, as it goes into one line."""

    text: str
    style: str  # a role key, optionally with "+strong"
    pad_left: float = 0.0   # pt of blank before the text (a narrow full-width mark's cell)
    pad_right: float = 0.0
    kern: float = 0.0       # pt added to the spacing after the text (negative: compressed)
    tight: bool = False     # no letter-spacing after these characters (inside a word or number)


@dataclass(frozen=True)
class Line:
    """One typeset line: its pieces and the letter-spacing (pt) that makes it flush."""

    pieces: tuple[Piece, ...]
    spacing: float
    last: bool

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


@dataclass(frozen=True)
class _Atom:
    text: str
    style: str
    width: float  # natural advance plus padding and kern, pt
    pad_left: float = 0.0
    pad_right: float = 0.0
    kern: float = 0.0

    @property
    def special(self) -> bool:
        return bool(self.pad_left or self.pad_right or self.kern)

    @property
    def chars(self) -> int:
        return len(self.text)


def atoms(pieces: Sequence[Piece], measure: Callable[[str, str], float],
          size: float, marks: str | None = None) -> list[_Atom]:
    """Split styled text into unbreakable units with their natural widths.

    A quote or middle dot that the piece's font sets narrow (LXGW WenKai has no zh-CN forms)
    is taken from the `marks` style when that one is full-width, else padded to a full cell.
    Padding leaves a gap that text extraction reads as a space, so the other font comes first.
    """
    result = []
    for piece in pieces:
        for match in _ATOM.finditer(piece.text):
            text = match.group()
            style = piece.style
            width = measure(style, text)
            side = FULL_WIDTH.get(text)
            if side and width < 0.99 * size and marks:
                alternative = marks + style[style.find("+"):] if "+" in style else marks
                if measure(alternative, text) >= 0.99 * size:
                    style, width = alternative, measure(alternative, text)
            if side and width < 0.99 * size:
                blank = size - width
                left = blank if side == "left" else blank / 2 if side == "both" else 0.0
                result.append(_Atom(text, style, size, left, blank - left))
            else:
                result.append(_Atom(text, style, width))
    # Two marks in a row: the first gives up its blank half (clreq 3.1.6), e.g. 。” ”， ，“ （《
    for k in range(len(result) - 1):
        first, second = result[k], result[k + 1]
        if ((first.text in BLANK_RIGHT and second.text[0] in BLANK_RIGHT | BLANK_LEFT)
                or (first.text in BLANK_LEFT and second.text[0] in BLANK_LEFT)):
            kern = -size / 2
            result[k] = _Atom(first.text, first.style, first.width + kern, first.pad_left,
                              first.pad_right, kern)
    return result


def can_break(before: _Atom, after: _Atom) -> bool:
    """Kinsoku: no closing mark opens a line, no opening mark ends one. A space between Latin
    words stays at the end of its line: the renderer drops a space that opens a line."""
    return not (after.text[0] in CLOSING or after.text.isspace() or before.text[-1] in OPENING)


def _group(line: list[_Atom], trim_end: float = 0.0) -> tuple[Piece, ...]:
    """Merge a line's units into pieces. With trim_end (the font size), a closing mark's blank
    half at the end of a centred line is taken off, so the line's ink is what gets centred."""
    if trim_end and line and line[-1].text in BLANK_RIGHT:
        end = line[-1]
        trimmed = (_Atom(end.text, end.style, end.width - end.pad_right, end.pad_left, 0.0, 0.0)
                   if end.pad_right else
                   _Atom(end.text, end.style, end.width - trim_end / 2, 0.0, 0.0, -trim_end / 2))
        line = line[:-1] + [trimmed]
    pieces: list[Piece] = []
    for index, atom in enumerate(line):
        # No compression at the line's end, except the trim just made.
        kern = atom.kern if index < len(line) - 1 or trim_end else 0.0
        last = pieces[-1] if pieces else None
        text = atom.text
        latin = text[0].isascii()
        if atom.chars > 1 and latin:
            # Spacing goes between units, never inside a word or a number: the unit's inner
            # characters are set tight and only its last one carries the line's spacing.
            pieces.append(Piece(text[:-1], atom.style, tight=True))
            text, last = text[-1], None
        # —— and …… stay inside the Chinese text around them: shaped alone, outside Han
        # context, the font would give a narrower dash than the one measured.
        if (last and last.style == atom.style and not atom.special and (atom.chars == 1 or not latin)
                and not (last.pad_left or last.pad_right or last.kern or last.tight)):
            pieces[-1] = Piece(last.text + text, atom.style)
        else:
            pieces.append(Piece(text, atom.style, atom.pad_left, atom.pad_right, kern))
    return tuple(pieces)


def break_lines(pieces: Sequence[Piece], measure: Callable[[str, str], float], *,
                first_width: float, width: float, spacing: float, size: float,
                marks: str | None = None) -> list[Line]:
    """Break a paragraph into flush lines.

    Every line but the last gets its own letter-spacing so that its last glyph ends exactly at
    the right edge. A line may be squeezed by up to 0.05 em per gap (to keep closing punctuation
    on it) or stretched; a small dynamic programme picks the breaks that keep spacing closest
    to the grid's `spacing`, and avoids a last line of a single character.
    """
    items = atoms(pieces, measure, size, marks)
    n = len(items)
    if n == 0:
        return []
    squeeze = spacing - 0.05 * size
    prefix_w = [0.0]
    prefix_c = [0]  # where the line's letter-spacing goes: after every unit, and inside
    for atom in items:  # —— and …… too (a Latin word or number is set tight, see _group)
        prefix_w.append(prefix_w[-1] + atom.width)
        prefix_c.append(prefix_c[-1] + (1 if atom.text[0].isascii() else atom.chars))

    def line_cost(i: int, j: int) -> tuple[float, float] | None:
        """Cost and spacing of a line holding items[i:j], or None if it cannot be set."""
        avail = first_width if i == 0 else width
        natural = prefix_w[j] - prefix_w[i] - items[j - 1].kern  # no kern at the line's end
        gaps = prefix_c[j] - prefix_c[i] - 1
        if j == n and natural + gaps * spacing <= avail + 1e-6:
            solo = sum(1 for a in items[i:j] if a.text[0] not in CLOSING)
            return (25.0 if solo <= 1 and i > 0 else 0.0), spacing
        if gaps <= 0:  # a single unit cannot be justified; overflowing is worse still
            return (1e4 if natural <= avail else 1e6), spacing
        needed = (avail - natural) / gaps
        if needed < squeeze - 1e-9:
            return None
        deviation = (needed - spacing) / size * 100  # in hundredths of an em
        return deviation * deviation, needed

    # Where a line may end, and what ending there costs besides its spacing: both depend only
    # on the two units at the break, so they are worked out once, not for every line tried.
    ends = [j for j in range(1, n) if can_break(items[j - 1], items[j])] + [n]
    penalty = {j: UNIT_PENALTY for j in ends[:-1]
               if items[j - 1].text[-1].isdigit() and items[j].text[0] in UNITS}
    inf = float("inf")
    best = [inf] * (n + 1)
    choice: list[tuple[int, float]] = [(0, spacing)] * (n + 1)
    best[0] = 0.0
    first_end = 0  # index in ends of the first break after i
    for i in range(n):
        while ends[first_end] <= i:
            first_end += 1
        if best[i] == inf:
            continue
        for k in range(first_end, len(ends)):
            j = ends[k]
            cost = line_cost(i, j)
            if cost is None:
                break  # longer lines cannot be squeezed in either
            total = best[i] + cost[0] + penalty.get(j, 0.0)
            if total < best[j]:
                best[j], choice[j] = total, (i, cost[1])
    if best[n] == inf:  # nothing fits (one huge unbreakable unit): let it overflow
        return [Line(_group(items), spacing, True)]
    lines = []
    j = n
    while j > 0:
        i, line_spacing = choice[j]
        lines.append(Line(_group(items[i:j]), line_spacing, j == n))
        j = i
    return lines[::-1]


def balance_lines(pieces: Sequence[Piece], measure: Callable[[str, str], float], *,
                  width: float, size: float, marks: str | None = None) -> list[Line]:
    """Break a centred title into the fewest lines of nearly equal length (kinsoku kept)."""
    items = atoms(pieces, measure, size, marks)
    n = len(items)
    if n == 0:
        return []
    total = sum(atom.width for atom in items)
    count = max(1, -(-int(total * 1000) // int(width * 1000)))
    while True:
        target = total / count
        inf = float("inf")
        best = [[inf] * (count + 1) for _ in range(n + 1)]
        back = [[0] * (count + 1) for _ in range(n + 1)]
        best[0][0] = 0.0
        for j in range(1, n + 1):
            if j < n and not can_break(items[j - 1], items[j]):
                continue
            for i in range(j):
                line = sum(a.width for a in items[i:j])
                if line > width + 1e-6:
                    continue
                for k in range(1, count + 1):
                    if best[i][k - 1] < inf:
                        cost = best[i][k - 1] + (line - target) ** 2
                        if cost < best[j][k]:
                            best[j][k], back[j][k] = cost, i
        if best[n][count] < inf:
            break
        count += 1
        if count > n:
            return [Line(_group(items), 0.0, True)]
    lines, j, k = [], n, count
    while k > 0:
        i = back[j][k]
        lines.append(Line(_group(items[i:j], trim_end=size), 0.0, j == n))
        j, k = i, k - 1
    return lines[::-1]
