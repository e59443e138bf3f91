"""The structure tree of the archival PDF, tidied after WeasyPrint wrote it.

WeasyPrint 70 builds the tags page by page, from each page's boxes: an element that runs over a
page break (the <main>, an <article>, a paragraph) becomes one structure element per page, so a
paragraph crossing a page break was two P. It also links the page-number boxes into no parent
(their marked content is orphaned rather than an artifact), and wraps every line and run of
text in grouping Span and NonStruct elements. (Borders and rules it already marks /Artifact.)

`tidy` fixes that on the written file (pikepdf, no WeasyPrint):

- elements that come from the same HTML element (`keys`, recorded while WeasyPrint built the
  tree: see pdf._record_tag_sources) and stand next to each other are merged into one, with
  their kids in order, so one paragraph is one P on however many pages;
- grouping elements (NonStruct, and Span that hold only other elements) and empty ones are
  replaced by their kids: P holds the runs of text directly;
- marked content that no element owns (the page numbers) becomes /Artifact (pagination);
- `actual_text` roles (the masthead's H1) get /ActualText on their marked content, the text
  without the gaps of its letter-spacing, so extractors give 联络动态 rather than 联 络 动 态;
- each list item is LI > (Lbl, LBody): its marker (● 1.) and its text. (Lbl and Note come
  from pdf.STRUCTURE_TYPES, by the HTML element's class.)

The reading order is the order of the HTML: the masthead, the editor's note, the articles and
the 版记, page after page.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any, TypeGuard

import pikepdf

PdfObject = Any
"""A pikepdf object read from the file: a Dictionary, Array, Name, integer … known only at run
time (pikepdf types them all as Object, whose keys and attributes mypy cannot follow)."""

GROUPING = {"/NonStruct", "/Span", "/Div"}
"""Structure types that only group: replaced by their kids when they hold no content directly."""


def _is_element(obj: object) -> TypeGuard[PdfObject]:
    return isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/StructElem"


def _number(obj: PdfObject) -> int | None:
    try:
        return obj.objgen[0] or None
    except (AttributeError, pikepdf.PdfError):
        return None


def _kids(element: PdfObject) -> list[PdfObject]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _has_direct_content(element: PdfObject) -> bool:
    """Whether the element holds marked content or an annotation itself (not through kids)."""
    return any(not _is_element(kid) for kid in _kids(element))


class _Tidier:
    def __init__(self, pdf: pikepdf.Pdf, keys: dict[int, object]):
        self.pdf, self.keys = pdf, keys
        self.replaced: dict[tuple[int, int], object] = {}  # merged element -> the one kept

    def key(self, element):
        number = _number(element)
        return None if number is None else self.keys.get(number)

    def absorb(self, kept: PdfObject, merged: PdfObject) -> None:
        """Append merged's kids to kept: marked content of another page keeps its page."""
        kids = list(_kids(kept))
        page = merged.get("/Pg")
        same_page = (
            page is not None and kept.get("/Pg") is not None and page.objgen == kept.Pg.objgen
        )
        for kid in _kids(merged):
            if _is_element(kid):
                kid.P = kept
            elif (
                not same_page
                and page is not None
                and (
                    isinstance(kid, int)
                    or (
                        isinstance(kid, pikepdf.Object)
                        and kid._type_code == pikepdf.ObjectType.integer
                    )
                )
            ):
                kid = self.pdf.make_indirect(
                    pikepdf.Dictionary(Type=pikepdf.Name.MCR, Pg=page, MCID=int(kid))
                )
            kids.append(kid)
        kept.K = pikepdf.Array(kids)
        self.replaced[merged.objgen] = kept

    def continues(self, previous: PdfObject | None, kid: PdfObject) -> bool:
        """kid is the rest of the element before it: the same kind, from the same source."""
        return (
            _is_element(kid)
            and _is_element(previous)
            and self.key(kid) is not None
            and self.key(kid) == self.key(previous)
            and kid.get("/S") == previous.get("/S")
        )

    def tidy(self, element: PdfObject) -> None:
        """Merge continued kids, tidy each kid, and lift grouping kids into this element."""
        merged: list = []
        for kid in _kids(element):
            previous = merged[-1] if merged else None
            if self.continues(previous, kid):
                self.absorb(previous, kid)
            else:
                merged.append(kid)
        result: list = []
        for kid in merged:
            if not _is_element(kid):
                result.append(kid)
                continue
            self.tidy(kid)
            if not _kids(kid):
                continue  # empty: a <br>, a box with nothing printed
            lift = not _has_direct_content(kid) and (
                kid.get("/S") in GROUPING
                or (self.key(kid) is not None and self.key(kid) == self.key(element))
            )
            if lift:
                for grandchild in _kids(kid):
                    grandchild.P = element
                    result.append(grandchild)
                self.replaced[kid.objgen] = element
            else:
                result.append(kid)
        # A second pass: lifting can bring two parts of one element next to each other.
        final: list = []
        for kid in result:
            previous = final[-1] if final else None
            if self.continues(previous, kid):
                self.absorb(previous, kid)
                self.tidy(previous)
            else:
                final.append(kid)
        element.K = pikepdf.Array(final)


def _owned_content(root: PdfObject) -> dict[tuple[int, int], set[int]]:
    """For each page (objgen), the MCIDs some structure element in the tree owns."""
    owned: dict[tuple[int, int], set[int]] = {}

    def walk(element: PdfObject) -> None:
        page = element.get("/Pg")
        for kid in _kids(element):
            if _is_element(kid):
                walk(kid)
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                kid_page = kid.get("/Pg", page)
                owned.setdefault(kid_page.objgen, set()).add(int(kid.MCID))
            elif not isinstance(kid, pikepdf.Dictionary) and page is not None:
                owned.setdefault(page.objgen, set()).add(int(kid))

    for top in _kids(root):
        walk(top)
    return owned


def _elements_of(root: PdfObject, structure_type: str) -> list[PdfObject]:
    found = []

    def walk(element: PdfObject) -> None:
        if element.get("/S") == structure_type:
            found.append(element)
        for kid in _kids(element):
            if _is_element(kid):
                walk(kid)

    for top in _kids(root):
        walk(top)
    return found


def _mcids_under(element: PdfObject) -> list[tuple[tuple[int, int], int]]:
    """(page, MCID) of the marked content an element and its descendants own, in order."""
    found = []
    page = element.get("/Pg")
    for kid in _kids(element):
        if _is_element(kid):
            found += _mcids_under(kid)
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            found.append((kid.get("/Pg", page).objgen, int(kid.MCID)))
        elif not isinstance(kid, pikepdf.Dictionary) and page is not None:
            found.append((page.objgen, int(kid)))
    return found


def _mcid(operands: Sequence[PdfObject]) -> int | None:
    if (
        len(operands) == 2
        and isinstance(operands[1], pikepdf.Dictionary)
        and "/MCID" in operands[1]
    ):
        return int(operands[1].MCID)
    return None


def to_unicode(font: PdfObject) -> dict[int, str]:
    """The bfchar entries of a font's ToUnicode CMap (what WeasyPrint writes);
    preflight reads it too."""
    cmap = font.get("/ToUnicode")
    if cmap is None:
        return {}
    text = cmap.read_bytes().decode("latin-1")
    result: dict[int, str] = {}
    for code, value in re.findall(r"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]+)>", text):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            result[int(code, 16)] = bytes.fromhex(value).decode("utf-16-be")
    return result


def _decode(font: PdfObject, data: bytes) -> str:
    mapping = to_unicode(font)
    if font.get("/Subtype") == "/Type0":
        codes = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]
    else:
        codes = list(data)
    return "".join(mapping.get(code, "") for code in codes)


def _marked_text(page: PdfObject, wanted: set[int]) -> dict[int, str]:
    """The text shown inside each wanted MCID's marked content, from the fonts' ToUnicode."""
    fonts = page.Resources.get("/Font", {})
    texts: dict[int, str] = {}
    stack: list[int | None] = []
    font = None
    for instruction in pikepdf.parse_content_stream(page):
        operands, op = instruction.operands, str(instruction.operator)
        if op in ("BDC", "BMC"):
            stack.append(_mcid(list(operands)) if op == "BDC" else None)
        elif op == "EMC" and stack:
            stack.pop()
        elif op == "Tf":
            font = fonts.get(str(operands[0]))
        elif op in ("Tj", "TJ", "'", '"') and font is not None:
            current = next((m for m in reversed(stack) if m is not None), None)
            if current not in wanted:
                continue
            strings = operands[0] if op == "TJ" else [operands[-1]]
            for item in strings:
                if isinstance(item, pikepdf.String):
                    texts[current] = texts.get(current, "") + _decode(font, bytes(item))
    return texts


def _rewrite_page(
    pdf: pikepdf.Pdf, page: PdfObject, owned: set[int], actual: dict[int, str]
) -> None:
    """Orphaned marked content → pagination artifacts; ActualText on the wanted marked content.
    (Borders and rules WeasyPrint already draws as /Artifact.)"""
    out: list = []
    changed = False
    for instruction in pikepdf.parse_content_stream(page):
        if (
            isinstance(instruction, pikepdf.ContentStreamInstruction)
            and str(instruction.operator) == "BDC"
        ):
            operands: list[PdfObject] = list(instruction.operands)
            mcid = _mcid(operands)
            if mcid is not None and mcid not in owned:
                operands = [pikepdf.Name.Artifact, pikepdf.Dictionary(Type=pikepdf.Name.Pagination)]
            elif mcid is not None and mcid in actual:
                properties = pikepdf.Dictionary(operands[1])
                properties.ActualText = pikepdf.String(actual[mcid])
                operands = [operands[0], properties]
            else:
                out.append(instruction)
                continue
            instruction = pikepdf.ContentStreamInstruction(operands, instruction.operator)
            changed = True
        out.append(instruction)
    if changed:
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(out))


def _list_bodies(pdf: pikepdf.Pdf, root: PdfObject) -> None:
    """Each list item as PDF/UA wants it: LI holding its label (Lbl, the ● or number) and a
    body (LBody) with the item's text. WeasyPrint's LBody comes from the same HTML element as
    its LI, so tidying lifted it; it is made again around everything but the label. Only
    elements move (their marked content stays theirs, so the parent tree holds)."""
    for item in _elements_of(root, "/LI"):
        kids = _kids(item)
        if any(not _is_element(kid) for kid in kids):
            continue
        rest = [kid for kid in kids if kid.get("/S") not in ("/Lbl", "/LBody")]
        if not rest or (len(rest) == len(kids) and any(k.get("/S") == "/LBody" for k in kids)):
            continue
        body = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.StructElem, S=pikepdf.Name.LBody, P=item, K=pikepdf.Array(rest)
            )
        )
        if "/Pg" in item:
            body.Pg = item.Pg
        for kid in rest:
            kid.P = body
        item.K = pikepdf.Array([kid for kid in kids if kid.get("/S") == "/Lbl"] + [body])


def tidy(
    pdf: pikepdf.Pdf, keys: dict[int, object], actual_text: tuple[str, ...] = ("/H1",)
) -> None:
    """Tidy the structure tree of a tagged PDF in place (see the module's docstring)."""
    root = pdf.Root.get("/StructTreeRoot")
    if root is None:
        return
    tidier = _Tidier(pdf, keys)
    for top in _kids(root):
        if _is_element(top):
            tidier.tidy(top)
    _list_bodies(pdf, root)
    # Marked content is found through the parent tree: point it at the elements kept.
    parent_tree = root.get("/ParentTree")
    owned = _owned_content(root)
    pages: dict[tuple[int, int], PdfObject] = {page.obj.objgen: page for page in pdf.pages}
    by_key: dict[int, PdfObject] = {
        int(page.obj.StructParents): page for page in pdf.pages if "/StructParents" in page.obj
    }
    if parent_tree is not None:
        nums = parent_tree.get("/Nums", pikepdf.Array())
        for index in range(1, len(nums), 2):
            value = nums[index]
            if isinstance(value, pikepdf.Array):
                page = by_key.get(int(nums[index - 1]))
                page_owned = owned.get(page.objgen, set()) if page is not None else set()
                nums[index] = pikepdf.Array(
                    [
                        tidier.replaced.get(item.objgen, item)
                        if isinstance(item, pikepdf.Dictionary) and mcid in page_owned
                        else None
                        for mcid, item in enumerate(value)
                    ]
                )
            elif isinstance(value, pikepdf.Dictionary):
                nums[index] = tidier.replaced.get(value.objgen, value)
    wanted: dict[tuple[int, int], set[int]] = {}
    for structure_type in actual_text:
        for element in _elements_of(root, structure_type):
            for page, mcid in _mcids_under(element):
                wanted.setdefault(page, set()).add(mcid)
    for objgen, page in pages.items():
        page_wanted = wanted.get(objgen, set())
        actual = _marked_text(page, page_wanted) if page_wanted else {}
        _rewrite_page(pdf, page, owned.get(objgen, set()), actual)
