"""The archive site: every signed-off issue's page and PDF, home, years, search, feed, built incrementally."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import signal
import stat
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote
from xml.sax.saxutils import escape

import jinja2

from liandong import __version__, limits, search
from liandong.build import IssueRenderer, template_error
from liandong.errors import LiandongError, Problem, SourceErrors, display_path
from liandong.files import recover, write_output
from liandong.fonts import ResolvedFont
from liandong.project import resolve_project_fonts
from liandong.render import PACKAGE_TEMPLATES, date_text, template_environment
from liandong.source import ISSUE_FILE, SERIES_FILE
from liandong.stack import stack_key
from liandong.typeset import chinese_number
from liandong.validate import (
    DEFAULT_TIMEZONE,
    SIGNED_OFF,
    TIMEZONE_KEY,
    Issue,
    Numbers,
    issue_folders,
    load_issues,
    load_series,
    read_state,
    read_status,
)

logger = logging.getLogger(__name__)

DEFAULT_SITE_OUT = "build/site"
"""The site goes to build/site/ in the project unless --out says otherwise."""

DEFAULT_PREVIEW_OUT = "build/preview"
"""The preview (drafts included) goes elsewhere, so that it can never be published by mistake."""

CACHE_SUFFIX = "-cache"
"""The site's cache (manifest, search blocks) is the folder beside it: build/site-cache/. It is
never inside the site, so it is never published."""

MANIFEST = "manifest.json"
"""In the cache folder: each issue's keys and what the home, year and feed pages need."""

LEGACY_MANIFEST = ".liandong-site.json"
"""Where liandong up to 0.x kept the manifest: inside the site, so it was published. Removed."""

MANIFEST_FORMAT = 2

LATEST_ISSUES = 12
"""Issues listed on the home page; the rest are on the year pages."""

DRAFTS_SHOWN = 10
"""Drafts named in `liandong site`'s closing lines (the newest); the rest are counted."""

FEED_ISSUES = 20
"""Entries of feed.xml unless series.yaml says 订阅期数."""

PAGE_TEMPLATES = (
    "site_page.html",
    "site_home.html",
    "site_year.html",
    "site_list.html",
    "site_search.html",
    "site_subscribe.html",
    "site_404.html",
    "site.css",
    "site_search.js",
    "site_favicon.svg",
)
"""Templates of the cheap pages, rendered every run: changing them re-renders no issue."""

WEB_ONLY = ("web.html", "web.css", "site_")
"""Templates (by name or prefix) that reach an issue's web page but not its PDF: changing them
renders the pages again but not the PDFs."""

ASSETS = {"site.css": "site.css", "site_search.js": "search.js", "site_favicon.svg": "favicon.svg"}
"""Templates copied (rendered) to the site under these names."""

SLUG = re.compile(r"[0-9]{4}-[0-9]{2,3}")
"""An issue's slug as issue_slug writes it; nothing else is ever deleted in the out folder."""
KEY = re.compile(r"[0-9a-f]{64}")
SHARD = re.compile(r"(b[0-9]+|c[0-9a-f]+-[0-9]+)\.js")
SEARCH_FILE = re.compile(r"meta\.js|boiler\.js|s/(b[0-9]+|c[0-9a-f]+-[0-9]+)\.js")


def issue_slug(folder: Path) -> str:
    """The file name stem of an issue's outputs, as `liandong build` names them: 2024-13."""
    return f"{folder.parent.name}-{int(folder.name):02d}"


def cache_folder(out: Path) -> Path:
    """The site's cache: the folder beside out, named after it (build/site → build/site-cache)."""
    out = out.absolute()
    if not out.name:
        raise LiandongError(f"不能把网站输出到 {out}：请用 --out 指明一个文件夹。")
    return out.with_name(out.name + CACHE_SUFFIX)


# --- Rendering one issue (in this process or a pool worker) ------------------


@dataclass
class Rendered:
    """One issue's outputs, or why it could not be rendered. Nothing is written yet."""

    slug: str
    problems: list[Problem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pdf: bytes | None = None
    html: str | None = None
    docx: bytes | None = None
    """The Word document, when series.yaml's 网站附带 lists Word."""
    ofd: bytes | None = None
    """The OFD, when series.yaml's 网站附带 lists OFD."""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.errors


class SiteRenderer:
    """Renders one issue page and PDF at a time through build.IssueRenderer (the same
    pipeline and preflight as `liandong build`), with the site's navigation. One per process."""

    def __init__(self, root: Path, fonts: dict[str, ResolvedFont]):
        self.fonts = fonts
        self.issues = IssueRenderer(root, fonts)

    def render(
        self, folder: Path, site: dict, *, pdf: bool = True, strict: bool = False
    ) -> Rendered:
        """The issue's page and PDF; with pdf=False only the page. strict: the typography and
        glyph findings of `liandong check --strict` count as problems (a signed-off issue)."""
        result = Rendered(issue_slug(folder))
        notices: list[Problem] = []
        loaded = self.issues.load([folder], result.problems, notices)
        if strict:
            from liandong.check import lint_paths, source_paths

            # What check --strict fails on: the typesetter's and the glyph check's notices (a
            # loose line, a character printed from a 补字 font), then the typography lint.
            result.problems += [
                Problem(p.path, p.line, p.column, f"注意：{p.message}") for p in notices
            ]
            paths = [p for p in source_paths(self.issues.root, [folder]) if p.name != SERIES_FILE]
            result.problems += [
                finding.problem() for finding in lint_paths(self.issues.root, paths)
            ]
        if result.problems or not loaded:
            return result
        issue, context = loaded[0]
        try:
            if pdf:
                word = WORD in site["settings"].get("attachments", ())
                rendered = self.issues.render(
                    issue, context, web_template="site_issue.html", docx=word, site=site
                )
                result.pdf, result.html, result.docx = rendered.pdf, rendered.html, rendered.docx
                if OFD in site["settings"].get("attachments", ()):
                    from liandong.ofd import pdf_to_ofd  # only when the series asks for OFD

                    result.ofd = pdf_to_ofd(rendered.pdf)
            else:
                result.html = self.issues.web(context, "site_issue.html", site=site)
        except LiandongError as exc:
            result.errors.append(exc.message)
        return result


_worker: SiteRenderer | None = None
"""The renderer of a pool worker process, made once by _start_worker."""


def _start_worker(root: Path, fonts: dict[str, ResolvedFont], parent: int) -> None:
    global _worker
    _die_with_parent(parent)
    _worker = SiteRenderer(root, fonts)


def _die_with_parent(parent: int) -> None:
    """A pool worker ends when `liandong site` does, even by SIGKILL: Linux sends it SIGTERM
    when its parent dies (PR_SET_PDEATHSIG). If the parent died before that was set, the
    worker has already been re-parented, so it ends at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def _render_in_worker(folder: Path, site: dict, pdf: bool, strict: bool) -> Rendered:
    assert _worker is not None
    return _worker.render(folder, site, pdf=pdf, strict=strict)


# --- Content hashes -------------------------------------------------------------

_CHUNK = 1 << 20


def _hash_file(digest: hashlib._Hash, path: Path, root: Path) -> None:
    """A file's bytes, streamed, never through a symbolic link out of the project (only the
    link's text counts then, so the key differs from any build that read a real file there)."""
    try:
        info = path.lstat()
        target = path
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"link\0" + os.readlink(path).encode("utf-8", "surrogateescape") + b"\0")
            target = path.resolve()
            if not target.is_relative_to(root.resolve()):
                return
            info = target.lstat()
        if not stat.S_ISREG(info.st_mode):
            digest.update(f"not a file {stat.S_IFMT(info.st_mode)}\0".encode())
            return
        fd = os.open(
            target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
        with os.fdopen(fd, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    except OSError as exc:
        digest.update(f"unreadable {exc.errno}\0".encode())


def _template_files(root: Path) -> list[tuple[Path, Path]]:
    """(file, its folder) for every template an issue page or PDF may use, project first."""
    found = []
    for folder in (root / "templates", PACKAGE_TEMPLATES):
        if folder.is_dir():
            found += [
                (p, folder)
                for p in sorted(folder.iterdir())
                if p.name not in PAGE_TEMPLATES
                and not p.name.startswith(".")
                and (p.is_file() or p.is_symlink())
            ]
    return found


@dataclass(frozen=True)
class Common:
    """What every issue depends on, in two parts: what reaches the PDF, what reaches the page."""

    pdf: str
    page: str


def common_key(root: Path, fonts: dict[str, ResolvedFont]) -> Common:
    """liandong itself, series.yaml, the templates and the fonts."""
    shared = hashlib.sha256(f"liandong {__version__}\0".encode())
    package = Path(__file__).parent
    # The code too, so a changed liandong re-renders even when its version number stays.
    for path in sorted(package.glob("*.py")):
        shared.update(path.name.encode() + b"\0")
        _hash_file(shared, path, package)
    shared.update(b"series\0")
    _hash_file(shared, root / "issues" / "series.yaml", root)
    pdf, page = shared.copy(), shared.copy()
    for path, folder in _template_files(root):
        label = (
            (b"project\0" if folder != PACKAGE_TEMPLATES else b"package\0")
            + path.name.encode()
            + b"\0"
        )
        web_only = path.name.startswith(WEB_ONLY)
        for digest in (page,) if web_only else (page, pdf):
            digest.update(label)
            _hash_file(digest, path, root if folder != PACKAGE_TEMPLATES else folder)
    for key, font in sorted(fonts.items()):
        try:
            info = font.file.stat()
            identity = f"{info.st_size}:{info.st_mtime_ns}"
        except OSError:
            identity = "missing"
        line = f"{key}\0{font.family}\0{font.file}\0{font.index}\0{identity}\0".encode()
        pdf.update(line)
        page.update(line)  # the page's font stacks come from the resolved fonts too
    stack = stack_key(fonts).encode()  # library versions, font files by content
    pdf.update(stack)
    page.update(stack)
    return Common(pdf.hexdigest(), page.hexdigest())


def folder_hash(folder: Path, root: Path) -> str:
    """An issue folder: the bytes of its sources (issue.yaml and *.md, what `build` reads; one
    over the size limit only by its size, since the build refuses it anyway), and only the name,
    type, size and time of anything else (an article's photo included: a changed image has a
    new time). Links are not followed out of the project. (The folder itself is checked where
    its issue.yaml is read.)"""
    digest = hashlib.sha256()
    sources = {folder / ISSUE_FILE, *folder.glob("*.md")}
    entries: list[Path] = []
    todo = [folder]
    while todo:
        current = todo.pop()
        try:
            with os.scandir(current) as scan:
                for entry in scan:
                    if entry.name.startswith("."):  # editors' swap and lock files, .DS_Store
                        continue
                    entries.append(Path(entry.path))
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(Path(entry.path))
        except OSError:
            continue
    for path in sorted(entries):
        name = path.relative_to(folder).as_posix()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            info = path.lstat()
        except OSError:
            continue
        if path in sources and info.st_size <= limits.SOURCE_BYTES:
            _hash_file(digest, path, root)
        else:
            digest.update(
                f"{stat.S_IFMT(info.st_mode)}:{info.st_size}:{info.st_mtime_ns}\0".encode()
            )
    return digest.hexdigest()


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


# --- The manifest, in the cache folder ---------------------------------------------


@dataclass
class Manifest:
    """What the previous run left: keys and metadata of each issue it finished."""

    issues: dict[str, dict]
    years: list[int]
    search: list[str] = field(default_factory=list)
    """The search index's files (under search/) the run wrote, so that a run with nothing
    changed checks they are there instead of indexing again."""


_META_FIELDS = {
    "slug": str,
    "year": int,
    "number": int,
    "total": int,
    "total_cn": str,
    "date": str,
    "date_text": str,
    "title": str,
    "name": str,
    "compiler": str,
    "articles": list,
    "draft": bool,
}


def _check_meta(slug: str, meta: object) -> str | None:
    """Why a manifest entry's metadata cannot be used (None if it can)."""
    if not isinstance(meta, dict) or set(meta) != set(_META_FIELDS):
        return f"{slug} 的记录不完整"
    for name, kind in _META_FIELDS.items():
        if type(meta[name]) is not kind:  # bool is not an int here
            return f"{slug} 的“{name}”类型不对"
    if meta["slug"] != slug or f"{meta['year']}-{meta['number']:02d}" != slug:
        return f"{slug} 的期号与记录不符"
    try:
        dt.date.fromisoformat(meta["date"])
    except ValueError:
        return f"{slug} 的日期无效"
    for article in meta["articles"]:
        if (
            not isinstance(article, dict)
            or set(article) != {"title", "subtitle"}
            or not isinstance(article["title"], str)
            or not isinstance(article["subtitle"], (str, type(None)))
        ):
            return f"{slug} 的文章标题记录无效"
    return None


def read_manifest(cache: Path) -> tuple[Manifest, str | None]:
    """The previous run's manifest, every slug, key and field checked; an empty one and the
    reason when anything is wrong (then every issue is rendered again)."""
    empty = Manifest({}, [])
    path = cache / MANIFEST
    try:
        if not path.exists() and not path.is_symlink():
            return empty, None
        if path.is_symlink() or not path.is_file():
            return empty, "它不是普通文件"
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return empty, f"无法读取（{type(exc).__name__}）"
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return empty, "格式不对"
    issues, years = data.get("issues"), data.get("years")
    if not isinstance(issues, dict) or not isinstance(years, list):
        return empty, "格式不对"
    for slug, entry in issues.items():
        if not SLUG.fullmatch(slug):
            return (
                empty,
                f"含有无效的期名“{json.dumps(slug[:40])[1:-1]}”",
            )  # escaped: no terminal codes
        if (
            not isinstance(entry, dict)
            or set(entry) != {"pdf", "page", "meta"}
            or not all(
                isinstance(entry[k], str) and KEY.fullmatch(entry[k]) for k in ("pdf", "page")
            )
        ):
            return empty, f"{slug} 的记录无效"
        reason = _check_meta(slug, entry["meta"])
        if reason:
            return empty, reason
    if not all(type(year) is int and 1000 <= year <= 9999 for year in years):
        return empty, "年份记录无效"
    names = data.get("search", [])
    if not isinstance(names, list) or not all(
        isinstance(n, str) and SEARCH_FILE.fullmatch(n) for n in names
    ):
        return empty, "搜索索引记录无效"
    return Manifest(issues, years, names), None


# --- Planning: what the site holds, and what changed ----------------------------


@dataclass
class Item:
    """One issue of the site."""

    folder: Path
    slug: str
    draft: bool
    site: dict = field(default_factory=dict)
    """What site_issue.html gets besides the issue: neighbours, year, draft, the site's settings."""
    pdf_key: str = ""
    page_key: str = ""
    meta: dict | None = None
    issue: Issue | None = None
    """Loaded (validated) when the issue changed."""
    pdf: bool = True
    """Render the PDF too (its key changed or it is missing); else the page only."""

    @property
    def planned(self) -> dict:
        """`meta`, which planning gives every item (from the manifest, or the loaded issue)."""
        if self.meta is None:
            raise ValueError(f"{self.slug}: the site's plan has no metadata for it")
        return self.meta

    @property
    def loaded(self) -> Issue:
        """`issue`, which planning loads for every changed item."""
        if self.issue is None:
            raise ValueError(f"{self.slug}: changed, but not loaded")
        return self.issue


@dataclass
class SiteResult:
    rendered: list[str]
    unchanged: list[str]
    written: list[Path]
    drafts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rendered:
            return f"全部 {len(self.unchanged)} 期均无变化，未重新生成。"
        return f"重新生成 {len(self.rendered)} 期，{len(self.unchanged)} 期无变化。"


Progress = Callable[[str, int, int, bool], None]
"""Called after each issue is rendered: slug, how many are done, how many in all, passed."""


class SitePlan:
    """One run of the site, step by step: plan() checks every issue (cheaply) and finds what
    changed; render_*() make outputs in memory; write_*() and finish() write them. `build_site`
    runs the steps in order; the preview server runs them bit by bit, serving as it goes."""

    def __init__(
        self,
        root: Path,
        out: Path,
        base_url: str | None = None,
        *,
        preview: bool = False,
        fonts: dict[str, ResolvedFont] | None = None,
    ):
        self.root, self.out, self.preview = root, out, preview
        self.base_url = _base_url(base_url)
        self.cache = cache_folder(out)
        if self.cache.is_symlink():
            raise LiandongError(
                f"出于安全考虑，不写入 {self.cache}：它是符号链接。请删除这个链接"
                "（它只是网站的缓存，删除后下次全部重新生成）。"
            )
        self.fonts = fonts if fonts is not None else resolve_project_fonts(root, notice=True)
        self.items: list[Item] = []
        self.changed: list[Item] = []
        self.drafts: list[Path] = []
        self.settings: dict = {}
        self.series: tuple | None = None
        self.numbers: list[Numbers] = []
        """期号, 总期号, 日期 of every issue, read with its status: for the numbering check."""
        self.manifest = Manifest({}, [])
        self.done: set[str] = set()
        self.written: list[Path] = []
        self.search_files: list[str] | None = None
        """The index files of this run (None: the index was not built, nothing changed)."""

    # -- planning --

    def plan(self) -> None:
        """Read every issue's state and sources (guards, status; the schema of those that
        changed), compute keys, and load the changed issues. Raises SourceErrors."""
        root = self.root
        folders = issue_folders(root)
        if not folders:
            raise LiandongError("issues/ 下还没有任何一期。")
        problems: list[Problem] = []
        series = load_series(root, problems)
        statuses, self.numbers = {}, []
        for folder in folders:
            statuses[folder], numbers = read_state(folder, root, problems)
            if numbers is not None:
                self.numbers.append(numbers)
        if problems or series is None:
            raise SourceErrors(problems)
        self.series = series
        self.settings = site_settings(series[0])
        published = [f for f in folders if self.preview or statuses[f] == SIGNED_OFF]
        self.drafts = [f for f in folders if statuses[f] != SIGNED_OFF]
        if not published:
            raise LiandongError(
                "还没有已签发的一期，网站上没有可发布的内容：一期编好、校对完毕后，"
                "在它的 issue.yaml 里写上“状态: 已签发”。"
            )
        self.items = [
            Item(
                folder,
                issue_slug(folder),
                statuses[folder] != SIGNED_OFF,
                issue_site(published, index, statuses, self.settings),
            )
            for index, folder in enumerate(published)
        ]

        self.manifest, reason = read_manifest(self.cache)
        if reason:
            logger.warning(
                "上次生成网站的记录 %s %s，全部重新生成。",
                display_path(self.cache / MANIFEST, root),
                reason,
            )
        common = common_key(root, self.fonts)
        for item in self.items:
            files = folder_hash(item.folder, root)
            item.pdf_key = _key(common.pdf, files)
            item.page_key = _key(
                common.page, files, json.dumps(item.site, sort_keys=True, ensure_ascii=False)
            )
            old = self.manifest.issues.get(item.slug)
            outputs = [
                self.out / f"{item.slug}.html",
                self.out / "search" / "t" / f"{item.slug}.js",
            ]
            attached = [f"{item.slug}.pdf"] + [
                f"{item.slug}{suffix}"
                for name, suffix in ((WORD, ".docx"), (OFD, ".ofd"))
                if name in self.settings["attachments"]
            ]
            item.pdf = (
                old is None
                or old["pdf"] != item.pdf_key
                or not all((self.out / name).is_file() for name in attached)
            )
            if (
                old is None
                or item.pdf
                or old["page"] != item.page_key
                or not all(p.is_file() for p in outputs)
            ):
                self.changed.append(item)
            else:
                item.meta = old["meta"]
        if problems:
            raise SourceErrors(problems)
        loaded = load_issues(root, [item.folder for item in self.changed], problems)
        if problems:
            raise SourceErrors(problems)
        for item, issue in zip(self.changed, loaded):
            item.issue = issue
            item.meta = issue_meta(issue)
        if not self.preview and self.changed:
            self._numbering()

    def _numbering(self) -> None:
        """`check --strict` also counts the numbering warnings of signed-off issues and the
        typography of series.yaml (each issue's own is checked where it is rendered)."""
        from liandong.check import lint_paths
        from liandong.numbering import check_numbering, numbering_rule

        warnings = check_numbering(self.numbers, numbering_rule(self.series))
        names = {
            (item.folder / ISSUE_FILE).relative_to(self.root).as_posix() for item in self.items
        }
        # Missing numbers (缺少…) are not held against an issue: while the back catalogue is
        # imported bit by bit the archive has gaps, and they say nothing wrong of the issue.
        # Repeats, decreases and dates out of order do.
        problems = [
            Problem(p.path, p.line, p.column, f"注意：{p.message}")
            for p in warnings
            if p.path in names and "缺少" not in p.message
        ]
        problems += [
            finding.problem()
            for finding in lint_paths(self.root, [self.root / "issues" / SERIES_FILE])
        ]
        if problems:
            raise NotSignable(problems)

    @property
    def slugs(self) -> list[str]:
        return [item.slug for item in self.items]

    # -- rendering --

    def render_all(
        self,
        renderer: SiteRenderer | None = None,
        progress: Progress | None = None,
        workers: int | None = None,
        pdfs: bool = True,
        meanwhile: Callable[[], dict[str, str]] = dict,
    ) -> tuple[list[Rendered], dict[str, str]]:
        """Every changed issue, in memory; raises with every problem if any failed. Also the
        result of meanwhile(), run in this process while the pool renders (the site's own pages
        and search index take about as long as one issue)."""
        items = self.changed
        total = len(items)
        workers = workers or os.cpu_count() or 1
        results: list[Rendered] = []
        strict = not self.preview
        extra: dict[str, str] = {}
        if renderer is not None or total == 0 or workers <= 1:
            renderer = renderer or SiteRenderer(self.root, self.fonts)
            for item in items:
                results.append(
                    renderer.render(item.folder, item.site, pdf=pdfs and item.pdf, strict=strict)
                )
                if progress:
                    progress(results[-1].slug, len(results), total, results[-1].ok)
            extra = meanwhile()
        else:
            pool = ProcessPoolExecutor(
                max_workers=min(workers, total),
                initializer=_start_worker,
                initargs=(self.root, self.fonts, os.getpid()),
            )
            try:
                futures = [
                    pool.submit(
                        _render_in_worker, item.folder, item.site, pdfs and item.pdf, strict
                    )
                    for item in items
                ]
                extra = meanwhile()
                for future in as_completed(futures):
                    results.append(future.result())
                    if progress:
                        progress(results[-1].slug, len(results), total, results[-1].ok)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
            results.sort(key=lambda r: r.slug)
        raise_problems(results, strict=strict)
        return results, extra

    # -- the site's own pages --

    def site_files(self, index: bool = True) -> dict[str, str]:
        """Every file that is not an issue's: home, years, search, feed… and (index) the search
        index, in memory."""
        metas = [item.planned for item in self.items]
        files = _site_pages(self.root, metas, self.base_url, self.settings)
        if index:
            files.update(self.index_files())
        return files

    def index_files(self) -> dict[str, str]:
        """The search index (search/…), or nothing when nothing changed and it is all there."""
        files: dict[str, str] = {}
        unchanged = (
            not self.changed
            and list(self.manifest.issues) == sorted(self.slugs)
            and self.manifest.search
            and all((self.out / "search" / name).is_file() for name in self.manifest.search)
        )
        if not unchanged:  # else the index is the one written last time, and it is all there
            index = self._search()
            self.search_files = sorted(name for name in index if SEARCH_FILE.fullmatch(name))
            files.update({f"search/{name}": text for name, text in index.items()})
        return files

    def _search(self) -> dict[str, str]:
        by_slug = {item.slug: item for item in self.items}
        entries = []
        for item in self.items:
            units = search.issue_units(item.issue) if item.issue is not None else None
            entries.append(
                search.Entry(
                    item.slug, item.page_key, item.planned["total"], item.planned["date"], units
                )
            )

        def load(slugs: list[str]) -> dict[str, dict]:
            problems: list[Problem] = []
            issues = load_issues(self.root, [by_slug[slug].folder for slug in slugs], problems)
            if problems:
                raise SourceErrors(problems)
            return {issue_slug(issue.folder): search.issue_units(issue) for issue in issues}

        files = search.build_index(entries, load, self.cache / "search", self.settings["site_name"])
        for item in self.changed:
            files[f"t/{item.slug}.js"] = search.text_script(
                item.slug, search.issue_units(item.loaded)
            )
        return files

    # -- writing --

    def write_issue(self, result: Rendered) -> None:
        if result.pdf is not None:
            self.written.append(write_output(self.out / f"{result.slug}.pdf", result.pdf))
            # The attachments 网站附带 asks for; one it no longer asks for goes.
            for suffix, data in ((".docx", result.docx), (".ofd", result.ofd)):
                path = self.out / f"{result.slug}{suffix}"
                if data is not None:
                    self.written.append(write_output(path, data))
                else:
                    path.unlink(missing_ok=True)
        if result.html is not None and _write_if_changed(
            self.out / f"{result.slug}.html", result.html
        ):
            self.written.append(self.out / f"{result.slug}.html")

    def write_site(self, files: dict[str, str]) -> None:
        """The site's own pages and the search index; stale files of removed issues, years
        and shards go. Names to delete come from the manifest and the out folder and are all
        checked against the patterns liandong writes."""
        for name, data in files.items():
            if _write_if_changed(self.out / name, data):
                self.written.append(self.out / name)
        current = set(self.slugs)
        for slug in sorted(set(self.manifest.issues) - current):
            for name in (
                f"{slug}.pdf",
                f"{slug}.docx",
                f"{slug}.ofd",
                f"{slug}.html",
                f"search/t/{slug}.js",
            ):
                (self.out / name).unlink(missing_ok=True)
        years = {f"{item.planned['year']}.html" for item in self.items}
        if self.out.is_dir():
            for path in self.out.iterdir():
                if re.fullmatch(r"[0-9]{4}\.html", path.name) and path.name not in years:
                    path.unlink(missing_ok=True)
        shards = self.out / "search" / "s"
        if self.search_files is not None and shards.is_dir() and not shards.is_symlink():
            for path in shards.iterdir():
                if SHARD.fullmatch(path.name) and f"search/s/{path.name}" not in files:
                    path.unlink(missing_ok=True)
        texts = self.out / "search" / "t"
        if texts.is_dir() and not texts.is_symlink():
            for path in texts.iterdir():
                if path.suffix == ".js" and SLUG.fullmatch(path.stem) and path.stem not in current:
                    path.unlink(missing_ok=True)
        (self.out / LEGACY_MANIFEST).unlink(missing_ok=True)

    def finish(self, done: set[str] | None = None) -> None:
        """Record in the manifest the issues whose outputs are written (all, by default)."""
        done = set(self.slugs) if done is None else done
        entries = {}
        for item in self.items:
            if item.slug in done:
                entries[item.slug] = {"pdf": item.pdf_key, "page": item.page_key, "meta": item.meta}
            elif item.slug in self.manifest.issues and item not in self.changed:
                entries[item.slug] = self.manifest.issues[item.slug]
        manifest = {
            "format": MANIFEST_FORMAT,
            "issues": entries,
            "years": sorted({item.planned["year"] for item in self.items}),
            "search": (
                self.search_files if self.search_files is not None else self.manifest.search
            ),
        }
        _write_if_changed(
            self.cache / MANIFEST,
            json.dumps(manifest, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        )

    def result(self) -> SiteResult:
        rendered = sorted(item.slug for item in self.changed)
        return SiteResult(
            rendered,
            [s for s in self.slugs if s not in rendered],
            self.written,
            [f"{f.parent.name} 年第 {int(f.name)} 期" for f in self.drafts],
        )


class NotSignable(SourceErrors):
    """Signed-off issues that `liandong check --strict` would not pass: nothing is published."""

    def show(self, file: IO[str] | None = None) -> None:
        import click

        for problem in self.problems:
            click.echo(str(problem), err=True, file=file)
        click.echo(
            f"共 {len(self.problems)} 处提醒：已签发的各期要通过 liandong check --strict 才能发布，"
            "未生成任何文件。请改正，或把这一期改回“状态: 草稿”。",
            err=True,
            file=file,
        )


ATTACHMENTS_KEY = "网站附带"
WORD = "Word"
OFD = "OFD"
"""网站附带: Word puts each issue's .docx beside its PDF, OFD its .ofd."""


def site_settings(series: dict) -> dict:
    """The site's settings from series.yaml, as plain text for the templates."""

    def text(key: str) -> str | None:
        value = series.get(key)
        return getattr(value, "value", None)

    police = text("公安备案号")
    digits = re.search(r"[0-9]{10,}", police or "")
    return {
        "site_name": text("网站名称") or text("刊名"),
        "compiler": text("编印单位"),
        "host": text("主办单位") or text("编印单位"),
        "icp": text("备案号"),
        "police": police,
        "police_code": digits.group() if digits else None,
        "contact": text("网站联系方式") or text("联系方式"),
        "feed_issues": series.get("订阅期数", FEED_ISSUES),
        "zone": series.get(TIMEZONE_KEY, DEFAULT_TIMEZONE),
        "attachments": list(series.get(ATTACHMENTS_KEY, ())),
    }


def issue_meta(issue: Issue) -> dict:
    """What the home, year and feed pages know of an issue: kept in the manifest."""
    return {
        "slug": issue.slug,
        "year": issue.year,
        "number": issue.number,
        "total": issue.total,
        "total_cn": chinese_number(issue.total),
        "date": issue.date.isoformat(),
        "date_text": date_text(issue.date),
        "title": f"{issue.name} {issue.year}年第{issue.number}期（总第{issue.total}期）",
        "name": issue.name,
        "compiler": issue.compiler.value,
        "articles": [
            {"title": a.title.value, "subtitle": a.subtitle.value if a.subtitle else None}
            for a in issue.articles
        ],
        "draft": not issue.signed_off,
    }


def raise_problems(results: list[Rendered], strict: bool = False) -> None:
    """Every source problem of every issue, or else every template or preflight error."""
    problems = [p for r in results for p in r.problems]
    if problems:
        if strict and all(p.message.startswith("注意：") for p in problems):
            raise NotSignable(problems)
        raise SourceErrors(problems)
    errors = sorted({e for r in results for e in r.errors})
    if errors:
        raise LiandongError("\n".join(errors))


def build_site(
    root: Path,
    out: Path,
    base_url: str | None = None,
    *,
    renderer: SiteRenderer | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    pdfs: bool = True,
    only: list[Path] | None = None,
    preview: bool = False,
) -> SiteResult:
    """Build the site into out/. Raises SourceErrors (writing nothing) if any source is bad.

    Only signed-off issues (状态: 已签发) that pass `check --strict` are published; with
    preview=True (the preview server) drafts are included and marked, and warnings don't stop it.
    With a renderer (the preview server's), changed issues render in this process; otherwise
    on all cores when more than one changed. pdfs=False (the preview's first step, so the
    browser shows an edit at once) renders and writes only the changed issues' pages and the
    site's pages, and leaves the manifest alone: the full build that follows still sees those
    issues as changed and renders their PDFs. With `only` (the preview knows which issue
    folders a save touched) that step renders and writes only those issues' pages: no content
    hashes and no home or search page, which for a 700-issue archive take longer than the page.
    """
    if only is not None and not pdfs:
        return _pages_only(root, out, only, renderer, preview)
    plan = SitePlan(
        root, out, base_url, preview=preview, fonts=renderer.fonts if renderer else None
    )
    plan.plan()
    results, files = plan.render_all(renderer, progress, workers, pdfs, meanwhile=plan.site_files)
    # A run killed while writing left temporaries behind: remove them before writing. A page
    # and PDF written without the manifest after them are found changed and written again.
    for folder in (out, out / "search", out / "search" / "s", out / "search" / "t"):
        recover(folder)
    for result in results:
        plan.write_issue(result)
    plan.write_site(files)
    if pdfs:
        plan.finish()
    return plan.result()


def _pages_only(
    root: Path, out: Path, folders: list[Path], renderer: SiteRenderer | None, preview: bool
) -> SiteResult:
    """Render and write just these issues' pages (no PDF, no manifest, no site pages)."""
    every = issue_folders(root)
    problems: list[Problem] = []
    series = load_series(root, problems)
    statuses = {folder: read_status(folder, root, problems) for folder in every}
    if problems or series is None:
        raise SourceErrors(problems)
    shown = [f for f in every if preview or statuses[f] == SIGNED_OFF]
    settings = site_settings(series[0])
    renderer = renderer or SiteRenderer(root, resolve_project_fonts(root))
    results = []
    for folder in folders:
        if folder not in shown:
            continue
        index = shown.index(folder)
        results.append(
            renderer.render(folder, issue_site(shown, index, statuses, settings), pdf=False)
        )
    raise_problems(results)
    written = [
        out / f"{r.slug}.html"
        for r in results
        if r.html is not None and _write_if_changed(out / f"{r.slug}.html", r.html)
    ]
    return SiteResult(sorted(r.slug for r in results), [], written)


def issue_site(
    shown: list[Path], index: int, statuses: dict[Path, str | None], settings: dict
) -> dict:
    """What site_issue.html gets besides the issue (plain data): the neighbours, the year, whether
    it is a draft, the site's settings."""

    def link(folder: Path) -> dict:
        return {
            "slug": issue_slug(folder),
            "label": f"{folder.parent.name}年第{int(folder.name)}期",
        }

    folder = shown[index]
    return {
        "prev": link(shown[index - 1]) if index else None,
        "next": link(shown[index + 1]) if index + 1 < len(shown) else None,
        "year": int(folder.parent.name),
        "draft": statuses[folder] != SIGNED_OFF,
        "settings": settings,
    }


def _base_url(value: str | None) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")):
        raise LiandongError(f"--base-url 应是以 http:// 或 https:// 开头的完整网址：“{value}”")
    return value if value.endswith("/") else value + "/"


def _write_if_changed(path: Path, data: bytes | str) -> bool:
    """Write only when the bytes differ, so unchanged pages keep their dates for the host."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.is_file() and not path.is_symlink() and path.read_bytes() == raw:
            return False
    except OSError:
        pass
    write_output(path, raw)
    return True


# --- Cheap pages: home, years, search, subscription, 404, feed, sitemap ----------------


def _site_pages(
    root: Path, metas: list[dict], base_url: str | None, settings: dict
) -> dict[str, str]:
    """Every page that is not an issue's, rendered (not written) from the issues' metadata."""
    env = template_environment(root)
    newest = sorted(metas, key=lambda m: (m["date"], m["year"], m["number"]), reverse=True)
    years: dict[int, list[dict]] = {}
    for meta in sorted(metas, key=lambda m: (m["year"], m["number"]), reverse=True):
        years.setdefault(meta["year"], []).append(meta)
    year_list = [{"year": year, "count": len(issues)} for year, issues in years.items()]
    common = {
        "settings": settings,
        "site_name": settings["site_name"],
        "compiler": settings["compiler"],
        "feed": base_url is not None,
        "prefix": "",
        "inline": False,
    }
    pages: dict[str, str] = {}
    try:
        pages["index.html"] = env.get_template("site_home.html").render(
            **common, latest=newest[:LATEST_ISSUES], years=year_list, count=len(metas)
        )
        ordered = list(years)
        for index, (year, issues) in enumerate(years.items()):
            pages[f"{year}.html"] = env.get_template("site_year.html").render(
                **common,
                year=year,
                issues=issues,
                newer=ordered[index - 1] if index else None,
                older=ordered[index + 1] if index + 1 < len(ordered) else None,
            )
        pages["search.html"] = env.get_template("site_search.html").render(**common)
        pages["subscribe.html"] = env.get_template("site_subscribe.html").render(
            **common,
            feed_url=(base_url + "feed.xml") if base_url else None,
            feed_issues=settings["feed_issues"],
        )
        # The host serves 404.html for any missing path, at any depth: with a known base URL
        # its links are absolute so they work from there.
        favicon = env.get_template("site_favicon.svg").render(**common).strip()
        pages["404.html"] = env.get_template("site_404.html").render(
            **{
                **common,
                "prefix": base_url or "",
                "inline": True,
                "favicon_data": "data:image/svg+xml," + quote(favicon, safe=""),
            }
        )
        for template, name in ASSETS.items():
            pages[name] = env.get_template(template).render(**common)
    except jinja2.TemplateError as exc:
        raise template_error(exc, root) from None
    if base_url:
        pages["feed.xml"] = _feed(newest[: settings["feed_issues"]], base_url, settings)
        pages["sitemap.xml"] = _sitemap(newest, list(years), base_url)
    return pages


def _when(iso_date: str, zone: str) -> dt.datetime:
    """Midnight of the issue's date in the series' time zone."""
    import zoneinfo

    return dt.datetime.combine(dt.date.fromisoformat(iso_date), dt.time(), zoneinfo.ZoneInfo(zone))


def _feed(newest: list[dict], base_url: str, settings: dict) -> str:
    """Atom: the latest issues, newest first; updated is the latest issue's date, not the clock."""
    from feedgen.feed import FeedGenerator

    latest = newest[0]
    zone = settings["zone"]
    feed = FeedGenerator()
    feed.id(base_url)
    feed.title(settings["site_name"])
    feed.subtitle(f"{settings['compiler']}编")
    feed.author({"name": settings["compiler"]})
    feed.link(href=base_url, rel="alternate")
    feed.link(href=base_url + "feed.xml", rel="self")
    feed.language("zh-CN")
    feed.updated(_when(latest["date"], zone))
    for meta in newest:
        url = base_url + meta["slug"] + ".html"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.title(meta["title"])
        # One link only: feedgen 1.0 drops the rel of entry links, so a second link (the PDF
        # as rel="enclosure") would come out as a second, invalid alternate.
        entry.link(href=url)
        entry.published(_when(meta["date"], zone))
        entry.updated(_when(meta["date"], zone))
        entry.summary("；".join(a["title"] for a in meta["articles"]))
    return feed.atom_str(pretty=True).decode("utf-8")


def _sitemap(newest: list[dict], years: list[int], base_url: str) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        f"  <url><loc>{escape(base_url)}</loc><lastmod>{newest[0]['date']}</lastmod></url>",
    ]
    latest: dict[int, str] = {}
    for meta in newest:
        latest.setdefault(meta["year"], meta["date"])
    for year in years:
        lines.append(
            f"  <url><loc>{escape(base_url)}{year}.html</loc>"
            f"<lastmod>{latest[year]}</lastmod></url>"
        )
    for meta in newest:
        lines.append(
            f"  <url><loc>{escape(base_url + meta['slug'])}.html</loc>"
            f"<lastmod>{meta['date']}</lastmod></url>"
        )
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


# --- The command ------------------------------------------------------------------


def run_site(
    root: Path, out: Path, base_url: str | None, echo: Callable[[str], None]
) -> SiteResult:
    """`liandong site`: a progress bar on a terminal, one plain line per issue otherwise."""
    if sys.stderr.isatty():
        import contextlib

        import click

        with contextlib.ExitStack() as stack:
            bars: list = []

            def progress(slug: str, done: int, total: int, ok: bool) -> None:
                if not bars:  # the total is known with the first issue
                    bars.append(
                        stack.enter_context(
                            click.progressbar(
                                length=total,
                                label="排版",
                                file=sys.stderr,
                                show_eta=False,
                                show_percent=False,
                                show_pos=True,
                                item_show_func=lambda item: item,
                            )
                        )
                    )
                bars[0].update(done - bars[0].pos, slug if ok else f"{slug} 未通过")

            result = build_site(root, out, base_url, progress=progress)
    else:

        def lines(slug: str, done: int, total: int, ok: bool) -> None:
            echo(f"{'已排好' if ok else '未通过'} {slug}（{done}/{total}）")

        result = build_site(root, out, base_url, progress=lines)
    if result.drafts:
        shown = "、".join(result.drafts[-DRAFTS_SHOWN:])  # the newest
        more = "等" if len(result.drafts) > DRAFTS_SHOWN else ""
        echo(f"草稿不发布（{len(result.drafts)} 期）：{shown}{more}")
    if base_url is None:
        echo("未指定 --base-url，没有生成订阅源 feed.xml 和 sitemap.xml。")
    echo(result.summary())
    echo(f"网站在 {display_path(out)}（本次写入 {len(result.written)} 个文件）")
    return result
