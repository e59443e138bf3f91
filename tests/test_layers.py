"""The direction of imports between liandong's modules (docs/architecture.md, "Layers").

Every module of liandong/ is parsed (ast: module-level and function-level imports alike, since
the lazy ones are imports too) and each import of another liandong module is checked against
LAYERS: a module may import its own layer and the layers below it, never one above. A few pairs
that the order alone would allow are refused by name (FORBIDDEN). No module imports a private
name (`_x`) from another, and only pdf.py imports WeasyPrint.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "liandong"

LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"__init__", "errors", "limits", "files", "page"}),
    ("fonts", {"fonts", "shaping"}),
    ("typeset", {"typeset"}),
    ("context", {"context"}),  # the templates' types: made of page.Layout and typeset.Piece
    # images with source: a Figure holds its images.ImageFile, which points back at the Figure
    ("source", {"source", "images"}),
    ("validate", {"validate"}),
    ("project", {"project"}),
    ("render", {"render", "forms"}),
    ("load", {"load"}),
    ("output", {"pdf", "metadata", "pdfx", "tags", "stack", "docx", "ofd"}),
    ("preflight", {"preflight"}),
    ("tools", {"lint", "numbering", "search"}),
    ("check", {"check"}),
    ("build", {"build"}),
    ("commands", {"new", "importer", "pdfimport", "docximport"}),
    ("site", {"site"}),
    ("serve", {"serve"}),
    ("cli", {"cli", "__main__"}),
]
"""Lowest first. The pipeline's stages keep their order (fonts and typeset, which read no
source, sit below source and validate: validate checks 补字字体 against the font roles and
punctuation runs against typeset's classes)."""

FORBIDDEN = {
    ("preflight", "render"): "preflight checks any PDF (`liandong preflight`, the importer) "
    "without Jinja: the page's numbers are in page.py",
}
"""Imports the layer order alone would allow, refused with the reason."""

RANK = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names) for every import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            # relative: from . import x, from .x import y
            relative = "liandong" + (f".{node.module}" if node.module else "")
            base = relative if node.level else node.module or ""
            if base == "liandong":  # from liandong import limits: each name is a module
                found += [(node.lineno, f"liandong.{name}", []) for name in names if name in RANK]
                found += [
                    (node.lineno, "liandong.__init__", [name]) for name in names if name not in RANK
                ]
            else:
                found.append((node.lineno, base, names))
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def liandong_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    return [
        (line, name.split(".")[1], names)
        for line, name, names in imports(path)
        if name.startswith("liandong.")
    ]


def test_every_module_has_a_layer():
    assert sorted(p.stem for p in modules() if p.stem not in RANK) == []
    assert sorted(m for m in RANK if not (PACKAGE / f"{m}.py").is_file()) == []


def test_no_module_imports_a_later_layer():
    wrong = []
    for path in modules():
        for line, target, _ in liandong_imports(path):
            if RANK[target] > RANK[path.stem]:
                wrong.append(
                    f"liandong/{path.name}:{line}: {path.stem} "
                    f"({LAYERS[RANK[path.stem]][0]}) imports {target} "
                    f"({LAYERS[RANK[target]][0]})"
                )
            elif (path.stem, target) in FORBIDDEN:
                wrong.append(
                    f"liandong/{path.name}:{line}: {path.stem} imports {target}: "
                    f"{FORBIDDEN[path.stem, target]}"
                )
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_a_private_name_of_another():
    wrong = [
        f"liandong/{path.name}:{line}: from liandong.{target} import {name}"
        for path in modules()
        for line, target, names in liandong_imports(path)
        if target != path.stem
        for name in names
        if name.startswith("_") and not name.endswith("__")
    ]
    assert not wrong, "\n".join(wrong)


def test_only_pdf_imports_weasyprint():
    importers = sorted(
        {
            path.name
            for path in modules()
            for _, name, _ in imports(path)
            if name.split(".")[0] == "weasyprint"
        }
    )
    assert importers == ["pdf.py"]


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f():\n    from liandong.build import x\n", [(2, "build", ["x"])]),
        (
            "from liandong import limits, __version__\n",
            [(1, "limits", []), (1, "__init__", ["__version__"])],
        ),
        ("from . import render\n", [(1, "render", [])]),
        ("from .source import _CONTROL\n", [(1, "source", ["_CONTROL"])]),
        ("import liandong.pdf\n", [(1, "pdf", [])]),
    ],
)
def test_the_parser_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    assert liandong_imports(path) == expected
