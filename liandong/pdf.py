"""Render the print HTML into a PDF. The only module that imports WeasyPrint."""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from liandong.fonts import pin_fontconfig_language  # noqa: E402

pin_fontconfig_language()  # before WeasyPrint loads fontconfig through Pango

import contextvars  # noqa: E402

import weasyprint  # noqa: E402 - after pin_fontconfig_language
from weasyprint.pdf import tags as _weasyprint_tags  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

from liandong.errors import printable

if TYPE_CHECKING:
    import pikepdf

    from liandong.tags import PdfObject

logger = logging.getLogger(__name__)

_TAG_SOURCES: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "liandong_tag_sources", default=None)
_build_box_tree = _weasyprint_tags._build_box_tree


def _record_tag_sources(box, parent, pdf, *args):
    """WeasyPrint's tag builder, noting which HTML element each structure element comes from.

    WeasyPrint builds the structure tree page by page, so an element that runs over a page
    break gets one structure element per page. The HTML element behind each (the same lxml
    element on every page, with its pseudo-element tag and box type) lets tags.tidy merge the
    parts again. Structure elements are numbered as WeasyPrint writes them, which is how the
    written file's objects are numbered too. The builder calls itself through the module, so
    every level passes through here; the first (innermost) note of an object wins."""
    sources = _TAG_SOURCES.get()
    for element in _build_box_tree(box, parent, pdf, *args):
        html = getattr(getattr(box, "_box", box), "element", None)
        if html is not None and str(element.get("S", "")) in _GENERIC:
            for name in (html.get("class") or "").split():
                if name in STRUCTURE_TYPES:
                    element["S"] = STRUCTURE_TYPES[name]
        if sources is not None:
            number = getattr(element, "number", None)
            source = getattr(box, "_box", box)  # an absolutely positioned box's placeholder
            html = getattr(source, "element", None)
            if number is not None and number not in sources and html is not None:
                sources[number] = (id(html), source.element_tag, type(source).__name__)
        yield element


STRUCTURE_TYPES = {"lbl": "/Lbl", "zhu": "/Note"}
"""Structure types WeasyPrint has no HTML element for, by the class of the element: a list
item's marker is its label (Lbl), a 注 block a Note."""
_GENERIC = {"/Span", "/Div", "/NonStruct"}

_weasyprint_tags._build_box_tree = _record_tag_sources


class ProjectFetcher(URLFetcher):
    """Lets WeasyPrint read only files inside the allowed folders.

    Only `file:` URLs without a host are served, and only after the path has been decoded
    (%2e%2e), made absolute and stripped of `..` and symbolic links: the file actually read is
    the resolved one, so a link cannot lead out of an allowed folder after the check. Every
    other scheme (http, https, ftp, data, …) is refused before anything is opened, so there is
    no network access and no redirect to follow. Refused URLs are collected in `refused`; a file
    named inside an allowed folder that does not exist (a designer's typo) goes to `missing`.
    """

    def __init__(self, allowed: list[Path], images: dict[Path, tuple[bytes, str]] | None = None):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.allowed = [folder.resolve() for folder in allowed]
        self.images = images or {}
        """Image files (real paths) and what is served in their place: the version of a photo
        the PDF prints (RGB for the archival PDF, CMYK for the print shop's)."""
        self.refused: list[str] = []
        self.missing: list[str] = []

    def local_path(self, url: str) -> Path | None:
        """The real file an allowed URL names; None, with the URL noted, for anything else."""
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return self._refuse(url)
            path = Path(unquote(parts.path, errors="strict"))
            if not path.is_absolute():
                return self._refuse(url)
            real = path.resolve()  # links that exist are followed; `..` is gone either way
        except (ValueError, OSError, RuntimeError):  # bad URL, NUL byte, link loop
            return self._refuse(url)
        if not any(real.is_relative_to(folder) for folder in self.allowed):
            return self._refuse(url)
        if not real.exists():
            self.missing.append(url)
            return None
        return real if real.is_file() else self._refuse(url)

    def _refuse(self, url: str) -> Path | None:
        self.refused.append(url)
        return None

    def fetch(self, url, headers=None):
        path = self.local_path(url)
        if path is None:
            raise ValueError(f"refused by liandong: {url}")
        if path in self.images:
            # Not a file: URL, or WeasyPrint would embed the file it names, not these bytes.
            body, mime = self.images[path]
            return URLFetcherResponse(f"liandong-image:{quote(path.name)}", body=body,
                                      headers={"Content-Type": mime})
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                  headers={"Content-Type": mime})


ARCHIVE_OPTIONS = {"pdf_variant": "pdf/a-2u", "pdf_tags": True}
"""The published PDF: PDF/A-2u (every glyph maps to Unicode, so the text can be searched and
copied for decades), tagged (structure tree, /MarkInfo) for screen readers. PDF/UA-1 cannot be
declared together with PDF/A in one WeasyPrint file, so the tags are there but not the claim.
After writing, tags.tidy and metadata.write_archival_metadata rework the tags and the XMP."""
PDFA_PART, PDFA_CONFORMANCE = 2, "U"

PRINT_SHOP_OPTIONS = {"pdf_version": "1.3", "pdf_identifier": True}
"""The print-shop PDF prints in CMYK, which PDF/A with an sRGB output intent forbids: WeasyPrint
writes a plain PDF, which pdfx.make_pdfx turns into PDF/X-1a:2001 (PDF 1.3). pdf_identifier=True
makes the file /ID a hash of the content, never random (WeasyPrint's own pdf/x variants write a
random document ID and the time of the run)."""


STYLE = re.compile(r"<style>(.*?)</style>", re.S | re.I)
"""The print HTML's style sheet, which _issue.html writes as the document's only <style>."""

RELATIVE_URL = re.compile(r"""url\(\s*['"]?(?!file:|data:)""", re.I)
"""A url() that resolves against the issue's folder (not a file:// font, not inline data)."""


class PdfRenderer:
    """One FontConfiguration per process, and each distinct style sheet parsed once: the
    print CSS is the same for every issue of a build (and for every issue an archive worker
    renders), so WeasyPrint parses it, and loads its @font-face fonts, only the first time."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()
        self._sheets: dict[tuple[str, str | None], weasyprint.CSS] = {}

    def render(self, html: str, base: Path, allowed: list[Path], print_shop: bool = False,
               record: dict | None = None, names: dict[str, str] | None = None,
               images: dict[Path, tuple[bytes, str]] | None = None,
               synthetic: frozenset[str] = frozenset()) -> bytes:
        """The PDF's bytes. Identical input gives identical bytes: dates come from the HTML's
        dcterms meta (the issue date), the /ID and the font subset tags are content hashes.
        record (stack.build_record) goes into the archival PDF's XMP; `names` maps a private
        @font-face family to the name its PDF font is given."""
        fetcher = ProjectFetcher(allowed, images)
        base_url = str(base) + "/"
        html, sheets = self._style_sheets(html, base_url, fetcher)
        page = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        options = {**(PRINT_SHOP_OPTIONS if print_shop else ARCHIVE_OPTIONS),
                   "stylesheets": sheets, "uncompressed_pdf": True}
        sources: dict = {}
        token = _TAG_SOURCES.set(sources)
        try:
            document = page.render(font_config=self.font_config, **options)
            _internal_links_only(document)
            # Uncompressed: finish rewrites the file and compresses every stream once.
            written = document.write_pdf(**options)
        finally:
            _TAG_SOURCES.reset(token)
        data = finish(written, print_shop=print_shop, record=record, tag_sources=sources,
                      names=names, synthetic=synthetic)
        if fetcher.refused:
            logger.warning("已拒绝读取项目之外的资源：%s",
                           "、".join(printable(url) for url in dict.fromkeys(fetcher.refused)))
        if fetcher.missing:
            logger.warning("找不到模板引用的文件：%s",
                           "、".join(printable(url) for url in dict.fromkeys(fetcher.missing)))
        return data

    def _style_sheets(self, html: str, base_url: str, fetcher: ProjectFetcher) -> tuple[str, list[weasyprint.CSS]]:
        """The HTML without its <style>, and that sheet parsed (or taken from the cache).

        A sheet passed to WeasyPrint cascades after the document's own and resolves its
        url()s against base_url: it is taken out only when it is the document's one style
        sheet (no other <style>, no <link>) and no <base> element moves the base, so neither
        the order of rules nor any URL changes. A sheet with relative url()s is cached per
        issue folder, since they resolve against it."""
        found = STYLE.findall(html)
        lowered = html.lower()
        if (len(found) != 1 or lowered.count("<style") != 1
                or "<link" in lowered or "<base" in lowered):
            return html, []
        css = found[0]
        key = (css, base_url if RELATIVE_URL.search(css) else None)
        sheet = self._sheets.get(key)
        if sheet is None:
            sheet = weasyprint.CSS(string=css, base_url=base_url, url_fetcher=fetcher,
                                   font_config=self.font_config)
            self._sheets[key] = sheet
        return STYLE.sub("", html, count=1), [sheet]


def _internal_links_only(document: weasyprint.Document) -> None:
    """Keep only links to a place in the document itself (`href="#…"`): a link out of it
    (javascript:, http:, file:, mailto:, a relative file, an attachment) would become a link
    annotation that a PDF reader opens or runs, so a template's link prints as plain text."""
    for page in document.pages:
        page.links[:] = [link for link in page.links if link[0] == "internal"]


def finish(data: bytes, *, print_shop: bool = False, record: dict | None = None,
           tag_sources: dict | None = None, names: dict[str, str] | None = None,
           synthetic: frozenset[str] = frozenset()) -> bytes:
    """What WeasyPrint wrote, made ready to publish, in one pass through pikepdf: bold text of
    a font without a bold face emboldened (`synthetic`: see embolden); fonts compacted; the
    archival PDF's tags tidied and its XMP rewritten (with the build record); the print-shop
    PDF made PDF/X-1a. Saved compressed, with a content-derived /ID."""
    import pikepdf

    from liandong import metadata, pdfx, tags

    with pikepdf.open(io.BytesIO(data)) as pdf:
        if synthetic:
            embolden(pdf, synthetic)
        compact_fonts(pdf, names)
        if print_shop:
            pdfx.make_pdfx(pdf)
            options = {"force_version": pdfx.PDF_VERSION,
                       "object_stream_mode": pikepdf.ObjectStreamMode.disable}
        else:
            tags.tidy(pdf, tag_sources or {})
            metadata.write_archival_metadata(pdf, PDFA_PART, PDFA_CONFORMANCE, record)
            options = {"object_stream_mode": pikepdf.ObjectStreamMode.generate}
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, **options)
        return out.getvalue()


EMBOLDEN = 0.025
"""The outline drawn around each glyph of a synthetic bold, in em of its size (0.4 pt at 三号):
what word processors do for a font without a bold face. It widens the ink by half that on
either side and changes no advance, so what the typesetter measured stays true."""

_STROKE_OF = {"g": "G", "rg": "RG", "k": "K", "cs": "CS", "sc": "SC", "scn": "SCN"}


def embolden(pdf: pikepdf.Pdf, synthetic: frozenset[str]) -> None:
    """Make the bold of fonts without a bold face bold in print.

    WeasyPrint does not embolden: for `font-weight: bold` in a family with no bold face (the
    open FangSong, FandolFang, has none) Pango names the font "<family>-Bold" and WeasyPrint
    embeds and draws the regular outlines, so **bold** printed regular. `synthetic` holds those
    names (family with hyphens, "-Bold"): text shown in them is drawn filled and stroked
    (text rendering mode 2) in its own colour, EMBOLDEN of an em wide; the line width and the
    stroke colour are put back after each text object. Nothing else of the content changes."""
    import pikepdf

    for page in pdf.pages:
        fonts: PdfObject = page.obj.get("/Resources", pikepdf.Dictionary()).get("/Font", {})
        bold = {str(name) for name, font in fonts.items()
                if str(font.get("/BaseFont", ""))[1:].rpartition("+")[2] in synthetic}
        if not bold:
            continue
        out: list = []
        fill: list = []        # the operators that set the current fill colour
        stroke: list = []      # … and the stroke colour
        width: list = [[1]]    # the current line width's operands
        saved: list = []
        active = changed = False
        for instruction in pikepdf.parse_content_stream(page):
            operands, operator = instruction.operands, instruction.operator
            op = str(operator)
            out.append(pikepdf.ContentStreamInstruction(operands, operator))
            if op == "q":
                saved.append((list(fill), list(stroke), list(width)))
            elif op == "Q" and saved:
                fill, stroke, width = saved.pop()
            elif op in ("g", "rg", "k"):
                fill = [(operands, op)]
            elif op == "cs":
                fill = [(operands, op)]
            elif op in ("sc", "scn"):
                fill = [item for item in fill if item[1] == "cs"] + [(operands, op)]
            elif op in ("G", "RG", "K", "CS"):
                stroke = [(operands, op)]
            elif op in ("SC", "SCN"):
                stroke = [item for item in stroke if item[1] == "CS"] + [(operands, op)]
            elif op == "w":
                width = [list(operands)]
            if op in ("g", "rg", "k", "cs", "sc", "scn") and active:
                out.append(pikepdf.ContentStreamInstruction(operands, pikepdf.Operator(_STROKE_OF[op])))
            elif op == "Tf":
                if str(operands[0]) in bold:
                    size = float(operands[1])
                    out += [pikepdf.ContentStreamInstruction(o, pikepdf.Operator(_STROKE_OF[f]))
                            for o, f in fill]
                    out.append(pikepdf.ContentStreamInstruction([round(size * EMBOLDEN, 4)],
                                                                pikepdf.Operator("w")))
                    out.append(pikepdf.ContentStreamInstruction([2], pikepdf.Operator("Tr")))
                    active = changed = True
                elif active:
                    out.append(pikepdf.ContentStreamInstruction([0], pikepdf.Operator("Tr")))
                    active = False
            elif op == "ET" and active:
                out.pop()
                out.append(pikepdf.ContentStreamInstruction([0], pikepdf.Operator("Tr")))
                out.append(pikepdf.ContentStreamInstruction(operands, operator))
                out.append(pikepdf.ContentStreamInstruction(width[-1], pikepdf.Operator("w")))
                out += [pikepdf.ContentStreamInstruction(o, pikepdf.Operator(f)) for o, f in stroke]
                active = False
        if changed:
            page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))


def compact_fonts(pdf: pikepdf.Pdf, names: dict[str, str] | None = None) -> None:
    """Every embedded CJK font of an open pikepdf document cut down to the glyphs it prints.

    WeasyPrint subsets fonts keeping the original glyph ids, so a font program keeps an empty
    slot, a width and a vertical metric for every glyph up to the highest one used: about
    60,000 for Noto Serif CJK, 230 KB compressed for one page of text. The content streams
    select glyphs by CID (Identity-H), so the fonts can be truly subset without touching them:
    a CID-keyed CFF font keeps each glyph's CID in its charset and is embedded bare
    (FontFile3 /CIDFontType0C, the format PDF defines for it); a TrueType font gets a
    CIDToGIDMap from the old glyph ids to the new. The widths, ToUnicode maps, text and
    structure are untouched. A font that is neither is left as WeasyPrint wrote it.

    With `names`, a font WeasyPrint named after a private @font-face family (the project's
    fonts/ are loaded as "liandong-body" and so on, so that no installed font of the same
    name can take their place) gets its real name back: see rename_font."""
    import pikepdf

    programs: dict[tuple[int, int], tuple[PdfObject, str, list[PdfObject], set[int]]] = {}
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Subtype") != "/Type0":
            continue
        cid_font = obj.DescendantFonts[0]
        descriptor = cid_font.get("/FontDescriptor")
        if names:
            rename_font(obj, names)
        if descriptor is None:
            continue
        key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
        program = descriptor.get(key)
        if program is None:
            continue
        entry = programs.setdefault(program.objgen, (descriptor, key, [], {0}))
        entry[2].append(cid_font)
        entry[3].update(_widths_cids(cid_font.get("/W")))
    for descriptor, key, cid_fonts, cids in programs.values():
        _compact_program(pdf, descriptor, key, cid_fonts, cids)


def rename_font(font: PdfObject, names: dict[str, str]) -> None:
    """Give a Type0 font, its CID font and its descriptor the real name of the font file
    they embed, in place of the private @font-face family WeasyPrint named them after.

    WeasyPrint writes "/TAG+family" (the family as CSS named it, spaces as hyphens, a style
    such as "-Bold" after it); the subset tag is kept, the style goes, as the PostScript name
    already says which face it is."""
    import pikepdf

    cid_font = font.DescendantFonts[0]
    descriptor = cid_font.get("/FontDescriptor")
    base = str(font.get("/BaseFont", ""))[1:]
    tag, plus, family = base.rpartition("+")
    # Longest first: liandong-body-fallback is not liandong-body in the Bold style.
    for private, real in sorted(names.items(), key=lambda item: -len(item[0])):
        css = private.replace(" ", "-")
        if family == css or family.startswith(css + "-"):
            name = pikepdf.Name("/" + tag + plus + real)
            font.BaseFont = name
            cid_font.BaseFont = name
            if descriptor is not None:
                descriptor.FontName = name
            return


def _widths_cids(widths: PdfObject) -> set[int]:
    """The CIDs a /W array gives widths for: WeasyPrint writes one for every glyph it draws.
    Its entries are `first [w1 w2 …]` or `first last w`."""
    import pikepdf

    cids: set[int] = set()
    if widths is None:
        return cids
    items = list(widths)
    i = 0
    while i + 1 < len(items):
        first, nxt = int(items[i]), items[i + 1]
        if isinstance(nxt, pikepdf.Array):
            cids.update(range(first, first + len(nxt)))
            i += 2
        else:
            cids.update(range(first, int(nxt) + 1))
            i += 3
    return cids


def _compact_program(pdf: pikepdf.Pdf, descriptor: PdfObject, key: str,
                     cid_fonts: list[PdfObject], cids: set[int]) -> None:
    import pikepdf
    import uharfbuzz as hb

    program = descriptor[key]
    face = hb.Face(program.read_bytes())
    subset = hb.SubsetInput()
    for cid in sorted(c for c in cids if c < face.glyph_count):
        subset.glyph_set.add(cid)
    subset.flags = hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
    plan = hb.SubsetPlan(face, subset)
    result = plan.execute()
    if key == "/FontFile3" and program.get("/Subtype") == "/OpenType":
        cff = bytes(result.reference_table("CFF ").data)
        if not _cid_keyed(cff):
            return  # a name-keyed CFF selects glyphs by id: keep WeasyPrint's retained ids
        descriptor[key] = pikepdf.Stream(pdf, cff, Subtype=pikepdf.Name.CIDFontType0C)
    elif key == "/FontFile2":
        font = bytes(result.blob.data)
        if not font:
            return
        mapping = plan.old_to_new_glyph_mapping
        table = bytearray(2 * (max(mapping) + 1))
        for old, new in mapping.items():
            table[2 * old:2 * old + 2] = new.to_bytes(2, "big")
        descriptor[key] = pikepdf.Stream(pdf, font, Length1=len(font))
        cid_map = pikepdf.Stream(pdf, bytes(table))
        for cid_font in cid_fonts:
            cid_font.CIDToGIDMap = cid_map


def _cid_keyed(cff: bytes) -> bool:
    """Whether a CFF font program is CID-keyed (its top dict starts with the ROS operator)."""
    from fontTools.cffLib import CFFFontSet

    if not cff:
        return False
    fonts = CFFFontSet()
    try:
        fonts.decompile(io.BytesIO(cff), otFont=None)
    except Exception:  # noqa: BLE001 - an unreadable program is simply left alone
        return False
    return hasattr(fonts.topDictIndex[0], "ROS")
