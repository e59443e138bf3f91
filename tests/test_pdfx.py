"""The print-shop PDF: PDF/X-1a:2001, deterministic, registration crop marks, no RGB, checked
with pikepdf and plate by plate with Ghostscript's tiffsep device."""

from __future__ import annotations

import subprocess

import pikepdf
import pytest
from PIL import Image

from conftest import REPO, liandong
from pdfmeasure import MM, PAGE_H, PAGE_W

MARKS = 8 * MM
PLATES = ("Cyan", "Magenta", "Yellow", "Black")


@pytest.fixture(scope="module")
def print_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdfx")
    liandong("build", "13", "--print-shop", "--out", str(out), cwd=REPO, check=True)
    return out / "2024-13-print.pdf"


def test_print_shop_pdf_declares_pdfx_1a(print_pdf):
    checked = subprocess.run(["qpdf", "--check", str(print_pdf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    data = print_pdf.read_bytes()
    assert data.startswith(b"%PDF-1.3\n")
    assert b"/ObjStm" not in data and b"/XRef" not in data  # PDF 1.3: no object streams
    with pikepdf.open(print_pdf) as doc:
        info = doc.docinfo
        assert str(info.GTS_PDFXVersion) == "PDF/X-1:2001"
        assert str(info.GTS_PDFXConformance) == "PDF/X-1a:2001"
        assert info.Trapped == pikepdf.Name("/False")
        assert str(info.Title) == "联络动态 2024年第13期（总第714期）"
        assert str(info.CreationDate) == str(info.ModDate) == "D:20240830000000+08'00'"
        (intent,) = doc.Root.OutputIntents
        assert intent.S == "/GTS_PDFX"
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        assert str(intent.RegistryName) == "http://www.color.org"
        assert "/DestOutputProfile" not in intent  # a registered condition: no profile needed
        assert not {"/Metadata", "/Lang", "/StructTreeRoot"} & set(doc.Root.keys())  # PDF 1.4+
        assert "/Encrypt" not in doc.trailer
        assert len(doc.trailer.ID) == 2
        for page in doc.pages:
            media, bleed, trim = (
                [float(v) for v in page.obj[key]] for key in ("/MediaBox", "/BleedBox", "/TrimBox")
            )
            assert media[0] <= bleed[0] <= trim[0] and media[1] <= bleed[1] <= trim[1]
            assert trim[2] <= bleed[2] <= media[2] and trim[3] <= bleed[3] <= media[3]
            assert "/Annots" not in page.obj and "/Group" not in page.obj


def test_print_shop_pdf_has_only_cmyk_and_registration_and_no_transparency(print_pdf):
    with pikepdf.open(print_pdf) as doc:
        for page in doc.pages:
            resources = page.obj.Resources
            spaces = dict(resources.get("/ColorSpace", {}))
            assert list(spaces) == ["/LiandongRegistration"]
            separation = spaces["/LiandongRegistration"]
            assert [str(v) for v in separation[:3]] == ["/Separation", "/All", "/DeviceCMYK"]
            assert [float(v) for v in separation[3].C1] == [1, 1, 1, 1]
            for state in resources.get("/ExtGState", {}).values():
                assert not {"/CA", "/ca", "/SMask", "/BM"} & set(state.keys())
            assert not resources.get("/XObject")
            operators = {str(op) for _, op in pikepdf.parse_content_stream(page)}
            assert not {"rg", "RG", "sh", "BI"} & operators
            for operands, _ in pikepdf.parse_content_stream(page, "cs CS"):
                assert str(operands[0]) in ("/DeviceCMYK", "/LiandongRegistration")


def test_print_shop_pdf_is_pdfx_and_the_same_bytes_from_two_builds(print_pdf, tmp_path):
    """WeasyPrint's own pdf/x variants write a random document ID and the time of the run."""
    import shutil

    project = tmp_path / "elsewhere"
    shutil.copytree(REPO / "issues", project / "issues")
    liandong("build", "13", "--print-shop", cwd=project, check=True)
    again = project / "build" / "2024-13-print.pdf"
    for path in (print_pdf, again):
        with pikepdf.open(path) as doc:
            assert str(doc.docinfo.GTS_PDFXConformance) == "PDF/X-1a:2001"
    assert again.read_bytes() == print_pdf.read_bytes()


@pytest.fixture(scope="module")
def plates(print_pdf, tmp_path_factory):
    """Page 1 and the last page separated by Ghostscript (tiffsep), one grey image per plate:
    0 is full ink, 255 none."""
    folder = tmp_path_factory.mktemp("plates")
    with pikepdf.open(print_pdf) as doc:
        count = len(doc.pages)
    found = {}
    for number in (1, count):
        subprocess.run(
            [
                "gs",
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=tiffsep",
                "-r150",
                f"-dFirstPage={number}",
                f"-dLastPage={number}",
                f"-sOutputFile={folder}/p{number}.tif",
                str(print_pdf),
            ],
            check=True,
            capture_output=True,
        )
        found[number] = {
            plate: Image.open(folder / f"p{number}({plate}).tif").convert("L") for plate in PLATES
        }
    return found


def _inked(image, box_pt) -> bool:
    scale = image.width / (PAGE_W + 2 * MARKS)
    box = tuple(round(v * scale) for v in box_pt)
    return image.crop(box).getextrema()[0] < 128


def test_separations_show_the_crop_marks_on_every_plate(plates):
    """Registration colour: each of the eight marks prints on C, M, Y and K."""
    full_w, full_h = PAGE_W + 2 * MARKS, PAGE_H + 2 * MARKS
    for page in plates.values():
        for plate, image in page.items():
            for x in (MARKS, MARKS + PAGE_W):
                for y in (MARKS, MARKS + PAGE_H):
                    # along the trim line y, outside the page, and along the trim line x
                    outside_x = (0, MARKS - 3 * MM) if x == MARKS else (x + 3 * MM, full_w)
                    outside_y = (0, MARKS - 3 * MM) if y == MARKS else (y + 3 * MM, full_h)
                    assert _inked(image, (outside_x[0], y - 1, outside_x[1], y + 1)), plate
                    assert _inked(image, (x - 1, outside_y[0], x + 1, outside_y[1])), plate


def test_separations_show_no_rgb(plates):
    """Inside the trim the cyan plate is blank (RGB text or rules would separate as four-colour
    black, C72 M68 Y67 K89); the red prints on magenta and yellow alike, the text on black."""
    trim = (MARKS, MARKS, MARKS + PAGE_W, MARKS + PAGE_H)
    for page in plates.values():
        assert not _inked(page["Cyan"], trim)
        assert _inked(page["Black"], trim)
        assert page["Magenta"].tobytes() == page["Yellow"].tobytes()
    first = plates[1]
    assert _inked(first["Magenta"], trim)  # the masthead's name and rule
    # Where the red masthead prints, the black plate is blank: red is M+Y only.
    masthead = (MARKS + 40 * MM, MARKS + 37 * MM, MARKS + 170 * MM, MARKS + 55 * MM)
    assert _inked(first["Magenta"], masthead) and not _inked(first["Black"], masthead)


def test_a_print_pdf_with_rgb_is_refused(sample_build):
    """RGB colour (here: the archival PDF's sRGB) cannot go into PDF/X-1a; every page is named."""
    from liandong.pdfx import NotPrintable, check_printable

    with pikepdf.open(sample_build["pdf"]) as doc, pytest.raises(NotPrintable) as raised:
        check_printable(doc)
    assert raised.value.message == (
        "印刷用 PDF 不能做成 PDF/X-1a：第 1 页用了 RGB 颜色；第 2 页用了 RGB 颜色；"
        "第 3 页用了 RGB 颜色；第 4 页用了 RGB 颜色。印刷版只能用 device-cmyk() 颜色，"
        "不能有透明效果、RGB 图片或链接（见 templates/print.css 中 print_shop 部分）。"
    )
