"""The project: where it is, its issue folders, its output folder and its fonts.

A project is the folder holding issues/series.yaml. Every command finds it here (`find_root`),
turns "13" or "2024/13" into an issue folder (`select_folders`) and resolves the fonts its
series.yaml asks for (`resolve_project_fonts`).
"""

from __future__ import annotations

import re
from pathlib import Path

from liandong.errors import LiandongError, Problem, SourceErrors, display_path
from liandong.fonts import ResolvedFont, resolve_fonts
from liandong.source import outside_project, source_name
from liandong.validate import Archive, folder_number, folder_year, font_settings, issue_folders

DEFAULT_OUT = "build"
"""Outputs go to build/ in the project unless --out says otherwise."""


def find_root(start: Path) -> Path:
    """The project: the nearest folder, from start upwards, that has issues/series.yaml."""
    for folder in [start, *start.parents]:
        if (folder / "issues" / "series.yaml").is_file():
            return folder
    raise LiandongError(
        f"在 {display_path(start)} 及其上级文件夹中找不到 issues/series.yaml：请在刊物项目的文件夹里运行。"
    )


def select_folders(
    root: Path, selector: str | None, every: bool, archive: Archive | None = None
) -> list[Path]:
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
        raise LiandongError(
            "请指明要生成哪一期，例如 liandong build 13、liandong build 2024/13，"
            "或用 --all 生成全部。"
        )
    # ASCII digits only: `１３` or `١٣` is not the 13 an editor means on any keyboard layout.
    match = re.fullmatch(r"(?:([0-9]{4})[/-])?([0-9]{1,3})", selector.strip())
    if not match:
        raise LiandongError(f"无法识别期号“{selector}”：请写作 13 或 2024/13。")
    year = int(match.group(1)) if match.group(1) else None
    number = int(match.group(2))
    found = [
        f
        for f in folders
        if folder_number(f.name) == number and (year is None or folder_year(f.parent.name) == year)
    ]
    if not found and year:
        raise LiandongError(f"找不到 {year} 年第 {number} 期：没有 issues/{year}/{number} 文件夹。")
    if not found:
        raise LiandongError(f"找不到第 {number} 期：issues/ 下任何年份都没有这一期。")
    return inside_project(root, [found[-1]])


def inside_project(root: Path, folders: list[Path]) -> list[Path]:
    """Refuse issue folders that a symbolic link takes out of the project."""
    escaping = [
        f"{source_name(folder, root)}（指向 {display_path(real)}）"
        for folder in folders
        if (real := outside_project(folder, root)) is not None
    ]
    if escaping:
        raise LiandongError(
            f"出于安全考虑，不读取指向项目之外的符号链接：{'、'.join(escaping)}。"
            "请把这一期的文件放进项目的 issues/ 文件夹。"
        )
    return folders


def default_out(root: Path, name: str = DEFAULT_OUT) -> Path:
    """The project's build/ (or build/site/) folder, refused when a symbolic link takes it out
    of the project."""
    out = root / name
    real = outside_project(out, root)
    if real is not None:
        raise LiandongError(
            f"出于安全考虑，不写入 {name}/：它是指向项目之外（{display_path(real)}）的"
            "符号链接。请删除这个链接，或用 --out 指明输出文件夹。"
        )
    return out


def resolve_project_fonts(
    root: Path, notice: bool = False, problems: list[Problem] | None = None
) -> dict[str, ResolvedFont]:
    """The project's fonts: fonts/, installed, the open defaults, and the 补字 fonts, as
    series.yaml sets them (补字字体, 接受代用仿宋)."""
    return resolve_fonts(
        root / "fonts", notice=notice, settings=font_settings(root), problems=problems
    )


def project_fonts(start: Path) -> dict:
    """The fonts the project around start resolves to (installed ones outside a project)."""
    try:
        root = find_root(start)
    except LiandongError:
        return resolve_fonts(start / "fonts")
    return resolve_project_fonts(root)
