"""Chinese typesetting: line breaking with kinsoku, per-line justification, title balancing."""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

OPENING = frozenset("（《「『【“‘〔〖〈([{")
"""Opening punctuation: never at the end of a line."""
CLOSING = frozenset("，。、；：？！）》」』】”’〕〗〉…—·‐-)]},.;:?!%")
"""Closing punctuation (and the halves of …… ——): never at the start of a line."""


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


# --- Justification limits (per gap between two units, in em of the font size) -----------
SQUEEZE = 0.05
"""Every gap may shrink by this much, so that a closing mark can stay on its line."""
LATIN_STRETCH = 0.25
"""First, a line is filled at its loose gaps: the spaces between Latin words and the gaps
between Han characters and Latin words (clreq allows a quarter em there), each by up to this
much. Numbers (digits only) are set like Han text, as government documents set them."""
HAN_STRETCH = 0.10
"""Then every gap, Han letter-spacing included, by up to this much. A line that needs more
is set all the same, with a notice (like TeX's underfull box)."""
TRACK = 0.05
"""A line that is nothing but one Latin unit's pieces (a URL, a number: no gap to stretch) is
letter-spaced inside them, by up to this much per character."""
RESIDUAL = 0.02
"""pt a justified line may end off the edge (0.007 mm): what rounding the letter-spacing to
what the templates write and Pango keeps leaves over."""
BAD_LINE = 1000.0
"""Cost of a line stretched past the limits: the breaker avoids it whenever it can."""

HAN, LATIN, SPACE = "han", "latin", "space"
"""Kinds of unit: letter-spaced Chinese text; a Latin word, number, URL or e-mail (or a piece
of one), set tight; a space between words, which ends a line and is dropped there."""
INNER, PLAIN, LOOSE = 0, 1, 2
"""The gap after a unit: none (inside a word or a URL), the line's letter-spacing, or the
letter-spacing plus the Latin stretch."""

DOUBLE_MARKS = ("——", "……")
"""Two-character marks: one unit, printed as one span without letter-spacing inside (a gap in
the middle of —— would show), in the fonts' full-width forms (alone, Pango would shape them as
Latin, narrow)."""
JOINERS = "—～"
"""A dash or tilde between two Latin letters or digits joins them into one unit that never
breaks at it: 0731—85309270, 2024—2025年, 3～5."""
URL_BREAKS = "/.-?&"
"""Where a URL may break: after one of these (never inside //), with nothing inserted."""
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://|www\.", re.I)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

Measure = Callable[..., float]
"""measure(style, text, spacing=0.0, full_width=False): the width (pt) of text printed as one
span, with `spacing` after every character (CSS letter-spacing) and, with full_width, the
fonts' full-width forms (fwid)."""


@functools.lru_cache(maxsize=4096)
def is_cjk(char: str) -> bool:
    """Chinese text: ideographs, kana, CJK and full-width punctuation, and the marks Chinese
    uses from General Punctuation (—…“”‘’·), circled numbers and symbols. Everything else that
    is not a space is Latin text, set tight."""
    code = ord(char)
    return (
        0x2E80 <= code <= 0x33FF
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xFE10 <= code <= 0xFE1F
        or 0xFE30 <= code <= 0xFE4F
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x3FFFF
        or 0x2460 <= code <= 0x24FF
        or 0x25A0 <= code <= 0x26FF
        or char in "—―…‥“”‘’·‖※"
    )


@functools.lru_cache(maxsize=4096)
def is_ideograph(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0x3040 <= code <= 0x30FF
        or char == "〇"
    )


@dataclass(frozen=True)
class Piece:
    """A run of text with one style. The typesetter's input (text and style), and its output:
    one span of a typeset line, with the spacing that span is printed with."""

    text: str
    style: str  # a role key of the fonts, optionally with "+strong"
    pad_left: float = 0.0  # pt of blank before the text (a narrow full-width mark's cell)
    pad_right: float = 0.0
    spacing: float | None = None  # letter-spacing (pt); None: the line's
    margin_right: float = 0.0  # pt of gap after the span beyond its letter-spacing
    full_width: bool = False  # printed with the fonts' full-width forms (a dash in 0731—8530)


@dataclass(frozen=True)
class Line:
    """One typeset line: its spans, the letter-spacing (pt) of its Chinese text, how far it is
    stretched, and where in the paragraph's text it starts."""

    pieces: tuple[Piece, ...]
    spacing: float
    last: bool
    offset: int = 0  # index of its first character in the paragraph's text
    stretch: float = 0.0  # the Han letter-spacing beyond the grid's, in em (negative: squeezed)
    loose: float = 0.0  # the Latin stretch at each loose gap, in em
    underfull: bool = False  # stretched past the limits, or a unit alone that cannot be justified
    overfull: bool = False  # wider than the measure: a unit that cannot break is too long

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


@dataclass(frozen=True)
class Atom:
    """A unit the line breaker places whole."""

    text: str
    style: str
    width: float  # natural width, padding and kern included, pt
    kind: str
    offset: int
    pad_left: float = 0.0
    pad_right: float = 0.0
    kern: float = 0.0
    full_width: bool = False
    breakable: bool = True  # may a line end after it (kinsoku aside)
    unit: int = -1  # Latin units: which word, number or URL it belongs to
    word: bool = False  # a Latin unit with letters in it (not a number): loose gaps around

    @property
    def special(self) -> bool:
        return bool(self.pad_left or self.pad_right or self.kern or self.full_width)


def _tokens(text: str) -> list[tuple[int, int, str, bool, bool, int]]:
    """(start, end, kind, breakable after, full width, unit) for the units of a text."""
    tokens: list[tuple[int, int, str, bool, bool, int]] = []
    n, i, unit = len(text), 0, 0
    while i < n:
        char = text[i]
        if char.isspace() and char != "\u3000" and char != "\u00a0":
            j = i
            while j < n and text[j].isspace() and text[j] not in "\u3000\u00a0":
                j += 1
            tokens.append((i, j, SPACE, True, False, -1))
            i = j
        elif is_cjk(char) and not _joins(text, i):
            double = text[i : i + 2] in DOUBLE_MARKS
            j = i + 2 if double else i + 1
            tokens.append((i, j, HAN, True, double, -1))
            i = j
        else:
            j = i
            while j < n and (
                (not is_cjk(text[j]) and not (text[j].isspace() and text[j] != "\u00a0"))
                or _joins(text, j)
            ):
                j += 1
            tokens += _latin_tokens(text, i, j, unit)
            unit += 1
            i = j
    return tokens


def _joins(text: str, i: int) -> bool:
    return (
        text[i] in JOINERS
        and 0 < i < len(text) - 1
        and text[i - 1].isascii()
        and text[i - 1].isalnum()
        and text[i + 1].isascii()
        and text[i + 1].isalnum()
    )


def _latin_tokens(
    text: str, start: int, end: int, unit: int
) -> list[tuple[int, int, str, bool, bool, int]]:
    """A Latin unit, cut where it may break (a URL after / . - ? &, an e-mail after . - and
    before @) and around a joining dash, which is printed full-width in a span of its own."""
    run = text[start:end]
    breaks: set[int] = set()  # offsets in run after which a line may end
    url = _URL.search(run)
    if url:
        for k in range(url.start(), len(run) - 1):
            if run[k] in URL_BREAKS and not (run[k] == "/" and run[k + 1] == "/"):
                breaks.add(k)
    for email in _EMAIL.finditer(run):
        for k in range(email.start(), email.end() - 1):
            if run[k] in ".-" or run[k + 1] == "@":
                breaks.add(k)
    cuts = sorted(
        {k + 1 for k in breaks}
        | {k for k, c in enumerate(run) if c in JOINERS}
        | {k + 1 for k, c in enumerate(run) if c in JOINERS}
        | {0, len(run)}
    )
    tokens = []
    for a, b in itertools.pairwise(cuts):
        if a < b:
            dash = run[a:b] in JOINERS
            tokens.append((start + a, start + b, LATIN, b - 1 in breaks, dash, unit))
    return tokens


def atoms(
    pieces: Sequence[Piece], measure: Measure, size: float, marks: str | None = None
) -> list[Atom]:
    """Split styled text into the units the line breaker places whole, with natural widths.

    Chinese units are measured inside Chinese text (Pango shapes a mark like —— as Han there,
    full-width); Latin units on their own, as the span that prints them. A quote or middle dot
    that the piece's font sets narrow (LXGW WenKai has no zh-CN forms) is taken from the
    `marks` style when that one is full-width, else padded to a full cell. Padding leaves a
    gap that text extraction reads as a space, so the other font comes first.
    """
    text = "".join(piece.text for piece in pieces)
    styles: list[str] = []
    for piece in pieces:
        styles += [piece.style] * len(piece.text)
    result: list[Atom] = []
    known: dict[tuple, Atom] = {}  # a paragraph repeats its characters: measure each once
    for start, end, kind, breakable, full_width, unit in _tokens(text):
        # A unit whose style changes inside (a bold letter in a word) is split, never broken.
        cut = start
        for k in range(start + 1, end + 1):
            if k == end or styles[k] != styles[cut]:
                key = (text[cut:k], styles[cut], kind, full_width)
                atom = known.get(key)
                if atom is None:
                    atom = known[key] = _measured(*key, measure, size, marks)
                # Built field by field: dataclasses.replace is ten times slower.
                result.append(
                    Atom(
                        atom.text,
                        atom.style,
                        atom.width,
                        atom.kind,
                        cut,
                        atom.pad_left,
                        atom.pad_right,
                        atom.kern,
                        atom.full_width,
                        breakable if k == end else False,
                        unit,
                    )
                )
                cut = k
    words = {
        atom.unit for atom in result if atom.kind == LATIN and any(c.isalpha() for c in atom.text)
    }
    result = [
        replace(atom, word=True) if atom.unit in words and atom.kind == LATIN else atom
        for atom in result
    ]
    # Two marks in a row: the first gives up its blank half (clreq 3.1.6), e.g. 。” ”， ，“ （《
    for k in range(len(result) - 1):
        first, second = result[k], result[k + 1]
        if (first.text in BLANK_RIGHT and second.text[0] in BLANK_RIGHT | BLANK_LEFT) or (
            first.text in BLANK_LEFT and second.text[0] in BLANK_LEFT
        ):
            kern = -size / 2
            result[k] = replace(first, width=first.width + kern, kern=kern)
    return result


def _measured(
    text: str,
    style: str,
    kind: str,
    full_width: bool,
    measure: Measure,
    size: float,
    marks: str | None,
) -> Atom:
    """A unit and its natural width (its place in the text is set by the caller)."""
    if kind == SPACE:
        return Atom(" ", style, measure(style, " "), SPACE, 0)
    if kind == LATIN:
        return Atom(
            text,
            style,
            measure(style, text, full_width=full_width),
            LATIN,
            0,
            full_width=full_width,
        )
    if full_width:
        return Atom(text, style, measure(style, text, full_width=True), HAN, 0, full_width=True)
    width = _han_width(measure, style, text)
    side = FULL_WIDTH.get(text)
    if side and width < 0.99 * size and marks:
        alternative = marks + style[style.find("+") :] if "+" in style else marks
        if measure(alternative, text) >= 0.99 * size:
            style, width = alternative, measure(alternative, text)
    if side and width < 0.99 * size:
        blank = size - width
        left = blank if side == "left" else blank / 2 if side == "both" else 0.0
        return Atom(text, style, size, HAN, 0, left, blank - left)
    return Atom(text, style, width, HAN, 0)


def _han_width(measure: Measure, style: str, text: str) -> float:
    """A Chinese unit's width inside Chinese text: marks alone would be shaped as Latin."""
    if is_ideograph(text[0]):
        return measure(style, text)
    return measure(style, "一" + text) - measure(style, "一")


def can_break(before: Atom, after: Atom) -> bool:
    """Kinsoku: no closing mark opens a line, no opening mark ends one; nothing breaks inside a
    word, a number or a joined range, nor at either side of a single dash or tilde, which in
    Chinese joins a range (8月—9月, 北京—上海; a dash as punctuation is ——); a space stays at
    the end of its line (and is dropped)."""
    return not (
        not before.breakable
        or after.text[0] in CLOSING
        or after.kind == SPACE
        or before.text[-1] in OPENING
        or before.text in JOINERS
        or after.text in JOINERS
    )


def _gap(a: Atom, b: Atom) -> int:
    """The kind of gap between two neighbouring units."""
    if a.kind == LATIN and b.kind == LATIN and a.unit == b.unit:
        return INNER
    if b.kind == SPACE:
        return INNER if a.kind == LATIN else PLAIN
    if a.kind == SPACE:
        return LOOSE
    if a.kind == LATIN and b.kind == HAN:
        return LOOSE if a.word and is_ideograph(b.text[0]) else PLAIN
    if a.kind == HAN and b.kind == LATIN:
        return LOOSE if b.word and is_ideograph(a.text[-1]) else PLAIN
    return LOOSE if a.kind == LATIN else PLAIN


def _fill(need: float, plain: int, loose: int, size: float) -> tuple[float, float, bool]:
    """Share `need` pt (beyond the grid's spacing) among the gaps: (u, e, too loose), where
    every gap gets u and each loose gap e more. Squeezing is shared by all gaps alike."""
    gaps = plain + loose
    if need <= 0 or gaps == 0:
        return (need / gaps if gaps else 0.0), 0.0, False
    e = min(need / loose, LATIN_STRETCH * size) if loose else 0.0
    u = (need - e * loose) / gaps
    return u, e, u > HAN_STRETCH * size + 1e-9


def break_lines(
    pieces: Sequence[Piece],
    measure: Measure,
    *,
    first_width: float,
    width: float,
    spacing: float,
    size: float,
    marks: str | None = None,
    ragged: bool = False,
) -> list[Line]:
    """Break a paragraph into flush lines.

    Every line but the last is justified so that its last glyph ends exactly at the right
    edge: the loose gaps (around and between Latin words) stretch first, by up to
    LATIN_STRETCH, then every gap by up to HAN_STRETCH; a line may be squeezed by up to
    SQUEEZE per gap to keep closing punctuation on it. A small dynamic programme picks the
    breaks that keep the spacing closest to the grid's `spacing` (a line's cost: the squared
    deviation of its letter-spacing in hundredths of an em, plus that of its Latin stretch,
    which clreq expects around Latin text, counted a quarter and by the share of loose
    gaps), avoids a last line of a single character, and sets a line past the limits only
    when nothing else fits (the line is then marked underfull; a unit wider than the line is
    marked overfull).

    ragged: lines are not justified (a table cell): every line is set at its natural spacing,
    and the breaks keep the lines' slack even (the squared slack, in ems, is the cost).
    """
    items = atoms(pieces, measure, size, marks)
    n = len(items)
    if n == 0:
        return []
    # Prefix sums: natural widths, plain and loose gaps after each unit, and a bound on what a
    # line can be stretched to (every gap at both limits), to skip lines far too short.
    widest_gap = spacing + (HAN_STRETCH + LATIN_STRETCH) * size
    prefix_w, prefix_plain, prefix_loose, reach, chars = [0.0], [0], [0], [0.0], [0]
    for k, atom in enumerate(items):
        prefix_w.append(prefix_w[-1] + atom.width)
        chars.append(chars[-1] + len(atom.text))
        gap = _gap(atom, items[k + 1]) if k + 1 < n else INNER
        prefix_plain.append(prefix_plain[-1] + (gap == PLAIN))
        prefix_loose.append(prefix_loose[-1] + (gap == LOOSE))
        reach.append(prefix_w[-1] + (k + 1) * widest_gap)
    kinds = [atom.kind for atom in items]
    kerns = [atom.kern for atom in items]
    squeeze = SQUEEZE * size
    latin_room = LATIN_STRETCH * size
    han_room = HAN_STRETCH * size + 1e-9
    em = 100 / size

    # Where a line may end, and what ending there costs besides its spacing: both depend only
    # on the two units at the break, so they are worked out once, not for every line tried.
    ends = [j for j in range(1, n) if can_break(items[j - 1], items[j])] + [n]
    reach_ends = [reach[j] for j in ends]
    penalty = {
        j: UNIT_PENALTY
        for j in ends[:-1]
        if items[j - 1].text[-1].isdigit() and items[j].text[0] in UNITS
    }
    inf = float("inf")
    best = [inf] * (n + 1)
    choice = [0] * (n + 1)
    best[0] = 0.0
    first_end = 0  # index in ends of the first break after i
    for i in range(n):
        while ends[first_end] <= i:
            first_end += 1
        if best[i] == inf:
            continue
        avail = first_width if i == 0 else width
        # Lines that even stretched to the limits stay short are skipped, unless nothing else
        # can be set from here; the last line may always be short.
        start = (
            first_end
            if ragged
            else max(
                first_end, bisect.bisect_left(reach_ends, reach[i] + widest_gap + avail - 1e-6)
            )
        )
        candidates: Sequence[int] = range(start, len(ends))
        if start > first_end:
            candidates = [*candidates, len(ends) - 1] if start == len(ends) else candidates
        found = False
        for k in candidates:
            j = ends[k]
            end = j - 1 if kinds[j - 1] == SPACE and j - 1 > i else j
            natural = prefix_w[end] - prefix_w[i] - kerns[end - 1]
            plain = prefix_plain[end - 1] - prefix_plain[i]
            loose = prefix_loose[end - 1] - prefix_loose[i]
            gaps = plain + loose
            need = avail - natural - gaps * spacing
            if ragged and need < -1e-6:
                if k != first_end:
                    break
                cost = 1e6
            elif ragged:
                cost = 0.0 if j == n else (need / size) ** 2
            elif j == n and need >= -1e-6:
                solo = sum(1 for a in items[i:j] if a.text[0] not in CLOSING)
                cost = 25.0 if solo <= 1 and i > 0 else 0.0
            elif need < -squeeze * gaps - 1e-9:
                if k != first_end:
                    break  # too wide, and so is every longer line
                cost = 1e6  # nothing shorter can be set from here: overfull
            elif gaps == 0:  # pieces of one unit: letter-spaced inside, within TRACK
                inside = chars[end] - chars[i] - 1
                track = need / inside if inside else need + 1.0
                cost = (
                    0.0
                    if need <= RESIDUAL
                    else ((track * em) ** 2 if track <= TRACK * size else 1e4)
                )
            elif need <= 0:
                cost = (need / gaps * em) ** 2
            else:
                e = min(need / loose, latin_room) if loose else 0.0
                u = (need - e * loose) / gaps
                cost = (
                    (u * em) ** 2
                    + loose / gaps * (e * em) ** 2 / 4
                    + (BAD_LINE if u > han_room else 0.0)
                )
            found = True
            total = best[i] + cost + penalty.get(j, 0.0)
            if total < best[j]:
                best[j], choice[j] = total, i
            if cost == 1e6:
                break
        if not found:  # every line from here is far too short: the least loose of them
            for k in range(first_end, start):
                j = ends[k]
                gaps = prefix_plain[j - 1] - prefix_plain[i] + prefix_loose[j - 1] - prefix_loose[i]
                need = avail - (prefix_w[j] - prefix_w[i]) - gaps * spacing
                total = best[i] + BAD_LINE + (need / max(gaps, 1) * em) ** 2
                if total < best[j]:
                    best[j], choice[j] = total, i
    lines = []
    j = n
    while j > 0:
        i = choice[j]
        avail = first_width if i == 0 else width
        lines.append(_set_line(items[i:j], measure, avail, spacing, size, last=j == n or ragged))
        j = i
    return lines[::-1]


@dataclass
class _Span:
    atoms: list[Atom]
    natural: float = 0.0
    pad_left: float = 0.0
    pad_right: float = 0.0

    @property
    def kind(self) -> str:
        return self.atoms[0].kind

    @property
    def text(self) -> str:
        return "".join(atom.text for atom in self.atoms)

    @property
    def kern(self) -> float:
        """A compressed mark prints as a span of its own, its kern in its letter-spacing."""
        return self.atoms[0].kern if len(self.atoms) == 1 else 0.0

    @property
    def tight(self) -> bool:
        """Latin text and double marks: no line letter-spacing inside."""
        return self.kind == LATIN or self.atoms[0].full_width

    def letter_spacing(self, plain: float, track: float = 0.0) -> float:
        if self.kind == LATIN:
            return track
        return 0.0 if self.tight else plain + self.kern


def _spans(line: Sequence[Atom], end_alone: bool = False) -> list[_Span]:
    """A line's units as the spans that print them. A Latin unit's pieces on one line are one
    span, never split (kerning and ligatures stay as measured); Chinese units of one style are
    one span; a mark with padding or kern, and a joining dash, are spans of their own; a space
    ends its span.

    end_alone: a justified line's last Chinese unit is a span of its own. WeasyPrint writes
    each glyph's letter-spacing into the PDF truncated to 1/1000 em (draw/text.py,
    int(kerning)), so the glyphs of a letter-spaced span drift by up to 0.016 pt each from
    where Pango put them; each span starts where Pango put it, so a last span of one glyph
    ends where it was measured to end."""
    spans: list[_Span] = []
    for index, atom in enumerate(line):
        last = spans[-1] if spans else None
        if last is not None and atom.kind == SPACE:
            last.atoms.append(atom)
            continue
        if (
            last is not None
            and atom.kind == HAN
            and not atom.text.strip()
            and not atom.special
            and last.atoms[-1].kind != SPACE
            and not (last.kind == HAN and last.atoms[-1].style == atom.style)
        ):
            # An ideographic space between two Latin units (表1　2024年) would be a span of its
            # own, and WeasyPrint draws no text box that holds only white space: its room stays,
            # the character goes, and a copy of the text loses it. It goes with the span before.
            last.atoms.append(atom)
            continue
        previous = last.atoms[-1] if last else None
        if (
            last is not None
            and previous is not None
            and previous.kind != SPACE
            and previous.style == atom.style
            and not previous.special
            and not atom.special
            and not (end_alone and index == len(line) - 1 and atom.kind == HAN)
            and (
                (atom.kind == HAN and previous.kind == HAN)
                or (atom.kind == LATIN and previous.kind == LATIN and previous.unit == atom.unit)
            )
        ):
            last.atoms.append(atom)
        else:
            spans.append(_Span([atom]))
    return spans


def _measure_spans(spans: list[_Span], measure: Measure, plain: float, size: float) -> None:
    """Each span's natural width as Pango prints it (its letter-spacing taken out again: with
    spacing, Pango turns ligatures off), and the padding that fills a narrow mark's cell."""
    for span in spans:
        atom = span.atoms[0]
        if span.tight:
            span.natural = measure(atom.style, span.text, full_width=atom.full_width)
            continue
        ls = round(span.letter_spacing(plain), 3)
        span.natural = measure(atom.style, span.text, ls) - len(span.text) * ls
        if atom.pad_left or atom.pad_right:
            blank = max(0.0, size - span.natural)
            side = FULL_WIDTH.get(atom.text, "left")
            span.pad_left = blank if side == "left" else blank / 2 if side == "both" else 0.0
            span.pad_right = blank - span.pad_left
            span.natural += blank


def _set_line(
    line: Sequence[Atom],
    measure: Measure,
    avail: float,
    spacing: float,
    size: float,
    last: bool,
    centred: bool = False,
) -> Line:
    """The spans of one line, each measured as it prints, with the spacing that makes the
    line end exactly at `avail` (justified lines) or at its natural width (a last line, or a
    centred title line with `centred`, which has no letter-spacing)."""
    line = list(line)
    offset = line[0].offset
    if len(line) > 1 and line[-1].kind == SPACE:
        line = line[:-1]  # a space at a break is dropped: the visible edge is the text's
    spans = _spans(line, end_alone=not last and not centred)
    u = e = 0.0
    if centred:
        spacing = 0.0
    gaps, plain_count, loose_count = _gap_counts(spans)
    count = plain_count + loose_count
    kerns = sum(span.kern for span in spans[:-1])
    if not last and not centred and count:  # from the units' widths, to measure spans with
        need = avail - sum(atom.width for atom in line) + line[-1].kern - count * spacing
        u = _fill(need, plain_count, loose_count, size)[0]
    _measure_spans(spans, measure, spacing + u, size)
    underfull = overfull = False
    justify = False
    track = 0.0
    if centred:
        overfull = sum(span.natural for span in spans) + kerns > avail + 1e-3
    else:
        need = avail - sum(span.natural for span in spans) - kerns - count * spacing
        justify = not last or need < 0  # a last line that is too long is squeezed
        if not justify:
            u = e = 0.0
        elif count == 0:  # one Latin unit's pieces: letter-spaced inside, if at all
            u = e = 0.0
            inside = sum(len(span.text) for span in spans) - 1
            if need > RESIDUAL and inside and all(span.kind == LATIN for span in spans):
                track = need / inside
                # Its last character alone, so that WeasyPrint's truncated spacing (see _spans)
                # cannot move it: the span is measured as it prints, kerning and all.
                end = spans[-1].atoms[-1]
                if len(spans[-1].text) > 1:
                    head = [*spans[-1].atoms[:-1]]
                    if len(end.text) > 1:
                        head.append(
                            Atom(
                                end.text[:-1],
                                end.style,
                                0.0,
                                LATIN,
                                end.offset,
                                unit=end.unit,
                                word=end.word,
                            )
                        )
                    spans[-1:] = [
                        _Span(head),
                        _Span(
                            [
                                Atom(
                                    end.text[-1],
                                    end.style,
                                    0.0,
                                    LATIN,
                                    end.offset + len(end.text) - 1,
                                    unit=end.unit,
                                    word=end.word,
                                )
                            ]
                        ),
                    ]
                    gaps.append(INNER)
                for span in spans:  # with spacing, Pango drops ligatures: measure again
                    span.natural = measure(
                        span.atoms[0].style,
                        span.text,
                        round(track, 3),
                        full_width=span.atoms[0].full_width,
                    ) - len(span.text) * round(track, 3)
                track = (avail - sum(span.natural for span in spans)) / inside
                underfull = track > TRACK * size + 1e-9
            else:
                underfull, overfull = need > RESIDUAL, need < -RESIDUAL
        else:
            u, e, underfull = _fill(need, plain_count, loose_count, size)
            overfull = u < -SQUEEZE * size - 1e-6
    pieces = _pieces(spans, gaps, spacing + u, spacing + u + e, track)
    if justify and len(pieces) > 1:
        # The line as it will print (letter-spacing written to 0.001 pt, which Pango keeps in
        # its own units; a span whose ligatures go with its spacing): what is left over goes
        # into the gap before the last span, when it is more than rounding (RESIDUAL), for a
        # style attribute on a span costs WeasyPrint about half a millisecond.
        residual = avail - _drawn_width(pieces, spacing + u, measure, size)
        if abs(residual) > RESIDUAL and gaps[-1] != INNER:
            before = pieces[-2]
            pieces[-2] = replace(before, margin_right=round(before.margin_right + residual, 3))
    return Line(
        tuple(pieces), round(spacing + u, 3), last, offset, u / size, e / size, underfull, overfull
    )


def _gap_counts(spans: list[_Span]) -> tuple[list[int], int, int]:
    """The gaps between a line's spans, and how many of its gaps take the line's letter-spacing
    (plain: between Chinese units, inside a Chinese span too) and how many the Latin stretch
    as well (loose)."""
    gaps = [
        _gap(span.atoms[-1], following.atoms[0]) for span, following in itertools.pairwise(spans)
    ]
    plain = sum(len(span.atoms) - 1 for span in spans if span.kind == HAN)
    plain += sum(1 for gap in gaps if gap == PLAIN)
    return gaps, plain, sum(1 for gap in gaps if gap == LOOSE)


def set_pair(
    left: Sequence[Piece],
    right: Sequence[Piece],
    measure: Measure,
    *,
    width: float,
    gap: float,
    size: float,
) -> tuple[Line, Line] | None:
    """Two parts of one line `width` wide, at least `gap` apart, for a template that puts the
    first at the left edge and the second at the right edge (the 版记's 责任编辑 and 联系方式,
    批准文号 and 印数), or None when they cannot share a line.

    Each part is set at its natural width when that leaves `gap` between them. Otherwise both
    are squeezed alike, by the same amount at every gap the line breaker counts (between
    Chinese units, and at Latin words), up to SQUEEZE per gap as a body line may be, and only
    as far as it takes to leave `gap`. A squeezed part is a justified line (its last character
    a span of its own, see _spans) with no letter-spacing after its last glyph, so that its box
    ends where its drawn width does: the gap is all the template has to stretch. `gap` must be
    at least the advance of the space the template puts between the parts."""
    parts = []
    for pieces in (left, right):
        items = atoms(pieces, measure, size)
        if len(items) > 1 and items[-1].kind == SPACE:
            items = items[:-1]
        natural = _set_line(items, measure, width, 0.0, size, last=True)
        _, plain, loose = _gap_counts(_spans(items, end_alone=True))
        parts.append(
            (items, natural, _drawn_width(natural.pieces, 0.0, measure, size), plain + loose)
        )
    over = parts[0][2] + parts[1][2] + gap - width
    if over <= 0:
        return parts[0][1], parts[1][1]
    count = parts[0][3] + parts[1][3]
    if over > SQUEEZE * size * count + 1e-9:
        return None
    squeezed = []
    for items, natural, drawn, gaps in parts:
        if not gaps:
            squeezed.append(natural)
            continue
        line = _set_line(items, measure, drawn - over * gaps / count, 0.0, size, last=False)
        end = replace(line.pieces[-1], spacing=0.0)
        squeezed.append(replace(line, pieces=(*line.pieces[:-1], end)))
    return squeezed[0], squeezed[1]


def _pieces(
    spans: list[_Span], gaps: list[int], plain: float, loose: float, track: float = 0.0
) -> list[Piece]:
    """Spans → Pieces: each with its letter-spacing (None where it is the line's) and the gap
    after it beyond that letter-spacing; `track` is the spacing inside Latin units."""
    pieces = []
    for k, span in enumerate(spans):
        atom = span.atoms[0]
        ls = span.letter_spacing(plain, track)
        margin = 0.0
        if k + 1 < len(spans):
            margin = {INNER: track, PLAIN: plain, LOOSE: loose}[gaps[k]] + span.kern - ls
        own = span.tight or span.kern != 0.0
        pieces.append(
            Piece(
                span.text,
                atom.style,
                round(span.pad_left, 3),
                round(span.pad_right, 3),
                round(ls, 3) if own else None,
                round(margin, 3) if abs(margin) >= 5e-4 else 0.0,
                atom.full_width,
            )
        )
    return pieces


def _drawn_width(pieces: Sequence[Piece], plain: float, measure: Measure, size: float) -> float:
    """Where a line's last glyph ends: the spans' boxes as Pango and WeasyPrint make them."""
    total = 0.0
    ls = 0.0
    for piece in pieces:
        ls = round(plain if piece.spacing is None else piece.spacing, 3)
        total += (
            measure(piece.style, piece.text, ls, full_width=piece.full_width)
            + piece.pad_left
            + piece.pad_right
            + piece.margin_right
        )
    return total - ls  # the spacing after the last glyph is not seen


def _trim_end(atom: Atom, size: float) -> Atom:
    """A closing mark's blank half at the end of a centred line is taken off, so that the
    line's ink is what gets centred."""
    if atom.text not in BLANK_RIGHT:
        return atom
    if atom.pad_right:
        return replace(atom, width=atom.width - atom.pad_right, pad_right=0.0, kern=0.0)
    return replace(atom, width=atom.width - size / 2 - atom.kern, kern=-size / 2)


WEAK_BREAK = 1.0
"""A break next to a one-character word (在, 的, or a name the dictionary does not know, which
the segmenter cuts into single characters: 东|江湖) costs as much as one em of imbalance."""
QUOTED_BREAK = 5.0
"""A break inside quotation marks or brackets (“有形 / 覆盖”) costs as much as five ems of
imbalance: a quoted term or a 《book title》 stays on one line unless it cannot."""


def words(text: str) -> dict[int, bool]:
    """Offsets in text where a Chinese word ends (the segmenter's boundaries), each with
    whether it is weak: next to a one-character word.

    rjieba (jieba-rs) is loaded only when a title has to wrap: its dictionary costs about
    0.1 s, which a title that fits on one line never pays."""
    import rjieba

    tokens = rjieba.tokenize(text)
    return {
        end: (
            end - start == 1 or (k + 1 < len(tokens) and tokens[k + 1][2] - tokens[k + 1][1] == 1)
        )
        for k, (_, start, end) in enumerate(tokens)
    }


def title_parts(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts an editor's line breaks make of a title: a newline, or spaces
    between two Chinese characters (what YAML makes of a title folded onto two lines). The
    parts' own leading and trailing spaces are left out."""
    parts, start = [], 0
    for match in re.finditer(r"[ \t\r\n]+", text):
        a, b = match.span()
        if "\n" in match.group() or (
            0 < a and b < len(text) and is_cjk(text[a - 1]) and is_cjk(text[b])
        ):
            parts.append((start, a))
            start = b
    parts.append((start, len(text)))
    result = []
    for a, b in parts:
        while a < b and text[a] in " \t\r\n":
            a += 1
        while b > a and text[b - 1] in " \t\r\n":
            b -= 1
        if a < b:
            result.append((a, b))
    return result


def balance_lines(
    pieces: Sequence[Piece],
    measure: Measure,
    *,
    width: float,
    size: float,
    marks: str | None = None,
) -> list[Line]:
    """Break a centred title into the fewest lines of nearly equal length.

    A line may end only between words (GB/T 9704 7.3.2: 回行时要做到词意完整), as a Chinese
    word segmenter finds them, and where kinsoku allows; no line holds fewer than three
    units when it can be helped, and a break next to a one-character word is avoided. An
    editor's line break (`title_parts`) is always a line break, and each part between them is
    balanced on its own. When a part cannot be set between words within the width, it breaks
    between characters; a unit wider than the width sets an overfull line."""
    text = "".join(piece.text for piece in pieces)
    lines: list[Line] = []
    for start, end in title_parts(text):
        lines += _balance(_slice(pieces, start, end), start, measure, width, size, marks)
    return [replace(line, last=index == len(lines) - 1) for index, line in enumerate(lines)]


def _slice(pieces: Sequence[Piece], start: int, end: int) -> list[Piece]:
    """The pieces' text between two offsets, styles kept (leading and trailing blanks off)."""
    result, at = [], 0
    for piece in pieces:
        a, b = max(start, at), min(end, at + len(piece.text))
        if a < b:
            result.append(Piece(piece.text[a - at : b - at], piece.style))
        at += len(piece.text)
    return result


def _balance(
    pieces: list[Piece], offset: int, measure: Measure, width: float, size: float, marks: str | None
) -> list[Line]:
    items = [
        replace(atom, offset=atom.offset + offset) for atom in atoms(pieces, measure, size, marks)
    ]
    while items and items[0].kind == SPACE:
        items.pop(0)
    while items and items[-1].kind == SPACE:
        items.pop()
    n = len(items)
    if n == 0:
        return []
    total = sum(atom.width for atom in items) - items[-1].kern
    if total <= width + 1e-6:
        return [
            _set_line(
                [*items[:-1], _trim_end(items[-1], size)],
                measure,
                width,
                0.0,
                size,
                last=True,
                centred=True,
            )
        ]
    text = "".join(atom.text for atom in items)
    boundaries = words(text)
    position, depth, ends = 0, 0, []
    penalty: dict[int, float] = {}
    for j in range(1, n):
        position += len(items[j - 1].text)
        depth = max(
            0,
            depth
            + sum(c in BLANK_LEFT for c in items[j - 1].text)
            - sum(c in BLANK_RIGHT - set("，。、；：？！") for c in items[j - 1].text),
        )
        if can_break(items[j - 1], items[j]):
            ends.append((j, position in boundaries))
            penalty[j] = ((WEAK_BREAK * size) ** 2 if boundaries.get(position) else 0.0) + (
                (QUOTED_BREAK * size) ** 2 if depth else 0.0
            )
    for whole_words in (True, False):
        allowed = [j for j, boundary in ends if boundary or not whole_words] + [n]
        lines = _balanced(items, allowed, penalty, measure, width, size)
        if lines:
            return lines
    # A unit wider than the title: filled line by line, the unit alone on an overfull line.
    lines, i, line_end = [], 0, 0
    allowed = [j for j, _ in ends] + [n]
    for j in allowed:
        if line_end > i and sum(a.width for a in items[i:j]) > width:
            lines.append(
                _set_line(items[i:line_end], measure, width, 0.0, size, last=False, centred=True)
            )
            i = line_end
        line_end = j
    lines.append(_set_line(items[i:], measure, width, 0.0, size, last=True, centred=True))
    return lines


def _balanced(
    items: list[Atom],
    allowed: list[int],
    penalty: dict[int, float],
    measure: Measure,
    width: float,
    size: float,
) -> list[Line] | None:
    """The fewest lines, breaking only at `allowed`, with lengths closest to equal (plus what
    each break costs besides)."""
    n = len(items)
    prefix = [0.0]
    for atom in items:
        prefix.append(prefix[-1] + atom.width)

    def length(i: int, j: int) -> float:
        return prefix[j] - prefix[i] - items[j - 1].kern

    total = length(0, n)
    inf = float("inf")
    starts = [0, *allowed[:-1]]
    for count in range(max(1, math.ceil(total / width - 1e-9)), len(allowed) + 1):
        target = total / count
        best = {(0, 0): 0.0}
        back: dict[tuple[int, int], int] = {}
        for k in range(1, count + 1):
            for j in allowed:
                for i in starts:
                    if i >= j or (i, k - 1) not in best:
                        continue
                    line = length(i, j)
                    if line > width + 1e-6:
                        continue
                    short = sum(1 for a in items[i:j] if a.text[0] not in CLOSING) < 3
                    cost = (
                        best[(i, k - 1)]
                        + (line - target) ** 2
                        + (1e6 if short else 0.0)
                        + penalty.get(j, 0.0)
                    )
                    if cost < best.get((j, k), inf):
                        best[(j, k)], back[(j, k)] = cost, i
        if (n, count) in best:
            lines, j = [], n
            for k in range(count, 0, -1):
                i = back[(j, k)]
                chunk = [*items[i : j - 1], _trim_end(items[j - 1], size)]
                lines.append(_set_line(chunk, measure, width, 0.0, size, last=j == n, centred=True))
                j = i
            return lines[::-1]
    return None
