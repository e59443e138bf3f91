"""The print-shop PDF as PDF/X-1a:2001: what a print shop's RIP and preflight accept.

Why PDF/X-1a and not PDF/X-4. PDF/X-4 requires the output intent to embed the ICC profile of
the printing condition. No CMYK profile that the print world accepts can be shipped with
liandong: the only freely distributed CMYK profiles on Debian are Ghostscript's
(libgs-common: default_cmyk.icc, "Artifex CMYK SWOP Profile", and ps_cmyk.icc, "Artifex PS CMYK
Profile"), licensed under the AGPL-3 like Ghostscript itself and standing for no registered
printing condition (default_cmyk.icc only approximates SWOP, CGATS TR 001); ECI's and FOGRA's
profiles may not be redistributed in software. PDF/X-1a instead allows the output intent to
name a registered characterization from the ICC registry without embedding its profile, which
is right for this document: it prints in two process inks only (text on K, the red as M+Y
solids), with no images and no transparency. So the file is complete and valid as written; a
shop that proofs against another condition changes only the name (OUTPUT_INTENT).

What this module does to the file WeasyPrint wrote (plain PDF, CMYK colours from print.css,
3 mm bleed, no crop marks):

- checks that it can be PDF/X-1a: no RGB or device-independent colour, no transparency (soft
  masks, blend modes, opacity), nothing but what PDF 1.3 has; a designer's CSS that breaks
  this stops the build with a message rather than giving the shop a file its RIP refuses;
- draws crop marks in registration colour (/Separation /All: every plate), outside the bleed:
  MARK_OFFSET from the trim (the bleed's edge), MARK_LENGTH long, MARK_WIDTH thick, and makes
  the MediaBox large enough to hold them;
- adds the PDF/X output intent (GTS_PDFX, FOGRA39 from the ICC registry), and the Info keys
  GTS_PDFXVersion, GTS_PDFXConformance, Trapped /False; the file is saved as PDF 1.3 without
  object streams (pdf.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pikepdf

from liandong.errors import LiandongError
from liandong.metadata import normalise_info

if TYPE_CHECKING:
    from liandong.tags import PdfObject

MM = 72 / 25.4

PDFX_VERSION = "PDF/X-1:2001"
PDFX_CONFORMANCE = "PDF/X-1a:2001"
PDF_VERSION = "1.3"
"""PDF/X-1a:2001 is PDF 1.3: no transparency, no object or cross-reference streams."""

OUTPUT_INTENT = {
    "OutputConditionIdentifier": "FOGRA39",
    "RegistryName": "http://www.color.org",
    "Info": "Coated FOGRA39 (ISO 12647-2:2004)",
    "OutputCondition": "Offset printing according to ISO 12647-2:2004/Amd 1 (GB/T 17934.2), "
    "paper type 1 or 2 (coated), 115 g/m2, screen ruling 60/cm",
}
"""The registered characterization the file is made for. ISO 12647-2 is the offset printing
standard China adopts as GB/T 17934.2; FOGRA39 is its registered data set for coated paper."""

MARK_OFFSET = 3 * MM
"""Crop marks start this far from the trim: at the 3 mm bleed's edge, never inside it (what
InDesign and Acrobat do when the bleed is larger than their default 2.1 mm offset)."""
MARK_LENGTH = 5 * MM
MARK_WIDTH = 0.25
"""pt: the usual hairline of crop marks (InDesign's and Acrobat's default weight)."""

REGISTRATION = "/LiandongRegistration"
"""Resource name of the registration colour space: /Separation /All, every plate at 100 %."""

ALLOWED_SPACES = {"/DeviceCMYK", "/DeviceGray", "/Separation", "/DeviceN", "/Pattern"}


class NotPrintable(LiandongError):
    """The print-shop PDF would not be valid PDF/X-1a (RGB, transparency)."""


def _colour_space_family(space: PdfObject) -> str:
    if isinstance(space, pikepdf.Name):
        return str(space)
    if isinstance(space, pikepdf.Array) and len(space):
        return str(space[0])
    return "?"


def _space_allowed(space: PdfObject) -> bool:
    family = _colour_space_family(space)
    if family not in ALLOWED_SPACES:
        return False
    if family in ("/Separation", "/DeviceN"):
        alternate = space[2]
        return _colour_space_family(alternate) in ("/DeviceCMYK", "/DeviceGray")
    return True


def _check_resources(
    resources: PdfObject, where: str, problems: list[str], seen: set[tuple[int, int]]
) -> None:
    """Transparency and colour in a resource dictionary and the forms and images it holds."""
    if resources is None:
        return
    for state in resources.get("/ExtGState", {}).values():
        for key in ("/CA", "/ca"):
            if key in state and float(state[key]) != 1:
                problems.append(f"{where}用了透明度（{key[1:]} {float(state[key]):g}）")
            elif key in state:
                del state[key]  # 1 is the default: the key itself is PDF 1.4
        if "/SMask" in state and state.SMask != pikepdf.Name("/None"):
            problems.append(f"{where}用了软蒙版（SMask）透明效果")
        if "/BM" in state and state.BM not in (pikepdf.Name.Normal, pikepdf.Name.Compatible):
            problems.append(f"{where}用了混合模式 {state.BM}")
    for xobject in resources.get("/XObject", {}).values():
        if xobject.objgen in seen:
            continue
        seen.add(xobject.objgen)
        if xobject.get("/Subtype") == "/Image":
            space = xobject.get("/ColorSpace")
            if "/SMask" in xobject:
                problems.append(f"{where}的图片带透明通道")
            if space is not None and not _space_allowed(space):
                problems.append(f"{where}的图片是 {_colour_space_family(space)[1:]} 颜色")
        elif xobject.get("/Subtype") == "/Form":
            if "/Group" in xobject:
                problems.append(f"{where}用了透明组")
            _check_resources(xobject.get("/Resources"), where, problems, seen)


def _check_content(page: pikepdf.Page, where: str, problems: list[str]) -> set[str]:
    """RGB colour operators, and the colour space resources the content selects."""
    used: set[str] = set()
    for instruction in pikepdf.parse_content_stream(page, "rg RG cs CS sh"):
        operands, op = instruction.operands, str(instruction.operator)
        if op in ("rg", "RG"):
            problems.append(f"{where}用了 RGB 颜色")
        elif op in ("cs", "CS"):
            used.add(str(operands[0]))
        elif op == "sh":
            problems.append(f"{where}用了渐变（shading）")
    return used


def check_printable(pdf: pikepdf.Pdf) -> None:
    """Raise NotPrintable, listing every page's problem, if the file cannot be PDF/X-1a."""
    problems: list[str] = []
    seen: set = set()
    for number, page in enumerate(pdf.pages, start=1):
        where = f"第 {number} 页"
        if "/Group" in page.obj:
            problems.append(f"{where}是透明组")
        resources = page.obj.get("/Resources")
        used = _check_content(page, where, problems)
        _check_resources(resources, where, problems, seen)
        spaces: PdfObject = resources.get("/ColorSpace", {}) if resources is not None else {}
        for name in used:
            space = spaces.get(name, pikepdf.Name(name))
            if not _space_allowed(space):
                problems.append(f"{where}用了 {_colour_space_family(space)[1:]} 颜色")
        if "/Annots" in page.obj:
            problems.append(f"{where}有注释或链接")
    if problems:
        unique = list(dict.fromkeys(problems))
        raise NotPrintable(
            "印刷用 PDF 不能做成 PDF/X-1a：" + "；".join(unique) + "。"
            "印刷版只能用 device-cmyk() 颜色，不能有透明效果、RGB 图片或链接"
            "（见 templates/print.css 中 print_shop 部分）。"
        )


def _unused_colour_spaces(pdf: pikepdf.Pdf) -> None:
    """Drop colour space resources no page selects (WeasyPrint always defines two Lab spaces,
    which a PDF/X-1a checker may count as device-independent colour)."""
    used: set[str] = set()
    for page in pdf.pages:
        for instruction in pikepdf.parse_content_stream(page, "cs CS"):
            used.add(str(instruction.operands[0]))
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        spaces = resources.get("/ColorSpace") if resources is not None else None
        if spaces is None:
            continue
        for name in list(spaces.keys()):
            if name not in used:
                del spaces[name]


def _registration(pdf: pikepdf.Pdf) -> pikepdf.Object:
    tint = pdf.make_indirect(
        pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[1, 1, 1, 1], N=1)
    )
    return pdf.make_indirect(
        pikepdf.Array([pikepdf.Name.Separation, pikepdf.Name.All, pikepdf.Name.DeviceCMYK, tint])
    )


def _crop_marks(trim: list[float]) -> bytes:
    """Eight hairlines, two at each corner, on the trim lines' extensions, outside the bleed."""
    x0, y0, x1, y1 = trim
    near, far = MARK_OFFSET, MARK_OFFSET + MARK_LENGTH
    lines = []
    for x, y, sx, sy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1), (x1, y1, 1, 1)):
        lines.append((x + sx * near, y, x + sx * far, y))  # horizontal, on the trim line y
        lines.append((x, y + sy * near, x, y + sy * far))  # vertical, on the trim line x
    path = "".join(f"{a:.3f} {b:.3f} m {c:.3f} {d:.3f} l S\n" for a, b, c, d in lines)
    return (f"q\n{REGISTRATION} CS 1 SCN\n{MARK_WIDTH:g} w 0 J 0 j [] 0 d\n{path}Q\n").encode()


def make_pdfx(pdf: pikepdf.Pdf) -> None:
    """Turn the print-shop PDF into PDF/X-1a:2001 in place (see the module's docstring)."""
    check_printable(pdf)
    _unused_colour_spaces(pdf)
    registration = _registration(pdf)
    for page in pdf.pages:
        trim = [float(v) for v in page.obj.get("/TrimBox", page.mediabox)]
        x0, y0, x1, y1 = (
            min(trim[0], trim[2]),
            min(trim[1], trim[3]),
            max(trim[0], trim[2]),
            max(trim[1], trim[3]),
        )
        reach = MARK_OFFSET + MARK_LENGTH
        page.obj.MediaBox = pikepdf.Array([x0 - reach, y0 - reach, x1 + reach, y1 + reach])
        page.obj.TrimBox = pikepdf.Array([x0, y0, x1, y1])
        if "/BleedBox" not in page.obj:
            page.obj.BleedBox = pikepdf.Array([x0, y0, x1, y1])
        # The page's own drawing is closed in q/Q, so the marks start from a clean state.
        page.contents_coalesce()
        content = page.obj.Contents.read_bytes()
        page.obj.Contents = pdf.make_stream(
            b"q\n" + content + b"\nQ\n" + _crop_marks([x0, y0, x1, y1])
        )
        resources = page.obj.Resources
        if "/ColorSpace" not in resources:
            resources.ColorSpace = pikepdf.Dictionary()
        resources.ColorSpace[REGISTRATION] = registration
    intent = pikepdf.Dictionary(
        {
            "/Type": pikepdf.Name.OutputIntent,
            "/S": pikepdf.Name.GTS_PDFX,
            **{f"/{key}": pikepdf.String(value) for key, value in OUTPUT_INTENT.items()},
        }
    )
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])
    normalise_info(pdf)
    info = pdf.docinfo
    if "/Title" not in info:
        raise NotPrintable("印刷用 PDF（PDF/X-1a）必须有标题：print.html 缺少 <title>。")
    info[pikepdf.Name.GTS_PDFXVersion] = pikepdf.String(PDFX_VERSION)
    info[pikepdf.Name.GTS_PDFXConformance] = pikepdf.String(PDFX_CONFORMANCE)
    info[pikepdf.Name.Trapped] = pikepdf.Name("/False")
    for key in ("/Metadata", "/Lang"):  # an XMP stream and /Lang are PDF 1.4
        if key in pdf.Root:
            del pdf.Root[key]
