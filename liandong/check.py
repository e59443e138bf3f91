"""`liandong check`: schema, numbering, typography and glyph coverage, without building; `--fix`.

Errors (exit status 1): a source that cannot be built (schema problems, unreadable files,
missing glyphs, text that cannot be set within the text area). Warnings (exit status 0, 1 with
--strict): numbering across the archive, lines set past the spacing limits, and every
typography finding. `--fix` converts GBK/UTF-16 files to UTF-8 and applies the safe
typography fixes by editing the original bytes at exact offsets, so comments, key order, line
endings and a BOM stay as they were; then everything is checked again and reported.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from liandong import limits
from liandong.errors import Problem, display_path
from liandong.files import rewrite
from liandong.fonts import ResolvedFont
from liandong.lint import Finding, lint_unit
from liandong.numbering import check_numbering, numbering_rule, read_archive
from liandong.source import (
    ISSUE_FILE,
    SERIES_FILE,
    SourceFile,
    compose_yaml,
    decode_source,
    foreign_encoding,
    normalise_newlines,
    outside_project,
    parse_blocks,
    read_source,
    split_front_matter,
)
from liandong.validate import (
    ARTICLE_SCHEMA,
    ISSUE_SCHEMA,
    SERIES_SCHEMA,
    Archive,
    Field,
    Numbers,
    load_series,
)

logger = logging.getLogger(__name__)

_LINTED_KINDS = ("text", "list", "markdown")
_FIX_ROUNDS = 5
"""One fix can reveal another (议 (党组) → 议 （党组）, then the spaces go): fix until nothing is left."""


@dataclass
class Report:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def source_paths(root: Path, folders: list[Path]) -> list[Path]:
    """The files a check of these issues reads: series.yaml, then each issue.yaml and article."""
    paths = [root / "issues" / SERIES_FILE]
    for folder in folders:
        paths.append(folder / ISSUE_FILE)
        paths += sorted(folder.glob("*.md"))
    return [path for path in paths if path.is_file()]


# --- What prints: the lint units of each file ----------------------------------------------


def _scalar_span(source: SourceFile, node: yaml.Node) -> tuple[int, int, str | None] | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        # The header line (| and perhaps a comment) does not print.
        newline = source.text.find("\n", start, end)
        return None if newline == -1 else (newline + 1, end, None)
    if style in ('"', "'"):
        return start + 1, max(start + 1, end - 1), style
    return start, end, None


def _yaml_units(
    source: SourceFile, node: yaml.Node | None, schema: dict[str, Field]
) -> list[tuple[int, int, str | None]]:
    """Spans of the YAML values that print (text, lists, Markdown); keys and comments do not."""
    if not isinstance(node, yaml.MappingNode):
        return []
    spans = []
    for key, value in node.value:
        spec = schema.get(str(key.value))
        if spec is None or spec.kind not in _LINTED_KINDS:
            continue
        values = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for item in values:
            span = _scalar_span(source, item)
            if span:
                spans.append(span)
    return spans


def lint_source(source: SourceFile, kind: str) -> list[Finding]:
    """Typography findings in one source file: "series", "issue" or "article"."""
    spans: list[tuple[int, int, str | None]] = []
    ignored: list[Problem] = []  # syntax problems are the schema check's to report
    if kind == "article":
        front = split_front_matter(source)
        if front is None:
            return []
        yaml_text, yaml_offset, body_start = front
        node = compose_yaml(source, ignored, offset=yaml_offset, text=yaml_text)
        spans += _yaml_units(source, node, ARTICLE_SCHEMA)
        forms = parse_blocks(source, body_start, len(source.text))
        # Only what prints: a figure's caption, not its file name; a table's cells, not its |.
        spans += [(start, end, None) for form in forms for start, end in form.spans()]
    else:
        node = compose_yaml(source, ignored)
        spans += _yaml_units(source, node, SERIES_SCHEMA if kind == "series" else ISSUE_SCHEMA)
    findings = []
    for start, end, quoted in spans:
        findings += lint_unit(source, start, end, quoted)
    return findings


def lint_paths(root: Path, paths: list[Path]) -> list[Finding]:
    """Typography findings of readable files; unreadable ones are the schema check's to report."""
    findings: list[Finding] = []
    for path in paths:
        source = read_source(path, root, [])
        if source is not None:
            findings += lint_source(source, _kind(path))
    return findings


def _kind(path: Path) -> str:
    return (
        "series" if path.name == SERIES_FILE else "issue" if path.name == ISSUE_FILE else "article"
    )


# --- The check ------------------------------------------------------------------


def run_checks(root: Path, folders: list[Path], archive: Archive | None = None) -> Report:
    """Every check on the named issues; nothing is written. `archive` (from
    `validate.scan_archive`) adds its misnamed folders: errors, and notices as warnings."""
    from liandong.load import IssueLoader
    from liandong.project import resolve_project_fonts

    report = Report()
    if archive is not None:
        report.errors += archive.errors
        report.warnings += [
            Problem(p.path, p.line, p.column, f"注意：{p.message}") for p in archive.notices
        ]
    # Schema problems, then (for the issues that load) the build's glyph check: every printed
    # character against the font that prints it, the ones a 补字 font prints as notices.
    # No WeasyPrint: nothing is rendered.
    loader = IssueLoader(root, resolve_project_fonts(root, notice=True, problems=report.errors))
    notices: list[Problem] = []
    loader.load(folders, report.errors, notices)
    report.warnings += [Problem(p.path, p.line, p.column, f"注意：{p.message}") for p in notices]
    report.warnings += stack_warnings(root, folders, loader.fonts)

    ignored: list[Problem] = []
    numbers_read = read_archive(root, ignored, archive.folders if archive is not None else None)
    rule = numbering_rule(load_series(root, ignored))
    selected = {folder.resolve() for folder in folders}
    report.warnings += [
        Problem(p.path, p.line, p.column, f"注意：{p.message}")
        for p, numbers in _located(check_numbering(numbers_read, rule), numbers_read)
        if numbers.folder.resolve() in selected
    ]

    report.findings += lint_paths(root, source_paths(root, folders))
    report.warnings += [finding.problem() for finding in report.findings]
    return report


def stack_warnings(
    root: Path, folders: list[Path], fonts: dict[str, ResolvedFont]
) -> list[Problem]:
    """An issue last built (build/<slug>.build.json, or the site's PDF) with a stack that
    differs from this machine's (with these fonts) in a way that can move the layout: building
    it again may break lines and pages differently from the published PDF."""
    from liandong.stack import build_record, find_record, layout_differences

    warnings = []
    current: dict | None = None  # this machine's record, made only when there is one to compare
    for folder in folders:
        found = find_record(root, f"{folder.parent.name}-{int(folder.name):02d}")
        if found is None:
            continue
        record, path = found
        if current is None:
            current = build_record(fonts)
        differences = layout_differences(record, current)
        if differences:
            warnings.append(
                Problem(
                    display_path(folder / ISSUE_FILE, root),
                    1,
                    1,
                    f"注意：本期上次生成时（{display_path(path, root)}）的排版环境与现在不同，"
                    f"现在重新生成，换行和分页可能与那时不同：{'；'.join(differences)}",
                )
            )
    return warnings


def _located(problems: list[Problem], archive: list[Numbers]) -> list[tuple[Problem, Numbers]]:
    """Pair each numbering warning with the issue whose issue.yaml it is in."""
    by_name: dict[str, Numbers] = {}
    for numbers in archive:
        for loc in numbers.locs.values():
            by_name[loc.source.name] = numbers
    return [(problem, by_name[problem.path]) for problem in problems if problem.path in by_name]


# --- Fixing --------------------------------------------------------------------


def convert_encodings(root: Path, paths: list[Path], echo: Callable[[str], None]) -> int:
    """Rewrite GBK/GB18030 and UTF-16 sources as UTF-8 (line endings kept); returns how many."""
    converted = 0
    for path in paths:
        # The same guards as read_source: nothing linked from outside the project, nothing over
        # the size limit, and an unreadable file is left to the check, which reports it.
        if outside_project(path, root) is not None or not path.is_file():
            continue
        try:
            if path.stat().st_size > limits.SOURCE_BYTES:
                continue
            raw = path.read_bytes()
        except OSError:
            continue
        encoding = foreign_encoding(raw)
        if encoding is None:
            continue
        text, _, _ = decode_source(raw)
        rewrite(path, text.encode("utf-8"), root)  # mode and links kept
        label = "GBK（GB18030）编码" if encoding == "gb18030" else "UTF-16 编码"
        echo(f"已把 {display_path(path, root)} 从 {label}转换为 UTF-8")
        converted += 1
    return converted


def _raw_offsets(raw_text: str) -> list[int]:
    """For each offset of the normalised text (CRLF and CR as LF), the offset in the raw text."""
    offsets = []
    index = 0
    while index < len(raw_text):
        offsets.append(index)
        index += 2 if raw_text.startswith("\r\n", index) else 1
    offsets.append(len(raw_text))
    return offsets


def apply_fixes(
    root: Path,
    findings: list[Finding],
    echo: Callable[[str], None],
    refused: set[Path] | None = None,
) -> int:
    """Apply the safe fixes in place, file by file, byte for byte elsewhere; returns how many.

    Files whose fixes would break their YAML are left alone, said once, and added to `refused`."""
    refused = set() if refused is None else refused
    by_file: dict[Path, list[Finding]] = {}
    for finding in findings:
        if finding.safe and finding.edits and finding.source.path not in refused:
            by_file.setdefault(finding.source.path, []).append(finding)
    applied = 0
    for path, file_findings in by_file.items():
        source = file_findings[0].source
        raw = path.read_bytes()
        raw_text, encoding, bom = decode_source(raw)
        if encoding != "utf-8" or normalise_newlines(raw_text) != source.text:
            continue  # not what was linted (changed meanwhile): the next check reports it again
        offsets = _raw_offsets(raw_text)
        edits: list[tuple[int, int, str]] = []
        count = 0
        for finding in sorted(file_findings, key=lambda f: min(e[0] for e in f.edits)):
            spans = sorted(finding.edits)
            # Overlapping fixes (a half-width comma inside doubled punctuation): the first wins,
            # the next round reports and fixes what is left.
            if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
                continue
            if any((s[0] < e[1] and e[0] < s[1]) or s[0] == e[0] for s in spans for e in edits):
                continue
            edits += spans
            count += 1
        new_text = raw_text
        for start, end, replacement in sorted(edits, reverse=True):
            raw_start, raw_end = offsets[start], offsets[end]
            new_text = new_text[:raw_start] + replacement + new_text[raw_end:]
        if new_text == raw_text:
            continue
        if not _still_parses(source, normalise_newlines(new_text)):
            refused.add(path)
            echo(f"注意：{source.name} 修正后不再是有效的 YAML，未做修改，请手工修改")
            continue
        rewrite(path, bom + new_text.encode("utf-8"), root)  # mode and links kept
        applied += count
    return applied


def _still_parses(source: SourceFile, text: str) -> bool:
    """A fix must never break the YAML around it (e.g. '' inside a single-quoted value)."""
    fixed = SourceFile(source.path, source.name, text)
    if _kind(source.path) == "article":
        front = split_front_matter(fixed)
        if front is None:
            return False
        yaml_text, offset, _ = front
        problems: list[Problem] = []
        compose_yaml(fixed, problems, offset=offset, text=yaml_text)
    else:
        problems = []
        compose_yaml(fixed, problems)
    return not problems


def echo_changes(root: Path, before: dict[Path, str], echo: Callable[[str], None]) -> None:
    """A diff-like summary: each changed line as `file:line: - old` and `file:line: + new`.

    Fixes never add or remove a line, so old and new lines correspond one to one."""
    for path, old in before.items():
        problems: list[Problem] = []
        source = read_source(path, root, problems)
        if source is None or source.text == old:
            continue
        for number, (was, now) in enumerate(zip(old.split("\n"), source.text.split("\n")), 1):
            if was != now:
                echo(f"{source.name}:{number}: - {was}")
                echo(f"{source.name}:{number}: + {now}")


def check(
    root: Path,
    folders: list[Path],
    *,
    strict: bool = False,
    fix: bool = False,
    echo: Callable[[str], None] = print,
    archive: Archive | None = None,
) -> int:
    """Check (and with fix, first repair) the named issues; print every problem; the exit status."""
    if fix:
        paths = source_paths(root, folders)
        converted = convert_encodings(root, paths, echo)
        before = {
            path: source.text
            for path in paths
            if (source := read_source(path, root, [])) is not None
        }
        fixed = 0
        refused: set[Path] = set()
        for _ in range(_FIX_ROUNDS):
            applied = apply_fixes(root, lint_paths(root, paths), echo, refused)
            fixed += applied
            if not applied:
                break
        echo_changes(root, before, echo)
        if converted or fixed:
            done = ([f"修正 {fixed} 处排版问题"] if fixed else []) + (
                [f"转换 {converted} 个文件的编码"] if converted else []
            )
            echo(f"共{'，'.join(done)}。修正后重新检查：")
        else:
            echo("没有可自动修正的问题。")
    report = run_checks(root, folders, archive)
    problems = sorted(set(report.errors) | set(report.warnings))
    for problem in problems:
        echo(str(problem))
    errors, warnings = len(set(report.errors)), len(set(report.warnings))
    fixable = sum(1 for finding in report.findings if finding.safe and finding.edits)
    scope = (
        f" {len(folders)} 期"
        if len(folders) != 1
        else f" {folders[0].parent.name} 年第 {int(folders[0].name)} 期"
    )
    if not problems:
        echo(f"检查了{scope}：没有发现问题。")
        return 0
    summary = f"检查了{scope}：{errors} 处错误，{warnings} 处提醒"
    if fixable:
        summary += f"（其中 {fixable} 处可用 liandong check --fix 自动修正）"
    if strict and warnings and not errors:
        summary += "；使用了 --strict，提醒也算作错误"
    echo(summary + "。")
    return 1 if errors or (strict and warnings) else 0
