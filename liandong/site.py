"""The archive site: every issue's page and PDF, home, search, feed and sitemap, built incrementally."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote
from xml.sax.saxutils import escape

import jinja2

from liandong import __version__
from liandong.errors import LiandongError, Problem, SourceErrors
from liandong.build import IssueRenderer, resolve_project_fonts, template_error
from liandong.files import write_output
from liandong.fonts import ResolvedFont
from liandong.render import PACKAGE_TEMPLATES, template_environment
from liandong.stack import stack_key
from liandong.validate import issue_folders

logger = logging.getLogger(__name__)

DEFAULT_SITE_OUT = "build/site"
"""The site goes to build/site/ in the project unless --out says otherwise."""

MANIFEST = ".liandong-site.json"
"""Per-issue content hashes and what the home, search and feed pages need, in the out folder."""

MANIFEST_FORMAT = 1

PAGE_TEMPLATES = ("site_page.html", "site_home.html", "site_search.html", "site_404.html",
                  "site.css", "site_search.js", "site_favicon.svg")
"""Templates of the cheap pages, rebuilt every run: changing them re-renders no issue."""

ASSETS = {"site.css": "site.css", "site_search.js": "search.js", "site_favicon.svg": "favicon.svg"}
"""Templates copied (rendered) to the site under these names."""


def issue_slug(folder: Path) -> str:
    """The file name stem of an issue's outputs, as `liandong build` names them: 2024-13."""
    return f"{folder.parent.name}-{int(folder.name):02d}"


# --- Rendering one issue (in this process or a pool worker) ------------------

@dataclass
class Rendered:
    """One issue's outputs, or why it could not be rendered. Nothing is written yet."""

    slug: str
    problems: list[Problem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pdf: bytes | None = None
    html: str | None = None
    meta: dict | None = None


class SiteRenderer:
    """Renders one issue page and PDF at a time through build.IssueRenderer (the same
    pipeline and preflight as `liandong build`), with the site's navigation. One per process."""

    def __init__(self, root: Path, fonts: dict[str, ResolvedFont]):
        self.fonts = fonts
        self.issues = IssueRenderer(root, fonts)

    def render(self, folder: Path, nav: dict, *, pdf: bool = True) -> Rendered:
        """The issue's page and PDF; with pdf=False only the page (the preview's first step)."""
        result = Rendered(issue_slug(folder))
        loaded = self.issues.load([folder], result.problems)
        if result.problems or not loaded:
            return result
        issue, context = loaded[0]
        try:
            if pdf:
                rendered = self.issues.render(issue, context, web_template="site_issue.html",
                                              site=nav)
                result.pdf, result.html = rendered.pdf, rendered.html
            else:
                result.html = self.issues.web(context, "site_issue.html", site=nav)
        except LiandongError as exc:
            result.errors.append(exc.message)
            return result
        result.meta = _issue_meta(context.values)
        return result


def _issue_meta(values: dict) -> dict:
    """What the home page, search and feed know of an issue: kept in the manifest."""
    issue, articles, banji = values["issue"], values["articles"], values["banji"]
    texts = [values["masthead"]["number_line"], values["masthead"]["total_line"],
             values["masthead"]["date_line"]]
    texts += [par.text for par in values["note"]]
    for article in articles:
        texts.append(article["title"]["text"])
        if article["subtitle"]:
            texts.append(article["subtitle"]["text"])
        texts += [par.text for par in article["blocks"]]
    texts += [f"{item['label']}：{item['text']}" for item in banji["lists"]]
    texts += [line for line in (banji["editor"], banji["contact"]) if line]
    texts.append(f"批准文号：{banji['approval']}")
    return {
        "slug": issue["slug"], "year": issue["year"], "number": issue["number"],
        "total": issue["total"], "total_cn": issue["total_cn"], "date": issue["date"],
        "date_text": issue["date_text"], "title": issue["full_title"],
        "name": values["masthead"]["name"], "compiler": values["masthead"]["compiler_line"][:-1],
        "articles": [{"title": a["title"]["text"],
                      "subtitle": a["subtitle"]["text"] if a["subtitle"] else None}
                     for a in articles],
        "texts": texts,
    }


_worker: SiteRenderer | None = None
"""The renderer of a pool worker process, made once by _start_worker."""


def _start_worker(root: Path, fonts: dict[str, ResolvedFont]) -> None:
    global _worker
    _worker = SiteRenderer(root, fonts)


def _render_in_worker(folder: Path, nav: dict) -> Rendered:
    assert _worker is not None
    return _worker.render(folder, nav)


# --- Content hashes -------------------------------------------------------------

def _hash_files(digest, files: list[Path], base: Path) -> None:
    for path in files:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def _template_files(root: Path) -> list[tuple[Path, Path]]:
    """(file, its folder) for every template an issue page or PDF may use, project first."""
    found = []
    for folder in (root / "templates", PACKAGE_TEMPLATES):
        if folder.is_dir():
            found += [(p, folder) for p in sorted(folder.iterdir())
                      if p.is_file() and p.name not in PAGE_TEMPLATES]
    return found


def common_key(root: Path, fonts: dict[str, ResolvedFont]) -> str:
    """Everything every issue depends on: liandong itself, series.yaml, templates, fonts."""
    digest = hashlib.sha256(f"liandong {__version__}\0".encode())
    package = Path(__file__).parent
    # The code too, so a changed liandong re-renders even when its version number stays.
    _hash_files(digest, sorted(package.glob("*.py")), package)
    series = root / "issues" / "series.yaml"
    if series.is_file():
        _hash_files(digest, [series], root)
    for path, folder in _template_files(root):
        digest.update(b"project\0" if folder != PACKAGE_TEMPLATES else b"package\0")
        _hash_files(digest, [path], folder)
    for key, font in sorted(fonts.items()):
        try:
            stat = font.file.stat()
            identity = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            identity = "missing"
        digest.update(f"{key}\0{font.family}\0{font.file}\0{font.index}\0{identity}\0".encode())
    digest.update(stack_key(fonts).encode())  # library versions, font files by content
    return digest.hexdigest()


def issue_key(common: str, folder: Path, nav: dict) -> str:
    """One issue's hash: the common key, the files in its folder and its neighbours."""
    digest = hashlib.sha256(common.encode())
    # scandir rather than rglob + is_file + stat: this runs for every issue of the archive on
    # every `liandong site`, and is most of the time when nothing changed.
    files, folders = [], [str(folder)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                elif entry.is_file() and not entry.name.startswith("."):  # regular files only
                    files.append(Path(entry.path))
    _hash_files(digest, sorted(files), folder)
    digest.update(json.dumps(nav, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


# --- The site ---------------------------------------------------------------------

@dataclass
class SiteResult:
    rendered: list[str]
    unchanged: list[str]
    written: list[Path]

    def summary(self) -> str:
        if not self.rendered:
            return f"全部 {len(self.unchanged)} 期均无变化，未重新生成。"
        return f"重新生成 {len(self.rendered)} 期，{len(self.unchanged)} 期无变化。"


Progress = Callable[[str, int, int], None]
"""Called after each issue is rendered: slug, how many are done, how many in all."""


def build_site(root: Path, out: Path, base_url: str | None = None, *,
               renderer: SiteRenderer | None = None, progress: Progress | None = None,
               workers: int | None = None, pdfs: bool = True,
               only: list[Path] | None = None) -> SiteResult:
    """Build the site into out/. Raises SourceErrors (writing nothing) if any source is bad.

    With a renderer (the preview server's), changed issues render in this process; otherwise
    on all cores when more than one changed. pdfs=False (the preview's first step, so the
    browser shows an edit at once) renders and writes only the changed issues' pages and the
    site's pages, and leaves the manifest alone: the full build that follows still sees those
    issues as changed and renders their PDFs. With `only` (the preview knows which issue
    folders a save touched) that step renders and writes only those issues' pages: no content
    hashes and no home or search page, which for a 700-issue archive take longer than the page.
    """
    base_url = _base_url(base_url)
    folders = issue_folders(root)
    if not folders:
        raise LiandongError("issues/ 下还没有任何一期。")
    fonts = renderer.fonts if renderer else resolve_project_fonts(root, notice=True)

    slugs = [issue_slug(folder) for folder in folders]
    links = [{"slug": slug, "label": f"{f.parent.name}年第{int(f.name)}期"}
             for f, slug in zip(folders, slugs)]
    navs = {slug: {"prev": links[i - 1] if i else None,
                   "next": links[i + 1] if i + 1 < len(slugs) else None}
            for i, slug in enumerate(slugs)}
    if only is not None and not pdfs:
        return _pages_only(root, out, fonts, [f for f in folders if f in set(only)], navs, renderer)
    common = common_key(root, fonts)
    old = _read_manifest(out)
    keys, changed = {}, []
    for folder, slug in zip(folders, slugs):
        keys[slug] = issue_key(common, folder, navs[slug])
        entry = old.get(slug)
        if (entry is None or entry.get("key") != keys[slug]
                or not (out / f"{slug}.html").is_file() or not (out / f"{slug}.pdf").is_file()):
            changed.append(folder)

    if pdfs:
        results = _render_all(root, fonts, changed, navs, renderer, progress, workers)
    else:
        results = _render_pages(root, fonts, changed, navs, renderer)
    _raise_problems(results)

    metas = {slug: old[slug]["meta"] for slug in slugs if slug in old}
    metas.update({r.slug: r.meta for r in results})
    ordered = [metas[slug] for slug in slugs]
    pages = _site_pages(root, ordered, base_url)

    written: list[Path] = []
    for r in results:
        if r.pdf is not None:
            written.append(write_output(out / f"{r.slug}.pdf", r.pdf))
        if _write_if_changed(out / f"{r.slug}.html", r.html):
            written.append(out / f"{r.slug}.html")
    for name, data in pages.items():
        if _write_if_changed(out / name, data):
            written.append(out / name)
    for slug in sorted(set(old) - set(slugs)):  # issues removed from the sources
        for suffix in (".pdf", ".html"):
            (out / f"{slug}{suffix}").unlink(missing_ok=True)
    rendered = sorted(r.slug for r in results)
    if not pdfs:
        return SiteResult(rendered, [s for s in slugs if s not in rendered], written)
    manifest = {"format": MANIFEST_FORMAT,
                "issues": {slug: {"key": keys[slug], "meta": metas[slug]} for slug in slugs}}
    _write_if_changed(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, separators=(",", ":"),
                                                 sort_keys=True) + "\n")
    return SiteResult(rendered, [s for s in slugs if s not in rendered], written)


def _render_pages(root: Path, fonts: dict[str, ResolvedFont], folders: list[Path], navs: dict,
                  renderer: SiteRenderer | None) -> list[Rendered]:
    """These issues' pages only, in this process (the preview's first step)."""
    renderer = renderer or SiteRenderer(root, fonts)
    return [renderer.render(folder, navs[issue_slug(folder)], pdf=False) for folder in folders]


def _raise_problems(results: list[Rendered]) -> None:
    """Every source problem of every issue, or else every template or preflight error."""
    problems = [p for r in results for p in r.problems]
    if problems:
        raise SourceErrors(problems)
    errors = sorted({e for r in results for e in r.errors})
    if errors:
        raise LiandongError("\n".join(errors))


def _pages_only(root: Path, out: Path, fonts: dict[str, ResolvedFont], folders: list[Path],
                navs: dict, renderer: SiteRenderer | None) -> SiteResult:
    """Render and write just these issues' pages (no PDF, no manifest, no site pages)."""
    results = _render_pages(root, fonts, folders, navs, renderer)
    _raise_problems(results)
    written = [out / f"{r.slug}.html" for r in results
               if _write_if_changed(out / f"{r.slug}.html", r.html)]
    return SiteResult(sorted(r.slug for r in results), [], written)


def _base_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise LiandongError(f"--base-url 应是以 http:// 或 https:// 开头的完整网址：“{value}”")
    return value if value.endswith("/") else value + "/"


def _render_all(root, fonts, folders, navs, renderer, progress, workers) -> list[Rendered]:
    total = len(folders)
    workers = workers or os.cpu_count() or 1
    results: list[Rendered] = []
    if renderer is not None or total <= 1 or workers <= 1:
        renderer = renderer or SiteRenderer(root, fonts)
        for folder in folders:
            results.append(renderer.render(folder, navs[issue_slug(folder)]))
            if progress:
                progress(results[-1].slug, len(results), total)
        return results
    with ProcessPoolExecutor(max_workers=min(workers, total), initializer=_start_worker,
                             initargs=(root, fonts)) as pool:
        futures = [pool.submit(_render_in_worker, folder, navs[issue_slug(folder)])
                   for folder in folders]
        for future in as_completed(futures):
            results.append(future.result())
            if progress:
                progress(results[-1].slug, len(results), total)
    return sorted(results, key=lambda r: r.slug)


def _read_manifest(out: Path) -> dict:
    """The previous run's issues; an unreadable or foreign manifest means rebuild everything."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if data.get("format") == MANIFEST_FORMAT and isinstance(data.get("issues"), dict):
            return data["issues"]
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def _write_if_changed(path: Path, data: bytes | str) -> bool:
    """Write only when the bytes differ, so unchanged pages keep their dates for the host."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.read_bytes() == raw:
            return False
    except OSError:
        pass
    write_output(path, raw)
    return True


# --- Cheap pages: home, search, 404, feed, sitemap --------------------------------

def _site_pages(root: Path, metas: list[dict], base_url: str | None) -> dict[str, str]:
    """Every page that is not an issue's, rendered (not written) from the issues' metadata."""

    env = template_environment(root)
    newest = sorted(metas, key=lambda m: (m["date"], m["year"], m["number"]), reverse=True)
    years: dict[int, list[dict]] = {}
    for meta in sorted(metas, key=lambda m: (m["year"], m["number"]), reverse=True):
        years.setdefault(meta["year"], []).append(meta)
    latest = newest[0]
    common = {"site_name": latest["name"], "compiler": latest["compiler"],
              "feed": base_url is not None, "prefix": "", "inline": False}
    pages: dict[str, str] = {}
    try:
        pages["index.html"] = env.get_template("site_home.html").render(
            **common, years=list(years.items()), count=len(metas))
        pages["search.html"] = env.get_template("site_search.html").render(**common)
        # The host serves 404.html for any missing path, at any depth: with a known base URL
        # its links are absolute so they work from there.
        favicon = env.get_template("site_favicon.svg").render(**common).strip()
        pages["404.html"] = env.get_template("site_404.html").render(
            **{**common, "prefix": base_url or "", "inline": True,
               "favicon_data": "data:image/svg+xml," + quote(favicon, safe="")})
        for template, name in ASSETS.items():
            pages[name] = env.get_template(template).render(**common)
    except jinja2.TemplateError as exc:
        raise template_error(exc, root) from None
    index = [{"slug": m["slug"], "title": m["title"], "date": m["date_text"],
              "texts": m["texts"]} for m in newest]
    pages["search-index.js"] = ("window.LIANDONG_INDEX = "
                                + json.dumps(index, ensure_ascii=False, separators=(",", ":"))
                                + ";\n")
    if base_url:
        pages["feed.xml"] = _feed(newest, base_url)
        pages["sitemap.xml"] = _sitemap(newest, base_url)
    return pages


def _when(iso_date: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(iso_date), dt.time(), dt.timezone.utc)


def _feed(newest: list[dict], base_url: str) -> str:
    """Atom: one entry per issue, newest first; updated is the latest issue's date, not the clock."""
    from feedgen.feed import FeedGenerator

    latest = newest[0]
    feed = FeedGenerator()
    feed.id(base_url)
    feed.title(latest["name"])
    feed.subtitle(f"{latest['compiler']}编")
    feed.author({"name": latest["compiler"]})
    feed.link(href=base_url, rel="alternate")
    feed.link(href=base_url + "feed.xml", rel="self")
    feed.language("zh-CN")
    feed.updated(_when(latest["date"]))
    for meta in newest:
        url = base_url + meta["slug"] + ".html"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(meta["title"])
        # One link only: feedgen 1.0 drops the rel of entry links, so a second link (the PDF
        # as rel="enclosure") would come out as a second, invalid alternate.
        entry.link(href=url)
        entry.published(_when(meta["date"]))
        entry.updated(_when(meta["date"]))
        entry.summary("；".join(a["title"] for a in meta["articles"]))
    return feed.atom_str(pretty=True).decode("utf-8")


def _sitemap(newest: list[dict], base_url: str) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
             f"  <url><loc>{escape(base_url)}</loc><lastmod>{newest[0]['date']}</lastmod></url>"]
    for meta in newest:
        lines.append(f"  <url><loc>{escape(base_url + meta['slug'])}.html</loc>"
                     f"<lastmod>{meta['date']}</lastmod></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


# --- The command ------------------------------------------------------------------

def run_site(root: Path, out: Path, base_url: str | None, echo: Callable[[str], None]) -> SiteResult:
    """`liandong site`: a progress bar on a terminal, one plain line per issue otherwise."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(TextColumn("排版"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.description}"), transient=True)
        task = None

        def progress(slug: str, done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = bar.add_task("", total=total)
            bar.update(task, completed=done, description=slug)

        with bar:
            result = build_site(root, out, base_url, progress=progress)
    else:
        result = build_site(root, out, base_url,
                            progress=lambda slug, done, total: echo(f"已排好 {slug}（{done}/{total}）"))
    if base_url is None:
        echo("未指定 --base-url，没有生成订阅源 feed.xml 和 sitemap.xml。")
    echo(result.summary())
    echo(f"网站在 {out}（本次写入 {len(result.written)} 个文件）")
    return result
