"""The archival PDF's structure tree: one element per HTML element across page breaks, the
page numbers and rules as artifacts, the masthead's text without its letter-spacing."""

from __future__ import annotations

import re

import pikepdf
import pytest

from conftest import REPO

PAINTING = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "Do", "sh"}


@pytest.fixture(scope="module")
def doc(sample_build):
    with pikepdf.open(sample_build["pdf"]) as pdf:
        yield pdf


def _kids(element) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _is_element(obj) -> bool:
    return isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/StructElem"


def _walk(element, found: list) -> None:
    found.append(element)
    for kid in _kids(element):
        if _is_element(kid):
            _walk(kid, found)


def _elements(doc) -> list:
    found: list = []
    for top in _kids(doc.Root.StructTreeRoot):
        _walk(top, found)
    return found


def _content(element, pages) -> list[tuple[int, int]]:
    """(page number, MCID) of everything an element holds, in order."""
    found = []
    page = element.get("/Pg")
    for kid in _kids(element):
        if _is_element(kid):
            found += _content(kid, pages)
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            found.append((pages[kid.get("/Pg", page).objgen], int(kid.MCID)))
        elif not isinstance(kid, pikepdf.Dictionary):
            found.append((pages[page.objgen], int(kid)))
    return found


def _marked_content(doc) -> dict[tuple[int, int], str]:
    """The text inside each MCID's marked content, page by page, through ToUnicode."""
    from liandong.tags import to_unicode

    texts: dict[tuple[int, int], str] = {}
    for number, page in enumerate(doc.pages, start=1):
        fonts = page.Resources.Font
        stack: list = []
        font = None
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == "BDC":
                props = operands[1]
                stack.append(
                    int(props.MCID)
                    if isinstance(props, pikepdf.Dictionary) and "/MCID" in props
                    else None
                )
            elif op == "BMC":
                stack.append(None)
            elif op == "EMC":
                stack.pop()
            elif op == "Tf":
                font = fonts[operands[0]]
            elif op in ("Tj", "TJ") and stack and stack[-1] is not None:
                mapping = to_unicode(font)
                for item in operands[0] if op == "TJ" else [operands[0]]:
                    if isinstance(item, pikepdf.String):
                        data = bytes(item)
                        texts[(number, stack[-1])] = texts.get((number, stack[-1]), "") + "".join(
                            mapping.get(int.from_bytes(data[i : i + 2], "big"), "")
                            for i in range(0, len(data), 2)
                        )
    return texts


def _text(element, doc, pages, marked) -> str:
    return "".join(marked.get(key, "") for key in _content(element, pages))


def test_one_p_per_paragraph_across_page_breaks(doc):
    """Every paragraph of the article is one P with its whole text, also the ones that run
    over a page break (their marked content is on two pages)."""
    from liandong.validate import load_issues

    (issue,) = load_issues(REPO, [REPO / "issues" / "2024" / "13"], [])
    paragraphs = [block.text for block in issue.articles[0].blocks if not block.level]
    pages = {page.objgen: number for number, page in enumerate(doc.pages, start=1)}
    marked = _marked_content(doc)
    articles = [e for e in _elements(doc) if e.get("/S") == "/Art"]
    assert len(articles) == 1
    body = [e for e in _kids(articles[0]) if _is_element(e) and e.get("/S") == "/P"]
    texts = [_text(p, doc, pages, marked) for p in body]
    # The subtitle is the first P, under the title; then the article's paragraphs, in order.
    assert texts[0] == issue.articles[0].subtitle.value
    assert texts[1:] == paragraphs
    spanning = [p for p in body if len({page for page, _ in _content(p, pages)}) > 1]
    assert len(spanning) >= 2  # the sample has paragraphs split at two page breaks


def test_reading_order_is_masthead_note_articles_banji(doc):
    pages = {page.objgen: number for number, page in enumerate(doc.pages, start=1)}
    marked = _marked_content(doc)
    (document,) = _kids(doc.Root.StructTreeRoot)
    order = [(e.get("/S"), _text(e, doc, pages, marked)[:8]) for e in _kids(document)]
    assert order[0] == ("/H1", "联络动态")
    assert [tag for tag, _ in order[1:4]] == ["/P", "/P", "/P"]  # 第 13 期, 总第…, compiler
    part = next(e for e in _kids(document) if e.get("/S") == "/Part")
    assert [e.get("/S") for e in _kids(part)] == ["/Sect", "/Art"]  # the note, the article
    assert order[-1][1].startswith("批准文号")  # the 版记 comes last
    # No element is a leftover of the page it was cut at: one Part, one Art, one Sect.
    counts = {}
    for element in _elements(doc):
        counts[str(element.S)] = counts.get(str(element.S), 0) + 1
    assert counts["/Part"] == counts["/Art"] == counts["/Sect"] == 1
    assert "/NonStruct" not in counts


def _pagination_text(doc, number: int) -> str:
    """The text a page prints inside /Artifact <</Type /Pagination>> marked content."""
    from liandong.tags import to_unicode

    page = doc.pages[number - 1]
    fonts = page.Resources.Font
    stack: list[bool] = []
    font, text = None, []
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "BDC":
            stack.append(operands[0] == "/Artifact" and operands[1].get("/Type") == "/Pagination")
        elif op == "BMC":
            stack.append(False)
        elif op == "EMC":
            stack.pop()
        elif op == "Tf":
            font = fonts[operands[0]]
        elif op in ("Tj", "TJ") and any(stack):
            mapping = to_unicode(font)
            for item in operands[0] if op == "TJ" else [operands[0]]:
                if isinstance(item, pikepdf.String):
                    data = bytes(item)
                    text += [
                        mapping.get(int.from_bytes(data[i : i + 2], "big"), "")
                        for i in range(0, len(data), 2)
                    ]
    return "".join(text)


def test_every_marked_content_is_owned_or_an_artifact(doc):
    """Each MCID in the pages belongs to an element of the tree; the page numbers are
    pagination artifacts (WeasyPrint left them as marked content no element owned); nothing is
    painted outside marked content: glyphs are tagged, rules and borders are artifacts."""
    pages = {page.objgen: number for number, page in enumerate(doc.pages, start=1)}
    owned = {key for element in _elements(doc) for key in _content(element, pages)}
    for number, page in enumerate(doc.pages, start=1):
        stack: list[str] = []
        painted = 0
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if (
                op == "BDC"
                and isinstance(operands[1], pikepdf.Dictionary)
                and "/MCID" in operands[1]
            ):
                assert (number, int(operands[1].MCID)) in owned
            if op in ("BDC", "BMC"):
                stack.append("artifact" if operands[0] == "/Artifact" else "tagged")
            elif op == "EMC":
                stack.pop()
            elif op in PAINTING:
                assert stack and stack[-1] == "artifact", (number, op)
                painted += 1
            elif op in ("Tj", "TJ"):
                assert stack, (number, op)
        if number in (1, len(doc.pages)):
            assert painted  # the masthead's red rule; the 版记's rules
        assert _pagination_text(doc, number) == f"— {number} —"
    parent_tree = doc.Root.StructTreeRoot.ParentTree.Nums
    for index in range(0, len(parent_tree), 2):
        for item in parent_tree[index + 1]:
            assert item is None or _is_element(item)


def test_the_masthead_extracts_without_its_letter_spacing(sample_build):
    """联络动态 is set with a quarter em between letters; PDFium (Chrome's PDF engine) gave
    "联 络 动 态". ActualText on its marked content gives the word back."""
    import subprocess

    import pypdfium2

    document = pypdfium2.PdfDocument(str(sample_build["pdf"]))
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    assert text.splitlines()[0] == "联络动态"
    poppler = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(sample_build["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert poppler.splitlines()[0] == "联络动态"
    assert not re.search("联 络", text + poppler)
