"""Build issues: gather and validate everything first, then render and write atomically."""

from __future__ import annotations

import logging
import re

import jinja2
from dataclasses import dataclass
from pathlib import Path

from liandong.errors import LiandongError, Problem, SourceErrors, display_path, os_reason
from liandong.files import write_atomic
from liandong.fonts import Measurer, check_glyphs, resolve_fonts
from liandong.render import (PACKAGE_TEMPLATES, build_context, render_print, render_web,
                             template_environment)
from liandong.validate import Issue, issue_folders, load_issues

logger = logging.getLogger(__name__)

DEFAULT_OUT = "build"
"""Outputs go to build/ in the project unless --out says otherwise."""


def find_root(start: Path) -> Path:
    """The project: the nearest folder, from start upwards, that has issues/series.yaml."""
    for folder in [start, *start.parents]:
        if (folder / "issues" / "series.yaml").is_file():
            return folder
    raise LiandongError(
        f"在 {start} 及其上级文件夹中找不到 issues/series.yaml：请在刊物项目的文件夹里运行。")


def select_folders(root: Path, selector: str | None, every: bool) -> list[Path]:
    """Issue folders named by "13" (latest year that has it), "2024/13", or --all."""
    folders = issue_folders(root)
    if every:
        if not folders:
            raise LiandongError("issues/ 下还没有任何一期。")
        return folders
    if not selector:
        raise LiandongError("请指明要生成哪一期，例如 liandong build 13、liandong build 2024/13，"
                            "或用 --all 生成全部。")
    match = re.fullmatch(r"(?:(\d{4})[/-])?(\d{1,3})", selector.strip())
    if not match:
        raise LiandongError(f"无法识别期号“{selector}”：请写作 13 或 2024/13。")
    year, number = match.group(1), int(match.group(2))
    found = [f for f in folders if int(f.name) == number and (year is None or f.parent.name == year)]
    if not found and year:
        raise LiandongError(f"找不到 {year} 年第 {number} 期：没有 issues/{year}/{number} 文件夹。")
    if not found:
        raise LiandongError(f"找不到第 {number} 期：issues/ 下任何年份都没有这一期。")
    return [found[-1]]


PRINT_SHOP_SUFFIX = "-print"
"""The print-shop PDF sits beside the published one: 2024-13.pdf and 2024-13-print.pdf."""


def project_fonts(start: Path) -> dict:
    """The fonts the project around start resolves to (installed ones outside a project)."""
    try:
        root = find_root(start)
    except LiandongError:
        root = start
    return resolve_fonts(root / "fonts")


@dataclass
class Built:
    issue: Issue
    pdf: Path
    html: Path
    print_pdf: Path | None = None


def build(root: Path, folders: list[Path], out: Path, print_shop: bool = False) -> list[Built]:
    """Build the named issues into out/. Raises SourceErrors before writing anything.

    Every PDF is preflighted before it is written: an issue that fails keeps its previous files
    (PDF, print-shop PDF and HTML all untouched) and stops the build with the report.
    print_shop=True also writes <slug>-print.pdf with bleed and crop marks, in CMYK.
    """
    fonts = resolve_fonts(root / "fonts")
    for font in fonts.values():
        if font.is_fallback:
            logger.warning("%s", font.role.notice)
    problems: list[Problem] = []
    issues = load_issues(root, folders, problems)
    measurer = Measurer(fonts)
    contexts = [build_context(issue, fonts, measurer) for issue in issues]
    for issue, context in zip(issues, contexts):
        problems += check_glyphs(context.printed, fonts,
                                 lambda message, s=issue.sources[0]: Problem(s.name, 1, 1, message))
    if problems:
        raise SourceErrors(problems)

    from liandong.pdf import PdfRenderer  # WeasyPrint loads only when something is rendered

    # Templates are rendered for every issue before any file is written: a broken template
    # stops the build with nothing touched.
    env = template_environment(root)
    try:
        pages = [(render_print(env, context), render_web(env, context)) for context in contexts]
    except jinja2.TemplateError as exc:
        raise _template_error(exc, root) from None
    renderer = PdfRenderer()
    allowed = [root / "templates", root / "fonts", PACKAGE_TEMPLATES]
    built = []
    for issue, context, (print_html, web_html) in zip(issues, contexts, pages):
        pdf = renderer.render(print_html, issue.folder, allowed + [issue.folder])
        shop_pdf = None
        if print_shop:
            try:
                shop_html = render_print(env, context, print_shop=True)
            except jinja2.TemplateError as exc:
                raise _template_error(exc, root) from None
            shop_pdf = renderer.render(shop_html, issue.folder, allowed + [issue.folder],
                                       print_shop=True)
        names = [(f"{issue.slug}.pdf", pdf)]
        if shop_pdf is not None:
            names.append((f"{issue.slug}{PRINT_SHOP_SUFFIX}.pdf", shop_pdf))
        for name, data in names:
            _preflight(out / name, data, fonts)
        built.append(Built(issue, _write(out / names[0][0], pdf),
                           _write(out / f"{issue.slug}.html", web_html),
                           _write(out / names[1][0], shop_pdf) if shop_pdf is not None else None))
    return built


def _preflight(path: Path, data: bytes, fonts) -> None:
    """Preflight the bytes before they replace anything: a broken PDF is never published."""
    from liandong.preflight import preflight

    report = preflight(data, fonts, name=path.name)
    if not report.ok:
        raise LiandongError(f"{report.text()}\n{path.name} 预检未通过："
                            "这一期的 PDF 和网页都没有写出，原有文件保持不变。")
    for warning in report.warnings:
        logger.warning("%s：%s", path.name, warning)


def _write(path: Path, data: bytes | str) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise LiandongError(f"无法写入 {path}：{os_reason(exc)}") from None


def _template_error(exc: jinja2.TemplateError, root: Path) -> LiandongError:
    """A designer's mistake in templates/: name the file and line, never a traceback."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return LiandongError(f"找不到模板 {exc.name}：templates/ 和 liandong 自带的模板里都没有")
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "模板"
    line = getattr(exc, "lineno", None)
    where = f"{display_path(Path(name), root)}:{line}:1" if line else str(name)
    return LiandongError(f"{where}: 模板错误：{exc.message or exc}")
