"""Render the print HTML into a PDF. The only module that imports WeasyPrint."""

from __future__ import annotations

import contextvars
import io
import logging
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from liandong.errors import printable
from liandong.fonts import pin_fontconfig_language

pin_fontconfig_language()  # before WeasyPrint loads fontconfig through Pango

import weasyprint  # noqa: E402 - after pin_fontconfig_language
from weasyprint.pdf import tags as _weasyprint_tags  # noqa: E402 - after pin_fontconfig_language
from weasyprint.text.fonts import FontConfiguration  # noqa: E402 - after pin_fontconfig_language
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402 - after pin_fontconfig_language

if TYPE_CHECKING:
    import pikepdf

    from liandong.tags import PdfObject

    _Fonts = list[tuple[PdfObject, set[int]]]
    """The CID fonts using one font program, each with the codes it prints."""
    _Drawn = dict[tuple[tuple[int, int], int], tuple[tuple[tuple[object, ...], ...], int, float]]
    """What each code of each CID font draws: (font's object, code) → (outline, program
    advance, PDF width)."""
    _Check = tuple[PdfObject, str, _Fonts, _Drawn, bytes | None]
    """A compacted program to verify: its descriptor and key, its fonts, what it drew before,
    and for CFF the OpenType subset it was taken from."""

logger = logging.getLogger(__name__)

_TAG_SOURCES: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "liandong_tag_sources", default=None
)
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

    def __init__(self, allowed: list[Path], images: dict[str, tuple[bytes, str]] | None = None):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.allowed = [folder.resolve() for folder in allowed]
        self.images = images or {}
        """The figures' picture URLs (images.PRINT_URL…) and what is served for them: the
        version of a photo the PDF prints (RGB for the archival PDF, CMYK for the print shop's).
        Nothing else answers such a URL: it never reaches the file system."""
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
        if url in self.images:
            # Not a file: URL, or WeasyPrint would embed the file it names, not these bytes.
            body, mime = self.images[url]
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})
        path = self.local_path(url)
        if path is None:
            raise ValueError(f"refused by liandong: {url}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": mime}
        )


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

    def render(
        self,
        html: str,
        base: Path,
        allowed: list[Path],
        print_shop: bool = False,
        record: dict | None = None,
        names: dict[str, str] | None = None,
        images: dict[str, tuple[bytes, str]] | None = None,
        synthetic: frozenset[str] = frozenset(),
        notices: list[str] | None = None,
    ) -> bytes:
        """The PDF's bytes. Identical input gives identical bytes: dates come from the HTML's
        dcterms meta (the issue date), the /ID and the font subset tags are content hashes.
        record (stack.build_record) goes into the archival PDF's XMP; `names` maps a private
        @font-face family to the name its PDF font is given. Notices about the PDF (Chinese,
        without the file's name) are added to `notices`."""
        fetcher = ProjectFetcher(allowed, images)
        base_url = str(base) + "/"
        html, sheets = self._style_sheets(html, base_url, fetcher)
        page = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        options = {
            **(PRINT_SHOP_OPTIONS if print_shop else ARCHIVE_OPTIONS),
            "stylesheets": sheets,
            "uncompressed_pdf": True,
        }
        sources: dict = {}
        token = _TAG_SOURCES.set(sources)
        try:
            document = page.render(font_config=self.font_config, **options)
            _internal_links_only(document)
            # Uncompressed: finish rewrites the file and compresses every stream once.
            written = document.write_pdf(**options)
        finally:
            _TAG_SOURCES.reset(token)
        data = finish(
            written,
            print_shop=print_shop,
            record=record,
            tag_sources=sources,
            names=names,
            synthetic=synthetic,
            notices=notices,
        )
        if fetcher.refused:
            logger.warning(
                "已拒绝读取项目之外的资源：%s",
                "、".join(printable(url) for url in dict.fromkeys(fetcher.refused)),
            )
        if fetcher.missing:
            logger.warning(
                "找不到模板引用的文件：%s",
                "、".join(printable(url) for url in dict.fromkeys(fetcher.missing)),
            )
        return data

    def _style_sheets(
        self, html: str, base_url: str, fetcher: ProjectFetcher
    ) -> tuple[str, list[weasyprint.CSS]]:
        """The HTML without its <style>, and that sheet parsed (or taken from the cache).

        A sheet passed to WeasyPrint cascades after the document's own and resolves its
        url()s against base_url: it is taken out only when it is the document's one style
        sheet (no other <style>, no <link>) and no <base> element moves the base, so neither
        the order of rules nor any URL changes. A sheet with relative url()s is cached per
        issue folder, since they resolve against it."""
        found = STYLE.findall(html)
        lowered = html.lower()
        if (
            len(found) != 1
            or lowered.count("<style") != 1
            or "<link" in lowered
            or "<base" in lowered
        ):
            return html, []
        css = found[0]
        key = (css, base_url if RELATIVE_URL.search(css) else None)
        sheet = self._sheets.get(key)
        if sheet is None:
            sheet = weasyprint.CSS(
                string=css, base_url=base_url, url_fetcher=fetcher, font_config=self.font_config
            )
            self._sheets[key] = sheet
        return STYLE.sub("", html, count=1), [sheet]


def _internal_links_only(document: weasyprint.Document) -> None:
    """Keep only links to a place in the document itself (`href="#…"`): a link out of it
    (javascript:, http:, file:, mailto:, a relative file, an attachment) would become a link
    annotation that a PDF reader opens or runs, so a template's link prints as plain text."""
    for page in document.pages:
        page.links[:] = [link for link in page.links if link[0] == "internal"]


def finish(
    data: bytes,
    *,
    print_shop: bool = False,
    record: dict | None = None,
    tag_sources: dict | None = None,
    names: dict[str, str] | None = None,
    synthetic: frozenset[str] = frozenset(),
    notices: list[str] | None = None,
) -> bytes:
    """What WeasyPrint wrote, made ready to publish, in one pass through pikepdf: bold text of
    a font without a bold face emboldened (`synthetic`: see embolden); fonts compacted (a
    compaction that failed its check is undone, with a notice added to `notices`); the
    archival PDF's tags tidied and its XMP rewritten (with the build record); the print-shop
    PDF made PDF/X-1a. Saved compressed, with a content-derived /ID."""
    import pikepdf

    from liandong import metadata, pdfx, tags

    with pikepdf.open(io.BytesIO(data)) as pdf:
        if synthetic:
            embolden(pdf, synthetic)
        refused = compact_fonts(pdf, names)
        if notices is not None:
            notices += refused
        if print_shop:
            pdfx.make_pdfx(pdf)
            options = {
                "force_version": pdfx.PDF_VERSION,
                "object_stream_mode": pikepdf.ObjectStreamMode.disable,
            }
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
        bold = {
            str(name)
            for name, font in fonts.items()
            if str(font.get("/BaseFont", ""))[1:].rpartition("+")[2] in synthetic
        }
        if not bold:
            continue
        out: list = []
        fill: list = []  # the operators that set the current fill colour
        stroke: list = []  # … and the stroke colour
        width: list = [[1]]  # the current line width's operands
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
            elif op in ("g", "rg", "k", "cs"):
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
                out.append(
                    pikepdf.ContentStreamInstruction(operands, pikepdf.Operator(_STROKE_OF[op]))
                )
            elif op == "Tf":
                if str(operands[0]) in bold:
                    size = float(operands[1])
                    out += [
                        pikepdf.ContentStreamInstruction(o, pikepdf.Operator(_STROKE_OF[f]))
                        for o, f in fill
                    ]
                    out.append(
                        pikepdf.ContentStreamInstruction(
                            [round(size * EMBOLDEN, 4)], pikepdf.Operator("w")
                        )
                    )
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


WEASYPRINT_CHECKED = "70.0"
"""The WeasyPrint version whose output compact_fonts was checked against: pyproject.toml pins
it exactly, and tests/test_pdf.py fails, naming both versions, on any other. compact_fonts
verifies every result anyway (see there), so another version costs at worst the size."""


def compact_fonts(pdf: pikepdf.Pdf, names: dict[str, str] | None = None) -> list[str]:
    """Every embedded CJK font of an open pikepdf document cut down to the glyphs it prints;
    the notices (Chinese) to log, empty when all went well.

    WeasyPrint subsets fonts keeping the original glyph ids, so a font program keeps an empty
    slot, a width and a vertical metric for every glyph up to the highest one used: about
    60,000 for Noto Serif CJK, 230 KB compressed for one page of text. The content streams
    select glyphs by code (Identity-H: the code is the CID), so the fonts can be truly subset
    without touching them: a CID-keyed CFF font keeps each glyph's CID in its charset and is
    embedded bare (FontFile3 /CIDFontType0C, the format PDF defines for it); a TrueType font
    gets a CIDToGIDMap from each code to its new glyph id. The glyphs kept are those of the
    codes the content streams print and the CIDs /W gives a width for, each read the way a PDF
    reader reads it (through a CIDToGIDMap stream or the CFF charset; /DW for a code /W omits).
    The widths, ToUnicode maps, text and structure are untouched. A font that is neither, or
    not Identity-H, or already bare CFF, is left as WeasyPrint wrote it.

    The result is verified: every code of every compacted font must draw the same outline
    (components decomposed) with the same advance (the PDF's width and the program's) as
    before. If any differs, every font goes back to what WeasyPrint wrote and a notice says so.

    With `names`, a font WeasyPrint named after a private @font-face family (the project's
    fonts/ are loaded as "liandong-body" and so on, so that no installed font of the same
    name can take their place) gets its real name back: see rename_font."""
    import pikepdf

    printed = _printed_codes(pdf)
    programs: dict[tuple[int, int], tuple[PdfObject, str, _Fonts]] = {}
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Subtype") != "/Type0":
            continue
        cid_font = obj.DescendantFonts[0]
        descriptor = cid_font.get("/FontDescriptor")
        if names:
            rename_font(obj, names)
        if descriptor is None or obj.get("/Encoding") != "/Identity-H":
            continue
        key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
        program = descriptor.get(key)
        if program is None:
            continue
        codes = printed.get(obj.objgen, set()) | set(_widths(cid_font)[0])
        programs.setdefault(program.objgen, (descriptor, key, []))[2].append((cid_font, codes))
    undo: list[tuple[PdfObject, str, PdfObject]] = []
    checks: list[_Check] = []
    for descriptor, key, fonts in programs.values():
        check = _compact_program(pdf, descriptor, key, fonts, undo)
        if check is not None:
            checks.append(check)
    for descriptor, key, fonts, before, opentype in checks:
        after = _program_glyphs(_read_program(descriptor, key, opentype), fonts)
        if after != before:
            for obj, name, value in reversed(undo):
                obj[name] = value
            where, code = next(
                (
                    where
                    for where, drawn in before.items()
                    if after is None or after.get(where) != drawn
                ),
                (None, None),
            )
            font = next(
                str(cid_font.get("/BaseFont", "/?"))[1:]
                for cid_font, _ in fonts
                if where in (None, cid_font.objgen)
            )
            what = f"字体 {font} " + ("" if code is None else f"的编码 {code:04X} ")
            return [
                f"压缩后{what}画出的字形或字宽与压缩前不同，这份 PDF 保留了未压缩的字体"
                f"（内容无误，只是文件大一些）。liandong 的字体压缩只在 WeasyPrint "
                f"{WEASYPRINT_CHECKED} 上核对过，请告诉维护者。"
            ]
    return []


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


def _printed_codes(pdf: pikepdf.Pdf) -> dict[tuple[int, int], set[int]]:
    """The two-byte codes each Type0 font prints, by the font's object: read from the text
    operators of every page's content stream and of the form XObjects they use."""
    import pikepdf

    codes: dict[tuple[int, int], set[int]] = {}
    seen: set[tuple[int, int]] = set()

    def read(stream: PdfObject, resources: PdfObject) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        current = None
        for instruction in pikepdf.parse_content_stream(stream):
            operands, operator = instruction.operands, instruction.operator
            op = str(operator)
            if op == "Tf":
                font = fonts.get(str(operands[0]))
                current = (
                    None
                    if font is None or font.get("/Subtype") != "/Type0"
                    else codes.setdefault(font.objgen, set())
                )
            elif op in ("Tj", "TJ", "'", '"') and current is not None:
                for item in operands[-1] if op == "TJ" else [operands[-1]]:
                    if isinstance(item, pikepdf.String):
                        raw = bytes(item)
                        current.update(
                            int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)
                        )
            elif op == "Do":
                form = xobjects.get(str(operands[0]))
                if form is not None and form.get("/Subtype") == "/Form" and form.objgen not in seen:
                    seen.add(form.objgen)
                    read(form, form.get("/Resources", resources))

    for page in pdf.pages:
        read(page, page.obj.get("/Resources"))
    return codes


def _widths(cid_font: PdfObject) -> tuple[dict[int, float], float]:
    """The widths a CID font's /W gives, by CID, and its default width /DW (1000 if none).
    /W's entries are `first [w1 w2 …]` or `first last w`."""
    import pikepdf

    widths: dict[int, float] = {}
    items = list(cid_font.get("/W", []))
    i = 0
    while i + 1 < len(items):
        first, nxt = int(items[i]), items[i + 1]
        if isinstance(nxt, pikepdf.Array):
            widths.update((first + n, float(w)) for n, w in enumerate(nxt))
            i += 2
        elif i + 2 < len(items):
            widths.update((cid, float(items[i + 2])) for cid in range(first, int(nxt) + 1))
            i += 3
        else:
            break
    return widths, float(cid_font.get("/DW", 1000))


class _Program:
    """A font program as a PDF reader reads it: which glyph a CID selects, and what it draws.

    `kind` is "truetype" (FontFile2: the CID goes through the CID font's CIDToGIDMap),
    "opentype" (FontFile3 /OpenType with a CFF table) or "cff" (bare CFF, FontFile3
    /CIDFontType0C): a CID-keyed CFF finds the CID in its charset (fontTools reads it), a
    name-keyed one takes the CID as the glyph id. Glyphs are drawn by HarfBuzz, which reads
    TrueType and OpenType but not bare CFF: a bare CFF is drawn from `opentype`, a font whose
    CFF table must be exactly these bytes (the subset it was taken from)."""

    def __init__(self, data: bytes, kind: str, opentype: bytes | None = None):
        import uharfbuzz as hb
        from fontTools.cffLib import CFFFontSet
        from fontTools.ttLib import TTFont

        self.kind = kind
        self._maps: dict[tuple[int, int], bytes | None] = {}
        self.charset: list[str] | None = None
        self.cid_keyed = False
        face = hb.Face(data if opentype is None else opentype)
        if kind == "cff":
            if opentype is None or bytes(face.reference_table("CFF ").data) != data:
                raise ValueError("the bare CFF is not the table of the font drawn")
            fonts = CFFFontSet()
            fonts.decompile(io.BytesIO(data), otFont=None)
            top = fonts.topDictIndex[0]
        elif kind == "opentype":
            top = TTFont(io.BytesIO(data), lazy=True)["CFF "].cff.topDictIndex[0]
        if kind != "truetype":
            self.charset = list(top.charset)
            self.cid_keyed = hasattr(top, "ROS")
            self._cid_gids: dict[int, int] | None = None
        self.glyph_count = face.glyph_count
        self.font = hb.Font(face)
        self.funcs = hb.DrawFuncs()
        self.funcs.set_move_to_func(lambda x, y, out: out.append(("M", x, y)))
        self.funcs.set_line_to_func(lambda x, y, out: out.append(("L", x, y)))
        self.funcs.set_quadratic_to_func(lambda a, b, x, y, out: out.append(("Q", a, b, x, y)))
        self.funcs.set_cubic_to_func(
            lambda a, b, c, d, x, y, out: out.append(("C", a, b, c, d, x, y))
        )
        self.funcs.set_close_path_func(lambda out: out.append(("Z",)))

    def gid(self, cid_font: PdfObject, cid: int) -> int:
        """The glyph id a CID selects; 0 (.notdef) for none."""
        import pikepdf

        if self.kind == "truetype":
            if cid_font.objgen not in self._maps:
                table = cid_font.get("/CIDToGIDMap")  # a stream, or /Identity (the default)
                self._maps[cid_font.objgen] = (
                    table.read_bytes() if isinstance(table, pikepdf.Stream) else None
                )
            raw = self._maps[cid_font.objgen]
            if raw is None:
                gid = cid
            else:
                gid = (
                    int.from_bytes(raw[2 * cid : 2 * cid + 2], "big")
                    if 2 * cid + 2 <= len(raw)
                    else 0
                )
        elif self.cid_keyed:
            gid = self._cid_gid(cid)
        else:
            gid = cid
        return gid if gid < self.glyph_count else 0

    def _cid_gid(self, cid: int) -> int:
        """The glyph a CID-keyed CFF's charset gives the CID (fontTools names it cidNNNNN).
        WeasyPrint's subsets keep each glyph at its CID; any other charset is indexed once."""
        name = f"cid{cid:05d}"
        charset = self.charset or []
        if cid < len(charset) and charset[cid] == name:
            return cid
        if self._cid_gids is None:
            self._cid_gids = {
                int(n[3:]): gid
                for gid, n in enumerate(charset)
                if n.startswith("cid") and n[3:].isdigit()
            }
        return self._cid_gids.get(cid, 0)

    def drawn(self, gid: int) -> tuple[tuple[tuple[object, ...], ...], int]:
        """The glyph's outline (components resolved) and its advance in the program."""
        outline: list[tuple[object, ...]] = []
        self.font.draw_glyph(gid, self.funcs, outline)
        return tuple(outline), self.font.get_glyph_h_advance(gid)


def _kind(descriptor: PdfObject, key: str) -> str | None:
    if key == "/FontFile2":
        return "truetype"
    subtype = descriptor[key].get("/Subtype")
    return {"/OpenType": "opentype", "/CIDFontType0C": "cff"}.get(str(subtype))


def _read_program(
    descriptor: PdfObject, key: str, opentype: bytes | None = None
) -> _Program | None:
    """The program a font descriptor embeds, read; None if it is of no known kind or unreadable."""
    kind = _kind(descriptor, key)
    if kind is None:
        return None
    try:
        return _Program(descriptor[key].read_bytes(), kind, opentype)
    except Exception:  # noqa: BLE001 - an unreadable program is left alone, or fails the check
        return None


def _program_glyphs(program: _Program | None, fonts: _Fonts) -> _Drawn | None:
    """What each code of each CID font using this program draws: (CID font's object, code) →
    (outline, program advance, PDF width). None if the program cannot be read."""
    if program is None:
        return None
    try:
        drawn: _Drawn = {}
        for cid_font, codes in fonts:
            widths, default = _widths(cid_font)
            for code in sorted(codes):
                outline, advance = program.drawn(program.gid(cid_font, code))
                drawn[(cid_font.objgen, code)] = (outline, advance, widths.get(code, default))
        return drawn
    except Exception:  # noqa: BLE001 - an unreadable program counts as a difference
        return None


def _compact_program(
    pdf: pikepdf.Pdf,
    descriptor: PdfObject,
    key: str,
    fonts: _Fonts,
    undo: list[tuple[PdfObject, str, PdfObject]],
) -> _Check | None:
    """Subset one font program to the glyphs its CID fonts' codes select, noting in `undo`
    every entry replaced. Returns what the check needs (the program's place, its fonts, what
    it drew before, and for CFF the subset it was taken from), or None when it is left alone."""
    import pikepdf
    import uharfbuzz as hb

    kind = _kind(descriptor, key)
    if kind not in ("truetype", "opentype"):
        return None  # bare CFF is compact already; any other format is left alone
    program = _read_program(descriptor, key)
    if program is None or (kind == "opentype" and not program.cid_keyed):
        return None  # a name-keyed CFF selects glyphs by id: keep WeasyPrint's retained ids
    before = _program_glyphs(program, fonts)
    if before is None:
        return None
    data = descriptor[key].read_bytes()
    gids = {font.objgen: {code: program.gid(font, code) for code in codes} for font, codes in fonts}
    subset = hb.SubsetInput()
    for gid in sorted({0}.union(*(g.values() for g in gids.values()))):
        subset.glyph_set.add(gid)
    subset.flags = hb.SubsetFlags.DESUBROUTINIZE | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
    plan = hb.SubsetPlan(hb.Face(data), subset)
    result = plan.execute()
    font = bytes(result.blob.data)
    if not font:
        return None
    if kind == "opentype":
        cff = bytes(result.reference_table("CFF ").data)
        if not _cid_keyed(cff):
            return None
        undo.append((descriptor, key, descriptor[key]))
        descriptor[key] = pikepdf.Stream(pdf, cff, Subtype=pikepdf.Name.CIDFontType0C)
        return descriptor, key, fonts, before, font
    mapping = dict(plan.old_to_new_glyph_mapping.items())
    undo.append((descriptor, key, descriptor[key]))
    descriptor[key] = pikepdf.Stream(pdf, font, Length1=len(font))
    for cid_font, codes in fonts:
        table = bytearray(2 * (max(codes, default=0) + 1))
        for code, gid in gids[cid_font.objgen].items():
            table[2 * code : 2 * code + 2] = mapping.get(gid, 0).to_bytes(2, "big")
        undo.append((cid_font, "/CIDToGIDMap", cid_font.get("/CIDToGIDMap", pikepdf.Name.Identity)))
        cid_font.CIDToGIDMap = pikepdf.Stream(pdf, bytes(table))
    return descriptor, key, fonts, before, None


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
