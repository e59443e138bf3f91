"""The OFD (GB/T 33190) that `build --ofd` writes, checked by tools liandong did not write: easyofd
(PyPI) reads it and draws it back, pdfplumber and pypdfium2 read the PDF it was made from,
fontTools reads its fonts, pdftoppm renders the PDF.

easyofd's renderer (easyofd.draw.DrawPDF, through reportlab) draws every character in one font
it calls "宋体", whatever font the OFD names, and draws paths as outlines without filling them:
reportlab reads only TrueType outlines, so the CFF fonts of the OFD (.otf) cannot be used by it,
and it ignores the embedded .ttf too. The renders here give it LXGW WenKai (a TrueType CJK font
of the machine) under that name; so they check where each character, rule and image is, not the
glyph shapes. The shapes come from the embedded fonts, checked separately (every character
shown has its glyph in the font file the OFD names).
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pdfplumber
import pypdfium2
import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from lxml import etree
from PIL import Image, ImageChops, ImageFilter

from conftest import MM, REPO, liandong, make_project

CORPUS = REPO / "tests" / "corpus"
NS = {"ofd": "http://www.ofdspec.org/2016"}
WENKAI = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"

DPI = 100
"""Both renders are compared at 100 dpi (one pixel is 0.254 mm)."""
OFD_SCALE = 200 / 25.4
"""easyofd draws 1 mm of the OFD as 200/25.4 pt of its PDF (DrawPDF.OP)."""
DILATION = 2
"""Ink of one render counts as matched when the other has ink within 2 px (0.5 mm): the two
fonts' strokes differ, the positions must not."""
INK_TOLERANCE = 0.08
"""At most 8 % of a page's ink may be unmatched, each way. Measured: 0.3–0.6 % on text pages,
up to 7.2 % on page 1, whose 80 pt bold masthead and bold titles easyofd draws in the regular
substitute font."""
LINE_TOLERANCE = 3
"""Each line of the PDF page (a band of rows with ink) has the OFD render's ink within 3 px
(0.76 mm) of its top and bottom edges, and the OFD has no ink in rows the PDF leaves blank."""
LINE_TOLERANCE_X = 14
"""… and within 14 px (3.6 mm, two thirds of a body character) of its left and right edges:
a line may start or end with punctuation, which the two fonts place differently in the
character's square (FandolFang's “ sits in its right half, WenKai's in its left)."""
POSITION_TOLERANCE = 0.01
"""mm: every character of the OFD is where the PDF draws its glyph (rounding is 0.001 mm)."""

RENDER = textwrap.dedent("""
    import base64, sys
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from easyofd.draw import font_tools
    # easyofd scans every installed font at start-up and then uses none of them: skip the scan
    font_tools.FontTool.get_installed_fonts = lambda self: []
    pdfmetrics.registerFont(TTFont("宋体", sys.argv[3]))
    from easyofd.parser_ofd import OFDParser
    from easyofd.draw import DrawPDF
    data = open(sys.argv[1], "rb").read()
    parsed = OFDParser(base64.b64encode(data).decode())()
    open(sys.argv[2], "wb").write(DrawPDF(parsed)())
""")


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, dict]:
    """Issue 13 of the repository, and the corpus's 2025/17 (tables) and 2025/18 (photos),
    each built once with --ofd."""
    out: dict[str, dict] = {}
    for key, cwd, selector, slug in (
        ("13", REPO, "13", "2024-13"),
        ("17", CORPUS, "2025/17", "2025-17"),
        ("18", CORPUS, "2025/18", "2025-18"),
    ):
        folder = tmp_path_factory.mktemp(f"ofd{key}")
        result = liandong("build", selector, "--ofd", "--out", str(folder), cwd=cwd, check=True)
        out[key] = {
            "pdf": folder / f"{slug}.pdf",
            "ofd": folder / f"{slug}.ofd",
            "out": folder,
            "stdout": result.stdout,
        }
    return out


# -- reading both sides ---------------------------------------------------------------------


def parse_ofd(data: bytes) -> list[dict]:
    """easyofd's reading of the OFD: one dict per document (pages, fonts, images)."""
    from easyofd.parser_ofd import OFDParser

    return OFDParser(base64.b64encode(data).decode())()


def ofd_pages(data: bytes) -> list[list[dict]]:
    """Each page's text objects as easyofd reads them, in page order."""
    doc = parse_ofd(data)[0]
    return [doc["page_info"][n]["text_list"] for n in sorted(doc["page_info"])]


def ofd_characters(data: bytes) -> list[list[tuple[str, float, float]]]:
    """Each page's characters with their positions (mm, y down), as easyofd works them out
    from Boundary, X, Y and DeltaX (its own DeltaX decoding, "g" runs included)."""
    from easyofd.draw.draw_pdf import DrawPDF

    decode = DrawPDF.cmp_offset
    pages = []
    for texts in ofd_pages(data):
        chars = []
        for t in texts:
            xs = decode(None, t["pos"][0], t["X"], t["DeltaX"], t["text"], {}, "X")
            ys = decode(None, t["pos"][1], t["Y"], t["DeltaY"], t["text"], {}, "Y")
            chars += [(ch, xs[i], ys[i]) for i, ch in enumerate(t["text"])]
        pages.append(chars)
    return pages


def pdf_characters(pdf: Path) -> list[list[tuple[str, float, float]]]:
    """Each page's glyphs as pdfplumber reads them: text, origin in mm from the top-left."""
    pages = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            chars = []
            for c in page.chars:
                x, y = c["matrix"][4] / MM, (float(page.height) - c["matrix"][5]) / MM
                chars += [(ch, x, y) for ch in c["text"]]
            pages.append(chars)
    return pages


def pdf_texts(pdf: Path) -> list[str]:
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def render_ofd(data: bytes, tmp: Path) -> list[Image.Image]:
    """easyofd's drawing of the OFD, rendered by pdftoppm at DPI."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "in.ofd").write_bytes(data)
    # easyofd writes and deletes scratch files in the current folder: give it its own
    subprocess.run(
        [sys.executable, "-c", RENDER, "in.ofd", "drawn.pdf", WENKAI],
        cwd=tmp,
        check=True,
        capture_output=True,
    )
    # one mm is OFD_SCALE pt of easyofd's PDF: this resolution gives DPI pixels per inch of the OFD
    subprocess.run(
        ["pdftoppm", "-r", str(DPI / (OFD_SCALE * 25.4 / 72)), "-gray", "drawn.pdf", "o"],
        cwd=tmp,
        check=True,
    )
    return [Image.open(p).convert("L") for p in sorted(tmp.glob("o-*.pgm"), key=_page_number)]


def render_pdf(pdf: Path, tmp: Path) -> list[Image.Image]:
    tmp.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", str(pdf), str(tmp / "p")], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp.glob("p-*.pgm"), key=_page_number)]


def _page_number(path: Path) -> int:
    return int(path.stem.rpartition("-")[2])


def ink(image: Image.Image) -> Image.Image:
    return image.point(lambda v: 255 if v < 200 else 0)


def count(mask: Image.Image) -> int:
    return mask.histogram()[255]


# -- the comparisons (each returns what it found wrong) ---------------------------------------


def compare_renders(pdf_pages: list[Image.Image], ofd_pages: list[Image.Image]) -> list[str]:
    """The pages' ink, each way, within DILATION px (INK_TOLERANCE), and each line's ink
    edges (LINE_TOLERANCE)."""
    if len(pdf_pages) != len(ofd_pages):
        return [f"{len(pdf_pages)} PDF pages, {len(ofd_pages)} OFD pages"]
    found = []
    for number, (p, o) in enumerate(zip(pdf_pages, ofd_pages), 1):
        if abs(p.width - o.width) > 1 or abs(p.height - o.height) > 1:
            found.append(f"page {number}: {p.size} against {o.size}")
            continue
        o = o.crop((0, 0, p.width, p.height))
        a, b = ink(p), ink(o)
        grow = ImageFilter.MaxFilter(2 * DILATION + 1)
        missed = count(ImageChops.subtract(a, b.filter(grow))) / max(1, count(a))
        extra = count(ImageChops.subtract(b, a.filter(grow))) / max(1, count(b))
        if missed > INK_TOLERANCE or extra > INK_TOLERANCE:
            found.append(
                f"page {number}: {missed:.1%} of the PDF's ink and {extra:.1%} of the "
                "OFD's unmatched"
            )
        found += [f"page {number}: {line}" for line in compare_lines(a, b)]
    return found


def compare_lines(a: Image.Image, b: Image.Image) -> list[str]:
    """Bands of rows with ink in a (the PDF): b's ink in the same rows starts and ends where
    a's does; and b has no ink in rows where a has none (beyond the tolerance)."""
    width, height = a.size
    rows_a = [a.crop((0, y, width, y + 1)).getbbox() for y in range(height)]
    bands, start = [], None
    for y, box in enumerate([*rows_a, None]):
        if box and start is None:
            start = y
        elif not box and start is not None:
            bands.append((start, y))
            start = None
    found = []
    covered = set()
    for top, bottom in bands:
        lo, hi = max(0, top - LINE_TOLERANCE), min(height, bottom + LINE_TOLERANCE)
        covered.update(range(lo, hi))
        box_a = a.crop((0, top, width, bottom)).getbbox()
        box_b = b.crop((0, lo, width, hi)).getbbox()
        if box_b is None:
            found.append(f"rows {top}–{bottom}: no ink in the OFD")
            continue
        edges_a = (box_a[0], top + box_a[1], box_a[2], top + box_a[3])
        edges_b = (box_b[0], lo + box_b[1], box_b[2], lo + box_b[3])
        if (
            max(abs(edges_a[i] - edges_b[i]) for i in (1, 3)) > LINE_TOLERANCE
            or max(abs(edges_a[i] - edges_b[i]) for i in (0, 2)) > LINE_TOLERANCE_X
        ):
            found.append(f"rows {top}–{bottom}: ink {edges_a} in the PDF, {edges_b} in the OFD")
    stray = [
        y for y in range(height) if y not in covered and b.crop((0, y, width, y + 1)).getbbox()
    ]
    if stray:
        found.append(f"OFD ink in {len(stray)} rows where the PDF has none (from row {stray[0]})")
    return found


def compare_positions(pdf: Path, data: bytes) -> list[str]:
    """Every character but spaces (a space at either end of a text object is left out of the
    OFD), in drawing order, within POSITION_TOLERANCE of the PDF glyph's origin."""
    found = []
    for number, (p, o) in enumerate(zip(pdf_characters(pdf), ofd_characters(data)), 1):
        p = [c for c in p if not c[0].isspace()]
        o = [c for c in o if not c[0].isspace()]
        if [c for c, _, _ in p] != [c for c, _, _ in o]:
            found.append(f"page {number}: the characters differ")
            continue
        worst = max(
            (max(abs(px - ox), abs(py - oy)), ch) for (ch, px, py), (_, ox, oy) in zip(p, o)
        )
        if worst[0] > POSITION_TOLERANCE:
            found.append(f"page {number}: “{worst[1]}” is {worst[0]:.3f} mm from the PDF's")
    return found


def moved(data: bytes, page: int, nth: int, dx: float = 0, dy: float = 0) -> bytes:
    """The OFD with the nth TextObject of a page moved dx mm to the right, dy mm down."""
    name = f"Doc_0/Pages/Page_{page}/Content.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == name:
                root = etree.fromstring(content)
                text = root.findall(".//ofd:TextObject", NS)[nth]
                box = [float(v) for v in text.get("Boundary").split()]
                box[0] += dx
                box[1] += dy
                text.set("Boundary", " ".join(str(v) for v in box))
                content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
            dst.writestr(item, content)
    return out.getvalue()


# -- the tests ------------------------------------------------------------------------------


def test_build_ofd_writes_the_ofd_beside_the_pdf(builds):
    build = builds["13"]
    assert build["stdout"].splitlines()[-1].endswith("2024-13.ofd")
    with zipfile.ZipFile(build["ofd"]) as archive:
        names = archive.namelist()
        assert names[0] == "OFD.xml"
        assert {"Doc_0/Document.xml", "Doc_0/PublicRes.xml", "Doc_0/DocumentRes.xml"} <= set(names)
        assert all(item.date_time == (2000, 1, 1, 0, 0, 0) for item in archive.infolist())


def test_build_without_ofd_writes_no_ofd(sample_build):
    assert not list(sample_build["out"].glob("*.ofd"))


@pytest.mark.parametrize("key", ["13", "17", "18"])
def test_ofd_text_is_the_pdf_text_page_by_page(builds, key):
    build = builds[key]
    pages = ofd_pages(build["ofd"].read_bytes())
    ofd = [squeeze("".join(t["text"] for t in texts)) for texts in pages]
    pdf = [squeeze(text) for text in pdf_texts(build["pdf"])]
    assert len(ofd) == len(pdf)
    for number, (o, p) in enumerate(zip(ofd, pdf), 1):
        assert o == p, f"page {number}"
    assert "沈晓明主持召开人大代表建议办理专题会议" in ofd[0] if key == "13" else True


@pytest.mark.parametrize("key", ["13", "17", "18"])
def test_every_character_is_where_the_pdf_draws_it(builds, key):
    build = builds[key]
    assert compare_positions(build["pdf"], build["ofd"].read_bytes()) == []


def test_a_moved_character_is_found(builds):
    build = builds["13"]
    data = moved(build["ofd"].read_bytes(), page=1, nth=3, dx=0.05)
    found = compare_positions(build["pdf"], data)
    assert len(found) == 1 and found[0].startswith("page 2: ")


@pytest.mark.parametrize("key", ["13", "17", "18"])
def test_easyofd_draws_the_pages_of_the_pdf(builds, key, tmp_path):
    build = builds[key]
    pdf = render_pdf(build["pdf"], tmp_path / "pdf")
    ofd = render_ofd(build["ofd"].read_bytes(), tmp_path / "ofd")
    assert compare_renders(pdf, ofd) == []


def test_a_moved_line_shows_in_the_render(builds, tmp_path):
    build = builds["13"]
    pdf = render_pdf(build["pdf"], tmp_path / "pdf")
    ofd = render_ofd(moved(build["ofd"].read_bytes(), page=2, nth=5, dy=2), tmp_path / "ofd")
    found = compare_renders(pdf, ofd)
    assert found and all(f.startswith("page 3: ") for f in found)


def test_the_same_sources_give_the_same_bytes(builds, tmp_path):
    liandong("build", "13", "--ofd", "--out", str(tmp_path), cwd=REPO, check=True)
    assert (tmp_path / "2024-13.ofd").read_bytes() == builds["13"]["ofd"].read_bytes()


def _xml(archive: zipfile.ZipFile, name: str):
    return etree.fromstring(archive.read(name))


@pytest.mark.parametrize("key", ["13", "18"])
def test_every_reference_resolves(builds, key):
    """Pages, fonts, images: every ID an object names exists, every file a resource names is in
    the package, IDs are unique and none is above MaxUnitID."""
    with zipfile.ZipFile(builds[key]["ofd"]) as archive:
        names = set(archive.namelist())
        ofd = _xml(archive, "OFD.xml")
        document_name = ofd.findtext(".//ofd:DocRoot", namespaces=NS)
        document = _xml(archive, document_name)
        base = document_name.rpartition("/")[0] + "/"
        ids: list[int] = []
        resources: dict[str, str] = {}
        for res_name in [e.text for e in document.findall(".//ofd:PublicRes", NS)] + [
            e.text for e in document.findall(".//ofd:DocumentRes", NS)
        ]:
            res = _xml(archive, base + res_name)
            res_base = base + res.get("BaseLoc") + "/"
            for item in res.iter():
                if item.get("ID"):
                    ids.append(int(item.get("ID")))
                    resources[item.get("ID")] = etree.QName(item).localname
            for loc in res.iter(f"{{{NS['ofd']}}}FontFile", f"{{{NS['ofd']}}}MediaFile"):
                assert res_base + loc.text in names
            for space in res.iter(f"{{{NS['ofd']}}}ColorSpace"):
                assert res_base + space.get("Profile") in names
        pages = document.findall(".//ofd:Pages/ofd:Page", NS)
        assert len(pages) == len(pdf_texts(builds[key]["pdf"]))
        for page in pages:
            ids.append(int(page.get("ID")))
            content = _xml(archive, base + page.get("BaseLoc"))
            for item in content.iter():
                if item.get("ID"):
                    ids.append(int(item.get("ID")))
                if item.get("Font"):
                    assert resources[item.get("Font")] == "Font"
                if item.get("ResourceID"):
                    assert resources[item.get("ResourceID")] == "MultiMedia"
        assert len(ids) == len(set(ids))
        assert max(ids) == int(document.findtext(".//ofd:MaxUnitID", namespaces=NS))
        if key == "18":
            assert "MultiMedia" in resources.values()


def test_every_character_has_its_glyph_in_the_embedded_font(builds):
    """TextCode holds characters: each finds its glyph through the font's cmap, or CGTransform
    names the glyph; the glyph is in the font file, and it has outlines unless it is a space."""
    with zipfile.ZipFile(builds["13"]["ofd"]) as archive:
        public = _xml(archive, "Doc_0/PublicRes.xml")
        fonts = {
            f.get("ID"): TTFont(
                io.BytesIO(archive.read("Doc_0/Res/" + f.findtext("ofd:FontFile", namespaces=NS)))
            )
            for f in public.iter(f"{{{NS['ofd']}}}Font")
        }
        shown = 0
        for name in sorted(n for n in archive.namelist() if n.endswith("Content.xml")):
            for text in _xml(archive, name).iter(f"{{{NS['ofd']}}}TextObject"):
                font = fonts[text.get("Font")]
                order, cmap = font.getGlyphOrder(), font.getBestCmap()
                glyphs = font.getGlyphSet()
                named = {}
                for cg in text.findall("ofd:CGTransform", NS):
                    named[int(cg.get("CodePosition"))] = int(
                        cg.findtext("ofd:Glyphs", namespaces=NS)
                    )
                code = text.findtext("ofd:TextCode", namespaces=NS)
                for position, ch in enumerate(code):
                    gid = named.get(position)
                    glyph = order[gid] if gid is not None else cmap.get(ord(ch))
                    assert glyph is not None, (name, ch)
                    if not ch.isspace():
                        pen = BoundsPen(glyphs)
                        glyphs[glyph].draw(pen)
                        assert pen.bounds is not None, (name, ch)
                    shown += 1
        assert shown > 2000


def test_document_metadata(builds):
    with zipfile.ZipFile(builds["13"]["ofd"]) as archive:
        info = _xml(archive, "OFD.xml").find(".//ofd:DocInfo", NS)
        document = _xml(archive, "Doc_0/Document.xml")
    assert info.findtext("ofd:Title", namespaces=NS) == "联络动态 2024年第13期（总第714期）"
    assert info.findtext("ofd:Author", namespaces=NS) == "湖南省人大常委会代表工作委员会"
    assert info.findtext("ofd:CreationDate", namespaces=NS) == "2024-08-30+08:00"
    assert re.fullmatch(r"[0-9a-f]{32}", info.findtext("ofd:DocID", namespaces=NS))
    assert document.findtext(".//ofd:PageArea/ofd:PhysicalBox", namespaces=NS) == "0 0 210 297"


def test_red_is_the_pdfs_red(builds):
    """The masthead and its rule in the PDF's sRGB red, as RGB values."""
    with zipfile.ZipFile(builds["13"]["ofd"]) as archive:
        page = _xml(archive, "Doc_0/Pages/Page_0/Content.xml")
    masthead = page.findall(".//ofd:TextObject", NS)[0]
    assert masthead.findtext("ofd:TextCode", namespaces=NS) == "联络动态"
    assert masthead.find("ofd:FillColor", NS).get("Value") == "230 0 18"
    rule = page.find(".//ofd:PathObject", NS)
    assert rule.find("ofd:FillColor", NS).get("Value") == "230 0 18"
    assert [float(v) for v in rule.get("Boundary").split()][2:] == [156, 0.706]


def test_a_bad_source_writes_no_ofd(tmp_path):
    project = make_project(tmp_path, overrides={"issues/2024/13/issue.yaml": "期号: [\n"})
    out = tmp_path / "out"
    result = liandong("build", "13", "--ofd", "--out", str(out), cwd=project)
    assert result.returncode == 1
    assert not out.exists() or not list(out.iterdir())
