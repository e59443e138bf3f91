"""The liandong command line: thin wrappers that load, call one function, and print."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from liandong import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _ChineseFormatter(logging.Formatter):
    LABELS = {logging.WARNING: "注意", logging.ERROR: "错误", logging.CRITICAL: "错误"}

    def format(self, record: logging.LogRecord) -> str:
        label = self.LABELS.get(record.levelno)
        message = record.getMessage()
        return f"{label}：{message}" if label else message


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ChineseFormatter())
    for name, level in (("liandong", logging.DEBUG if verbose else logging.INFO),
                        ("weasyprint", logging.WARNING if verbose else logging.ERROR),
                        ("fontTools", logging.ERROR)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@click.group(context_settings=CONTEXT, help="""联络动态排版工具：把 issues/ 中的 YAML/Markdown
稿件排成印刷用 PDF（GB/T 9704 版式）和网页。

\b
常用命令：
  liandong build 13          生成最近一年的第 13 期
  liandong build 2024/13     生成 2024 年第 13 期
  liandong build --all       生成全部各期
  liandong fonts             查看每种字体角色实际使用的字体文件

请在刊物项目的文件夹（含 issues/series.yaml）或其子文件夹中运行。""")
@click.version_option(__version__, "-V", "--version", message="liandong %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="显示更多过程信息和排版引擎的警告。")
def main(verbose: bool) -> None:
    _setup_logging(verbose)


@main.command(context_settings=CONTEXT, help="""生成一期或多期：印刷用 PDF 和网页（HTML）。

\b
ISSUE 可写作：
  13        最近一个有第 13 期的年份的第 13 期
  2024/13   2024 年第 13 期

先检查全部稿件：有任何错误（标明 文件:行:列）都不会写出或覆盖任何文件，退出状态为 1。
输出文件为 <输出文件夹>/<年>-<期>.pdf 和 .html，默认输出文件夹是项目下的 build/。""")
@click.argument("issue", required=False, metavar="[ISSUE]")
@click.option("--all", "every", is_flag=True, help="生成 issues/ 下的全部各期。")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="输出文件夹（默认：项目下的 build/）。")
def build(issue: str | None, every: bool, out: Path | None) -> None:
    from liandong.build import DEFAULT_OUT, build as build_issues, find_root, select_folders

    if issue and every:
        raise click.UsageError("不能同时指定期号和 --all。")
    root = find_root(Path.cwd())
    folders = select_folders(root, issue, every)
    out_dir = out if out is not None else root / DEFAULT_OUT
    for built in build_issues(root, folders, out_dir):
        click.echo(str(built.pdf))
        click.echo(str(built.html))


@main.command(context_settings=CONTEXT, help="""列出每种字体角色 → 字体名称 → 字体文件。

查找顺序：项目 fonts/ 文件夹中的字体（如授权的方正小标宋简体、仿宋_GB2312），
然后是本机已安装的字体，最后是开源默认字体（Noto CJK、霞鹜文楷）。
字体按名称精确匹配，不让系统悄悄替换成别的字体。""")
def fonts() -> None:
    from liandong.build import find_root
    from liandong.fonts import resolve_fonts

    root = find_root(Path.cwd())
    origins = {"fonts/": "项目 fonts/", "installed": "本机安装", "default": "开源默认"}
    for key, font in resolve_fonts(root / "fonts").items():
        index = f" #{font.index}" if font.index else ""
        click.echo(f"{font.role.label} → {font.family}（{origins[font.origin]}）→ {font.file}{index}")
    for font in resolve_fonts(root / "fonts").values():
        if font.is_fallback:
            click.echo(f"注意：{font.role.notice}", err=True)


if __name__ == "__main__":
    main()
