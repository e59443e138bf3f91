"""benchmarks/typst_issue.py: issue 13 typeset by Typst, the speed reference of issue 6."""

from __future__ import annotations

import importlib.util
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

_SCRIPT = REPO / "benchmarks" / "typst_issue.py"
_SPEC = importlib.util.spec_from_file_location("typst_issue", _SCRIPT)
typst_issue = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(typst_issue)

NOTO = Path("/usr/share/fonts/opentype/noto")

HOSTILE = [
    '#panic("boom")',
    ']#panic("out of the block")[',
    "*bold* _emphasis_ `raw` ```rust fn main()```",
    "$x^2 + y_1$ and a lone $ sign",
    '<label> and @reference and <a href="x">',
    "= a heading",
    "- a list item",
    "+ an enum item",
    "1. numbered",
    "/ term: description",
    "// a comment /* and a block comment */",
    "https://example.com/path?q=1&r=2#frag",
    "back\\slash \\u{41} \\ \\\\",
    "dashes -- --- and dots ... and tilde ~ nbsp",
    "quotes 'single' \"double\" and #{1 + 1} #let x = 1",
    "{braces} (parens) ^caret |pipe !bang %percent ;semi ,comma ?query",
    "中文“引号”与【括号】：#标签 *星号* 〔2000〕第 28 号",
    string.punctuation,
]


def _typst_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _families(pdf: Path) -> set[str]:
    """Embedded font families, spelled alike whoever wrote the PDF: WeasyPrint names a face
    `Noto-Serif-CJK-SC-Bold`, Typst `NotoSerifCJKsc-Bold-Identity-H`."""
    listing = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    names = set()
    for line in listing:
        name = line.split()[0].split("+", 1)[-1].removesuffix("-Identity-H")
        names.add(re.sub(r"regular$", "", re.sub(r"[^a-z0-9]", "", name.lower())))
    return names


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_prints_hostile_text_as_it_is(tmp_path, text):
    """Every markup character prints as itself: the source compiles and the text comes back."""
    source = (
        "#set page(width: 30cm, height: auto, margin: 1cm)\n"
        '#set text(font: "Noto Serif CJK SC", size: 10pt, fallback: false, '
        "cjk-latin-spacing: none)\n"
        f"#par[{typst_issue.escape(text)}]\n"
    )
    pdf = tmp_path / "hostile.pdf"
    pdf.write_bytes(typst_issue.compile_markup(source, (NOTO,)))
    assert " ".join(_typst_text(pdf).split()) == " ".join(text.split())


def test_escape_escapes_every_ascii_markup_character():
    escaped = typst_issue.escape(string.punctuation)
    assert escaped == "".join("\\" + char for char in string.punctuation)
    assert typst_issue.escape("中文 13 期\n\t  下") == "中文 13 期 下"


@pytest.fixture(scope="module")
def typst_pdf(tmp_path_factory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("typst") / "2024-13-typst.pdf"
    return out, typst_issue.compile_issue(REPO, "13", out)


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def test_issue_13_prints_the_same_text(typst_pdf):
    pdf, pages = typst_pdf
    assert pages == _pages(pdf)
    text = "".join(_typst_text(pdf).split())
    assert "沈晓明主持召开人大代表建议办理专题会议" in text
    assert "切实把代表的“金点子”转化为促进改革发展的“金钥匙”" in text
    assert "乙烯项目作为单体投资最大的立省项目，省委很重视。" in text
    assert "批准文号：湘党简准字〔2000〕第28号" in text
    assert "（总第七百一十四期）" in text
    assert "—4—" in text


def test_issue_13_prints_exactly_the_text_of_liandongs_pdf(typst_pdf, sample_build):
    """Line breaks and page numbers aside, character for character."""

    def printed(pdf: Path) -> str:
        return "".join(re.sub(r"—\s*\d+\s*—", "", _typst_text(pdf)).split())

    assert printed(typst_pdf[0]) == printed(sample_build["pdf"])


def test_issue_13_embeds_the_fonts_liandong_embeds(typst_pdf, sample_build):
    pdf, _ = typst_pdf
    assert _families(pdf) == _families(sample_build["pdf"])
    # The Chinese faces of the Noto collections, not the Japanese ones (face 0 of each .ttc).
    assert {"notoserifcjksc", "notoserifcjkscbold", "notosanscjksc"} <= _families(pdf)


def test_issue_13_takes_as_many_pages_as_liandong(typst_pdf, sample_build):
    _, pages = typst_pdf
    assert pages == _pages(sample_build["pdf"])


def test_the_script_prints_the_page_count(tmp_path):
    out = tmp_path / "t.pdf"
    result = subprocess.run(
        [sys.executable, str(_SCRIPT), str(REPO), "13", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{_pages(out)}\n"
