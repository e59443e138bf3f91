"""The liandong command line: thin wrappers that load, call one function, and print."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from liandong import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_CLICK_ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行“{command} {option}”查看帮助。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing command.": "缺少命令。",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Invalid value: {message}": "值无效：{message}",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受值。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是其中之一：{possibilities}？）",
    "Aborted!": "已中止。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件，不是文件夹。",
    "directory": "文件夹",
}
"""Click's own words (usage, headings, errors) in Chinese: the editors read no English."""


def _chinese_click() -> None:
    """Point click's gettext hooks at the catalogue above; unknown strings stay as they are."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    def gettext(message: str) -> str:
        return _CLICK_ZH.get(message, message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    for module in (click.core, click.decorators, click.exceptions, click.formatting,
                   click.parser, click.types):
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext


class _Group(click.Group):
    """Turns an unexpected failure into one Chinese sentence and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence for editors
            logging.getLogger("liandong").debug("内部错误", exc_info=True)
            raise click.ClickException(
                f"liandong 内部错误（{type(exc).__name__}: {exc}）。这不是稿件的问题；"
                "请用 liandong -v 重新运行，并把输出发给维护者。") from None


class _Formatter(click.HelpFormatter):
    """Chinese punctuation in help headings and the usage line."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


_chinese_click()
click.Context.formatter_class = _Formatter


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


@click.group(cls=_Group, context_settings=CONTEXT, options_metavar="[选项]", subcommand_metavar="命令 [参数]...", help="""联络动态排版工具：把 issues/ 中的 YAML/Markdown
稿件排成印刷用 PDF（GB/T 9704 版式）和网页。

\b
常用命令：
  liandong build 13          生成最近一年的第 13 期
  liandong build 2024/13     生成 2024 年第 13 期
  liandong build --all       生成全部各期
  liandong fonts             查看每种字体角色实际使用的字体文件

请在刊物项目的文件夹（含 issues/series.yaml）或其子文件夹中运行。""")
@click.version_option(__version__, "-V", "--version", message="liandong %(version)s",
                      help="显示版本号并退出。")
@click.option("-v", "--verbose", is_flag=True, help="显示更多过程信息和排版引擎的警告。")
def main(verbose: bool) -> None:
    _setup_logging(verbose)


@main.command(context_settings=CONTEXT, options_metavar="[选项]", help="""生成一期或多期：印刷用 PDF 和网页（HTML）。

\b
期号可写作：
  13        最近一个有第 13 期的年份的第 13 期
  2024/13   2024 年第 13 期

先检查全部稿件：有任何错误（标明 文件:行:列）都不会写出或覆盖任何文件，退出状态为 1。
输出文件为 <输出文件夹>/<年>-<期>.pdf 和 .html，默认输出文件夹是项目下的 build/。""")
@click.argument("issue", required=False, metavar="[期号]")
@click.option("--all", "every", is_flag=True, help="生成 issues/ 下的全部各期。")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="输出到文件夹 DIR（默认：项目下的 build/）。")
def build(issue: str | None, every: bool, out: Path | None) -> None:
    from liandong.build import build as build_issues, default_out, find_root, select_folders

    if issue and every:
        raise click.UsageError("不能同时指定期号和 --all。")
    root = find_root(Path.cwd())
    folders = select_folders(root, issue, every)
    out_dir = out if out is not None else default_out(root)
    for built in build_issues(root, folders, out_dir):
        click.echo(str(built.pdf))
        click.echo(str(built.html))


@main.command(context_settings=CONTEXT, options_metavar="[选项]", help="""列出每种字体角色 → 字体名称 → 字体文件。

查找顺序：项目 fonts/ 文件夹中的字体（如授权的方正小标宋简体、仿宋_GB2312），
然后是本机已安装的字体，最后是开源默认字体（Noto CJK、霞鹜文楷）。
字体按名称精确匹配，不让系统悄悄替换成别的字体。""")
def fonts() -> None:
    from liandong.build import find_root
    from liandong.fonts import resolve_fonts

    root = find_root(Path.cwd())
    origins = {"fonts/": "项目 fonts/", "installed": "本机安装", "default": "开源默认"}
    resolved = resolve_fonts(root / "fonts")
    for font in resolved.values():
        index = f" #{font.index}" if font.index else ""
        click.echo(f"{font.role.style}（{font.role.label}）→ {font.family}"
                   f"（{origins[font.origin]}）→ {font.file}{index}")
    for font in resolved.values():
        if font.is_fallback:
            click.echo(f"注意：{font.role.notice}", err=True)


if __name__ == "__main__":
    main()
