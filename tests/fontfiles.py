"""Font files for tests: a stand-in for an office's licensed font, and damaged copies of it.

The stand-in is LXGW WenKai (installed by setup.sh) cut down to the characters of the sample
issue and renamed, so that it fills a role from the project's fonts/ folder."""

from __future__ import annotations

import struct
from pathlib import Path

from conftest import REPO

WENKAI = Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")


def sample_characters() -> str:
    text = "".join(p.read_text(encoding="utf-8") for p in (REPO / "issues").rglob("*.*"))
    return (
        text
        + "".join(chr(c) for c in range(0x20, 0x7F))
        + "　—〔〕（）：，。、；“”‘’《》【】×"
        + "第期总年月日编〇零一二三四五六七八九十百千万送报发责任辑联系方式批准文号共印份"
    )


def office_font(
    path: Path,
    family: str = "仿宋_GB2312",
    latin: str = "FangSong_GB2312",
    fs_type: int | None = None,
) -> Path:
    """A TrueType font named `family` (and `latin`) with the sample's characters."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(WENKAI)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=sample_characters())
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            names.removeNames(nameID=record.nameID)
    for name_id, value in (
        (1, family),
        (4, family),
        (6, latin),
        (16, family),
        (3, "liandong-test-font"),
    ):
        names.setName(value, name_id, 3, 1, 0x804)
        names.setName(value if name_id != 1 else latin, name_id, 3, 1, 0x409)
    if fs_type is not None:
        font["OS/2"].fsType = fs_type
    font.save(path)
    return path


def _table(data: bytes, tag: bytes) -> tuple[int, int]:
    """(offset, length) of a table in a TrueType file."""
    count = struct.unpack(">H", data[4:6])[0]
    for index in range(count):
        name, _, offset, length = struct.unpack(">4sIII", data[12 + 16 * index : 28 + 16 * index])
        if name == tag:
            return offset, length
    raise KeyError(tag)


def zero_loca(path: Path) -> Path:
    """Every glyph offset set to 0: each glyph is empty, the tables still decode."""
    data = bytearray(path.read_bytes())
    offset, length = _table(bytes(data), b"loca")
    data[offset : offset + length] = bytes(length)
    path.write_bytes(bytes(data))
    return path


def blank_glyphs(path: Path, chars: str) -> Path:
    """The outlines of `chars` wiped (a glyph header of zeros: no contours, an empty box),
    everything else intact: the damage only the printed characters' check can see."""
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    cmap = font.getBestCmap()
    order = font.getGlyphOrder()
    loca = list(font["loca"])
    data = bytearray(path.read_bytes())
    glyf, _ = _table(bytes(data), b"glyf")
    for char in chars:
        index = order.index(cmap[ord(char)])
        start, end = loca[index], loca[index + 1]
        data[glyf + start : glyf + end] = bytes(end - start)
    path.write_bytes(bytes(data))
    return path
