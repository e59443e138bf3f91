"""`build --docx`: the issue as a Word document, checked by tools liandong did not write:
python-docx reopens it, LibreOffice (headless) renders it to PDF, pdfplumber reads that PDF."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pdfplumber
import pytest

from conftest import REPO, liandong

CORPUS = REPO / "tests" / "corpus"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

OFFICE_FONTS = {
    "仿宋_GB2312": ("FandolFang", ""),
    "方正小标宋简体": ("Noto Serif CJK SC", "bold"),
    "楷体_GB2312": ("LXGW WenKai", ""),
    "黑体": ("Noto Sans CJK SC", ""),
    "宋体": ("Noto Serif CJK SC", ""),
}
"""What this machine's PDF prints each office font's role with (liandong fonts): LibreOffice is
given the same faces under the office names, as an office's own installation would give it
its licensed fonts (a .docx names fonts, it does not embed them)."""


def _build(tmp: Path, root: Path, issue: str, name: str) -> dict[str, Path]:
    out = tmp / "out"
    result = liandong("build", issue, "--docx", "--out", str(out), cwd=root)
    assert result.returncode == 0, result.stderr
    return {"docx": out / f"{name}.docx", "pdf": out / f"{name}.pdf", "stdout": result.stdout}


@pytest.fixture(scope="module")
def issue13(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("docx13"), REPO, "13", "2024-13")


@pytest.fixture(scope="module", params=["16", "17", "18"])
def corpus(request, tmp_path_factory):
    return _build(
        tmp_path_factory.mktemp(f"docx{request.param}"),
        CORPUS,
        f"2025/{request.param}",
        f"2025-{request.param}",
    )


def _fontconfig(tmp: Path) -> Path:
    rules = "".join(
        f'<match target="pattern"><test name="family"><string>{office}</string></test>'
        f'<edit name="family" mode="assign" binding="strong"><string>{family}</string></edit>'
        + (
            f'<edit name="weight" mode="assign" binding="strong"><const>{weight}</const></edit>'
            if weight
            else ""
        )
        + "</match>"
        for office, (family, weight) in OFFICE_FONTS.items()
    )
    conf = tmp / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">'
        '<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"{rules}</fontconfig>",
        encoding="utf-8",
    )
    return conf


def _libreoffice(word: Path, tmp: Path) -> Path:
    """The .docx as LibreOffice renders it: a PDF, by a private profile in tmp."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice 不在：bash setup.sh --dev 安装 libreoffice-writer-nogui")
    out = tmp / "lo"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(word),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "FONTCONFIG_FILE": str(_fontconfig(tmp))},
    )
    return out / word.with_suffix(".pdf").name


def _pages_text(pdf: Path) -> list[str]:
    """Each page's text, whitespace and the page number taken out."""
    with pdfplumber.open(pdf) as document:
        texts = [re.sub(r"\s+", "", page.extract_text() or "") for page in document.pages]
    return [re.sub(r"—\d+—$", "", text) for text in texts]


def _body_texts(document) -> list[str]:
    """Every paragraph of the body in order, table cells included, line breaks taken out."""
    texts = []
    for element in document.element.body.iter(f"{W}p"):
        text = "".join(node.text or "" for node in element.iter(f"{W}t"))
        if text:
            texts.append(text)
    return texts


def _chars(texts: list[str]) -> list[str]:
    """The characters of a document, sorted: the same text whatever order a PDF draws it in
    (liandong's PDF draws a list's markers and a quote in another font apart from their line,
    and pdfplumber reads them out of order)."""
    return sorted("".join(texts))


# --- The file ---------------------------------------------------------------------------------


def test_build_docx_writes_the_word_file_beside_the_pdf(issue13):
    assert issue13["docx"].is_file()
    assert str(issue13["docx"]) in issue13["stdout"]
    with zipfile.ZipFile(issue13["docx"]) as package:
        names = package.namelist()
        assert "word/document.xml" in names
        assert not any(name.endswith((".bin", "vbaProject.bin")) for name in names)  # no macros
        rels = "".join(package.read(n).decode() for n in names if n.endswith(".rels"))
        assert 'TargetMode="External"' not in rels  # no external links
        assert "docProps/thumbnail.jpeg" not in names


def test_without_the_flag_no_word_file_is_written(tmp_path):
    result = liandong("build", "13", "--out", str(tmp_path), cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.glob("*.docx"))


def test_two_builds_give_the_same_bytes(issue13, tmp_path):
    again = _build(tmp_path, REPO, "13", "2024-13")
    assert again["docx"].read_bytes() == issue13["docx"].read_bytes()


def test_a_bad_source_writes_no_word_file(tmp_path):
    shutil.copytree(REPO / "issues", tmp_path / "issues")
    meta = tmp_path / "issues" / "2024" / "13" / "issue.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("日期: 2024-08-30", "日期: 2024-13-45"),
        encoding="utf-8",
    )
    result = liandong("build", "13", "--docx", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.docx"))


# --- What python-docx reads back -----------------------------------------------------------


def test_the_page_is_gbt9704_a4_mirrored_with_the_grid(issue13):
    document = docx.Document(str(issue13["docx"]))
    section = document.sections[0]
    mm = lambda length: length / 36000  # EMU  # noqa: E731
    assert round(mm(section.page_width)) == 210 and round(mm(section.page_height)) == 297
    assert round(mm(section.left_margin)) == 28 and round(mm(section.right_margin)) == 26
    assert round(mm(section.bottom_margin)) == 35
    settings = document.settings.element
    assert settings.find(f"{W}mirrorMargins") is not None
    assert settings.find(f"{W}evenAndOddHeaders") is not None
    grid = section._sectPr.find(f"{W}docGrid")
    assert grid.get(f"{W}type") == "linesAndChars"
    text_height = section.page_height - section.top_margin - section.bottom_margin
    assert text_height // (int(grid.get(f"{W}linePitch")) * 635) == 22
    pitch = 16 + int(grid.get(f"{W}charSpace")) / 4096
    width = (section.page_width - section.left_margin - section.right_margin) / 12700
    assert round(width / pitch, 2) == 28


def test_page_numbers_sit_on_the_outer_edge(issue13):
    document = docx.Document(str(issue13["docx"]))
    section = document.sections[0]
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    for paragraph, align in ((odd, "right"), (even, "left")):
        assert paragraph.text == "— 1 —"  # a PAGE field, its result as written: 1
        assert paragraph._p.pPr.find(f"{W}jc").get(f"{W}val") == align
        assert "PAGE" in "".join(t.text for t in paragraph._p.iter(f"{W}instrText"))


def test_styles_have_outline_levels_and_office_fonts(issue13):
    document = docx.Document(str(issue13["docx"]))

    def fonts(style):
        rfonts = style.element.rPr.find(f"{W}rFonts")
        return rfonts.get(f"{W}ascii"), rfonts.get(f"{W}eastAsia")

    def outline(style):
        found = style.element.pPr.find(f"{W}outlineLvl")
        return None if found is None else int(found.get(f"{W}val"))

    styles = document.styles
    assert fonts(styles["Normal"]) == ("仿宋_GB2312", "仿宋_GB2312")
    assert styles["Normal"].font.size.pt == 16
    assert styles["Normal"].element.pPr.find(f"{W}ind").get(f"{W}firstLineChars") == "200"
    assert fonts(styles["Heading 1"]) == ("方正小标宋简体", "方正小标宋简体")
    assert styles["Heading 1"].font.size.pt == 22
    assert [outline(styles[f"Heading {n}"]) for n in range(1, 6)] == [0, 1, 2, 3, 4]
    assert fonts(styles["Heading 2"])[1] == "黑体"
    assert fonts(styles["Heading 3"])[1] == "楷体_GB2312"
    assert fonts(styles["编者按"])[1] == "楷体_GB2312"
    titles = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert titles == ["沈晓明主持召开人大代表建议办理专题会议"]


def test_the_fonts_table_gives_windows_faces_as_alternatives(issue13):
    with zipfile.ZipFile(issue13["docx"]) as package:
        table = package.read("word/fontTable.xml").decode()
    fonts = dict(
        re.findall(
            r'<w:font w:name="([^"]+)"><w:altName w:val="([^"]+)"/>'
            r'<w:charset w:val="86"/>',
            table,
        )
    )
    assert fonts == {"方正小标宋简体": "宋体", "仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体"}


def test_the_masthead_is_red_and_ruled(issue13):
    document = docx.Document(str(issue13["docx"]))
    name = document.paragraphs[0]
    assert name.text == "联络动态"
    assert str(name.runs[0].font.color.rgb) == "E60012"
    meta = document.paragraphs[3]
    assert meta.text == "湖南省人大常委会代表工作委员会编\t2024年8月30日"
    bottom = meta._p.pPr.find(f"{W}pBdr").find(f"{W}bottom")
    assert bottom.get(f"{W}color") == "E60012"
    assert [p.text for p in document.paragraphs[1:3]] == ["第 13 期", "（总第七百一十四期）"]


def test_core_properties_name_the_issue(issue13):
    document = docx.Document(str(issue13["docx"]))
    core = document.core_properties
    assert core.title == "联络动态 2024年第13期（总第714期）"
    assert core.author == "湖南省人大常委会代表工作委员会"
    assert core.created.isoformat() in ("2024-08-29T16:00:00+00:00", "2024-08-29T16:00:00")
    with zipfile.ZipFile(issue13["docx"]) as package:
        assert "2024-08-30T00:00:00+08:00" in package.read("docProps/core.xml").decode()
        assert {info.date_time for info in package.infolist()} == {(2024, 8, 30, 0, 0, 0)}


def test_every_paragraph_has_the_sources_text_in_order(issue13):
    """The body's text, paragraph by paragraph, as the sources have it (the 01.md and the
    编者按 of issue.yaml), in order; then the 版记."""
    document = docx.Document(str(issue13["docx"]))
    texts = _body_texts(document)
    source = (REPO / "issues" / "2024" / "13" / "01.md").read_text(encoding="utf-8")
    meta = (REPO / "issues" / "2024" / "13" / "issue.yaml").read_text(encoding="utf-8")
    block = []
    for line in meta.split("编者按: |", 1)[1].splitlines()[1:]:
        if line.strip() and not line.startswith("  "):
            break
        block.append(line.strip())
    note = ["".join(p.split("\n")) for p in re.split(r"\n\s*\n", "\n".join(block).strip())]
    front, body = source.split("\n---\n", 1)
    paragraphs = [p.replace("\n", "") for p in re.split(r"\n\s*\n", body.strip())]
    title = re.search(r"标题: (.*)", front).group(1).strip()
    subtitle = re.search(r"副标题: (.*)", front)
    expected = [
        "【编者按】" + note[0],
        *note[1:],
        title,
        *([subtitle.group(1).strip()] if subtitle else []),
        *paragraphs,
    ]
    at = texts.index(expected[0])
    assert [t.replace("\n", "") for t in texts[at : at + len(expected)]] == expected
    assert texts[at + len(expected)].startswith("送：全国人大常委会代表工作委员会")
    assert texts[-1] == "批准文号：湘党简准字〔2000〕第 28 号"


# --- The forms, as native Word objects -------------------------------------------------------


def test_forms_are_native_word_objects(corpus):
    with zipfile.ZipFile(corpus["docx"]) as package:
        xml = package.read("word/document.xml").decode()
    name = corpus["docx"].stem
    source = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted((CORPUS / "issues" / "2025" / name[5:]).glob("*.md"))
    )
    if re.search(r"^\|", source, re.M):
        assert xml.count("<w:tbl>") >= 2  # the table and the 版记
        assert "<w:tblHeader/>" in xml
        assert '<w:jc w:val="right"/>' in xml  # the number columns
    if re.search(r"^(?:- |[0-9]+\. )", source, re.M):
        assert "<w:numPr>" in xml
    if "![" in source:
        assert "<w:drawing>" in xml
        assert "media/" in "".join(zipfile.ZipFile(corpus["docx"]).namelist())


def test_lists_are_word_numbering(corpus):
    document = docx.Document(str(corpus["docx"]))
    numbering = document.part.numbering_part.element
    used = {
        p._p.pPr.numPr.numId.val
        for p in document.paragraphs
        if p._p.pPr is not None and p._p.pPr.numPr is not None
    }
    levels = {}
    for num in numbering.findall(f"{W}num"):
        if int(num.get(f"{W}numId")) in used:
            abstract = num.find(f"{W}abstractNumId").get(f"{W}val")
            for a in numbering.findall(f"{W}abstractNum"):
                if a.get(f"{W}abstractNumId") == abstract:
                    level = a.find(f"{W}lvl")
                    levels[level.find(f"{W}numFmt").get(f"{W}val")] = level
    formats = set(levels)
    source = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted((CORPUS / "issues" / "2025" / corpus["docx"].stem[5:]).glob("*.md"))
    )
    if re.search(r"^- ", source, re.M):
        assert "bullet" in formats
        bullet = levels["bullet"]
        assert bullet.find(f"{W}lvlText").get(f"{W}val") == "●"
        assert bullet.find(f"{W}rPr").find(f"{W}sz").get(f"{W}val") == "16"  # 8 pt, as printed
    if re.search(r"^[0-9]+\. ", source, re.M):
        assert "decimal" in formats


# --- LibreOffice, an independent renderer -------------------------------------------------------


def test_libreoffice_renders_the_same_text_and_pages(corpus, tmp_path):
    rendered = _libreoffice(corpus["docx"], tmp_path)
    theirs, ours = _pages_text(rendered), _pages_text(corpus["pdf"])
    assert len(theirs) == len(ours)
    assert _chars(theirs) == _chars(ours)
    assert [text[:4] for text in theirs] == [text[:4] for text in ours]  # where each page starts


def test_libreoffice_renders_issue_13_with_the_same_text_and_pages(issue13, tmp_path):
    """The same text on as many pages, the article's title on page 1 as in the PDF. The pages
    begin a few characters apart: LibreOffice ignores w:autoSpaceDE/DN and puts a quarter em
    between Chinese and digits ("8 月 28 日"), so some of its lines hold a character less."""
    rendered = _libreoffice(issue13["docx"], tmp_path)
    theirs, ours = _pages_text(rendered), _pages_text(issue13["pdf"])
    assert len(theirs) == len(ours)
    assert _chars(theirs) == _chars(ours)
    assert "沈晓明主持召开人大代表建议办理专题会议" in theirs[0]
    with pdfplumber.open(rendered) as document:
        fonts = {char["fontname"].split("+")[1] for page in document.pages for char in page.chars}
    assert any(font.startswith("FandolFang") for font in fonts)


# --- The site: series.yaml's 网站附带 --------------------------------------------------------


def _series_with(tmp: Path, lines: str) -> Path:
    shutil.copytree(REPO / "issues", tmp / "issues")
    series = tmp / "issues" / "series.yaml"
    series.write_text(series.read_text(encoding="utf-8") + lines, encoding="utf-8")
    return tmp


def test_site_publishes_the_word_file_when_series_asks(tmp_path):
    root = _series_with(tmp_path, "网站附带:\n  - Word\n")
    result = liandong("site", "--out", str(tmp_path / "site"), cwd=root)
    assert result.returncode == 0, result.stderr
    word = tmp_path / "site" / "2024-13.docx"
    assert docx.Document(str(word)).core_properties.title == "联络动态 2024年第13期（总第714期）"
    page = (tmp_path / "site" / "2024-13.html").read_text(encoding="utf-8")
    word_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert f'<a href="2024-13.docx" type="{word_type}">Word 电子版</a>' in page


def test_site_without_the_setting_has_no_word_file(tmp_path):
    root = _series_with(tmp_path, "")
    result = liandong("site", "--out", str(tmp_path / "site"), cwd=root)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "site" / "2024-13.docx").exists()
    assert "Word 电子版" not in (tmp_path / "site" / "2024-13.html").read_text(encoding="utf-8")


def test_an_unknown_attachment_is_reported_where_it_is_written(tmp_path):
    root = _series_with(tmp_path, "网站附带:\n  - Word\n  - PDF/A\n")
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 1
    line = len((root / "issues" / "series.yaml").read_text(encoding="utf-8").splitlines())
    assert (
        f"issues/series.yaml:{line}:5: “网站附带”里没有“PDF/A”这一项：可写的有Word、OFD"
        in result.stdout
    )


def test_python_docx_loads_only_for_a_word_file(tmp_path):
    """A build without --docx never imports python-docx nor liandong.docx."""
    import sys

    code = (
        "import sys; from pathlib import Path; from liandong.build import build; "
        f"build(Path('.'), [Path('issues/2024/13')], Path({str(tmp_path)!r})); "
        "print(sorted(m for m in ('docx', 'liandong.docx') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
