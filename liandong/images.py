"""Photos and figures: an article's image found in its issue's folder and checked, and the
versions each output prints (the archival PDF's RGB, the print shop's CMYK, the web page's).

Loaded only when an issue has a figure: Pillow (which WeasyPrint already depends on) is imported
inside the functions, so a build without images pays nothing for it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from liandong import limits
from liandong.errors import LiandongError, Problem, printable

if TYPE_CHECKING:
    from PIL import Image as PILImage, ImageCms as PILImageCms

    from liandong.source import Figure, Loc

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}

CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
"""The CMYK profile photos are separated with for the print shop (Debian's libgs-common,
"Artifex CMYK SWOP Profile"): littleCMS converts through it, with black generation and an ink
limit, where a naive RGB→CMYK formula would print every dark tone as a four-colour black. The
profile is only used to convert; it is not embedded (the PDF/X-1a output intent names its
printing condition, see pdfx.OUTPUT_INTENT)."""

WEB_PIXELS = 1280
PRINT_URL = "liandong-image:"
"""How the print HTML names a figure's picture: PRINT_URL + its path in the issue's folder. Not a
file: URL, so nothing in the PDF depends on where the project is (WeasyPrint names an image's
XObject after a hash of its URL), and only pdf.ProjectFetcher, which is given the converted
bytes, can answer it."""
"""Widest image on the web page, in pixels (twice the page's 640 px column)."""

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class ImageFile:
    """An image of the issue's folder, read and checked: its real path, format, size in pixels
    (after its EXIF orientation), colour mode and the SHA-256 of its bytes."""

    path: Path
    name: str  # the path as written in the article (relative to the issue folder)
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    mode: str
    digest: str


def _problem(loc: Loc, message: str) -> Problem:
    return loc.problem(message)


def find_image(folder: Path, figure: Figure, problems: list[Problem]) -> ImageFile | None:
    """The image a figure names, checked: inside the issue's folder (no network, no absolute
    path, no `..`, no link out of it), present, a JPEG or PNG by its content, within the size
    limits, and readable to its last byte. Problems at the file name's place."""
    src, loc = figure.src, figure.src_loc
    shown = printable(src)
    if not src:
        problems.append(loc.problem("图片缺少文件名：写在圆括号里，如“![图题](照片.jpg)”"))
        return None
    scheme = _SCHEME.match(src)
    if src.startswith("//") or (scheme and len(scheme.group()) > 2):
        problems.append(
            loc.problem(
                f"不读取网络或其他来源的图片（“{shown}”）：请把图片文件放进本期文件夹，写它的文件名"
            )
        )
        return None
    if src.startswith(("/", "\\")) or scheme:
        problems.append(
            loc.problem(
                f"图片“{shown}”写的是绝对路径：请把图片放进本期文件夹，写相对于它的路径，如“照片/1.jpg”"
            )
        )
        return None
    if "\\" in src:
        problems.append(loc.problem(f"图片路径“{shown}”里的文件夹请用“/”分隔，如“照片/1.jpg”"))
        return None
    parts = PurePosixPath(src).parts
    if ".." in parts:
        problems.append(
            loc.problem(
                f"图片“{shown}”在本期文件夹之外：图片只能放在本期文件夹（及其子文件夹）里，路径里不能有“..”"
            )
        )
        return None
    path = folder.joinpath(*parts)
    try:
        real = path.resolve()
        inside = real.is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        real, inside = path, False
    if not inside:
        problems.append(
            loc.problem(
                f"图片“{shown}”是指向本期文件夹之外的符号链接，出于安全考虑不读取：请把图片文件本身放进本期文件夹"
            )
        )
        return None
    if not real.exists():
        near = _near(folder, src)
        hint = f"，是不是“{near}”？" if near else ""
        problems.append(loc.problem(f"找不到图片文件“{shown}”：它应在本期文件夹里{hint}"))
        return None
    if not real.is_file():
        problems.append(loc.problem(f"“{shown}”不是图片文件"))
        return None
    try:
        size = real.stat().st_size
        if size > limits.IMAGE_BYTES:
            problems.append(
                loc.problem(
                    f"图片“{shown}”有 {size / 1024 / 1024:.1f} MB，超过 {limits.IMAGE_BYTES // 1024 // 1024} MB "
                    "的上限（limits.IMAGE_BYTES）：请压缩后再用"
                )
            )
            return None
        data = real.read_bytes()
    except OSError as exc:
        from liandong.errors import os_reason

        problems.append(loc.problem(f"无法读取图片“{shown}”：{os_reason(exc)}"))
        return None
    if data.startswith(JPEG_MAGIC):
        kind = "JPEG"
    elif data.startswith(PNG_MAGIC):
        kind = "PNG"
    else:
        problems.append(
            loc.problem(
                f"“{shown}”不是 JPEG 或 PNG 图片：请在图片软件里另存为 JPEG（照片）或 PNG（图表）"
            )
        )
        return None
    try:
        image = _open(data)
        width, height = image.size
        if width * height > limits.IMAGE_PIXELS:
            problems.append(
                loc.problem(
                    f"图片“{shown}”有 {width}×{height} 像素，超过 {limits.IMAGE_PIXELS // 1_000_000} 百万像素的上限"
                    "（limits.IMAGE_PIXELS）：请缩小后再用"
                )
            )
            return None
        if _rotated(image):
            width, height = height, width
        mode = image.mode
        if kind == "JPEG":
            # Decoding at an eighth of the size still reads every byte of the compressed data,
            # so a truncated or damaged file is found here, not while the PDF is written.
            image.draft("RGB" if mode not in ("L", "CMYK") else mode, (width // 8, height // 8))
        image.load()
    except LiandongError:
        raise
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for damaged files
        problems.append(loc.problem(f"图片“{shown}”已损坏或不完整，无法读取：请换一个文件"))
        return None
    return ImageFile(real, src, kind, width, height, mode, hashlib.sha256(data).hexdigest())


def _open(data: bytes) -> PILImage.Image:
    from PIL import Image

    # Our own pixel limit is checked right after opening; Pillow's bomb check stays as a guard.
    return Image.open(io.BytesIO(data))


def _rotated(image: PILImage.Image) -> bool:
    """Whether the EXIF orientation turns the image by 90° (width and height swap)."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - damaged EXIF: taken as upright, as Pillow draws it
        return False
    return orientation in (5, 6, 7, 8)


def _near(folder: Path, src: str) -> str | None:
    """A file of the folder whose name differs from src only in letter case or extension."""
    wanted = PurePosixPath(src)
    try:
        candidates = [p for p in folder.joinpath(*wanted.parent.parts).iterdir() if p.is_file()]
    except OSError:
        return None
    for candidate in sorted(candidates):
        if candidate.name.lower() == wanted.name.lower() or candidate.stem == wanted.stem:
            return str(wanted.parent / candidate.name) if wanted.parent.parts else candidate.name
    return None


# --- Versions for the outputs -----------------------------------------------------------


def _srgb(image: PILImage.Image, source: PILImageCms.ImageCmsProfile) -> PILImage.Image:
    """The image converted from the source profile to sRGB."""
    from PIL import ImageCms

    return _convert(image, source, ImageCms.createProfile("sRGB"), "RGB")


def _convert(
    image: PILImage.Image,
    source: PILImageCms.ImageCmsProfile | PILImageCms.core.CmsProfile,
    target: PILImageCms.ImageCmsProfile | PILImageCms.core.CmsProfile,
    mode: str,
) -> PILImage.Image:
    """ImageCms.profileToProfile (perceptual), as a new image (it returns None only when
    converting in place, which liandong never asks for)."""
    from PIL import ImageCms

    converted = ImageCms.profileToProfile(
        image, source, target, outputMode=mode, renderingIntent=ImageCms.Intent.PERCEPTUAL
    )
    if converted is None:
        raise ValueError("ImageCms.profileToProfile converted in place")
    return converted


def _normalised(image_file: ImageFile) -> PILImage.Image:
    """The image upright, without alpha (flattened onto white), in RGB or L, in sRGB."""
    from PIL import Image, ImageCms, ImageOps

    image: PILImage.Image = Image.open(image_file.path)
    profile = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba).convert("RGB")
    elif image.mode == "CMYK":
        source = (
            ImageCms.ImageCmsProfile(io.BytesIO(profile))
            if profile
            else ImageCms.getOpenProfile(str(_cmyk_profile()))
        )
        image = _srgb(image, source)
        profile = None
    elif image.mode not in ("RGB", "L"):
        image = image.convert("L" if image.mode in ("1", "I", "I;16", "F") else "RGB")
    if profile and image.mode == "RGB":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = _srgb(image, source)
        except (ImageCms.PyCMSError, OSError):
            pass  # a profile littleCMS cannot read: the pixels are taken as sRGB
    return image


def _cmyk_profile() -> Path:
    if not CMYK_PROFILE.is_file():
        raise LiandongError(
            f"把图片转换为印刷四色要用 CMYK 色彩描述文件 {CMYK_PROFILE}，这台电脑上没有：请运行 bash setup.sh"
            "（它安装 Debian 的 libgs-common 软件包）"
        )
    return CMYK_PROFILE


def _encoded(image: PILImage.Image, kind: str, quality: int = 92) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        image.save(
            out, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, optimize=True
        )
    else:
        image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _passes_through(image_file: ImageFile) -> bool:
    """An upright RGB or grey JPEG without a colour profile goes into the archival PDF as it
    is: no second compression."""
    if image_file.format != "JPEG" or image_file.mode not in ("RGB", "L"):
        return False
    from PIL import Image

    with Image.open(image_file.path) as image:
        return (
            image.getexif().get(0x0112, 1) == 1
            and not image.info.get("icc_profile")
            and not image.info.get("progressive")
            and not image.info.get("progression")
        )


def archival(image_file: ImageFile) -> tuple[bytes, str]:
    """The image as the archival PDF prints it: RGB or grey, no alpha, upright (PDF/A with an
    sRGB output intent takes DeviceRGB and DeviceGray)."""
    if _passes_through(image_file):
        return image_file.path.read_bytes(), FORMATS["JPEG"]
    image = _normalised(image_file)
    return _encoded(image, image_file.format), FORMATS[image_file.format]


def print_shop(image_file: ImageFile) -> tuple[bytes, str]:
    """The image as the print-shop PDF prints it: a CMYK JPEG separated through CMYK_PROFILE,
    or, for a grey image, a grey JPEG that prints on the K plate only (PDF/X-1a takes
    DeviceCMYK and DeviceGray, and no alpha)."""
    from PIL import ImageCms

    image = _normalised(image_file)
    if image.mode != "L":
        image = _convert(
            image,
            ImageCms.createProfile("sRGB"),
            ImageCms.getOpenProfile(str(_cmyk_profile())),
            "CMYK",
        )
    return _encoded(image, "JPEG", quality=95), FORMATS["JPEG"]


def web_source(image_file: ImageFile) -> str:
    """The image for the web page, as a data: URI (the page stays one file beside its PDF):
    at most WEB_PIXELS wide, sRGB or grey, JPEG for photos, PNG for PNG figures."""
    image = _normalised(image_file)
    if image.width > WEB_PIXELS:
        from PIL import Image

        image = image.resize(
            (WEB_PIXELS, max(1, round(image.height * WEB_PIXELS / image.width))),
            Image.Resampling.LANCZOS,
        )
    kind = image_file.format
    data = _encoded(image, kind, quality=85)
    return f"data:{FORMATS[kind]};base64,{base64.b64encode(data).decode('ascii')}"
