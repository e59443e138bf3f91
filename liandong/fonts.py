"""Resolve each typographic role to one font file, check glyph coverage, and measure text."""

from __future__ import annotations

import dataclasses
import functools
import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".TTF", ".OTF", ".TTC")


@dataclass(frozen=True)
class Role:
    """A typographic role and the families that can fill it, best first."""

    key: str
    label: str   # what it prints
    style: str   # the Chinese name of the typeface style
    families: tuple[str, ...]
    default: str
    weight: int = 400
    generic: str = "serif"
    notice: str | None = None


ROLES: tuple[Role, ...] = (
    Role("title", "标题", "小标宋",
         ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05",
          "FZXBSJW--GB1-0", "华文中宋", "STZhongsong"),
         "Noto Serif CJK SC", weight=700),
    Role("body", "正文", "仿宋",
         ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "方正仿宋_GBK", "方正仿宋简体",
          "FZFangSong-Z02S", "华文仿宋", "STFangsong"),
         "Noto Serif CJK SC",
         notice=("没有找到仿宋字体（仿宋_GB2312、仿宋等），正文暂用 Noto Serif CJK SC（宋体风格）代替。"
                 "把授权的仿宋字体文件放进 fonts/ 文件夹即可改用仿宋。")),
    Role("kai", "编者按、副标题、（一）级标题", "楷体",
         ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "方正楷体_GBK", "方正楷体简体",
          "FZKai-Z03S", "华文楷体", "STKaiti"),
         "LXGW WenKai"),
    Role("hei", "一、级标题和【编者按】", "黑体",
         ("黑体", "SimHei", "方正黑体_GBK", "方正黑体简体", "FZHei-B01S", "华文黑体", "STHeiti"),
         "Noto Sans CJK SC", generic="sans-serif"),
    Role("song", "页码", "宋体",
         ("宋体", "SimSun", "方正书宋_GBK", "方正书宋简体", "FZShuSong-Z01S", "华文宋体", "STSong"),
         "Noto Serif CJK SC"),
)
ROLE_BY_KEY = {role.key: role for role in ROLES}

_FC_WEIGHT_TO_CSS = ((0, 100), (40, 200), (50, 300), (55, 350), (75, 380), (80, 400), (100, 500),
                     (180, 600), (200, 700), (205, 800), (210, 900))


@dataclass(frozen=True)
class Face:
    """One face of a font file, as fontconfig or fontTools names it."""

    families: tuple[str, ...]
    file: Path
    index: int
    weight: int  # CSS weight


@dataclass(frozen=True)
class ResolvedFont:
    """The font that fills a role: its family, file, and where it was found."""

    role: Role
    family: str
    file: Path
    index: int
    weight: int
    origin: str  # "fonts/", "installed" or "default"
    bold: tuple[Path, int] | None = None
    """The family's bold face (file, index), which CSS font-weight: bold selects for **strong**
    text; None when there is none and the bold is synthesised from this face's outlines."""

    @property
    def css_family(self) -> str:
        """The family name the print CSS uses. Project fonts get a private @font-face name."""
        return f"liandong-{self.role.key}" if self.origin == "fonts/" else self.family

    @property
    def is_fallback(self) -> bool:
        return self.origin == "default" and self.role.notice is not None


def _css_weight(fc_weight: int) -> int:
    return min(_FC_WEIGHT_TO_CSS, key=lambda pair: abs(pair[0] - fc_weight))[1]


@functools.lru_cache(maxsize=1)
def installed_faces() -> tuple[Face, ...]:
    """Every installed face, by all its family names (fontconfig's list, not its substitutions)."""
    try:
        out = subprocess.run(
            ["fc-list", "--format", "%{family}\t%{weight}\t%{index}\t%{file}\n"],
            capture_output=True, text=True, check=True).stdout
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
        faces.append(Face(tuple(f.strip() for f in families.split(",")), Path(file),
                          int(index or 0), css))
    return tuple(sorted(faces, key=lambda f: (str(f.file), f.index)))


def project_faces(fonts_dir: Path) -> tuple[Face, ...]:
    """Faces of the font files in the project's fonts/ folder (face 0 of a collection)."""
    from fontTools.ttLib import TTFont, TTLibError

    faces = []
    if not fonts_dir.is_dir():
        return ()
    folder = fonts_dir.resolve()
    confined = folder.is_relative_to(fonts_dir.parent.resolve())
    for path in sorted(fonts_dir.iterdir()):
        if path.suffix not in FONT_SUFFIXES:
            continue
        real = path.resolve()
        if not confined or not real.is_relative_to(folder):
            # WeasyPrint may read only fonts/ inside the project: a linked font would silently
            # not be used, so it is not offered at all.
            logger.warning("fonts/%s 指向 fonts/ 文件夹之外（%s），出于安全考虑已跳过；"
                           "请把字体文件本身放进 fonts/，或安装到本机", path.name, real)
            continue
        try:
            font = TTFont(path, fontNumber=0, lazy=True)
            names = {str(rec.toUnicode()).strip() for rec in font["name"].names
                     if rec.nameID in (1, 4, 6, 16)}
            weight = font["OS/2"].usWeightClass if "OS/2" in font else 400
        except (TTLibError, OSError, KeyError, UnicodeDecodeError) as exc:
            logger.warning("fonts/%s 不是可用的字体文件（%s），已跳过", path.name, exc)
            continue
        faces.append(Face(tuple(sorted(names)), path, 0, weight))
    return tuple(faces)


def _pick(faces: tuple[Face, ...], family: str, weight: int) -> Face | None:
    matches = [face for face in faces if family in face.families]
    if not matches:
        return None
    return min(matches, key=lambda face: (abs(face.weight - weight), str(face.file), face.index))


def resolve_fonts(fonts_dir: Path, notice: bool = False) -> dict[str, ResolvedFont]:
    """Fill every role: fonts/ first, then installed fonts, then the open defaults.

    Families are matched by exact name, so fontconfig never gets to substitute one silently.
    notice=True warns once for each role that fell back to an open default (no 仿宋 here).
    """
    from liandong.errors import LiandongError

    project = project_faces(fonts_dir)
    installed = installed_faces()
    resolved = {}
    for role in ROLES:
        choice = None
        for origin, faces in (("fonts/", project), ("installed", installed)):
            for family in role.families:
                face = _pick(faces, family, role.weight)
                if face:
                    choice = ResolvedFont(role, family, face.file, face.index, face.weight, origin)
                    break
            if choice:
                break
        if choice is None:
            face = _pick(installed, role.default, role.weight)
            if face is None:
                raise LiandongError(
                    f"{role.label}（{role.style}）没有可用字体：既没有 {'、'.join(role.families[:3])} 等字体，"
                    f"也没有默认的 {role.default}。请安装 fonts-noto-cjk 和 fonts-lxgw-wenkai"
                    "（见 README 的安装命令），或把字体文件放进 fonts/。")
            choice = ResolvedFont(role, role.default, face.file, face.index, face.weight, "default")
        if choice.origin != "fonts/":  # a project font has one @font-face: its bold is synthetic
            bold = _pick(installed, choice.family, 700)
            if bold is not None and bold.weight >= 600:
                choice = dataclasses.replace(choice, bold=(bold.file, bold.index))
        resolved[role.key] = choice
        if notice and choice.is_fallback:
            logger.warning("%s", role.notice)
    return resolved


# --- Coverage and measurement -------------------------------------------------

@functools.lru_cache(maxsize=None)
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
        self._hb: dict[str, object] = {}
        self._cache: dict[tuple, float] = {}
        self._metrics: dict[str, VerticalMetrics] = {}
        self._pango = None

    def _font(self, role: str):
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

    def _shape(self, role: str, text: str):
        """The role's HarfBuzz font and text shaped on its own (for glyph extents)."""
        import uharfbuzz as hb

        font = self._font(role)
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        buf.language = "zh-cn"
        hb.shape(font, buf, {})
        return font, buf

    def _shaper(self):
        if self._pango is None:
            from liandong.shaping import PangoShaper

            faces = [(font.file, font.css_family, font.weight) for font in self.fonts.values()
                     if font.origin == "fonts/"]
            self._pango = PangoShaper(list(dict.fromkeys(faces)))
        return self._pango

    def width(self, role: str, text: str, size: float, spacing: float = 0.0,
              full_width: bool = False) -> float:
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
            self._cache[key] = self._shaper().width(font.css_family, weight, size, text,
                                                    spacing, features)
        return self._cache[key]

    def ink_top(self, role: str, char: str) -> float:
        """Top of a character's ink above the baseline, in em (after zh-CN substitutions)."""
        font, buf = self._shape(role, char)
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
            self._metrics[role] = VerticalMetrics(extents.ascender / upem,
                                                  -extents.descender / upem, embox_top)
        return self._metrics[role]


def check_glyphs(printed, fonts: dict[str, ResolvedFont], fallback_problem) -> list:
    """Every character against the font that will print it; one problem per place.

    `printed` holds (role, text, loc) entries; `fallback_problem(message)` places a problem for
    text that has no source position (generated text such as the masthead's numerals).
    """
    problems = []
    seen: set[tuple[str, str, int]] = set()
    for item in printed:
        font = fonts[item.role]
        covered = coverage(font.file, font.index)
        for char in dict.fromkeys(item.text):
            if char.isspace() and char != "\u3000" or ord(char) in covered:
                continue
            message = (f"{font.role.label}所用字体 {font.family} 没有“{char}”（U+{ord(char):04X}）"
                       "的字形，无法印出；请改换写法，或在 fonts/ 放入含此字的字体")
            offsets = item.loc.find(char) if item.loc else []
            if item.generated and not offsets:
                message += f"（它印在由此生成的“{item.text}”里）"
            if not offsets:
                problems.append(fallback_problem(message) if item.loc is None
                                else item.loc.problem(message))
            for offset in offsets:
                key = (item.loc.source.name, char, offset)
                if key not in seen:
                    seen.add(key)
                    problems.append(item.loc.problem(message, offset))
    return problems
