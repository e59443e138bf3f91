"""What an issue was built with, so that it can be built the same way years later.

The bytes of an issue depend on more than its sources: WeasyPrint, Pango, HarfBuzz and
fontconfig lay the text out and measure it for liandong's line breaking (through Pango),
uharfbuzz reads the fonts' coverage and metrics and subsets them, and a new
release of a font moves glyphs and line breaks. `build_record` lists them: liandong's version,
the versions of those libraries (read from the shared libraries themselves, with ctypes, so
`check` needs no WeasyPrint), the Python packages that shape the bytes, and for each font role
the family, file name and SHA-256 of the file. `build` writes it beside the outputs
(<slug>.build.json) and into the archival PDF's XMP (metadata.py); the site's cache key
includes it (stack_key). `layout_differences` says, in Chinese, what changed between two
records in a way that can move the layout; `check` and `build` warn with it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

from liandong import __version__
from liandong.fonts import ROLE_BY_KEY, ResolvedFont

RECORD_FORMAT = 1
RECORD_SUFFIX = ".build.json"
"""2024-13.build.json beside 2024-13.pdf."""

PACKAGES = (
    "weasyprint",
    "pydyf",
    "tinycss2",
    "cssselect2",
    "tinyhtml5",
    "pyphen",
    "uharfbuzz",
    "fonttools",
    "pikepdf",
    "jinja2",
    "pyyaml",
    "rjieba",
    "pillow",
)
"""Python packages whose version shapes the PDF's bytes (the lock file pins them all): rjieba
breaks titles, Pillow (with its littleCMS) converts photos."""

LAYOUT = (
    ("liandong", "liandong"),
    ("weasyprint", "WeasyPrint"),
    ("pango", "Pango"),
    ("harfbuzz", "HarfBuzz（Pango 排版用）"),
    ("fontconfig", "fontconfig"),
    ("uharfbuzz", "uharfbuzz（liandong 读字体、精简字体用）"),
)
"""Record keys that can move the layout (with the fonts), and how a message names them."""


def _library(names: tuple[str, ...]) -> ctypes.CDLL | None:
    for name in names:
        found = ctypes.util.find_library(name) or name
        try:
            return ctypes.CDLL(found)
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Pango, HarfBuzz and fontconfig as loaded from the system (the libraries WeasyPrint loads
    by the same names); "?" where one cannot be loaded."""
    versions = {}
    pango = _library(("pango-1.0", "libpango-1.0.so.0"))
    if pango is not None:
        pango.pango_version_string.restype = ctypes.c_char_p
        versions["pango"] = pango.pango_version_string().decode()
    harfbuzz = _library(("harfbuzz", "libharfbuzz.so.0"))
    if harfbuzz is not None:
        harfbuzz.hb_version_string.restype = ctypes.c_char_p
        versions["harfbuzz"] = harfbuzz.hb_version_string().decode()
    fontconfig = _library(("fontconfig", "libfontconfig.so.1"))
    if fontconfig is not None:
        number = fontconfig.FcGetVersion()
        versions["fontconfig"] = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    return {key: versions.get(key, "?") for key in ("pango", "harfbuzz", "fontconfig")}


def _package(name: str) -> str:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return "?"


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int, ctime_ns: int, inode: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a font file, hashed once per process while it is unchanged (any write
    changes its ctime, which no tool sets back)."""
    try:
        stat = path.stat()
        return _file_digest(
            str(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino
        )
    except OSError:
        return "missing"


def _face(family: str, file: Path, index: int, origin: str) -> dict:
    return {
        "family": family,
        "file": file.name,
        "index": index,
        "origin": origin,
        "sha256": file_digest(file),
    }


def build_record(fonts: dict[str, ResolvedFont]) -> dict:
    """What this machine builds with now: versions, and the font files by content."""
    import uharfbuzz

    faces = {}
    for key, font in sorted(fonts.items()):
        faces[key] = _face(font.family, font.file, font.index, font.origin)
        if font.bold is not None:
            faces[f"{key}/bold"] = _face(font.family, font.bold[0], font.bold[1], font.origin)
    return {
        "format": RECORD_FORMAT,
        "liandong": __version__,
        "python": platform.python_version(),
        "weasyprint": _package("weasyprint"),
        **library_versions(),
        "uharfbuzz": f"{_package('uharfbuzz')} (HarfBuzz {uharfbuzz.version_string()})",
        "packages": {name: _package(name) for name in PACKAGES},
        "qpdf": _qpdf_version(),
        "fonts": faces,
    }


def _qpdf_version() -> str:
    import pikepdf

    return str(pikepdf.__libqpdf_version__)


def record_json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def stack_key(fonts: dict[str, ResolvedFont]) -> str:
    """A hash of everything build_record lists: the site re-renders every issue when it moves."""
    text = json.dumps(build_record(fonts), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _role_label(key: str) -> str:
    """仿宋（正文）, 楷体（编者按、副标题、（一）级标题）粗体."""
    name, _, variant = key.partition("/")
    role = ROLE_BY_KEY.get(name)
    label = f"{role.style}（{role.label}）" if role is not None else name
    return label + ("粗体" if variant == "bold" else "")


def layout_differences(old: dict, new: dict) -> list[str]:
    """What differs between two records in a way that can move line breaks and page breaks."""
    found = []
    for key, label in LAYOUT:
        if key in old and old.get(key) != new.get(key):
            found.append(f"{label} {old.get(key)} → {new.get(key, '?')}")
    old_fonts, new_fonts = old.get("fonts", {}), new.get("fonts", {})
    for key in sorted(old_fonts):
        before, now = old_fonts[key], new_fonts.get(key)
        if not isinstance(before, dict):
            continue
        if now is None:
            found.append(f"{_role_label(key)}字体 {before.get('file')} 现在没有用到")
        elif (before.get("file"), before.get("index")) != (now.get("file"), now.get("index")):
            found.append(
                f"{_role_label(key)}字体由 {before.get('family')}（{before.get('file')}）"
                f"换成了 {now.get('family')}（{now.get('file')}）"
            )
        elif before.get("sha256") != now.get("sha256"):
            found.append(
                f"{_role_label(key)}字体文件 {now.get('file')} 换了版本（SHA-256 "
                f"{str(before.get('sha256'))[:12]}… → {str(now.get('sha256'))[:12]}…）"
            )
    return found


def record_path(out: Path, slug: str) -> Path:
    return out / f"{slug}{RECORD_SUFFIX}"


def read_record_file(path: Path) -> dict | None:
    """A record written by build (or the one in a PDF's XMP); None if absent or unreadable."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if path.suffix == ".pdf":
        from liandong.metadata import read_record

        return read_record(data)
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def find_record(root: Path, slug: str) -> tuple[dict, Path] | None:
    """An issue's last record in the project: build/<slug>.build.json, else the XMP of the
    site's PDF (build/site/<slug>.pdf)."""
    for path in (record_path(root / "build", slug), root / "build" / "site" / f"{slug}.pdf"):
        record = read_record_file(path)
        if record is not None:
            return record, path
    return None
