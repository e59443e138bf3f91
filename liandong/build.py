"""Build issues: gather and validate everything first, then render and write atomically."""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from liandong.errors import LiandongError, Problem, SourceErrors, display_path
from liandong.files import Data, recover, replace_together
from liandong.fonts import ResolvedFont
from liandong.load import IssueLoader
from liandong.project import resolve_project_fonts
from liandong.render import (
    PACKAGE_TEMPLATES,
    Context,
    TemplateOutsideProject,
    render_print,
    render_web,
    template_environment,
)
from liandong.source import outside_project
from liandong.stack import RECORD_SUFFIX
from liandong.validate import Issue

if TYPE_CHECKING:
    from liandong.pdf import PdfRenderer

logger = logging.getLogger(__name__)

PRINT_SHOP_SUFFIX = "-print"
"""The print-shop PDF sits beside the published one: 2024-13.pdf and 2024-13-print.pdf."""

DOCX_SUFFIX = ".docx"
"""The Word document sits beside the PDF: 2024-13.docx."""


@dataclass
class Built:
    issue: Issue
    pdf: Path
    html: Path
    print_pdf: Path | None = None
    record: Path | None = None
    docx: Path | None = None
    ofd: Path | None = None


@dataclass
class Rendered:
    """One issue's outputs, in memory and preflighted: nothing is written yet."""

    issue: Issue
    pdf: bytes
    html: str
    print_pdf: bytes | None = None
    record: dict | None = None
    """What it was built with (stack.build_record), also in the PDF's XMP."""
    docx: bytes | None = None
    """The Word document (docx.issue_docx), when asked for."""


class IssueRenderer(IssueLoader):
    """Loads, checks (load.IssueLoader) and renders issues, keeping what is costly to set up: the
    fonts' measurer, the Jinja environment and WeasyPrint's FontConfiguration. One per process;
    `build`, the archive site (and its pool workers) and the preview server all render through
    it."""

    def __init__(self, root: Path, fonts: dict[str, ResolvedFont]):
        super().__init__(root, fonts)
        self.env = template_environment(root)
        self._pdf: PdfRenderer | None = None
        self._record: dict | None = None
        # What WeasyPrint may read, besides the issue's own folder: the project's templates/ and
        # fonts/ (only where they really lie inside the project) and the shipped templates.
        self.allowed = [
            folder
            for folder in (root / "templates", root / "fonts")
            if outside_project(folder, root) is None
        ] + [PACKAGE_TEMPLATES]

    def pages(
        self,
        issue: Issue,
        context: Context,
        *,
        print_shop: bool = False,
        web_template: str = "web.html",
        **web_extra: object,
    ) -> tuple[str, str, str | None]:
        """The print HTML, the web page and (print_shop) the print-shop HTML.

        Raises LiandongError, naming the template file and line, for a template mistake."""
        web_images(context)
        try:
            return (
                render_print(self.env, context),
                render_web(self.env, context, web_template, **web_extra),
                render_print(self.env, context, print_shop=True) if print_shop else None,
            )
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

    def render(
        self,
        issue: Issue,
        context: Context,
        *,
        print_shop: bool = False,
        docx: bool = False,
        web_template: str = "web.html",
        **web_extra: object,
    ) -> Rendered:
        """PDF, web page, (print_shop) the print-shop PDF, each PDF preflighted, and (docx) the
        Word document.

        Raises LiandongError for a template mistake or a PDF that fails preflight."""
        print_html, web_html, shop_html = self.pages(
            issue, context, print_shop=print_shop, web_template=web_template, **web_extra
        )
        renderer = self._pdf_renderer()
        allowed = [*self.allowed, issue.folder]
        names = pdf_names(self.fonts)
        bold = synthetic_bold(self.fonts)
        notices: list[str] = []
        pdf = renderer.render(
            print_html,
            issue.folder,
            allowed,
            record=self.record,
            names=names,
            images=pdf_images(context),
            synthetic=bold,
            notices=notices,
        )
        _preflight(f"{issue.slug}.pdf", pdf, self.fonts, notices)
        shop_pdf = None
        if shop_html is not None:
            notices = []
            shop_pdf = renderer.render(
                shop_html,
                issue.folder,
                allowed,
                print_shop=True,
                names=names,
                images=pdf_images(context, print_shop=True),
                synthetic=bold,
                notices=notices,
            )
            _preflight(f"{issue.slug}{PRINT_SHOP_SUFFIX}.pdf", shop_pdf, self.fonts, notices)
        word = None
        if docx:
            from liandong.docx import issue_docx  # python-docx loads only when asked for

            word = issue_docx(issue, context, self.fonts)
        return Rendered(issue, pdf, web_html, shop_pdf, self.record, word)


def web_images(context: Context) -> None:
    """Give each figure of the web page its picture (a data: URI), once per context."""
    missing = [(figure, image) for figure, image in context.images if not figure.web_src]
    if not missing:
        return
    from liandong.images import web_source

    context.with_web_sources({id(figure): web_source(image) for figure, image in missing})


def pdf_images(context: Context, print_shop: bool = False) -> dict[str, tuple[bytes, str]]:
    """What each figure's picture URL (images.PRINT_URL…) is answered with in a PDF: RGB for
    the archival PDF, CMYK for the print shop's (images.archival, images.print_shop)."""
    if not context.images:
        return {}
    from liandong import images

    convert = images.print_shop if print_shop else images.archival
    return {figure.src: convert(image) for figure, image in context.images}


def build(
    root: Path,
    folders: list[Path],
    out: Path,
    print_shop: bool = False,
    docx: bool = False,
    ofd: bool = False,
) -> list[Built]:
    """Build the named issues into out/.

    Everything is loaded and checked first (SourceErrors lists every problem), then every
    issue is rendered and preflighted in memory, and only then written: a bad source, a
    template mistake or a PDF that fails preflight leaves every previous file untouched.
    print_shop=True also writes <slug>-print.pdf with bleed and crop marks, in CMYK (PDF/X-1a);
    docx=True also writes <slug>.docx, the Word document (docx.py);
    ofd=True also writes <slug>.ofd (GB/T 33190), made from the archival PDF (ofd.pdf_to_ofd).
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
    rendered = [
        renderer.render(issue, context, print_shop=print_shop, docx=docx)
        for issue, context in loaded
    ]
    ofds: dict[str, bytes] = {}
    if ofd:
        from liandong.ofd import pdf_to_ofd  # only for --ofd

        ofds = {r.issue.slug: pdf_to_ofd(r.pdf) for r in rendered}
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
        files: dict[Path, Data] = {pdf: r.pdf, html: r.html, record: record_json(r.record or {})}
        if shop is not None and r.print_pdf is not None:
            files[shop] = r.print_pdf
        word = None if r.docx is None else out / f"{slug}{DOCX_SUFFIX}"
        if word is not None and r.docx is not None:
            files[word] = r.docx
        ofd_path = out / f"{slug}.ofd" if slug in ofds else None
        if ofd_path is not None:
            files[ofd_path] = ofds[slug]
        replace_together(files)
        built.append(Built(r.issue, pdf, html, shop, record, word, ofd_path))
    if changed:
        logger.warning(
            "%s",
            "\n".join(
                f"{'、'.join(slugs)} 上次生成时的排版环境与现在不同：{'；'.join(differences)}。"
                "这次生成的换行和分页可能与上次不同，请核对后再发布。"
                for differences, slugs in changed.items()
            ),
        )
    return built


def synthetic_bold(fonts: dict[str, ResolvedFont]) -> frozenset[str]:
    """The PDF names of the bold of each font that has no bold face (FandolFang, a project
    font): pdf.embolden draws text in them bold."""
    return frozenset(
        font.css_family.replace(" ", "-") + "-Bold"
        for font in fonts.values()
        if font.bold is None and font.weight < 600
    )


def pdf_names(fonts: dict[str, ResolvedFont]) -> dict[str, str]:
    """The private @font-face name of each project font, and the real name its PDF font is
    given instead (pdf.rename_font)."""
    return {font.css_family: font.pdf_name for font in fonts.values() if font.origin == "fonts/"}


BUILD_OUTPUT = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2,3}(?:"
    + PRINT_SHOP_SUFFIX
    + r"\.pdf|\.pdf|\.html|\.ofd"
    + r"|"
    + re.escape(DOCX_SUFFIX)
    + r"|"
    + re.escape(RECORD_SUFFIX)
    + r")"
)
"""The file names `build` writes: 2024-13.pdf, 2024-13.html, 2024-13-print.pdf, 2024-13.docx,
2024-13.ofd and the build record 2024-13.build.json. A folder of only these (and liandong's
temporary files) is a liandong output folder (`--out` guard)."""


def is_build_output(name: str) -> bool:
    return BUILD_OUTPUT.fullmatch(name) is not None


def _preflight(
    name: str, data: bytes, fonts: dict[str, ResolvedFont], notices: list[str] | None = None
) -> None:
    """Preflight the bytes before they replace anything: a broken PDF is never published.
    The preflight's warnings and the renderer's notices (pdf.compact_fonts) are logged
    after the file's name."""
    from liandong.preflight import preflight

    report = preflight(data, fonts, name=name)
    if not report.ok:
        raise LiandongError(
            f"{report.text()}\n{name} 预检未通过：没有写出任何文件，原有文件保持不变。"
        )
    for warning in [*(notices or []), *report.warnings]:
        logger.warning("%s：%s", name, warning)


def template_error(exc: jinja2.TemplateError, root: Path) -> LiandongError:
    """A designer's mistake in templates/: name the file and line, never a traceback."""
    if isinstance(exc, TemplateOutsideProject):
        return LiandongError(exc.message or str(exc))
    if isinstance(exc, jinja2.TemplateNotFound):
        return LiandongError(
            f"找不到模板 {display_path(str(exc.name))}：templates/ 和 liandong 自带的模板里都没有"
        )
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
