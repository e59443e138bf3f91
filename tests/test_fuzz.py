"""Random sources through loading, validation and rendering: every outcome is a build or a clean
error (Chinese `file:line:column` problems), never another exception.

The profile is derandomized, so CI sees the same examples every run; set LIANDONG_FUZZ=2000 (a
number of examples) to search longer by hand. Crashes found this way have regression fixtures in
tests/fixtures/hostile/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO
from liandong.build import IssueRenderer, build
from liandong.errors import LiandongError, SourceErrors
from liandong.fonts import resolve_fonts

EXAMPLES = int(os.environ.get("LIANDONG_FUZZ", "200"))
PDF_EVERY = 15
"""One example in PDF_EVERY that prepares cleanly is also rendered to PDF (the slow part)."""

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")

ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
SERIES = "issues/series.yaml"
SAMPLE = {name: (REPO / name).read_text(encoding="utf-8") for name in (ISSUE, ARTICLE, SERIES)}

FRAGMENTS = [
    # Chinese text and punctuation that the fonts have
    "代表",
    "建议",
    "人大常委会",
    "“金点子”",
    "（一）",
    "《中国人大》",
    "、",
    "，",
    "。",
    "；",
    "：",
    "——",
    "……",
    "！",
    "？",
    "一、",
    "1.",
    "（1）",
    "2024年8月30日",
    "0731—85309270",
    # Markdown
    "**",
    "__",
    "*",
    "_",
    "# ",
    "## ",
    "### ",
    "#### ",
    "##### ",
    "`",
    "```",
    "> ",
    "- ",
    "1. ",
    "[链接](http://169.254.169.254/)",
    "![图](file:///etc/passwd)",
    "<http://x.cn>",
    "<a@b.cn>",
    "[r]: javascript:alert(1)",
    "\\*",
    "\\",
    "---",
    "===",
    "    ",
    "  \n",
    # HTML and template syntax
    "<script>alert(1)</script>",
    "<style>",
    "<link rel=attachment href=file:///etc/passwd>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "</p>",
    "<!--",
    "-->",
    "&lt;",
    "&#60;",
    "&#0;",
    "&#x1;",
    "&amp;",
    "&",
    "{{ 7*7 }}",
    "{% include 'x' %}",
    "{#",
    # YAML syntax
    ": ",
    " #",
    "- ",
    "? ",
    "|",
    ">",
    "&a ",
    "*a",
    "!!python/object:os.system",
    "!!binary",
    "<<: ",
    "'",
    '"',
    "%YAML 1.1",
    "...",
    "[",
    "]",
    "{",
    "}",
    ",",
    "~",
    "null",
    "0x1F",
    "1e3",
    "\t",
    "\ufeff",
    "\r\n",
    "\r",
    "\n",
    "\n\n",
    "\x00",
    "\x01",
    "\x02klzzwxh:0000\x03",
    "\x7f",
    "\u2028",
    "\u202e",
    "\u200b",
    "😀",
    "é",
    "\U00020000",
    # Found by hand: deep emphasis (a recursive walk), numbers of thousands of digits (int())
    "**" * 600,
    "9" * 4400,
]

fragment = st.sampled_from(FRAGMENTS)
chunk = st.one_of(fragment, fragment, st.text(max_size=8))
free_text = st.lists(chunk, max_size=12).map("".join)
"""Anything at all: random unicode mixed with syntax of every stage."""

printable = st.lists(
    st.sampled_from(
        [
            *FRAGMENTS[:20],
            "正文",
            "会议",
            "abc",
            " ",
            "2024",
            "**",
            "<script>alert(1)</script>",
            "&lt;",
            "&amp;",
            "[链接](javascript:alert(1))",
            "<img src=x onerror=alert(1)>",
            "{{ 7*7 }}",
            "\\*",
        ]
    ),
    min_size=1,
    max_size=10,
).map("".join)
"""Text the fonts can print, markup included: so that many examples get through validation to
typesetting and rendering."""

SCHEMA_KEYS = [
    "刊名",
    "编印单位",
    "批准文号",
    "责任编辑",
    "联系方式",
    "报",
    "送",
    "发",
    "印数",
    "期号",
    "总期号",
    "日期",
    "编者按",
    "标题",
    "副标题",
]

scalar = st.one_of(
    printable, free_text, st.integers(-5, 10**6), st.none(), st.booleans(), st.dates().map(str)
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(SCHEMA_KEYS) | printable, inner, max_size=3),
    ),
    max_leaves=8,
)


TEXT_KEYS = {
    ISSUE: ["编者按", "责任编辑", "联系方式", "编印单位", "批准文号"],
    SERIES: ["刊名", "编印单位", "批准文号", "责任编辑", "联系方式"],
}


@st.composite
def yaml_text(draw, base: str, name: str) -> str:
    """A YAML file: the sample with some keys changed, a random mapping, or raw text."""
    kind = draw(
        st.sampled_from(["gentle", "gentle", "gentle", "edit", "edit", "mapping", "raw", "deep"])
    )
    if kind == "gentle":  # printable values in the right places: most of these build
        data = yaml.safe_load(base)
        for key in draw(st.lists(st.sampled_from(TEXT_KEYS[name]), min_size=1, max_size=3)):
            data[key] = draw(printable)
        if draw(st.booleans()):
            data[draw(st.sampled_from(["报", "送", "发"]))] = draw(
                st.lists(printable, min_size=1, max_size=4)
            )
        return yaml.safe_dump(data, allow_unicode=True, default_flow_style=draw(st.booleans()))
    if kind == "edit":
        data = yaml.safe_load(base)
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(SCHEMA_KEYS + list(data)))
            if draw(st.booleans()) and key in data:
                del data[key]
            else:
                data[key] = draw(value)
        text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=draw(st.booleans()))
        return draw(st.sampled_from([text, text + draw(free_text)]))
    if kind == "mapping":
        data = draw(st.dictionaries(st.sampled_from(SCHEMA_KEYS) | free_text, value, max_size=6))
        return yaml.safe_dump(data, allow_unicode=True)
    if kind == "deep":
        depth = draw(st.integers(1, 400))
        return base + "发: " + "[" * depth + "x" + "]" * depth + "\n"
    return draw(free_text)


@st.composite
def article_text(draw) -> str:
    kind = draw(st.sampled_from(["gentle", "gentle", "gentle", "article", "raw"]))
    if kind == "raw":
        return draw(free_text)
    if kind == "gentle":
        front = yaml.safe_dump(
            {"标题": draw(printable), "副标题": draw(printable)}, allow_unicode=True
        )
        blocks = draw(
            st.lists(
                st.one_of(
                    printable,
                    printable.map(lambda t: "# 一、" + t),
                    printable.map(lambda t: "## （二）" + t),
                ),
                min_size=1,
                max_size=6,
            )
        )
        return f"---\n{front}---\n\n" + "\n\n".join(blocks) + "\n"
    title = draw(st.one_of(printable, free_text))
    front = yaml.safe_dump(
        {"标题": title, **({"副标题": draw(printable)} if draw(st.booleans()) else {})},
        allow_unicode=True,
    )
    blocks = draw(
        st.lists(
            st.one_of(printable, free_text, printable.map(lambda t: "# 一、" + t)),
            min_size=0,
            max_size=5,
        )
    )
    return f"---\n{front}---\n\n" + "\n\n".join(blocks) + "\n"


@st.composite
def project_files(draw) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = dict(SAMPLE)
    for name in draw(
        st.lists(
            st.sampled_from([ISSUE, ARTICLE, SERIES, "02.md"]), min_size=1, max_size=3, unique=True
        )
    ):
        if name == ARTICLE or name == "02.md":
            files["issues/2024/13/" + Path(name).name] = draw(article_text())
        else:
            files[name] = draw(yaml_text(SAMPLE[name], name))
    if draw(st.integers(0, 9)) == 0:  # a BOM, CRLF, or bytes that are not UTF-8
        name = draw(st.sampled_from(sorted(files)))
        raw = str(files[name]).encode("utf-8", "surrogatepass")
        files[name] = draw(
            st.sampled_from([b"\xef\xbb\xbf" + raw, raw.replace(b"\n", b"\r\n"), raw + b"\xff\xfe"])
        )
    return files


def assert_clean(error: LiandongError) -> None:
    """A clean error: Chinese, and for source problems a position inside a named file."""
    if isinstance(error, SourceErrors):
        assert error.problems
        for problem in error.problems:
            assert problem.path and problem.line >= 1 and problem.column >= 1, problem
            assert CJK.search(problem.message), problem
    else:
        assert CJK.search(error.format_message()), error.format_message()


class _Counter:
    prepared = 0


def prepare(root: Path, folders: list[Path]) -> tuple[list, list[tuple[str, str]]]:
    """What build does before WeasyPrint: load, check, typeset, and render both templates."""
    renderer = IssueRenderer(root, resolve_fonts(root / "fonts"))
    problems: list = []
    loaded = renderer.load(folders, problems)
    if problems:
        raise SourceErrors(problems)
    return (
        [issue for issue, _ in loaded],
        [renderer.pages(issue, context)[:2] for issue, context in loaded],
    )


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
REACHED = 40
"""Examples drawn by test_the_fuzz_reaches_rendering (each only prepared, never printed)."""


def write_project(root: Path, files: dict[str, str | bytes]) -> list[Path]:
    """The example's files under root; the folders of the issue to build."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return [root / "issues" / "2024" / "13"]


@SETTINGS
@given(files=project_files())
def test_random_sources_build_or_fail_cleanly(files, tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    folders = write_project(root, files)
    try:
        issues, pages = prepare(root, folders)
    except LiandongError as error:
        assert_clean(error)
        return
    assert len(issues) == 1 and all(print_html and web_html for print_html, web_html in pages)
    _Counter.prepared += 1
    if _Counter.prepared % PDF_EVERY == 1:
        try:  # a PDF that fails preflight (e.g. a masthead too long for the page) is a clean error
            built = build(root, folders, root / "out")
        except LiandongError as error:
            assert_clean(error)
        else:
            assert built[0].pdf.read_bytes().startswith(b"%PDF")
    shutil.rmtree(root, ignore_errors=True)


def test_the_fuzz_reaches_rendering(tmp_path_factory) -> None:
    """The strategies are not all errors: some examples do get typeset and rendered. Its own
    draw of REACHED examples, so that it holds alone, in any order and on any worker."""
    reached = []

    @settings(SETTINGS, max_examples=REACHED)
    @given(files=project_files())
    def draw(files) -> None:
        root = tmp_path_factory.mktemp("reach")
        try:
            prepare(root, write_project(root, files))
        except LiandongError:
            pass
        else:
            reached.append(root)
        shutil.rmtree(root, ignore_errors=True)

    draw()
    assert len(reached) >= 3, f"{len(reached)} of {REACHED} examples reached rendering"
