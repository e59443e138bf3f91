"""Build issues: gather and validate everything first, then render and write atomically."""

from __future__ import annotations

import logging
import re
import traceback

import jinja2
from dataclasses import dataclass
from pathlib import Path

from liandong.errors import LiandongError, Problem, SourceErrors, display_path, os_reason
from liandong.files import write_atomic
from liandong.fonts import Measurer, check_glyphs, resolve_fonts
from liandong.render import (PACKAGE_TEMPLATES, TemplateOutsideProject, build_context,
                             render_print, render_web, template_environment)
from liandong.source import outside_project, source_name
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
        return inside_project(root, folders)
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
    return inside_project(root, [found[-1]])


def inside_project(root: Path, folders: list[Path]) -> list[Path]:
    """Refuse issue folders that a symbolic link takes out of the project."""
    escaping = [f"{source_name(folder, root)}（指向 {real}）" for folder in folders
                if (real := outside_project(folder, root)) is not None]
    if escaping:
        raise LiandongError(f"出于安全考虑，不读取指向项目之外的符号链接：{'、'.join(escaping)}。"
                            "请把这一期的文件放进项目的 issues/ 文件夹。")
    return folders


def default_out(root: Path) -> Path:
    """The project's build/ folder, refused when a symbolic link takes it out of the project."""
    out = root / DEFAULT_OUT
    real = outside_project(out, root)
    if real is not None:
        raise LiandongError(f"出于安全考虑，不写入 {DEFAULT_OUT}/：它是指向项目之外（{real}）的"
                            "符号链接。请删除这个链接，或用 --out 指明输出文件夹。")
    return out


@dataclass
class Built:
    issue: Issue
    pdf: Path
    html: Path


def build(root: Path, folders: list[Path], out: Path) -> list[Built]:
    """Build the named issues into out/. Raises SourceErrors before writing anything."""
    issues, pages = prepare(root, folders)

    from liandong.pdf import PdfRenderer  # WeasyPrint loads only when something is rendered

    renderer = PdfRenderer()
    # What WeasyPrint may read: the project's templates/ and fonts/ (only where they really lie
    # inside the project), the shipped templates and, below, the issue's own folder.
    allowed = [folder for folder in (root / "templates", root / "fonts")
               if outside_project(folder, root) is None] + [PACKAGE_TEMPLATES]
    built = []
    for issue, (print_html, web_html) in zip(issues, pages):
        pdf = renderer.render(print_html, issue.folder, allowed + [issue.folder])
        built.append(Built(issue, _write(out / f"{issue.slug}.pdf", pdf),
                           _write(out / f"{issue.slug}.html", web_html)))
    return built


def prepare(root: Path, folders: list[Path]) -> tuple[list[Issue], list[tuple[str, str]]]:
    """Load, validate and typeset the named issues, and render both templates of each: the print
    HTML and the web page. Raises SourceErrors (or LiandongError) and writes nothing."""
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

    # Templates are rendered for every issue before any file is written: a broken template
    # stops the build with nothing touched.
    env = template_environment(root)
    try:
        pages = [(render_print(env, context), render_web(env, context)) for context in contexts]
    except jinja2.TemplateError as exc:
        raise _template_error(exc, root) from None
    return issues, pages


def _write(path: Path, data: bytes | str) -> Path:
    try:
        return write_atomic(path, data)
    except OSError as exc:
        raise LiandongError(f"无法写入 {path}：{os_reason(exc)}") from None


def _template_error(exc: jinja2.TemplateError, root: Path) -> LiandongError:
    """A designer's mistake in templates/: name the file and line, never a traceback."""
    if isinstance(exc, TemplateOutsideProject):
        return LiandongError(exc.message or str(exc))
    if isinstance(exc, jinja2.TemplateNotFound):
        return LiandongError(f"找不到模板 {exc.name}：templates/ 和 liandong 自带的模板里都没有")
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
