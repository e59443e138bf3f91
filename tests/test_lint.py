"""Chinese typography lint: one fixture per case, its findings, and what --fix makes of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, SAMPLE_TEXT, golden
from liandong.check import _kind, apply_fixes, lint_source
from liandong.lint import lint_unit
from liandong.source import SourceFile, read_source

CASES = FIXTURES / "lint"
"""One folder per case: one source (01.md, issue.yaml or series.yaml), expected.txt with the
findings (empty when the text is fine), and fixed.* with the file after `--fix` where a fix is safe."""


def case_names() -> list[str]:
    return sorted(path.name for path in CASES.iterdir() if path.is_dir())


def source_of(case: Path) -> Path:
    (path,) = [
        p for p in case.iterdir() if p.name != "expected.txt" and not p.name.startswith("fixed")
    ]
    return path


def findings(path: Path, root: Path):
    source = read_source(path, root, [])
    assert source is not None
    return lint_source(source, _kind(path))


@pytest.mark.parametrize("name", case_names())
def test_findings(name: str) -> None:
    case = CASES / name
    found = [str(f.problem()) for f in findings(source_of(case), case)]
    expected = golden(case / "expected.txt", "".join(line + "\n" for line in found))
    assert found == expected.splitlines()


@pytest.mark.parametrize("name", [n for n in case_names() if any((CASES / n).glob("fixed.*"))])
def test_fix(name: str, tmp_path: Path) -> None:
    case = CASES / name
    original = source_of(case)
    path = tmp_path / original.name
    shutil.copy(original, path)
    listed = sum(1 for f in findings(path, tmp_path) if f.safe and f.edits)
    applied = 0
    while fixed_now := apply_fixes(tmp_path, findings(path, tmp_path), lambda line: None):
        applied += fixed_now
    # --fix fixes exactly what check listed as fixable: no fix may reveal another one.
    assert applied == listed
    (fixed,) = case.glob("fixed.*")
    assert path.read_bytes() == golden(fixed, path.read_bytes())
    # What was fixed is gone; only findings without a safe fix may remain.
    assert all(not (f.safe and f.edits) for f in findings(path, tmp_path))


def test_every_rule_has_a_fixture() -> None:
    rules = {
        f.rule for name in case_names() for f in findings(source_of(CASES / name), CASES / name)
    }
    assert rules == {
        "half_width_punctuation",
        "half_width_parentheses",
        "straight_quotes",
        "unbalanced_brackets",
        "document_number_brackets",
        "space_between_chinese",
        "ellipsis",
        "dash",
        "full_width_alphanumerics",
        "doubled_punctuation",
        "placeholder",
    }


def _lint(text: str) -> list[tuple[str, int]]:
    source = SourceFile(Path("x.md"), "x.md", text)
    return [(f.rule, f.start) for f in lint_unit(source, 0, len(text))]


def test_the_published_texts_commas_are_found() -> None:
    """The published issue 13, as extracted from its PDF, has half-width commas in Chinese text."""
    sample_text = SAMPLE_TEXT.read_text(encoding="utf-8")
    paragraph = next(p for p in sample_text.split("\n\n") if p.startswith("沈晓明强调,要以"))
    found = _lint(paragraph)
    assert found and {rule for rule, _ in found} == {"half_width_punctuation"}
    assert [start for _, start in found] == [i for i, c in enumerate(paragraph) if c == ","]


def test_the_repository_sample_is_clean() -> None:
    for path in sorted((REPO / "issues").rglob("*")):
        if path.suffix in (".md", ".yaml"):
            assert findings(path, REPO) == [], path
