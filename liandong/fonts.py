"""Resolve each typographic role to one font file, check glyph coverage, and measure text."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from liandong.errors import Problem
    from liandong.shaping import PangoShaper

HarfBuzzFont = Any
"""A uharfbuzz Font (uharfbuzz has no type information)."""


logger = logging.getLogger(__name__)

FONTCONFIG_LANGUAGE = "en"
"""The language fontconfig names fonts in, whatever the user's locale. fontconfig reads FC_LANG,
then LC_ALL, LC_CTYPE and LANG from the environment (not the process locale) the first time it
is used, and puts the family name in that language first: under zh_CN.UTF-8 LXGW WenKai becomes
霞鹜文楷, and Pango wrote that into the PDF's font names, so the bytes depended on the locale.
"en" is what fontconfig takes for the C locale."""


def pin_fontconfig_language() -> None:
    """Make fontconfig name fonts in FONTCONFIG_LANGUAGE in this process and its children
    (fc-list). Called before fontconfig is first loaded: by the measurer's Pango
    (shaping._load), by fc-list (installed_faces) and before WeasyPrint (pdf.py)."""
    os.environ["FC_LANG"] = FONTCONFIG_LANGUAGE


FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".TTF", ".OTF", ".TTC")


FALLBACK = "-fallback"
"""A role's 补字 font is fonts[role key + FALLBACK]; its pieces' style key is the same, so
`Measurer` and the print CSS find it through the fonts dict like any role."""


@dataclass(frozen=True)
class Role:
    """A typographic role and the families that can fill it, best first."""

    key: str
    label: str  # what it prints
    style: str  # the Chinese name of the typeface style
    families: tuple[str, ...]
    defaults: tuple[str, ...]
    """Open fonts tried, in order, when no family of the role is in fonts/ or installed."""
    weight: int = 400
    generic: str = "serif"
    notices: tuple[tuple[str, str], ...] = ()
    """(default family, what to say when the role falls back to it)."""
    fallbacks: tuple[str, ...] = ()
    """The 补字 font: the first of these that is available and is not the role's own face
    prints, character by character, what the role's font lacks. series.yaml's 补字字体
    names another."""


_SETUP_HINT = "运行 bash setup.sh 可安装开源仿宋 FandolFang"
_ACCEPT_KEY = "接受代用仿宋"

ROLES: tuple[Role, ...] = (
    Role(
        "title",
        "标题",
        "小标宋",
        (
            "方正小标宋简体",
            "方正小标宋_GBK",
            "FZXiaoBiaoSong-B05S",
            "FZXiaoBiaoSong-B05",
            "FZXBSJW--GB1-0",
            "华文中宋",
            "STZhongsong",
        ),
        ("Noto Serif CJK SC",),
        weight=700,
        fallbacks=("Noto Serif CJK SC",),
    ),
    Role(
        "body",
        "正文",
        "仿宋",
        (
            "仿宋_GB2312",
            "FangSong_GB2312",
            "仿宋",
            "FangSong",
            "方正仿宋_GBK",
            "方正仿宋简体",
            "FZFangSong-Z02S",
            "华文仿宋",
            "STFangsong",
        ),
        ("FandolFang", "Noto Serif CJK SC"),
        notices=(
            (
                "FandolFang",
                "没有找到授权的仿宋字体（仿宋_GB2312、仿宋等），正文用开源仿宋 FandolFang 代替。"
                "把授权的仿宋字体文件放进 fonts/ 文件夹即可改用；确认使用 FandolFang 的，"
                f"可在 issues/series.yaml 写“{_ACCEPT_KEY}: FandolFang”，不再提醒。",
            ),
            (
                "Noto Serif CJK SC",
                "没有找到仿宋字体（仿宋_GB2312、仿宋、FandolFang 等），正文暂用 Noto Serif CJK SC"
                f"（宋体风格）代替。{_SETUP_HINT}，或把授权的仿宋字体文件放进 fonts/ 文件夹。",
            ),
        ),
        fallbacks=("Noto Serif CJK SC",),
    ),
    Role(
        "kai",
        "编者按、副标题、（一）级标题",
        "楷体",
        (
            "楷体_GB2312",
            "KaiTi_GB2312",
            "楷体",
            "KaiTi",
            "方正楷体_GBK",
            "方正楷体简体",
            "FZKai-Z03S",
            "华文楷体",
            "STKaiti",
        ),
        ("LXGW WenKai",),
        fallbacks=("LXGW WenKai", "Noto Serif CJK SC"),
    ),
    Role(
        "hei",
        "一、级标题和【编者按】",
        "黑体",
        ("黑体", "SimHei", "方正黑体_GBK", "方正黑体简体", "FZHei-B01S", "华文黑体", "STHeiti"),
        ("Noto Sans CJK SC",),
        generic="sans-serif",
        fallbacks=("Noto Sans CJK SC",),
    ),
    Role(
        "song",
        "页码",
        "宋体",
        ("宋体", "SimSun", "方正书宋_GBK", "方正书宋简体", "FZShuSong-Z01S", "华文宋体", "STSong"),
        ("Noto Serif CJK SC",),
        fallbacks=("Noto Serif CJK SC",),
    ),
)
ROLE_BY_KEY = {role.key: role for role in ROLES}
ROLE_BY_STYLE = {role.style: role for role in ROLES}


@dataclass(frozen=True)
class FontSettings:
    """What series.yaml says about fonts: 补字字体 (role key -> the family, with where it is
    written) and 接受代用仿宋 (the open body font the office knowingly prints with)."""

    fallbacks: dict = dataclasses.field(default_factory=dict)
    accepted: str | None = None


_FC_WEIGHT_TO_CSS = (
    (0, 100),
    (40, 200),
    (50, 300),
    (55, 350),
    (75, 380),
    (80, 400),
    (100, 500),
    (180, 600),
    (200, 700),
    (205, 800),
    (210, 900),
)


@dataclass(frozen=True)
class Face:
    """One face of a font file, as fontconfig or fontTools names it."""

    families: tuple[str, ...]
    file: Path
    index: int
    weight: int  # CSS weight
    postscript: str = ""  # read for project fonts only: the name their PDF fonts carry


@dataclass(frozen=True)
class ResolvedFont:
    """The font that fills a role (or prints what the role's font lacks): its family, file,
    and where it was found."""

    role: Role
    family: str
    file: Path
    index: int
    weight: int
    origin: str  # "fonts/", "installed" or "default"
    bold: tuple[Path, int] | None = None
    """The family's bold face (file, index), which CSS font-weight: bold selects for **strong**
    text; None when there is none and the bold is synthesised from this face's outlines."""
    fallback: bool = False
    """The role's 补字 font, fonts[role.key + FALLBACK]."""
    postscript: str = ""
    """A project font's PostScript name: the name its PDF font is given (see pdf_name)."""

    @property
    def key(self) -> str:
        return self.role.key + (FALLBACK if self.fallback else "")

    @property
    def css_family(self) -> str:
        """The family name the print CSS uses. Project fonts get a private @font-face name, so
        that an installed font of the same name can never take their place."""
        return f"liandong-{self.key}" if self.origin == "fonts/" else self.family

    @property
    def pdf_name(self) -> str:
        """The font's name in the PDF, after the subset tag: a project font's own PostScript
        name (pdf.rename_fonts puts it in place of the private @font-face name), else the
        family as Pango writes it."""
        if self.origin == "fonts/":
            return self.postscript or self.family.replace(" ", "")
        return self.css_family.replace(" ", "-")

    @property
    def notice(self) -> str | None:
        """What to tell the office when the role fell back to an open default that is not
        the typeface it asks for (today: the body without a licensed 仿宋)."""
        if self.origin != "default" or self.fallback:
            return None
        return dict(self.role.notices).get(self.family)

    @property
    def is_substitute(self) -> bool:
        """The role prints with an open substitute the office should know about."""
        return self.notice is not None


def _css_weight(fc_weight: int) -> int:
    return min(_FC_WEIGHT_TO_CSS, key=lambda pair: abs(pair[0] - fc_weight))[1]


@functools.lru_cache(maxsize=1)
def installed_faces() -> tuple[Face, ...]:
    """Every installed face, by all its family names (fontconfig's list, not its substitutions)."""
    pin_fontconfig_language()
    try:
        out = subprocess.run(
            ["fc-list", "--format", "%{family}\t%{weight}\t%{index}\t%{file}\n"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        logger.warning("无法运行 fc-list，只能使用 fonts/ 中的字体")
        return ()
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[3]:
            continue
        families, weight, index, file = parts
        try:
            css = _css_weight(int(float(weight.strip("[]").split()[0])))
        except (ValueError, IndexError):
            css = 400
        faces.append(
            Face(tuple(f.strip() for f in families.split(",")), Path(file), int(index or 0), css)
        )
    return tuple(sorted(faces, key=lambda f: (str(f.file), f.index)))


def project_faces(fonts_dir: Path) -> tuple[Face, ...]:
    """Faces of the font files in the project's fonts/ folder (face 0 of a collection).

    Each file is read with the guards of sources and checked (`check_font_file`): a file that
    cannot be used (damaged, not a font, a pipe, too large, embedding forbidden) stops every
    command with a problem naming it, rather than giving a PDF of blank glyphs."""
    from liandong.errors import SourceErrors, display_path

    faces = []
    if not fonts_dir.is_dir():
        return ()
    folder = fonts_dir.resolve()
    confined = folder.is_relative_to(fonts_dir.parent.resolve())
    problems = []
    for path in sorted(fonts_dir.iterdir()):
        if path.suffix not in FONT_SUFFIXES:
            continue
        real = path.resolve()
        if not confined or not real.is_relative_to(folder):
            # WeasyPrint may read only fonts/ inside the project: a linked font would silently
            # not be used, so it is not offered at all.
            logger.warning(
                "%s 指向 fonts/ 文件夹之外（%s），出于安全考虑已跳过；"
                "请把字体文件本身放进 fonts/，或安装到本机",
                display_path(path, fonts_dir.parent, resolve=False),
                display_path(real),
            )
            continue
        checked = check_font_file(path)
        if checked.problem is not None:
            problems.append(checked.problem_at(display_path(path, fonts_dir.parent, resolve=False)))
            continue
        faces.append(Face(checked.families, path, 0, checked.weight, checked.postscript))
    if problems:
        raise SourceErrors(problems)
    return tuple(faces)


# --- Checking a project font file ---------------------------------------------------------------


@dataclass(frozen=True)
class FontFileCheck:
    """What `check_font_file` found in one font file: why it cannot be used, or its names."""

    problem: str | None = None
    families: tuple[str, ...] = ()
    weight: int = 400
    postscript: str = ""  # the name its PDF fonts carry (_postscript_name)

    def problem_at(self, name: str) -> Problem:
        from liandong.errors import Problem

        return Problem(name, 1, 1, self.problem or "")


_CHECKED: dict[str, FontFileCheck] = {}
"""Results by the SHA-256 of the file's bytes, for this process (see check_font_file)."""

_BY_STAT: dict[tuple, FontFileCheck] = {}
"""The same results by (path, device, inode, size, mtime): no re-reading an unchanged file."""

_REQUIRED_TABLES = ("cmap", "head", "hhea", "hmtx", "maxp", "name")
_EMBEDDING = {
    0x0002: "受限授权（Restricted License），不允许嵌入",
    0x0100: "不允许只嵌入用到的字形（No Subsetting）",
    0x0200: "只允许嵌入点阵字形（Bitmap Embedding Only）",
}
"""OS/2 fsType bits that forbid what a PDF of liandong does: embed a subset of the outlines."""

_SAMPLE = 400
"""Characters of the cmap whose outlines are checked when a file is first read."""


def check_font_file(path: Path) -> FontFileCheck:
    """Check a font of the project's fonts/ once per process: read it with the guards of
    sources (a regular file, not over limits.FONT_BYTES; a pipe named *.ttf is never opened
    for reading, so nothing hangs), then `check_font_data`. Results are cached by the SHA-256
    of the bytes, in memory only: a cache file in the project or in build/ could be forged by a
    commit or a CI cache to pass a damaged font, and a file outside the project would break
    the rule that liandong reads nothing outside it but installed fonts. The check is cheap
    enough to run once in every process: 0.14 s for FandolFang (7 MB), 0.35 s for LXGW WenKai
    (20 MB), 0.02 s for a subset; `serve` keeps the result between rebuilds."""
    import hashlib

    from liandong import limits

    try:
        info = path.stat()
    except OSError as exc:
        from liandong.errors import os_reason

        return FontFileCheck(f"无法读取字体文件：{os_reason(exc)}")
    key = (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key in _BY_STAT:
        return _BY_STAT[key]
    data = _read_font(path, limits.FONT_BYTES)
    if isinstance(data, str):
        return FontFileCheck(data)
    digest = hashlib.sha256(data).hexdigest()
    if digest not in _CHECKED:
        _CHECKED[digest] = check_font_data(data)
    _BY_STAT[key] = _CHECKED[digest]
    return _CHECKED[digest]


def _read_font(path: Path, limit: int) -> bytes | str:
    """The file's bytes, or why they are not read (in Chinese)."""
    import os
    import stat

    from liandong.errors import os_reason

    try:
        # O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return f"无法读取字体文件：{os_reason(exc)}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "这不是普通文件（可能是管道或设备），不读取"
        if info.st_size > limit:
            return (
                f"字体文件有 {info.st_size // (1024 * 1024)} MB，超过 {limit // (1024 * 1024)} MB "
                "的上限（limits.FONT_BYTES）"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
        return data if len(data) <= limit else "字体文件超过上限（limits.FONT_BYTES）"
    except OSError as exc:
        return f"无法读取字体文件：{os_reason(exc)}"
    finally:
        os.close(fd)


def check_font_data(data: bytes) -> FontFileCheck:
    """Is face 0 of this font file usable for print? Its tables decode; TrueType glyph offsets
    (loca) fit the glyph data; the embedding permissions (OS/2 fsType) allow an embedded subset;
    and the outlines of a sample of its characters are there (a damaged `loca` gives blank
    glyphs that no other check sees). Every reason is in Chinese; fontTools' own is not shown."""
    import io

    from fontTools.ttLib import TTFont

    damaged = (
        "字体文件已损坏，或不是 TrueType/OpenType 字体：请换成完好的字体文件，或从 fonts/ 移走"
    )
    try:
        font = TTFont(io.BytesIO(data), fontNumber=0, lazy=True)
        missing = [tag for tag in _REQUIRED_TABLES if tag not in font]
        outlines = "glyf" in font or "CFF " in font or "CFF2" in font
        if missing or not outlines:
            what = "、".join(missing) if missing else "glyf 或 CFF"
            return FontFileCheck(f"字体文件缺少必需的 {what} 表：{damaged}")
        for tag in (*_REQUIRED_TABLES, "OS/2", "post", "loca", "CFF ", "CFF2"):
            if tag in font:
                font[tag]  # decodes the table; a damaged one raises
        if "glyf" in font:
            offsets = list(font["loca"])
            size = len(font.reader["glyf"])
            if any(a > b for a, b in itertools.pairwise(offsets)) or not (
                size - 4 <= offsets[-1] <= size
            ):
                return FontFileCheck(f"字形位置表（loca）与字形数据不符：{damaged}")
        names = {
            str(record.toUnicode()).strip()
            for record in font["name"].names
            if record.nameID in (1, 4, 6, 16)
        }
        postscript = _postscript_name(font["name"].getDebugName(6) or "")
        os2 = font.get("OS/2")
        weight = os2.usWeightClass if os2 is not None else 400
        fs_type = os2.fsType if os2 is not None else 0
    except Exception:  # noqa: BLE001 - any decoding failure of a damaged file
        return FontFileCheck(damaged)
    refused = _embedding_refused(fs_type)
    if refused:
        return FontFileCheck(
            f"字体的授权{refused}（OS/2 fsType = 0x{fs_type:04X}）：印刷用 PDF 必须"
            "嵌入所用的字形，请换用允许嵌入的字体"
        )
    blank = _blank_sample(data)
    if blank:
        count, total, sample = blank
        return FontFileCheck(
            f"抽查的 {total} 个字中有 {count} 个字形是空的（如“{sample}”），"
            f"印出来会是空白：{damaged}"
        )
    return FontFileCheck(None, tuple(sorted(name for name in names if name)), weight, postscript)


def _embedding_refused(fs_type: int) -> str | None:
    """Why fsType forbids liandong's embedding; editable (0x8) or print-and-preview (0x4)
    embedding lifts a restricted licence, as the OpenType specification says."""
    if fs_type & 0x0002 and not fs_type & 0x000C:
        return _EMBEDDING[0x0002]
    for bit in (0x0100, 0x0200):
        if fs_type & bit:
            return _EMBEDDING[bit]
    return None


def blank_by_design(char: str) -> bool:
    """Characters drawn as nothing on purpose: spaces, controls, format characters, fillers."""
    import unicodedata

    return unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc", "Cf") or ord(char) in (
        0x115F,
        0x1160,
        0x3164,
        0xFFA0,
        0x034F,
    )


def _blank_sample(data: bytes) -> tuple[int, int, str] | None:
    """(blank, checked, an example) when more than a tenth of a sample of the characters the
    font maps have no outline; None for a sound font."""
    import uharfbuzz as hb

    font = hb.Font(hb.Face(hb.Blob(data), 0))
    codes = sorted(code for code in font.face.unicodes if not blank_by_design(chr(code)))
    if not codes:
        return None
    step = max(1, len(codes) // _SAMPLE)
    sample = codes[::step]
    blank = [code for code in sample if not _has_outline(font, code)]
    if len(blank) * 10 <= len(sample):
        return None
    return len(blank), len(sample), chr(blank[0])


def _has_outline(font: HarfBuzzFont, code: int) -> bool:
    glyph = font.get_nominal_glyph(code)
    if not glyph:
        return True  # not in the font: the coverage check reports it
    extents = font.get_glyph_extents(glyph)
    return extents is not None and (extents.width != 0 or extents.height != 0)


@functools.lru_cache(maxsize=16)
def _outline_font(file: Path, index: int) -> HarfBuzzFont:
    import uharfbuzz as hb

    return hb.Font(hb.Face(hb.Blob.from_file_path(str(file)), index))


@functools.cache
def has_outline(font: ResolvedFont, char: str) -> bool:
    """Does the glyph that prints `char` in this font draw anything (or is it blank by
    design, like a space)? A glyph with no outline prints a blank without any other error."""
    return blank_by_design(char) or _has_outline(_outline_font(font.file, font.index), ord(char))


def font_label(font: ResolvedFont) -> str:
    """How a message names a role's font, ready to be followed by Chinese text: its family
    (and a space), or for a project font its family and file, since a project font appears in
    the PDF under a private name (css_family)."""
    from liandong.errors import display_path

    if font.origin == "fonts/":
        return f"{font.family}（fonts/{display_path(font.file.name)}）"
    return font.family + " "


def _postscript_name(name: str) -> str:
    """A PostScript name as a PDF name may carry it: printable ASCII, no spaces or delimiters
    (PDF 32000 §9.6.2.1; the name table's ID 6 should already be so, but is not checked)."""
    return "".join(c for c in name if 0x21 <= ord(c) <= 0x7E and c not in "[](){}<>/%#")[:63]


def _pick(faces: tuple[Face, ...], family: str, weight: int) -> Face | None:
    matches = [face for face in faces if family in face.families]
    if not matches:
        return None
    return min(matches, key=lambda face: (abs(face.weight - weight), str(face.file), face.index))


def _find(
    family: str, weight: int, project: tuple[Face, ...], installed: tuple[Face, ...]
) -> tuple[Face, str] | None:
    """A family by its exact name: in fonts/ first, then installed."""
    for origin, faces in (("fonts/", project), ("installed", installed)):
        face = _pick(faces, family, weight)
        if face:
            return face, origin
    return None


def resolve_fonts(
    fonts_dir: Path,
    notice: bool = False,
    settings: FontSettings | None = None,
    problems: list | None = None,
) -> dict[str, ResolvedFont]:
    """Fill every role: fonts/ first, then installed fonts, then the open defaults; then give
    each role its 补字 font (fonts[key + FALLBACK]) unless that would be the role's own face.

    Families are matched by exact name, so fontconfig never gets to substitute one silently.
    notice=True warns once for each role that fell back to an open substitute (no 仿宋 here),
    unless series.yaml accepts that very font (settings.accepted). A 补字字体 that names a
    font found nowhere is a problem at its place in series.yaml: appended to `problems`, or
    raised when there is no list to collect it.
    """
    from liandong.errors import LiandongError, SourceErrors

    settings = settings or FontSettings()
    project = project_faces(fonts_dir)
    installed = installed_faces()
    resolved: dict[str, ResolvedFont] = {}
    found_problems = []
    for role in ROLES:
        choice = None
        for family in role.families:
            hit = _find(family, role.weight, project, installed)
            if hit:
                face, origin = hit
                choice = ResolvedFont(
                    role,
                    family,
                    face.file,
                    face.index,
                    face.weight,
                    origin,
                    postscript=face.postscript,
                )
                break
        if choice is None:
            for family in role.defaults:
                picked = _pick(installed, family, role.weight)
                if picked is not None:
                    choice = ResolvedFont(
                        role, family, picked.file, picked.index, picked.weight, "default"
                    )
                    break
        if choice is None:
            raise LiandongError(
                f"{role.label}（{role.style}）没有可用字体：既没有 {'、'.join(role.families[:3])} 等字体，"
                f"也没有默认的 {'、'.join(role.defaults)}。请安装 fonts-noto-cjk 和 fonts-lxgw-wenkai"
                "（见 README 的安装命令），或把字体文件放进 fonts/。"
            )
        resolved[role.key] = _with_bold(choice, installed)
        if notice and choice.notice and settings.accepted != choice.family:
            logger.warning("%s", choice.notice)
    for role in ROLES:
        own = resolved[role.key]
        named = settings.fallbacks.get(role.key)
        candidates = (named.value,) if named is not None else role.fallbacks
        for family in candidates:
            hit = _find(family, own.weight, project, installed)
            if hit is None:
                if named is not None:
                    found_problems.append(
                        named.loc.problem(
                            f"找不到补字字体“{family}”：fonts/ 文件夹和本机安装的字体里都没有这个字体名"
                            "（要与字体的名称完全一致，如 Noto Serif CJK SC）"
                        )
                    )
                continue
            face, origin = hit
            if (face.file, face.index) == (own.file, own.index):
                continue  # the role's own face: it has nothing more to give
            resolved[role.key + FALLBACK] = _with_bold(
                ResolvedFont(
                    role,
                    family,
                    face.file,
                    face.index,
                    face.weight,
                    origin,
                    fallback=True,
                    postscript=face.postscript,
                ),
                installed,
            )
            break
    if found_problems:
        if problems is None:
            raise SourceErrors(found_problems)
        problems += found_problems
    return resolved


def _with_bold(font: ResolvedFont, installed: tuple[Face, ...]) -> ResolvedFont:
    """The installed bold face of the font's family, which **strong** text prints with. A
    project font has one @font-face: its bold is synthetic."""
    if font.origin == "fonts/":
        return font
    bold = _pick(installed, font.family, 700)
    if bold is not None and bold.weight >= 600:
        return dataclasses.replace(font, bold=(bold.file, bold.index))
    return font


# --- Coverage and measurement -------------------------------------------------


@functools.cache
def coverage(file: Path, index: int) -> frozenset[int]:
    """The code points a face can print (HarfBuzz reads the cmap in C: fast on CJK fonts)."""
    import uharfbuzz as hb

    return frozenset(hb.Face(hb.Blob.from_file_path(str(file)), index).unicodes)


@dataclass(frozen=True)
class VerticalMetrics:
    """A face's metrics in em: what Pango uses for line boxes, and the ideographic em box."""

    ascent: float
    descent: float  # positive
    embox_top: float  # ideographic em-box top above the baseline

    def baseline(self, size: float, line_height: float) -> float:
        """Distance from a line box's top to its baseline, in pt (CSS half-leading)."""
        return line_height / 2 + (self.ascent - self.descent) * size / 2

    def glyph_top(self, size: float, line_height: float) -> float:
        """Distance from a line box's top to the em-box top of its glyphs, in pt."""
        return self.baseline(size, line_height) - self.embox_top * size


class Measurer:
    """Widths from the Pango WeasyPrint draws with (`shaping.PangoShaper`); glyph extents and
    vertical metrics from the font files (uharfbuzz, fontTools). Caches both.

    A style key is a role key of `fonts`, optionally with "+strong" (CSS bold); any key the
    fonts dict resolves can be measured."""

    def __init__(self, fonts: dict[str, ResolvedFont]):
        self.fonts = fonts
        self._hb: dict[str, HarfBuzzFont] = {}
        self._cache: dict[tuple, float] = {}
        self._metrics: dict[str, VerticalMetrics] = {}
        self._pango: PangoShaper | None = None

    def _font(self, role: str) -> HarfBuzzFont:
        """The HarfBuzz font of a role, or of its bold face for "role+strong"."""
        if role not in self._hb:
            import uharfbuzz as hb

            key, _, variant = role.partition("+")
            resolved = self.fonts[key]
            file, index = resolved.file, resolved.index
            if variant == "strong" and resolved.bold is not None:
                file, index = resolved.bold
            self._hb[role] = hb.Font(hb.Face(hb.Blob.from_file_path(str(file)), index))
        return self._hb[role]

    def _shape(
        self, role: str, text: str, features: dict | None = None
    ) -> tuple[HarfBuzzFont, Any]:
        """The role's HarfBuzz font and text shaped on its own (for glyph extents). features:
        OpenType features the CSS turns on (font-variant-east-asian: full-width is
        {"fwid": True})."""
        import uharfbuzz as hb

        font = self._font(role)
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        buf.language = "zh-cn"
        hb.shape(font, buf, features or {})
        return font, buf

    def _shaper(self) -> PangoShaper:
        if self._pango is None:
            from liandong.shaping import PangoShaper

            faces = [
                (font.file, font.css_family, font.weight)
                for font in self.fonts.values()
                if font.origin == "fonts/"
            ]
            self._pango = PangoShaper(list(dict.fromkeys(faces)))
        return self._pango

    def width(
        self, role: str, text: str, size: float, spacing: float = 0.0, full_width: bool = False
    ) -> float:
        """The width (pt) of text printed as one span in this style at size pt: its advances
        plus `spacing` (CSS letter-spacing, rounded as the templates write it) after every
        character. full_width: the span asks for the fonts' full-width forms (fwid), which
        the typesetter uses for a dash that stands between Latin letters or digits."""
        spacing = round(spacing, 3)
        key = (role, text, size, spacing, full_width)
        if key not in self._cache:
            name, _, variant = role.partition("+")
            font = self.fonts[name]
            weight = 700 if variant == "strong" else font.weight
            features = "kern 1,fwid 1" if full_width else "kern 1"
            self._cache[key] = self._shaper().width(
                font.css_family, weight, size, text, spacing, features
            )
        return self._cache[key]

    def ink_top(self, role: str, char: str, features: dict | None = None) -> float:
        """Top of a character's ink above the baseline, in em (after zh-CN substitutions)."""
        font, buf = self._shape(role, char, features=features)
        extents = font.get_glyph_extents(buf.glyph_infos[0].codepoint)
        return extents.y_bearing / font.face.upem

    def metrics(self, role: str) -> VerticalMetrics:
        if role not in self._metrics:
            from fontTools.ttLib import TTFont

            font = self._font(role)
            extents = font.get_font_extents("ltr")
            upem = font.face.upem
            resolved = self.fonts[role]
            os2 = TTFont(resolved.file, fontNumber=resolved.index, lazy=True)["OS/2"]
            embox_top = os2.sTypoAscender / (os2.sTypoAscender - os2.sTypoDescender)
            self._metrics[role] = VerticalMetrics(
                extents.ascender / upem, -extents.descender / upem, embox_top
            )
        return self._metrics[role]


def _printable(char: str) -> bool:
    """Whitespace other than the ideographic space prints nothing: no glyph is needed."""
    return not char.isspace() or char == "\u3000"


def fallback_runs(text: str, style: str, fonts: dict[str, ResolvedFont]) -> list[tuple[str, str]]:
    """text as (text, style) runs: the characters the style's role cannot print but its 补字
    font can get the 补字 style (role key + FALLBACK, "+strong" kept). Characters neither
    has stay with the role: check_glyphs reports them as errors."""
    key, plus, variant = style.partition("+")
    fallback = fonts.get(key + FALLBACK)
    if fallback is None or key not in fonts:
        return [(text, style)] if text else []
    own = coverage(fonts[key].file, fonts[key].index)
    extra = coverage(fallback.file, fallback.index)
    other = key + FALLBACK + plus + variant
    runs: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        run_style = other if code not in own and code in extra and _printable(char) else style
        if runs and runs[-1][1] == run_style:
            runs[-1] = (runs[-1][0] + char, run_style)
        else:
            runs.append((char, run_style))
    return runs


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Place(Protocol):
    """Where printed text stands in its source (source.Loc)."""

    @property
    def source(self) -> _Named: ...

    def problem(self, message: str, offset: int | None = None) -> Problem: ...

    def find(self, char: str) -> list[int]: ...


class PrintedText(Protocol):
    """What check_glyphs reads of a piece of printed text (render.Printed): its font role, the
    text, its place in the sources (None: none) and whether it was generated from a value."""

    @property
    def role(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def loc(self) -> _Place | None: ...

    @property
    def generated(self) -> bool: ...


def check_glyphs(
    printed: Sequence[PrintedText],
    fonts: dict[str, ResolvedFont],
    fallback_problem: Callable[[str], Problem],
    notices: list | None = None,
) -> list:
    """Every character against the font that will print it; one problem per place.

    `printed` holds (role, text, loc) entries; `fallback_problem(message)` places a problem for
    text that has no source position (generated text such as the masthead's numerals). A
    character the role's font lacks and its 补字 font has is no error: it goes to `notices`
    once (where it first appears, with how often it appears), so the editor knows which
    characters print in another typeface.
    """
    problems = []
    seen: set[tuple[str, str, int]] = set()
    borrowed: dict[tuple[str, str], tuple] = {}  # (role, char) -> (first problem, places)
    for item in printed:
        key = item.role.removesuffix(FALLBACK)
        font = fonts[key]
        covered = coverage(font.file, font.index)
        fallback = fonts.get(key + FALLBACK)
        extra = coverage(fallback.file, fallback.index) if fallback else frozenset()
        for char in dict.fromkeys(item.text):
            if not _printable(char):
                continue
            offsets = item.loc.find(char) if item.loc else []
            if ord(char) not in covered:
                if fallback is not None and ord(char) in extra:
                    if item.generated and not offsets:
                        continue  # a label the template adds: no place to name, nothing to choose
                    if (key, char) not in borrowed:
                        message = (
                            f"{font.role.label}所用字体 {font_label(font)}没有“{char}”"
                            f"（U+{ord(char):04X}），这个字改用补字字体 {fallback.family} 印出"
                        )
                        where = (
                            item.loc.problem(message, offsets[0])
                            if item.loc and offsets
                            else fallback_problem(message)
                            if item.loc is None
                            else item.loc.problem(message)
                        )
                        borrowed[(key, char)] = (where, set())
                    name = item.loc.source.name if item.loc else ""
                    borrowed[(key, char)][1].update((name, offset) for offset in offsets or [-1])
                    continue
                message = (
                    f"{font.role.label}所用字体 {font_label(font)}没有“{char}”"
                    f"（U+{ord(char):04X}）的字形，无法印出；请改换写法，或在 fonts/ "
                    "放入含此字的字体"
                )
            elif not has_outline(font, char):
                message = (
                    f"{font.role.label}所用字体 {font_label(font)}里“{char}”"
                    f"（U+{ord(char):04X}）的字形是空的，印出来会是空白：字体文件可能"
                    "已损坏，请换用完好的字体文件"
                )
            else:
                continue
            if item.generated and not offsets:
                message += f"（它印在由此生成的“{item.text}”里）"
            if not offsets:
                problems.append(
                    fallback_problem(message) if item.loc is None else item.loc.problem(message)
                )
            for offset in offsets:  # found only in a value that has a place (item.loc)
                loc = item.loc
                if loc is not None and (loc.source.name, char, offset) not in seen:
                    seen.add((loc.source.name, char, offset))
                    problems.append(loc.problem(message, offset))
    if notices is not None:
        for where, places in borrowed.values():
            suffix = f"（本期共 {len(places)} 处）" if len(places) > 1 else ""
            notices.append(dataclasses.replace(where, message=where.message + suffix))
    return problems
