"""Build issues: gather and validate everything first, then render and write atomically."""

from __future__ import annotations

import logging
import re
import traceback

import jinja2
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from liandong.errors import LiandongError, Problem, SourceErrors, display_path
from liandong.files import Data, recover, replace_together
from liandong.fonts import Measurer, ResolvedFont, check_glyphs, resolve_fonts
from liandong.render import (PACKAGE_TEMPLATES, Context, TemplateOutsideProject, build_context,
                             render_print, render_web, template_environment)
from liandong.source import outside_project, source_name
from liandong.stack import RECORD_SUFFIX
from liandong.validate import (Archive, Issue, folder_number, folder_year, issue_folders,
                               load_issues)

if TYPE_CHECKING:
    from liandong.pdf import PdfRenderer

logger = logging.getLogger(__name__)

DEFAULT_OUT = "build"
"""Outputs go to build/ in the project unless --out says otherwise."""


def find_root(start: Path) -> Path:
    """The project: the nearest folder, from start upwards, that has issues/series.yaml."""
    for folder in [start, *start.parents]:
        if (folder / "issues" / "series.yaml").is_file():
            return folder
    raise LiandongError(
        f"在 {display_path(start)} 及其上级文件夹中找不到 issues/series.yaml：请在刊物项目的文件夹里运行。")


def select_folders(root: Path, selector: str | None, every: bool,
                   archive: Archive | None = None) -> list[Path]:
    """Issue folders named by "13" (latest year that has it), "2024/13", or --all.

    The folders come from `validate.scan_archive`; without `archive` a folder that looks like
    an issue but is misnamed stops the command (`issue_folders`), with it (`check`) the
    caller reports those problems with the rest."""
    if archive is None:
        folders = issue_folders(root)
    else:
        folders = archive.folders
        if not folders and archive.errors:
            raise SourceErrors(archive.errors)
    if every:
        if not folders:
            raise LiandongError("issues/ 下还没有任何一期。")
        return inside_project(root, folders)
    if not selector:
        raise LiandongError("请指明要生成哪一期，例如 liandong build 13、liandong build 2024/13，"
                            "或用 --all 生成全部。")
    # ASCII digits only: `１３` or `١٣` is not the 13 an editor means on any keyboard layout.
    match = re.fullmatch(r"(?:([0-9]{4})[/-])?([0-9]{1,3})", selector.strip())
    if not match:
        raise LiandongError(f"无法识别期号“{selector}”：请写作 13 或 2024/13。")
    year = int(match.group(1)) if match.group(1) else None
    number = int(match.group(2))
    found = [f for f in folders if folder_number(f.name) == number
             and (year is None or folder_year(f.parent.name) == year)]
    if not found and year:
        raise LiandongError(f"找不到 {year} 年第 {number} 期：没有 issues/{year}/{number} 文件夹。")
    if not found:
        raise LiandongError(f"找不到第 {number} 期：issues/ 下任何年份都没有这一期。")
    return inside_project(root, [found[-1]])


def inside_project(root: Path, folders: list[Path]) -> list[Path]:
    """Refuse issue folders that a symbolic link takes out of the project."""
    escaping = [f"{source_name(folder, root)}（指向 {display_path(real)}）" for folder in folders
                if (real := outside_project(folder, root)) is not None]
    if escaping:
        raise LiandongError(f"出于安全考虑，不读取指向项目之外的符号链接：{'、'.join(escaping)}。"
                            "请把这一期的文件放进项目的 issues/ 文件夹。")
    return folders


def default_out(root: Path, name: str = DEFAULT_OUT) -> Path:
    """The project's build/ (or build/site/) folder, refused when a symbolic link takes it out
    of the project."""
    out = root / name
    real = outside_project(out, root)
    if real is not None:
        raise LiandongError(f"出于安全考虑，不写入 {name}/：它是指向项目之外（{display_path(real)}）的"
                            "符号链接。请删除这个链接，或用 --out 指明输出文件夹。")
    return out


PRINT_SHOP_SUFFIX = "-print"
"""The print-shop PDF sits beside the published one: 2024-13.pdf and 2024-13-print.pdf."""


def resolve_project_fonts(root: Path, notice: bool = False,
                          problems: list[Problem] | None = None) -> dict[str, ResolvedFont]:
    """The project's fonts: fonts/, installed, the open defaults, and the 补字 fonts, as
    series.yaml sets them (补字字体, 接受代用仿宋)."""
    from liandong.validate import font_settings

    return resolve_fonts(root / "fonts", notice=notice, settings=font_settings(root),
                         problems=problems)


def project_fonts(start: Path) -> dict:
    """The fonts the project around start resolves to (installed ones outside a project)."""
    try:
        root = find_root(start)
    except LiandongError:
        return resolve_fonts(start / "fonts")
    return resolve_project_fonts(root)


@dataclass
class Built:
    issue: Issue
    pdf: Path
    html: Path
    print_pdf: Path | None = None
    record: Path | None = None


@dataclass
class Rendered:
    """One issue's outputs, in memory and preflighted: nothing is written yet."""

    issue: Issue
    pdf: bytes
    html: str
    print_pdf: bytes | None = None
    record: dict | None = None
    """What it was built with (stack.build_record), also in the PDF's XMP."""


class IssueRenderer:
    """Loads, checks and renders issues, keeping what is costly to set up: the fonts' measurer,
    the Jinja environment and WeasyPrint's FontConfiguration. One per process; `build`, the
    archive site (and its pool workers) and the preview server all render through it."""

    def __init__(self, root: Path, fonts: dict[str, ResolvedFont]):
        self.root, self.fonts = root, fonts
        self.measurer = Measurer(fonts)
        self.env = template_environment(root)
        self._pdf: PdfRenderer | None = None
        self._record: dict | None = None
        # What WeasyPrint may read, besides the issue's own folder: the project's templates/ and
        # fonts/ (only where they really lie inside the project) and the shipped templates.
        self.allowed = [folder for folder in (root / "templates", root / "fonts")
                        if outside_project(folder, root) is None] + [PACKAGE_TEMPLATES]

    def load(self, folders: list[Path], problems: list[Problem],
             notices: list[Problem] | None = None) -> list[tuple[Issue, Context]]:
        """The issues' contexts; schema problems, text that cannot be set and missing glyphs go
        to problems; lines set past the spacing limits and the characters printed from a 补字
        font (each once per issue) to notices, when a list is given. A notice's message has no
        "注意：": check adds it, and build's log."""
        loaded = []
        for issue in load_issues(self.root, folders, problems):
            context = build_context(issue, self.fonts, self.measurer)
            problems += context.problems
            if notices is not None:
                notices += context.notices
            problems += check_glyphs(context.printed, self.fonts,
                                     _at_start(issue.sources[0].name), notices)
            loaded.append((issue, context))
        return loaded

    def pages(self, issue: Issue, context: Context, *, print_shop: bool = False,
              web_template: str = "web.html", **web_extra: object) -> tuple[str, str, str | None]:
        """The print HTML, the web page and (print_shop) the print-shop HTML.

        Raises LiandongError, naming the template file and line, for a template mistake."""
        web_images(context)
        try:
            return (render_print(self.env, context),
                    render_web(self.env, context, web_template, **web_extra),
                    render_print(self.env, context, print_shop=True) if print_shop else None)
        except jinja2.TemplateError as exc:
            raise template_error(exc, self.root) from None

    def web(self, context: Context, template: str = "web.html", **extra: object) -> str:
        """Only the web page: what the preview shows first, before the PDF is ready."""
        web_images(context)
        try:
            return render_web(self.env, context, template, **extra)
        except jinja2.TemplateError as exc:
            raise template_error(exc, self.root) from None

    def warm(self) -> None:
        """Load WeasyPrint and its fonts now, so that the first rendering after an edit in the
        preview does not pay for them (about half a second)."""
        self._pdf_renderer()

    @property
    def record(self) -> dict:
        """This machine's build record for these fonts (stack.build_record), made once."""
        if self._record is None:
            from liandong.stack import build_record

            self._record = build_record(self.fonts)
        return self._record

    def _pdf_renderer(self):
        if self._pdf is None:
            from liandong.pdf import PdfRenderer  # WeasyPrint loads only when something is rendered

            self._pdf = PdfRenderer()
        return self._pdf

    def render(self, issue: Issue, context: Context, *, print_shop: bool = False,
               web_template: str = "web.html", **web_extra: object) -> Rendered:
        """PDF, web page and (print_shop) the print-shop PDF, each PDF preflighted.

        Raises LiandongError for a template mistake or a PDF that fails preflight."""
        print_html, web_html, shop_html = self.pages(
            issue, context, print_shop=print_shop, web_template=web_template, **web_extra)
        renderer = self._pdf_renderer()
        allowed = self.allowed + [issue.folder]
        names = pdf_names(self.fonts)
        bold = synthetic_bold(self.fonts)
        pdf = renderer.render(print_html, issue.folder, allowed, record=self.record, names=names,
                              images=pdf_images(context), synthetic=bold)
        _preflight(f"{issue.slug}.pdf", pdf, self.fonts)
        shop_pdf = None
        if shop_html is not None:
            shop_pdf = renderer.render(shop_html, issue.folder, allowed, print_shop=True,
                                       names=names, images=pdf_images(context, print_shop=True),
                                       synthetic=bold)
            _preflight(f"{issue.slug}{PRINT_SHOP_SUFFIX}.pdf", shop_pdf, self.fonts)
        return Rendered(issue, pdf, web_html, shop_pdf, self.record)


def _at_start(name: str) -> Callable[[str], Problem]:
    """A problem at the first line of a file, for text printed from no place in it."""
    return lambda message: Problem(name, 1, 1, message)


def web_images(context: Context) -> None:
    """Give each figure of the web page its picture (a data: URI), once per context."""
    missing = [(figure, image) for figure, image in context.images if not figure.web_src]
    if not missing:
        return
    from liandong.images import web_source

    context.with_web_sources({id(figure): web_source(image) for figure, image in missing})


def pdf_images(context: Context, print_shop: bool = False) -> dict[Path, tuple[bytes, str]]:
    """What each figure's image file is replaced with in a PDF: RGB for the archival PDF,
    CMYK for the print shop's (images.archival, images.print_shop); read by the fetcher."""
    if not context.images:
        return {}
    from liandong import images

    convert = images.print_shop if print_shop else images.archival
    return {image.path: convert(image) for _, image in context.images}


def build(root: Path, folders: list[Path], out: Path, print_shop: bool = False) -> list[Built]:
    """Build the named issues into out/.

    Everything is loaded and checked first (SourceErrors lists every problem), then every
    issue is rendered and preflighted in memory, and only then written: a bad source, a
    template mistake or a PDF that fails preflight leaves every previous file untouched.
    print_shop=True also writes <slug>-print.pdf with bleed and crop marks, in CMYK (PDF/X-1a).
    Beside them, <slug>.build.json records what the issue was built with; when the previous
    record there differs in a way that can move the layout, one warning says so.
    """
    from liandong.stack import layout_differences, read_record_file, record_json, record_path

    problems: list[Problem] = []
    renderer = IssueRenderer(root, resolve_project_fonts(root, notice=True, problems=problems))
    notices: list[Problem] = []
    loaded = renderer.load(folders, problems, notices)
    if problems:
        raise SourceErrors(problems)
    for notice in sorted(set(notices)):  # check shows them too; the log adds "注意："
        logger.warning("%s:%d:%d: %s", notice.path, notice.line, notice.column, notice.message)
    rendered = [renderer.render(issue, context, print_shop=print_shop) for issue, context in loaded]
    changed: dict[tuple[str, ...], list[str]] = {}
    for r in rendered:
        previous = read_record_file(record_path(out, r.issue.slug))
        if previous is not None and r.record is not None:
            differences = tuple(layout_differences(previous, r.record))
            if differences:
                changed.setdefault(differences, []).append(r.issue.slug)
    # A run killed while writing into out/ left temporaries, or one issue's files half renamed:
    # finish and clean up first. Then each issue's files are replaced together.
    recover(out)
    built = []
    for r in rendered:
        slug = r.issue.slug
        pdf, html = out / f"{slug}.pdf", out / f"{slug}.html"
        shop = None if r.print_pdf is None else out / f"{slug}{PRINT_SHOP_SUFFIX}.pdf"
        record = record_path(out, slug)
        files: dict[Path, Data] = {pdf: r.pdf, html: r.html,
                                   record: record_json(r.record or {})}
        if shop is not None and r.print_pdf is not None:
            files[shop] = r.print_pdf
        replace_together(files)
        built.append(Built(r.issue, pdf, html, shop, record))
    if changed:
        logger.warning("%s", "\n".join(
            f"{'、'.join(slugs)} 上次生成时的排版环境与现在不同：{'；'.join(differences)}。"
            "这次生成的换行和分页可能与上次不同，请核对后再发布。"
            for differences, slugs in changed.items()))
    return built


def synthetic_bold(fonts: dict[str, ResolvedFont]) -> frozenset[str]:
    """The PDF names of the bold of each font that has no bold face (FandolFang, a project
    font): pdf.embolden draws text in them bold."""
    return frozenset(font.css_family.replace(" ", "-") + "-Bold" for font in fonts.values()
                     if font.bold is None and font.weight < 600)


def pdf_names(fonts: dict[str, ResolvedFont]) -> dict[str, str]:
    """The private @font-face name of each project font, and the real name its PDF font is
    given instead (pdf.rename_font)."""
    return {font.css_family: font.pdf_name for font in fonts.values() if font.origin == "fonts/"}


BUILD_OUTPUT = re.compile(r"[1-9][0-9]{3}-[0-9]{2,3}(?:" + PRINT_SHOP_SUFFIX + r"\.pdf|\.pdf|\.html"
                          + r"|" + re.escape(RECORD_SUFFIX) + r")")
"""The file names `build` writes: 2024-13.pdf, 2024-13.html, 2024-13-print.pdf and the build
record 2024-13.build.json. A folder of only these (and liandong's temporary files) is a liandong
output folder (`--out` guard)."""


def is_build_output(name: str) -> bool:
    return BUILD_OUTPUT.fullmatch(name) is not None


def _preflight(name: str, data: bytes, fonts: dict[str, ResolvedFont]) -> None:
    """Preflight the bytes before they replace anything: a broken PDF is never published."""
    from liandong.preflight import preflight

    report = preflight(data, fonts, name=name)
    if not report.ok:
        raise LiandongError(f"{report.text()}\n{name} 预检未通过：没有写出任何文件，原有文件保持不变。")
    for warning in report.warnings:
        logger.warning("%s：%s", name, warning)


def template_error(exc: jinja2.TemplateError, root: Path) -> LiandongError:
    """A designer's mistake in templates/: name the file and line, never a traceback."""
    if isinstance(exc, TemplateOutsideProject):
        return LiandongError(exc.message or str(exc))
    if isinstance(exc, jinja2.TemplateNotFound):
        return LiandongError(f"找不到模板 {display_path(str(exc.name))}：templates/ 和 liandong 自带的模板里都没有")
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    if not name or not line:
        # Errors raised while rendering carry no position; Jinja's rewritten traceback does.
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename.endswith((".html", ".css")):
                name, line = frame.f_code.co_filename, lineno
    name = name or "模板"
    where = f"{display_path(Path(name), root)}:{line}:1" if line else str(name)
    return LiandongError(f"{where}: 模板错误：{exc.message or exc}")
