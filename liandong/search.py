"""The archive's search index: exact substring search, delivered to the browser in small pieces.

Every text unit (a title, a heading, a paragraph) is cut into overlapping two-character pieces
(bigrams; the last character of a unit pairs with END). For every bigram the index lists where
it occurs: issue, unit, positions. A query of n characters is then found exactly by the bigrams
at offsets 0, 2, 4, … and n-2, which together cover every character: a match is a place where
each of them stands at its offset. A single character is found through every bigram it starts.

The bigrams are grouped into shards by their first character (a character with many
occurrences gets shards of its own, split by the second character), so a query downloads only
the shards of its own characters, and the texts of the issues on the page of results it shows.
The 报头 and 版记 lines, which repeat in every issue, are indexed once each (boilerplate) with
the issues that carry them, and rank below any content.

Files (under search/ in the site; JavaScript that calls LIANDONG_SEARCH(name, data), so the
search works from file:// too):
  meta.js        issues (slug, total, date), the shard layout, the bulletin's name
  s/<name>.js    one shard: {bigram: postings}
  t/<slug>.js    one issue's units: [[article, kind, text], ...]
  boiler.js      boilerplate lines and the issues that carry them

Postings are strings of variable-length numbers (five bits a character: VARINT_MORE for the
low groups, VARINT_LAST for the last one). For each issue: issue id, number of units; for each
unit: unit index × 4 + kind, number of positions, position deltas.

The index is built in blocks of BLOCK consecutive issues, each cached (outside the site) with
the slugs and keys it was made from: a changed issue re-indexes only its block.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from liandong.files import write_atomic
from liandong.render import date_text
from liandong.source import Form
from liandong.validate import Issue

logger = logging.getLogger(__name__)

FORMAT = 1
BLOCK = 16
"""Issues per cached block of postings: a change re-indexes this many issues."""
SHARD_BYTES = 24 * 1024
"""About how large one shard may grow before a character gets shards of its own."""
END = "\n"
"""Pairs with a unit's last character, so that every character starts exactly one bigram."""

KIND_TITLE, KIND_HEADING, KIND_BODY = 0, 1, 2
"""Units by rank: article titles and subtitles, headings in the body, paragraphs (and the
editor's note). Boilerplate ranks last and lives apart."""

VARINT_LAST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
VARINT_MORE = "ghijklmnopqrstuvwxyz0123456789-_"

_SMALL = [
    VARINT_LAST[n] if n < 32 else VARINT_MORE[n & 31] + VARINT_LAST[n >> 5] for n in range(1024)
]


def encode(n: int) -> str:
    """One non-negative number: low five-bit groups first (VARINT_MORE), the last in VARINT_LAST."""
    if n < 1024:
        return _SMALL[n]
    out = []
    while n >= 32:
        out.append(VARINT_MORE[n & 31])
        n >>= 5
    out.append(VARINT_LAST[n])
    return "".join(out)


def char_hash(code: int) -> int:
    """A 32-bit mix of a code point; search.js computes the same (Math.imul)."""
    mask = 0xFFFFFFFF
    h = (code * 0x9E3779B1) & mask
    h ^= h >> 15
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    return h


# --- What an issue contributes ------------------------------------------------------


def issue_units(issue: Issue) -> dict:
    """The searchable text of an issue: content units [article, kind, text] (article 0 is the
    editor's note) and its boilerplate lines (报头 and 版记)."""
    units: list[list] = [[0, KIND_BODY, block.text] for block in issue.note]
    for number, article in enumerate(issue.articles, 1):
        units.append([number, KIND_TITLE, article.title.value])
        if article.subtitle:
            units.append([number, KIND_TITLE, article.subtitle.value])
        for form in article.blocks:
            units += _form_units(number, form)
    boiler = [f"{issue.compiler.value}编", date_text(issue.date)]
    boiler += [
        f"{label}：{'，'.join(item.value for item in items)}。"
        for label, items in issue.distribution
    ]
    if issue.editor:
        boiler.append(f"责任编辑：{issue.editor.value}")
    if issue.contact:
        boiler.append(f"联系方式：{issue.contact.value}")
    boiler.append(f"批准文号：{issue.approval.value}")
    return {"units": [u for u in units if u[2]], "boiler": boiler}


def _form_units(number: int, form: Form) -> list[list]:
    """The units of one form of an article, each as it prints: a paragraph or heading (a
    run-in heading is one unit, ranked a heading), each list item and note item with its
    marker (● 1. 注：), a table's caption (ranked a heading) and each of its cells, a figure's
    caption (ranked a heading)."""
    from liandong.source import Block, Figure, Table

    if isinstance(form, Block):
        return [[number, KIND_HEADING if form.level else KIND_BODY, form.text]]
    if isinstance(form, Table):
        cells = [cell for row in (form.header, *form.rows) for cell in row]
        return [[number, KIND_HEADING, form.caption.text]] + [
            [number, KIND_BODY, cell.text] for cell in cells
        ]
    if isinstance(form, Figure):
        return [[number, KIND_HEADING, form.caption.text]]
    return [[number, KIND_BODY, item.marker + item.text] for item in form.units()]


def _positions(texts: list[tuple[int, str]]) -> dict[str, list[tuple[int, list[int]]]]:
    """bigram → [(unit code, positions)] for (unit code, text) pairs."""
    found: dict[str, list[tuple[int, list[int]]]] = defaultdict(list)
    for code, text in texts:
        folded = text.lower() + END
        here: dict[str, list[int]] = defaultdict(list)
        for position in range(len(folded) - 1):
            here[folded[position : position + 2]].append(position)
        for bigram, positions in here.items():
            found[bigram].append((code, positions))
    return found


def postings(issue_id: int, texts: list[tuple[int, str]]) -> dict[str, str]:
    """One issue's postings, each a self-contained string that starts with its issue id."""
    out = {}
    for bigram, units in _positions(texts).items():
        parts = [encode(issue_id), encode(len(units))]
        for code, positions in units:
            parts.append(encode(code))
            parts.append(encode(len(positions)))
            previous = 0
            for position in positions:
                parts.append(encode(position - previous))
                previous = position
        out[bigram] = "".join(parts)
    return out


def issue_text(units: dict) -> dict:
    """What search/t/<slug>.js holds: the content units, for snippets."""
    return {"u": units["units"]}


# --- The index ----------------------------------------------------------------------


@dataclass
class Entry:
    """One published issue as the index sees it."""

    slug: str
    key: str
    total: int
    date: str  # ISO
    units: dict | None = None
    """issue_units(), when already at hand (the issue changed); else loaded when needed."""


Loader = Callable[[list[str]], dict[str, dict]]
"""Gives issue_units() for the named slugs (the site loads those issues' sources)."""


def build_index(entries: list[Entry], load: Loader, cache: Path, name: str) -> dict[str, str]:
    """Every file of search/ but the per-issue texts: {path relative to search/: text}.

    Blocks whose issues and keys match the cache are reused; the others are indexed again and
    cached. Boilerplate, the shard layout and meta.js are computed from the blocks every time."""
    blocks = []
    for start in range(0, len(entries), BLOCK):
        part = entries[start : start + BLOCK]
        ident = [[e.slug, e.key] for e in part]
        path = cache / f"{start // BLOCK}.json"
        cached = _read_block(path, ident)
        if cached is None:
            missing = [e.slug for e in part if e.units is None]
            loaded = load(missing) if missing else {}
            units = [e.units if e.units is not None else loaded[e.slug] for e in part]
            merged: dict[str, list[str]] = defaultdict(list)
            for offset, unit in enumerate(units):
                texts = [
                    (index * 4 + kind, text) for index, (_, kind, text) in enumerate(unit["units"])
                ]
                for bigram, text in postings(start + offset, texts).items():
                    merged[bigram].append(text)
            cached = {
                "format": FORMAT,
                "issues": ident,
                "postings": {bigram: "".join(v) for bigram, v in merged.items()},
                "boiler": [unit["boiler"] for unit in units],
            }
            write_atomic(path, json.dumps(cached, ensure_ascii=False, separators=(",", ":")))
        blocks.append(cached)
    for stale in cache.glob("*.json"):  # blocks past the end, when issues were removed
        if stale.stem.isdigit() and int(stale.stem) * BLOCK >= len(entries):
            stale.unlink(missing_ok=True)

    # Boilerplate: each distinct line once, as units of a pseudo-issue after the last one.
    boiler_id = len(entries)
    lines: dict[str, list[int]] = {}
    for number, block in enumerate(blocks):
        for offset, texts in enumerate(block["boiler"]):
            for text in texts:
                carriers = lines.setdefault(text, [])
                issue_id = number * BLOCK + offset
                if not carriers or carriers[-1] != issue_id:
                    carriers.append(issue_id)
    boiler_texts = list(lines)
    boiler_postings = postings(
        boiler_id, [(index * 4, text) for index, text in enumerate(boiler_texts)]
    )

    merged_all: dict[str, list[str]] = defaultdict(list)
    for block in blocks:
        for bigram, text in block["postings"].items():
            merged_all[bigram].append(text)
    for bigram, text in boiler_postings.items():
        merged_all[bigram].append(text)
    index = {bigram: "".join(parts) for bigram, parts in merged_all.items()}

    shards, layout = _shard(index)
    files = {f"s/{shard}.js": _script(f"s/{shard}", data) for shard, data in shards.items()}
    files["meta.js"] = _script(
        "meta",
        {
            "format": FORMAT,
            "name": name,
            "buckets": layout["buckets"],
            "big": layout["big"],
            "boiler": boiler_id,
            "issues": [[e.slug, e.total, e.date.replace("-", "")] for e in entries],
        },
    )
    files["boiler.js"] = _script(
        "boiler", {"u": [[text, _ranges(lines[text])] for text in boiler_texts]}
    )
    return files


def _read_block(path: Path, ident: list[list[str]]) -> dict | None:
    """A cached block, if it was made from exactly these issues; anything odd means re-index."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or data.get("issues") != ident
        or not isinstance(data.get("postings"), dict)
        or not isinstance(data.get("boiler"), list)
        or len(data["boiler"]) != len(ident)
    ):
        return None
    if not all(
        isinstance(k, str)
        and len(k) == 2
        and isinstance(v, str)
        and all(c in VARINT_LAST or c in VARINT_MORE for c in v[:1])
        for k, v in data["postings"].items()
    ):
        return None
    if not all(
        isinstance(texts, list) and all(isinstance(t, str) for t in texts)
        for texts in data["boiler"]
    ):
        return None
    return data


def _ranges(ids: list[int]) -> str:
    """Ascending ids as (gap, run length) pairs."""
    out, previous, index = [], 0, 0
    while index < len(ids):
        run = 1
        while index + run < len(ids) and ids[index + run] == ids[index] + run:
            run += 1
        out.append(encode(ids[index] - previous) + encode(run))
        previous = ids[index] + run
        index += run
    return "".join(out)


def _size(bigram: str, text: str) -> int:
    return len(bigram.encode("utf-8")) + len(text) + 6


def _shard(index: dict[str, str]) -> tuple[dict[str, dict[str, str]], dict]:
    """Group bigrams into shards of about SHARD_BYTES: by first character, hashed into buckets;
    a character larger than that alone gets its own shards, split by the second character."""
    by_first: dict[str, int] = defaultdict(int)
    for bigram, text in index.items():
        by_first[bigram[0]] += _size(bigram, text)
    big = {
        char: math.ceil(size / SHARD_BYTES) for char, size in by_first.items() if size > SHARD_BYTES
    }
    small = sum(size for char, size in by_first.items() if char not in big)
    buckets = max(1, math.ceil(small / SHARD_BYTES))
    shards: dict[str, dict[str, str]] = {f"b{n}": {} for n in range(buckets)}
    for char, count in big.items():  # every shard a query may ask for exists, if empty
        shards.update({f"c{ord(char):x}-{n}": {} for n in range(count)})
    for bigram in sorted(index):
        first = bigram[0]
        if first in big:
            name = f"c{ord(first):x}-{char_hash(ord(bigram[1])) % big[first]}"
        else:
            name = f"b{char_hash(ord(first)) % buckets}"
        shards[name][bigram] = index[bigram]
    return shards, {"buckets": buckets, "big": dict(sorted(big.items()))}


def _script(name: str, data: object) -> str:
    return (
        f"LIANDONG_SEARCH({json.dumps(name)},"
        + json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        + ");\n"
    )


def text_script(slug: str, units: dict) -> str:
    """search/t/<slug>.js."""
    return _script("t/" + slug, issue_text(units))
