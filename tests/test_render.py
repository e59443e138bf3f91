"""The issue's web page: same content and identity as the PDF, semantic, readable on a phone."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import sysconfig
from html.parser import HTMLParser

import jinja2
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st, target
from jinja2.utils import Namespace

from conftest import REPO, add_issue, make_project
from liandong import context as ctx
from liandong.fonts import Measurer, resolve_fonts
from liandong.render import (
    PACKAGE_TEMPLATES,
    PLAIN_TYPES,
    build_context,
    impure,
    render_print,
    render_web,
    template_environment,
)
from liandong.validate import load_issues
from test_roundtrip import pdf_text


class _Outline(HTMLParser):
    """Collects elements with their attributes and text, and the page's visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict, list[str]]] = []
        self.stack: list[tuple[str, dict, list[str]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "title"):
            self._skip += 1
        entry = (tag, dict(attrs), [])
        self.elements.append(entry)
        if tag not in ("meta", "link", "br", "img"):
            self.stack.append(entry)

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self._skip -= 1
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for entry in self.stack:
            entry[2].append(data)
        if not self._skip:
            self.text.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[str]:
        return [
            "".join(parts)
            for name, attrs, parts in self.elements
            if name == tag and (cls is None or cls in attrs.get("class", "").split())
        ]


@pytest.fixture(scope="module")
def page(sample_build) -> _Outline:
    outline = _Outline()
    outline.feed(sample_build["html"].read_text(encoding="utf-8"))
    return outline


@pytest.fixture(scope="module")
def context():
    fonts = resolve_fonts(REPO / "fonts")
    problems: list = []
    issue = load_issues(REPO, [REPO / "issues" / "2024" / "13"], problems)[0]
    assert problems == []
    return build_context(issue, fonts, Measurer(fonts))


def test_html_is_chinese_and_titled(sample_build, page):
    html = sample_build["html"].read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<title>联络动态 2024年第13期（总第714期）</title>" in html


def test_masthead_matches_the_pdf(page):
    assert page.find("h1") == ["联络动态"]
    assert page.find("p", "number") == ["第 13 期"]
    assert page.find("p", "total") == ["（总第七百一十四期）"]
    assert page.find("time") == ["2024年8月30日"]
    assert page.find("span", "compiler") == ["湖南省人大常委会代表工作委员会编"]
    time = next(attrs for tag, attrs, _ in page.elements if tag == "time")
    assert time["datetime"] == "2024-08-30"


def test_semantic_structure(page):
    tags = [tag for tag, _, _ in page.elements]
    for tag in ("header", "main", "article", "footer", "section"):
        assert tag in tags
    assert page.find("h2", "title") == ["沈晓明主持召开人大代表建议办理专题会议"]
    assert page.find("p", "subtitle") == ["切实把代表的“金点子”转化为促进改革发展的“金钥匙”"]
    note = next(attrs for tag, attrs, _ in page.elements if tag == "section")
    assert note["aria-label"] == "编者按"


def test_links_the_pdf_next_to_it(sample_build, page):
    links = [attrs["href"] for tag, attrs, _ in page.elements if tag == "a"]
    assert links == ["2024-13.pdf"]
    assert (sample_build["html"].parent / links[0]).is_file()


def test_same_text_as_the_pdf(sample_build, page):
    """Every word of the PDF is on the page and nothing else but the download link."""
    web = re.sub(r"\s+", "", "".join(page.text))
    link = re.sub(r"\s+", "", page.find("a")[0])
    assert web.endswith(link)
    printed = re.sub(r"\s+", "", pdf_text(sample_build["pdf"]))
    assert web[: -len(link)] == printed


def test_print_and_web_come_from_one_context(context):
    env = template_environment(REPO)
    print_html, web_html = render_print(env, context), render_web(env, context)
    for article in context.values.articles:
        for paragraph in article.blocks:
            assert paragraph.text in web_html
            joined = "".join(piece.text for line in paragraph.lines for piece in line.pieces)
            assert joined == paragraph.text
            for line in paragraph.lines:
                assert line.pieces[0].text in print_html


def test_raw_html_in_sources_is_escaped(tmp_path):
    """Markup written to be printed (in a title, or escaped in the body: an unescaped tag in
    Markdown is refused, see tests/test_source.py) comes out as text, never as HTML."""
    from conftest import liandong, make_project

    article = (
        "---\n标题: 测试<b>标题</b>\n---\n\n正文\\<script>alert(1)\\</script>段落，"
        '\\<img src="http://169.254.169.254/x">结束。\n'
    )
    project = make_project(tmp_path, overrides={"issues/2024/13/01.md": article})
    liandong("build", "13", "--out", str(tmp_path / "out"), cwd=project, check=True)
    html = (tmp_path / "out" / "2024-13.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    printed = re.sub(r"\s+", "", pdf_text(tmp_path / "out" / "2024-13.pdf"))
    assert "正文<script>alert(1)</script>段落" in printed  # printed as text, never run


# --- Templates see plain data only, and can call nothing that touches a file ------------------

TOP_LEVEL = {
    "print.html",
    "web.html",
    "site_issue.html",
    "site_home.html",
    "site_search.html",
    "site_year.html",
    "site_subscribe.html",
    "site_404.html",
    "site_favicon.svg",
    "site.css",
    "site_search.js",
}
"""Every template liandong renders itself (the others are included or extended by these)."""


@pytest.fixture(scope="module")
def template_contexts(tmp_path_factory) -> list[tuple[str, dict]]:
    """The values each template was rendered with by `build --print-shop` and the site."""
    from liandong.build import build
    from liandong.site import build_site

    recorded = []
    real = jinja2.Template.new_context

    def record(self, vars=None, shared=False, locals=None):  # noqa: A002 - Jinja's own names
        if not shared:  # includes share their parent's context, already recorded
            recorded.append((self.name, dict(vars or {})))
        return real(self, vars, shared, locals)

    tmp = tmp_path_factory.mktemp("contexts")
    root = make_project(tmp / "project")
    add_issue(root, 2024, 14, 715, "2024-09-06")  # so the site's pages link a neighbour
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jinja2.Template, "new_context", record)
        build(root, [root / "issues" / "2024" / "13"], tmp / "out", print_shop=True)
        build_site(root, tmp / "site", "https://example.org/", workers=1)
    return recorded


def test_every_template_is_rendered_with_plain_data_only(template_contexts):
    """Issue 14, 1: the context held ResolvedFont objects whose `.file` was a pathlib.Path; now
    only str, int, float, bool, None, lists, mappings and the frozen dataclasses of context.py
    that hold nothing else (issue 18)."""
    assert {name for name, _ in template_contexts} >= TOP_LEVEL
    for name, values in template_contexts:
        assert impure(values) is None, (name, impure(values))


def test_impure_looks_inside_the_context_dataclasses():
    """A context dataclass is plain only if its fields are: a path smuggled into a font's
    `url` is found (issue 14's ResolvedFont.file), and so is an object in a tuple field."""
    from pathlib import Path

    face = ctx.FontFace("body", '"FandolFang"', 400, "fonts/", False, "file:///f.otf")
    assert impure({"fonts": {"body": face}}) is None
    bad = dataclasses.replace(face, url=Path("/etc/passwd"))
    assert impure({"fonts": {"body": bad}}) == "fonts.body.url: pathlib.PosixPath"
    line = ctx.Line((ctx.Piece("字", "body"), object()), 0.0)  # type: ignore[arg-type]
    assert impure({"lines": [line]}) == "lines[0].pieces[1]: builtins.object"


def test_the_sandbox_reads_only_the_fields_of_a_context_dataclass(context):
    """Fields and properties of the context's types are read; anything else of them (their
    class, a dataclass helper) is undefined, like a private attribute."""
    env = template_environment(REPO)
    values = context.template_values
    assert (
        env.from_string("{{ layout.pitch }} {{ masthead.name }}").render(**values)
        == f"{context.values.layout.pitch} 联络动态"
    )
    for expression in (
        "masthead.__class__",
        "masthead.__dataclass_fields__",
        "layout.__init__",
        "masthead.__eq__",
        "masthead.__setattr__",
    ):
        with pytest.raises((jinja2.exceptions.SecurityError, jinja2.exceptions.UndefinedError)):
            env.from_string(f"{{{{ {expression}() }}}}").render(**values)


def test_the_shipped_templates_are_all_rendered():
    """TOP_LEVEL is complete: every shipped template is rendered, included or extended."""
    shipped = {path.name for path in PACKAGE_TEMPLATES.iterdir()}
    used = set(TOP_LEVEL)
    for path in PACKAGE_TEMPLATES.iterdir():
        used |= set(
            re.findall(
                r"""{%-?\s*(?:include|extends|from|import)\s+["']([^"']+)""",
                path.read_text(encoding="utf-8"),
            )
        )
    assert shipped <= used, shipped - used


def _site_values() -> dict:
    """What the site adds to an issue's values, and the values of its own pages."""
    link = {"slug": "2024-12", "label": "2024年第12期"}
    return {
        "site": {"prev": link, "next": None},
        "print_shop": False,
        "site_name": "联络动态",
        "compiler": "湖南省人大常委会代表工作委员会",
        "feed": True,
        "prefix": "",
        "inline": False,
        "favicon_data": "data:image/svg+xml,x",
        "count": 1,
        "years": [[2024, [{"slug": "2024-13", "number": 13, "articles": [{"title": "题"}]}]]],
    }


def _reachable(env, values: dict) -> tuple[list[object], list[tuple[str, object]]]:
    """Every object a template can reach from `values` through the sandbox's attribute and item
    access (every name its type has, every key and index), and the callables among them, with
    the results of the callables the sandbox lets it call without arguments. Scalars are
    compared by value (1.5.imag is a new 0.0 each time), and the attributes of a scalar type
    are tried on its first value only: what the sandbox gives out depends on the type."""
    objects, callables = [], []
    seen: set[object] = set()
    scalar_types: set[type] = set()
    queue: list[tuple[str, object]] = []

    def push(path: str, obj: object) -> None:
        kind = type(obj)
        key = (kind, obj) if kind in (str, int, float, bool, type(None)) else id(obj)
        if key not in seen and not isinstance(obj, jinja2.Undefined):
            seen.add(key)
            queue.append((path, obj))

    for key, value in values.items():
        push(key, value)
    for key, value in env.globals.items():
        push(f"globals.{key}", value)
    while queue:
        path, obj = queue.pop()
        objects.append(obj)
        if callable(obj):
            callables.append((path, obj))
            if env.is_safe_callable(obj) and not isinstance(obj, type):
                with contextlib.suppress(TypeError):  # needs arguments (get, range)
                    push(f"{path}()", obj())
        kind = type(obj)
        if kind in (str, int, float, bool, type(None)):
            if kind in scalar_types:
                continue
            scalar_types.add(kind)
        for name in dir(obj):
            push(f"{path}.{name}", env.getattr(obj, name))
        if isinstance(obj, dict):
            for key in obj:
                push(f"{path}[{key!r}]", env.getitem(obj, key))
        elif isinstance(obj, (list, tuple)):
            for index in range(len(obj)):
                push(f"{path}[{index}]", env.getitem(obj, index))
    return objects, callables


def test_the_sandbox_lets_a_template_call_only_harmless_helpers(context):
    """An exhaustive walk: from the context, through every attribute and item the sandbox gives
    out, the only callables a template can call are mapping methods and two globals."""
    env = template_environment(REPO)
    objects, callables = _reachable(env, {**context.template_values, **_site_values()})
    assert len(objects) > 500
    forms = {
        ctx.Entry,
        ctx.ListForm,
        ctx.NoteForm,
        ctx.Caption,
        ctx.TableCell,
        ctx.TableRow,
        ctx.TableForm,
        ctx.FigureForm,
        ctx.IssueContext,
    }  # none in issue 13; not a value
    assert {type(obj) for obj in objects} >= ctx.CONTEXT_TYPES - forms  # the walk went deep
    views = (type({}.items()), type({}.keys()), type({}.values()), Namespace)
    assert (
        impure([obj for obj in objects if not callable(obj) and not isinstance(obj, views)]) is None
    )  # what a mapping method or namespace() returns, and nothing else, besides data
    allowed = sorted(
        {
            getattr(obj, "__qualname__", type(obj).__name__)
            for _, obj in callables
            if env.is_safe_callable(obj)
        }
    )
    assert allowed == [
        "Namespace",
        "dict.get",
        "dict.items",
        "dict.keys",
        "dict.values",
        "safe_range",
    ]


# The fuzz: random expressions over the real context, rendered under an audit hook.

_LIBRARY = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    | {sys.prefix, sys.base_prefix}
)
_TOUCHING = (
    "open",
    "os.",
    "shutil.",
    "subprocess.",
    "socket.",
    "ctypes.",
    "pathlib.",
    "glob.",
    "tempfile.",
    "fcntl.",
    "mmap.",
    "sqlite3.",
    "urllib.",
    "webbrowser.",
    "compile",
    "exec",
)
"""Audit events of code that reads or writes files, runs programs or code, or connects."""


_JINJA_RERAISE = "__jinja_exception__"


class _Touches:
    events: list[tuple[str, tuple]] | None = None
    installed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.events is None or not event.startswith(_TOUCHING):
            return
        if (
            event == "open"
            and isinstance(args[0], (str, bytes, os.PathLike))
            and os.fsdecode(args[0]).startswith(_LIBRARY)
        ):  # a module a filter imports lazily
            return
        if event in ("compile", "exec") and _JINJA_RERAISE in repr(args[0]) + repr(
            getattr(args[0], "co_names", "")
        ):
            return  # Jinja rewriting a template error's traceback
        if event == "exec" and getattr(args[0], "co_filename", "").startswith(_LIBRARY):
            return  # a module's code, run when a filter or global imports it lazily
        cls.events.append((event, args))


def _touches(env, source: str, values: dict) -> list[tuple[str, tuple]]:
    """What rendering one (already compiled) template did to files, programs and sockets."""
    template = env.from_string(source)  # compiling runs `compile`/`exec`: not recorded
    if not _Touches.installed:
        sys.addaudithook(_Touches.hook)  # for the rest of the process, gated by `events`
        _Touches.installed = True
    _Touches.events = []
    try:
        template.render(**values)
    except Exception:  # noqa: BLE001 - refused, undefined or ill-typed: all fine, if harmless
        pass
    finally:
        events, _Touches.events = _Touches.events, None
    return events


def _names(value: object, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            _names(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value[:3]:
            _names(item, found)
    return found


_DANGEROUS = [
    "file",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "open",
    "joinpath",
    "parents",
    "parent",
    "as_uri",
    "resolve",
    "unlink",
    "mkdir",
    "rename",
    "touch",
    "iterdir",
    "glob",
    "__class__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__init__",
    "__builtins__",
    "__import__",
    "__dict__",
    "__self__",
    "__func__",
    "__getitem__",
    "__call__",
    "__reduce__",
    "mro",
    "os",
    "system",
    "popen",
    "environment",
    "loader",
    "get_template",
    "globals",
    "filters",
    "module",
    "encode",
    "format",
    "format_map",
    "join",
    "split",
    "pop",
    "update",
    "setdefault",
    "append",
    "copy",
    "items",
    "values",
    "keys",
    "get",
    "cycle",
    "changed",
    "super",
    "caller",
    "self",
    "blocks",
    "eval_ctx",
    "vars",
    "exported_vars",
    "func_globals",
    "gi_frame",
    "f_globals",
    "tb_frame",
    "_TemplateReference__context",
    "name",
    "arguments",
    "catch_kwargs",
    "index",
    "first",
    "last",
    "length",
    "depth",
]
_FILTER_CALLS = [
    "attr('{n}')",
    "map(attribute='{n}')|list",
    "map('{f}')|list",
    "selectattr('{n}')|list",
    "sort(attribute='{n}')",
    "groupby('{n}')",
    "dictsort",
    "items",
    "list",
    "first",
    "last",
    "string",
    "join",
    "tojson",
    "pprint",
    "format('{n}')",
    "sum(attribute='{n}')",
    "unique|list",
    "batch(2)|list",
    "min",
    "max",
    "reverse",
    "length",
    "default(range)",
    "xmlattr",
    "urlize",
    "wordcount",
    "replace('a', '{n}')",
    "{f}",
]
_START = [
    "range",
    "namespace",
    "self",
    "lipsum",
    "cycler",
    "joiner",
    "dict",
    "config",
    "request",
    "os",
    "__builtins__",
]


def _expressions(values: dict, env):
    """Expressions that walk the context as a template sees it: each step reads an attribute or
    item that the sandbox gives out for the current value (so walks go deep), calls it when it
    is callable, or applies a filter; some steps try a name from _DANGEROUS instead."""
    names = sorted(_names(values, set())) + _DANGEROUS
    literal = st.one_of(
        st.integers(-3, 3).map(str),
        st.sampled_from(names).map(repr),
        st.sampled_from(["range", "[]", "{}", "none", "'/'"]),
    )
    filters = sorted(env.filters)

    def offered(obj: object) -> list[tuple[str, object]]:
        """(step, value) for every attribute and item the sandbox gives out for obj."""
        steps = []
        for name in dir(obj):
            value = env.getattr(obj, name)
            if not isinstance(value, jinja2.Undefined):
                steps.append((f".{name}", value))
        if isinstance(obj, dict):
            steps += [(f"[{key!r}]", env.getitem(obj, key)) for key in obj]
        elif isinstance(obj, (list, tuple)) and obj:
            steps += [(f"[{index}]", obj[index]) for index in (0, -1)]
        return steps

    @st.composite
    def walk(draw) -> str:
        head = draw(st.sampled_from(sorted(values) + _START))
        current: object = values.get(head, env.globals.get(head))
        depth = 0
        for _ in range(draw(st.integers(1, 8))):
            steps = offered(current) if current is not None else []
            kind = draw(st.sampled_from(["walk", "walk", "walk", "walk", "call", "name", "filter"]))
            if kind == "call" or (callable(current) and kind != "filter"):
                args = draw(st.lists(literal, max_size=2))
                head += "(" + ", ".join(args) + ")"
                # Nothing is called while generating (it could be anything under test): only
                # the result of a mapping's items/keys/values is known; after other calls the
                # walk goes on blind, by name.
                pure = getattr(current, "__name__", "") in ("items", "keys", "values")
                current = (
                    list(current())
                    if not args and pure and type(getattr(current, "__self__", None)) is dict
                    else None
                )
            elif kind == "walk" and steps:
                # Half the time into an object that is not plain data, where one exists: that
                # is where a way out would be.
                odd = [s for s in steps if type(s[1]) not in PLAIN_TYPES and not callable(s[1])]
                step, current = draw(st.sampled_from(odd if odd and draw(st.booleans()) else steps))
                head += step
                depth += 1 + 10 * (type(current) not in PLAIN_TYPES)
            elif kind == "filter":
                template = draw(st.sampled_from(_FILTER_CALLS))
                step = "|" + template.format(
                    n=draw(st.sampled_from(names)), f=draw(st.sampled_from(filters))
                )
                head, current = f"({head}{step})", None
            else:
                head += "." + draw(st.sampled_from(_DANGEROUS))
                current = None
        if callable(current):  # a walk that ends on a method calls it
            head += "()"
        return head, depth

    return walk()


_FUZZ_VALUES: dict = {}


def _fuzz_env_and_values():
    if not _FUZZ_VALUES:
        fonts = resolve_fonts(REPO / "fonts")
        problems: list = []
        issue = load_issues(REPO, [REPO / "issues" / "2024" / "13"], problems)[0]
        context = build_context(issue, fonts, Measurer(fonts))
        env = template_environment(REPO)
        values = {**context.template_values, **_site_values()}
        for name in sorted(env.filters):  # let filters import their modules before recording
            _touches(env, f"{{{{ issue.keywords|{name} }}}}", values)
        _FUZZ_VALUES.update(env=env, values=values)
    return _FUZZ_VALUES["env"], _FUZZ_VALUES["values"]


@settings(
    max_examples=int(os.environ.get("LIANDONG_FUZZ", "400")),
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
@example(data=None)
def test_fuzz_no_template_expression_touches_a_file(data) -> None:
    """Random expressions over the real context (attributes, items, calls and filters chained,
    with the names of every context key and of Python's dangerous methods) are rendered in
    print.html's sandbox; none reads or writes a file, starts a program or opens a socket.
    The first example is the expression of the original report."""
    env, values = _fuzz_env_and_values()
    if data is None:
        expression = "fonts.body.file.parents[-1].joinpath('etc/passwd').read_text()"
    else:
        expression, depth = data.draw(_expressions(values, env), label="expression")
        target(float(depth), label="steps through real values")
    for source in (
        f"{{{{ {expression} }}}}",
        f"{{% for x in [1] %}}{{{{ {expression} }}}}{{% endfor %}}",
    ):
        assert _touches(env, source, values) == [], source
