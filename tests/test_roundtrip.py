"""The PDF's text against the published issue 13: only the repaired extraction damage differs."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import SAMPLE_TEXT

SENTENCE_END = "。！？”"


def repaired_published() -> list[str]:
    """The published text's paragraphs with exactly the documented damage repaired."""
    text = SAMPLE_TEXT.read_text(encoding="utf-8")
    # 1. Half-width commas and parentheses where the print has full-width ones.
    text = text.replace(",", "，").replace("(", "（").replace(")", "）")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    # 2. Title and subtitle run together on one line, joined by "： ".
    paragraphs = [
        part
        for p in paragraphs
        for part in (p.split("： ", 1) if p.startswith("沈晓明主持召开") else [p])
    ]
    # 3. Body paragraphs split in two at page breaks: between the subtitle and the 版记, a
    #    paragraph that does not end a sentence continues in the next one.
    first = next(i for i, p in enumerate(paragraphs) if p.startswith("8月28日"))
    last = next(i for i, p in enumerate(paragraphs) if p.startswith("送："))
    joined: list[str] = paragraphs[:first]
    for paragraph in paragraphs[first:last]:
        if joined[-1][-1] not in SENTENCE_END and len(joined) > first:
            joined[-1] += paragraph
        else:
            joined.append(paragraph)
    return joined + paragraphs[last:]


def pdf_text(pdf) -> str:
    out = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return "\n".join(
        line
        for line in out.replace("\f", "\n").splitlines()
        if not re.fullmatch(r"—\s*\d+\s*—", line.strip())
    )


def test_split_paragraphs_are_the_documented_ones():
    joined = [
        p
        for p in repaired_published()
        if "现代石化产业是湖南" in p or "人民民主制度" in p or "对做好代表建议" in p
    ]
    assert len(joined) == 3  # "现代/石化产业", "民/主制度", "做/好代表建议"


def test_pdf_text_equals_the_repaired_published_text(sample_build):
    """Whitespace aside (line ends, the masthead's spacing), the text is the same, in order."""
    published = re.sub(r"\s+", "", "".join(repaired_published()))
    printed = re.sub(r"\s+", "", pdf_text(sample_build["pdf"]))
    assert printed == published


@pytest.mark.parametrize("index", range(4, 14))
def test_each_paragraph_comes_back_without_inserted_spaces(sample_build, index):
    """Body paragraphs come back from pdftotext exactly once lines are rejoined."""
    paragraph = repaired_published()[index]
    if paragraph.startswith("【编者按】"):
        paragraph = paragraph.replace("【编者按】 ", "【编者按】")
    printed = pdf_text(sample_build["pdf"]).replace("\n", "")
    assert paragraph in printed
