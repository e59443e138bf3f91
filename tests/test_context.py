"""The template contract (issue 18): every name the shipped issue templates use exists in the
context types of liandong/context.py, and the context passes nothing they do not use, but the
deliberate extras listed here.

The templates are read as Jinja parses them, not as text: each attribute and item chain from a
context root (`masthead.name_pieces`, `par.lines`, `cell.pad_top`) is followed through the
dataclasses' type hints; a loop variable takes the element type of what it loops over, and a
macro's parameter the types of the arguments it is called with anywhere in the templates (a
name like `text` may be either edition's macro: both are taken)."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import nodes

from liandong import context as ctx
from liandong.fonts import ROLES
from liandong.render import PACKAGE_TEMPLATES, template_environment

ISSUE_TEMPLATES = (
    "print.html",
    "web.html",
    "site_issue.html",
    "_issue.html",
    "_lines.html",
    "_runs.html",
    "_banji.html",
    "_forms_print.html",
    "_forms_web.html",
    "print.css",
    "web.css",
    "_forms.css",
    "_folio.css",
    "site_footer.html",
)
"""The templates an issue's context reaches: the two editions, the site's issue page, and what
they include, import or extend (site_footer.html also serves the site's own pages)."""

EXTRA_ROOTS = {"print_shop": bool, "site": None}
"""Names given beside the context: render_print's print_shop, and the site's navigation
(site.py builds it as a mapping; tests/test_site.py covers it). None: not typed here."""

JINJA_NAMES = {"loop", "range", "namespace", "super", "caller", "self", "varargs", "kwargs"}

DELIBERATE = {
    (ctx.IssueInfo, "year"),
    (ctx.IssueInfo, "total"),
    (ctx.IssueInfo, "total_cn"),
}
"""Fields no shipped template reads, passed on purpose: the issue's numbers for a designer's
own templates (the site's lists show the same). Also the whole `layout` (every number of the
page, for a designer's CSS), see DELIBERATE_TYPES."""

DELIBERATE_TYPES = {ctx.Layout}

READ_BY_DOCX = {(ctx.Caption, "runs")}
"""Fields no shipped template reads that the Word document (liandong/docx.py, `build --docx`)
is written from: it takes the same context as the templates."""

SCALARS = (str, int, float, bool)


def _hints(kind: type) -> dict[str, object]:
    """The type of each name a template may read of a context type (fields and properties)."""
    hints: dict[str, object] = dict(typing.get_type_hints(kind))
    for name, value in vars(kind).items():
        if isinstance(value, property):
            hints[name] = typing.get_type_hints(value.fget)["return"]
    return {name: hint for name, hint in hints.items() if name in ctx.template_names(kind)}


def _members(hint: object) -> list[object]:
    """A union's members (None left out), or the hint itself."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return [] if hint is type(None) or hint is None else [hint]


def _element(hint: object) -> list[object]:
    """What looping over a value of this type gives."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        return [
            m for arg in (args[:1] if args[-1:] == (Ellipsis,) else args) for m in _members(arg)
        ]
    if origin is dict:
        return [args[0]]
    return []


@dataclass
class Contract:
    """What a walk of the templates found."""

    used: set[tuple[type, str]] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    calls: dict[str, list[list[object]]] = field(default_factory=dict)
    """Each called name's argument types, one list per argument position."""


class _Walker:
    def __init__(self, contract: Contract, params: dict[str, list[list[object]]], name: str):
        self.contract, self.params, self.template = contract, params, name
        self.roots = {
            f.name: _members(hint)
            for f in dataclasses.fields(ctx.IssueContext)
            for hint in [typing.get_type_hints(ctx.IssueContext)[f.name]]
        }
        self.locals: set[str] = set()

    def problem(self, node: nodes.Node, message: str) -> None:
        self.contract.unknown.append(f"{self.template}:{node.lineno}: {message}")

    def attribute(self, node: nodes.Node, types_: list[object], name: str) -> list[object]:
        """The types of `name` read from a value of any of `types_`; unknown when none has it."""
        if not types_:
            return []
        found: list[object] = []
        named = False
        for kind in types_:
            if isinstance(kind, type) and dataclasses.is_dataclass(kind):
                hints = _hints(kind)
                if name in hints:
                    named = True
                    self.contract.used.add((kind, name))
                    found += _members(hints[name])
            elif typing.get_origin(kind) is dict:
                value = typing.get_args(kind)[1]
                if name in ("values", "items", "keys", "get"):
                    named = True
                    found.append(("method", name, value))
                elif name in {role.key for role in ROLES}:
                    named = True
                    found += _members(value)
            elif kind in SCALARS:
                named = True  # a string's slice or a number: nothing below it is typed
        if not named:
            shown = " | ".join(dict.fromkeys(getattr(k, "__name__", str(k)) for k in types_))
            self.problem(node, f"{shown} has no “{name}”")
        return list(dict.fromkeys(found))

    def expr(self, node: nodes.Node, env: dict[str, list[object]]) -> list[object]:
        """The types an expression may have ([] when not known), recording what it reads."""
        if isinstance(node, nodes.Name):
            if node.name in env:
                return env[node.name]
            if node.name in self.roots:
                self.contract.used.add((ctx.IssueContext, node.name))
                return self.roots[node.name]
            if node.name in EXTRA_ROOTS:
                kind = EXTRA_ROOTS[node.name]
                return [kind] if kind else []
            if node.name not in self.locals and node.name not in JINJA_NAMES:
                self.problem(node, f"“{node.name}” is not in the context")
            return []
        if isinstance(node, nodes.Getattr):
            return self.attribute(node, self.expr(node.node, env), node.attr)
        if isinstance(node, nodes.Getitem):
            inner = self.expr(node.node, env)
            self.expr(node.arg, env)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.attribute(node, inner, node.arg.value)
            if isinstance(node.arg, nodes.Slice):
                return inner
            out = []
            for kind in inner:
                if typing.get_origin(kind) is tuple:
                    args = typing.get_args(kind)
                    if args[-1:] == (Ellipsis,):
                        out += _members(args[0])
                    elif isinstance(node.arg, nodes.Const):
                        out += _members(args[node.arg.value])
            return out
        if isinstance(node, nodes.Call):
            callee = self.expr(node.node, env)
            args = [self.expr(arg, env) for arg in node.args]
            for child in node.kwargs:
                self.expr(child.value, env)
            if isinstance(node.node, nodes.Name):
                slots = self.contract.calls.setdefault(node.node.name, [])
                for index, types_ in enumerate(args):
                    while len(slots) <= index:
                        slots.append([])
                    slots[index] += [t for t in types_ if t not in slots[index]]
            if callee and callee[0][:2] == ("method", "values"):
                return [tuple[callee[0][2], ...]]
            return []
        if isinstance(node, (nodes.Tuple, nodes.List)):
            items = [self.expr(item, env) for item in node.items]
            return [tuple[tuple(t[0] if t else object for t in items)]] if items else []
        for child in node.iter_child_nodes():
            self.expr(child, env)
        return []

    def stmt(self, node: nodes.Node, env: dict[str, list[object]]) -> None:
        if isinstance(node, nodes.For):
            inner = dict(env)
            kinds = self.expr(node.iter, env)
            if isinstance(node.iter, nodes.Tuple):  # for line in (banji.editor, banji.contact)
                kinds = [m for item in node.iter.items for m in self.expr(item, env)]
            else:
                kinds = [m for kind in kinds for m in _element(kind)]
            for name in _targets(node.target):
                inner[name] = kinds
            if node.test is not None:
                self.expr(node.test, inner)
            for child in node.body:
                self.stmt(child, inner)
            for child in node.else_:
                self.stmt(child, env)
            return
        if isinstance(node, nodes.Macro):
            inner = dict(env)
            for index, arg in enumerate(node.args):
                inner[arg.name] = [
                    t for slot in self.params.get(node.name, [])[index : index + 1] for t in slot
                ]
            for child in node.body:
                self.stmt(child, inner)
            return
        if isinstance(node, nodes.With):
            inner = dict(env)
            for target, value in zip(node.targets, node.values):
                inner[target.name] = self.expr(value, env)
            for child in node.body:
                self.stmt(child, inner)
            return
        if isinstance(node, nodes.Assign):
            kinds = self.expr(node.node, env)
            for name in _targets(node.target):
                env[name] = kinds
            return
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.expr(child, env)
            else:
                self.stmt(child, env)


def _targets(target: nodes.Node) -> list[str]:
    """The names a loop or `set` binds: `x`, or `(a, b)`."""
    if isinstance(target, nodes.Name):
        return [target.name]
    return [name.name for name in target.find_all(nodes.Name)]


def _locals(tree: nodes.Template) -> set[str]:
    """Names a template defines itself: set, macros, imports, loop variables, parameters."""
    names = {n.name for n in tree.find_all(nodes.Macro)}
    for node in tree.find_all((nodes.Assign, nodes.For, nodes.With)):
        targets = node.targets if isinstance(node, nodes.With) else [node.target]
        names |= {name for target in targets for name in _targets(target)}
    for node in tree.find_all(nodes.Macro):
        names |= {arg.name for arg in node.args}
    for node in tree.find_all(nodes.FromImport):
        names |= {(name[1] if isinstance(name, tuple) else name) for name in node.names}
    return names


def macro_aliases(trees: dict[str, nodes.Template]) -> dict[str, set[str]]:
    """Each name a template calls a macro by, and the macros it may be (by their own name)."""
    aliases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in tree.find_all(nodes.Macro):
            aliases.setdefault(node.name, set()).add(node.name)
        for node in tree.find_all(nodes.FromImport):
            for name in node.names:
                own, alias = name if isinstance(name, tuple) else (name, name)
                aliases.setdefault(alias, set()).add(own)
    return aliases


def check_contract(sources: dict[str, str]) -> Contract:
    """Walk the templates until every macro's parameter types are known (a fixed point)."""
    env = template_environment(PACKAGE_TEMPLATES.parent)
    trees = {name: env.parse(source) for name, source in sources.items()}
    defined = set().union(*(_locals(tree) for tree in trees.values()))
    aliases = macro_aliases(trees)
    params: dict[str, list[list[object]]] = {}
    while True:
        contract = Contract()
        for name, tree in trees.items():
            walker = _Walker(contract, params, name)
            walker.locals = defined
            walker.stmt(tree, {})
        merged: dict[str, list[list[object]]] = {}
        for called, slots in contract.calls.items():
            for macro in aliases.get(called, ()):
                target = merged.setdefault(macro, [])
                for index, kinds in enumerate(slots):
                    while len(target) <= index:
                        target.append([])
                    target[index] += [k for k in kinds if k not in target[index]]
        if merged == params:
            return contract
        params = merged


def _shipped() -> dict[str, str]:
    return {
        name: (PACKAGE_TEMPLATES / name).read_text(encoding="utf-8") for name in ISSUE_TEMPLATES
    }


def _all_names() -> set[tuple[type, str]]:
    """Every (type, name) the context can pass, from IssueContext down."""
    found: set[tuple[type, str]] = set()
    queue: list[object] = [ctx.IssueContext]
    seen: set[object] = set()
    while queue:
        kind = queue.pop()
        if kind in seen:
            continue
        seen.add(kind)
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            for name, hint in _hints(kind).items():
                found.add((kind, name))
                queue += _members(hint)
        for member in _members(kind):
            queue += [
                m for arg in typing.get_args(member) if arg is not Ellipsis for m in _members(arg)
            ]
    return found


def test_every_name_the_templates_use_is_in_the_context():
    contract = check_contract(_shipped())
    assert contract.unknown == []
    assert contract.used  # the walk reached the context


def test_the_context_passes_nothing_the_templates_do_not_use():
    used = check_contract(_shipped()).used
    unused = {(kind, name) for kind, name in _all_names() - used if kind not in DELIBERATE_TYPES}
    shown = sorted(f"{kind.__name__}.{name}" for kind, name in unused - DELIBERATE - READ_BY_DOCX)
    assert shown == []
    assert not DELIBERATE & used, "a deliberate extra is used now: take it off the list"
    assert not READ_BY_DOCX & used, "a template reads it now: take it off READ_BY_DOCX"


def test_the_fields_kept_for_the_word_document_are_read_by_docx_py():
    """READ_BY_DOCX holds only what docx.py really reads (`.caption.runs` …): a field it stops
    reading, and no template reads, goes from the context."""
    text = (Path(ctx.__file__).parent / "docx.py").read_text(encoding="utf-8")
    for kind, name in READ_BY_DOCX:
        owner = {ctx.Caption: "caption"}[kind]
        assert f".{owner}.{name}" in text, f"docx.py does not read {kind.__name__}.{name}"


def test_every_context_type_is_reached_from_the_root():
    assert {kind for kind, _ in _all_names()} == ctx.CONTEXT_TYPES - {ctx.IssueContext} | {
        ctx.IssueContext
    }


def test_a_template_that_reads_an_unknown_name_fails_the_contract():
    sources = _shipped()
    sources["_issue.html"] = sources["_issue.html"].replace(
        "{{ masthead.number_line }}", "{{ masthead.number_lime }}"
    )
    sources["_forms_print.html"] = sources["_forms_print.html"].replace(
        "{{ cell.align }}", "{{ cell.alignment }}", 1
    )
    sources["print.html"] = sources["print.html"].replace(
        "{{ issue.created }}", "{{ isue.created }}", 1
    )
    sources["_lines.html"] = sources["_lines.html"].replace(
        "piece.margin_right|pt", "piece.margin|pt", 1
    )
    assert sorted(check_contract(sources).unknown) == [
        "_forms_print.html:30: TableCell has no “alignment”",
        "_issue.html:22: Masthead has no “number_lime”",
        "_lines.html:7: Piece has no “margin”",
        "print.html:6: “isue” is not in the context",
    ]


def test_a_field_no_template_reads_fails_the_contract():
    sources = _shipped()
    sources["_forms_print.html"] = sources["_forms_print.html"].replace(
        '{% if par.kind == "table" %}', '{% if par.kind == "tabel" %}'
    )  # still parses
    for name in list(sources):
        sources[name] = sources[name].replace("pad_top", "decimal")
    used = check_contract(sources).used
    assert (ctx.TableCell, "pad_top") not in used
    assert (ctx.TableCell, "pad_top") in _all_names()


def test_the_contract_reads_the_templates_the_issue_pages_reach():
    """ISSUE_TEMPLATES is complete: whatever they include, import or extend is in it."""
    import re

    found = set()
    for name in ISSUE_TEMPLATES:
        text = (PACKAGE_TEMPLATES / name).read_text(encoding="utf-8")
        found |= set(re.findall(r"""{%-?\s*(?:include|extends|from|import)\s+["']([^"']+)""", text))
    assert found <= set(ISSUE_TEMPLATES), found - set(ISSUE_TEMPLATES)
    assert Path(PACKAGE_TEMPLATES / "print.html").is_file()


def test_docs_templates_names_every_field():
    """docs/templates.md lists every type and every name a template may read of it."""
    text = (PACKAGE_TEMPLATES.parent.parent / "docs" / "templates.md").read_text(encoding="utf-8")
    missing = sorted(
        f"{kind.__name__}.{name}"
        for kind, name in _all_names()
        if f"`{name}`" not in text or f"`{kind.__name__}`" not in text
    )
    assert missing == []
