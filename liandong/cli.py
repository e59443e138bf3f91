"""The liandong command line: thin wrappers that load, call one function, and print."""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from pathlib import Path
from typing import ClassVar

import click
import click.formatting

from liandong import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
"""Help wraps at 80 terminal columns at most (a Chinese character takes two)."""

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
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹，不是文件。",
    "file": "文件",
    "File": "文件",
    # Values given to options and arguments (issue 14: "'abc' is not a valid integer.")
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的数字（请写半角阿拉伯数字）。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "“{value}”不是有效的是非值，可用的有：{states}",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "{value!r} is not {choice}.": "“{value}”不是 {choice}。",
    "{value!r} is not one of {choices}.": "“{value}”不是其中之一：{choices}。",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "选项（{choices}）",
    "{value!r} does not match the format {format}.": "“{value}”不符合格式 {format}。",
    "{value!r} does not match the formats {formats}.": "“{value}”不符合以下任何格式：{formats}。",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{len_type} values are required, but {len_value} was given.": "需要 {len_type} 个值，只给了 {len_value} 个。",
    "{len_type} values are required, but {len_value} were given.": "需要 {len_type} 个值，给了 {len_value} 个。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读（没有权限）。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写（没有权限）。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 不可执行。",
    "path": "路径",
    "Value must be an iterable.": "这里应是一组值。",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个值，只给了 1 个。",
    "Takes {nargs} values but {len} were given.": "需要 {nargs} 个值，给了 {len} 个。",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "unknown error": "未知错误",
    # Help and prompts (liandong uses none of these today; translated so none ever shows English)
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "注意：命令 {name!r} 已弃用。{extra_message}",  # noqa: E501 - a message and its translation, neither can be split
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": "注意：{param_type} {name!r} 已弃用。{extra_message}",  # noqa: E501 - a message and its translation, neither can be split
    "Do you want to continue?": "要继续吗？",
    "Confirm the action without prompting.": "不询问，直接确认。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Press any key to continue...": "按任意键继续……",
    "Repeat for confirmation": "再输入一次以确认",
    "Error: The two entered values do not match.": "错误：两次输入的不一样。",
    "Error: invalid input": "错误：输入无效",
    "d": "天",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "Unknown color {colour!r}": "未知的颜色 {colour!r}",
    "Unknown standard stream '{name}'": "未知的标准流“{name}”",
    "Windows error: {error}": "Windows 错误：{error}",
    "Couldn't detect Bash version, shell completion is not supported.": "无法识别 Bash 的版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支持命令补全。",
    # Mistakes in a command's definition (a programming error, never an editor's)
    "Could not determine name for option with declarations {decls!r}": "无法确定选项的名称：{decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument "
    "instead? Did you mean to pass '--{name}'?": "没有定义选项，却给了名称（{name}）：应是参数，或写作“--{name}”？",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "参数只能有一个声明，现在有 {length} 个：{decls}。",  # noqa: E501 - a message and its translation, neither can be split
    "Name '{name}' defined twice": "名称“{name}”定义了两次",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "是非选项 {decl!r} 不能用同一个标志表示是和否。",  # noqa: E501 - a message and its translation, neither can be split
}
"""Click's own words (usage, headings, errors, prompts) in Chinese: the editors read no English.
tests/test_cli.py checks that every message click passes through gettext is here."""


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

    for module in (
        click.core,
        click.decorators,
        click.exceptions,
        click.formatting,
        click.parser,
        click.types,
    ):
        for name, function in (("_", gettext), ("ngettext", ngettext)):
            if hasattr(module, name):  # the modules that translate their messages
                setattr(module, name, function)


class _Group(click.Group):
    """Turns an unexpected failure into one Chinese sentence and exit status 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence for editors
            logging.getLogger("liandong").debug("内部错误", exc_info=True)
            from liandong.errors import internal_error

            raise click.ClickException(internal_error(exc)) from None


class _Formatter(click.HelpFormatter):
    """Chinese punctuation in help headings and the usage line."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")


def _columns(x: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two. (Named as the
    argument of click.formatting.term_len, which it replaces.)"""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in x)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


_NO_LINE_START = frozenset("，。、；：？！）》」』】”’…—")
_NO_LINE_END = frozenset("（《「『【“‘")
_TOKEN = re.compile(r"\s+|[^\s]", re.S)


def _fill(text: str, width: int, first: str, rest: str) -> str:
    """Greedy wrapping by terminal columns: Chinese may break between any two characters (not
    before closing or after opening punctuation), Latin words only at spaces."""
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isspace():
            words.append(" ")
        elif words and words[-1] != " " and not _wide(token) and not _wide(words[-1][-1]):
            words[-1] += token  # a Latin word grows
        elif (
            words
            and words[-1] != " "
            and (token in _NO_LINE_START or words[-1][-1] in _NO_LINE_END)
        ):
            words[-1] += token  # kinsoku: keep the mark with its neighbour
        else:
            words.append(token)
    lines, line = [], first
    for word in words:
        if word == " ":
            if line.strip():
                line += " "
            continue
        if line.strip() and _columns(line.rstrip() + word) > width:
            lines.append(line.rstrip())
            line = rest
        line += word
    lines.append(line.rstrip())
    return "\n".join(lines)


def _wrap_text(
    text: str,
    width: int = 78,
    initial_indent: str = "",
    subsequent_indent: str = "",
    preserve_paragraphs: bool = False,
) -> str:
    """click.formatting.wrap_text for Chinese: measured in terminal columns, and the lines of a
    paragraph joined without the space click puts between them when Chinese meets Chinese.
    Paragraphs after a line holding only \\b are kept as written, as in click."""
    text = text.expandtabs()
    if not preserve_paragraphs:
        return _fill(text, width, initial_indent, subsequent_indent)
    paragraphs: list[tuple[int, bool, list[str]]] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.splitlines()
        if not lines:
            continue
        raw = lines[0].strip() == "\b"
        lines = lines[1:] if raw else lines
        if not lines:
            continue
        indent = len(lines[0]) - len(lines[0].lstrip())
        paragraphs.append((indent, raw, lines))
    out = []
    for indent, raw, lines in paragraphs:
        pad = " " * indent
        if raw:
            out.append(
                "\n".join(
                    (initial_indent if i == 0 else subsequent_indent)
                    + pad
                    + (line[indent:] if not line[:indent].strip() else line.lstrip())
                    for i, line in enumerate(lines)
                )
            )
            continue
        joined = ""
        for line in (line.strip() for line in lines):
            if joined and not (_wide(joined[-1]) and _wide(line[0])):
                joined += " "
            joined += line
        out.append(_fill(joined, width, initial_indent + pad, subsequent_indent + pad))
    return "\n\n".join(out)


_chinese_click()
click.Context.formatter_class = _Formatter
click.formatting.wrap_text = _wrap_text
click.formatting.term_len = _columns


class _ChineseFormatter(logging.Formatter):
    LABELS: ClassVar[dict[int, str]] = {
        logging.WARNING: "注意",
        logging.ERROR: "错误",
        logging.CRITICAL: "错误",
    }

    def format(self, record: logging.LogRecord) -> str:
        label = self.LABELS.get(record.levelno)
        message = record.getMessage()
        return f"{label}：{message}" if label else message


def _shown(path: Path) -> str:
    """A written file as every command prints it: relative to the current folder when inside
    it (what the editor can type next), else absolute."""
    from liandong.errors import display_path

    return display_path(path, Path.cwd())


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ChineseFormatter())
    # WeasyPrint's own messages are English; liandong says in Chinese what matters (refused or
    # missing resources, preflight), so WeasyPrint's show only with -v.
    for name, level in (
        ("liandong", logging.DEBUG if verbose else logging.INFO),
        ("weasyprint", logging.WARNING if verbose else logging.CRITICAL),
        ("fontTools", logging.ERROR),
    ):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@click.group(
    cls=_Group,
    context_settings=CONTEXT,
    options_metavar="[选项]",
    subcommand_metavar="命令 [参数]...",
    help="""联络动态排版工具：把 issues/ 中的 YAML/Markdown
稿件排成印刷用 PDF（GB/T 9704 版式）和网页。

\b
常用命令：
  liandong new               新建下一期的稿件（本期设置和一篇文章）
  liandong check             检查全部各期：设置、期号、标点排版、缺字
  liandong check 13 --fix    检查第 13 期，并自动修正可以安全修正的标点问题
  liandong build 13          生成最近一年的第 13 期
  liandong build 2024/13     生成 2024 年第 13 期
  liandong build --all       生成全部各期
  liandong build 13 --print-shop
                             另外生成交印刷厂用的 PDF（出血、裁切线）
  liandong preflight 文件.pdf  预检一份 PDF（生成时也会自动预检）
  liandong import 文件       把已发表的一期（.pdf、.docx 或 .txt）导入为稿件
  liandong site              生成全部各期的网站（build/site/）
  liandong serve             在本机预览网站，保存后自动刷新
  liandong fonts             查看每种字体角色实际使用的字体文件

请在刊物项目的文件夹（含 issues/series.yaml）或其子文件夹中运行。""",
)
@click.version_option(
    __version__, "-V", "--version", message="liandong %(version)s", help="显示版本号并退出。"
)
@click.option("-v", "--verbose", is_flag=True, help="显示更多过程信息和排版引擎的警告。")
def main(verbose: bool) -> None:
    _setup_logging(verbose)


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""生成一期或多期：印刷用 PDF 和网页（HTML）。

\b
期号可写作：
  13        最近一个有第 13 期的年份的第 13 期
  2024/13   2024 年第 13 期

先检查全部稿件：有任何错误（标明 文件:行:列）都不会写出或覆盖任何文件，退出状态为 1。
输出文件为 <输出文件夹>/<年>-<期>.pdf 和 .html，默认输出文件夹是项目下的 build/；
旁边的 <年>-<期>.build.json 记录这次用的排版软件版本和字体文件（构建记录），
与上次的记录不同、可能改变换行和分页时会提醒。
每份 PDF 写出之前都先预检（同 liandong preflight）；任何一份未通过都不写出任何文件，原有文件保持不变，
退出状态为 1。""",
)
@click.argument("issue", required=False, metavar="[期号]")
@click.option("--all", "every", is_flag=True, help="生成 issues/ 下的全部各期。")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="输出到文件夹 DIR（默认：项目下的 build/）。",
)
@click.option(
    "--print-shop",
    "print_shop",
    is_flag=True,
    help="另外生成交印刷厂用的 <年>-<期>-print.pdf：四周各加 3 mm 出血和裁切线，"
    "印刷四色（红色 C0 M100 Y100 K0，黑色只用 K）。",
)
@click.option(
    "--docx",
    "docx",
    is_flag=True,
    help="另外生成 Word 文件 <年>-<期>.docx（电子版，可在 WPS、Word 里打开和复制）："
    "GB/T 9704 版面、文档网格、标题样式、报头、页码和版记。",
)
@click.option(
    "--ofd",
    "ofd",
    is_flag=True,
    help="另外生成 OFD 版式文件 <年>-<期>.ofd（GB/T 33190，电子公文交换和归档用）："
    "与 PDF 同一版面，文字可检索、复制。",
)
@click.option(
    "--force",
    is_flag=True,
    help="--out 的文件夹里已有别的文件时也写入（根文件夹和系统文件夹仍然拒绝）。",
)
def build(
    issue: str | None,
    every: bool,
    out: Path | None,
    print_shop: bool,
    docx: bool,
    ofd: bool,
    force: bool,
) -> None:
    from liandong.build import build as build_issues, is_build_output
    from liandong.files import check_out_folder
    from liandong.project import default_out, find_root, select_folders

    if issue and every:
        raise click.UsageError("不能同时指定期号和 --all。")
    root = find_root(Path.cwd())
    if out is not None:
        check_out_folder(out, is_build_output, force=force)
    folders = select_folders(root, issue, every)
    out_dir = out if out is not None else default_out(root)
    for built in build_issues(root, folders, out_dir, print_shop=print_shop, docx=docx, ofd=ofd):
        for path in (built.pdf, built.html, built.print_pdf, built.docx, built.ofd):
            if path is not None:
                click.echo(_shown(path))


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""预检 PDF：像印刷厂那样检查一份已生成的 PDF。

\b
检查：成品尺寸（裁切框）为 A4；字体全部嵌入；字体都是字体角色所定的字体
（没有悄悄换用的字体）；没有缺字（.notdef）；文字都在版心之内（页码除外）；
版记在最后一页版心底部；页数为双数（单数只提示）。

liandong build 每次写出 PDF 之前都会自动预检。有错误时退出状态为 1。""",
)
@click.argument(
    "pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PDF文件"
)
def preflight(pdf: Path) -> None:
    from liandong.preflight import preflight_file
    from liandong.project import project_fonts

    report = preflight_file(pdf, project_fonts(Path.cwd()))
    click.echo(report.text())
    if not report.ok:
        sys.exit(1)


_SITE_PAGES = re.compile(
    r"(?:index|search|subscribe|404)\.html|feed\.xml|sitemap\.xml|search"
    r"|[1-9][0-9]{3}(?:-[0-9]{2,3})?\.html|[1-9][0-9]{3}-[0-9]{2,3}\.(?:pdf|docx|ofd)"
)
"""The names `liandong site` writes at its top level: pages, year pages, each issue's page and
PDF (and .ofd), the feed, the sitemap and the search/ folder."""


SITE_MARKS = ("search/meta.js",)
"""A file only a liandong site has: a folder of site-like names without it is not one."""


def is_site_output(name: str) -> bool:
    """The file names `liandong site` writes (its pages, assets and each issue's page and PDF):
    a folder of only these is a site liandong made (the `--out` guard)."""
    from liandong.site import ASSETS

    return _SITE_PAGES.fullmatch(name) is not None or name in ASSETS.values()


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""生成全部各期的网站：往期目录、每期网页和 PDF、全文搜索、订阅源。

只发布已签发（issue.yaml 写“状态: 已签发”）且通过 liandong check --strict 的各期；草稿不发布。

只重新排版有变化的各期（稿件、模板、字体或设置变了）；其余沿用上次的结果。上次的记录放在网站文件夹
旁边的 <网站文件夹>-cache/ 里，不随网站发布。有变化的各期用全部 CPU 核心并行排版。任何稿件有错误
都不会写出任何文件。

网站只用相对链接，可以放在任何静态网站空间的任何子路径下。""",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="输出到文件夹 DIR（默认：项目下的 build/site/）。",
)
@click.option(
    "--base-url",
    "base_url",
    default=None,
    metavar="URL",
    help="网站发布后的完整网址，如 https://example.org/liandong/；"
    "订阅源 feed.xml 和 sitemap.xml 需要它。",
)
@click.option(
    "--force",
    is_flag=True,
    help="--out 的文件夹里已有别的文件时也写入（根文件夹和系统文件夹仍然拒绝）。",
)
def site(out: Path | None, base_url: str | None, force: bool) -> None:
    from liandong.files import check_out_folder
    from liandong.project import default_out, find_root
    from liandong.site import DEFAULT_SITE_OUT, run_site

    root = find_root(Path.cwd())
    if out is not None:
        check_out_folder(out, is_site_output, force=force, marks=SITE_MARKS)
    run_site(
        root, out if out is not None else default_out(root, DEFAULT_SITE_OUT), base_url, click.echo
    )


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""在本机预览网站：保存稿件后自动重新生成，浏览器自动刷新。

预览立即可以打开：各期在后台生成，浏览器打开的页面优先生成。草稿也显示，标明“草稿”。

只在 127.0.0.1 上提供，别的电脑访问不到。稿件有错误时，网页上显示错误所在的
文件:行:列，改正并保存后自动恢复。按 Ctrl+C 停止。""",
)
@click.option("--port", "port", type=int, default=8000, metavar="N", help="端口号（默认 8000）。")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="预览的网站文件写到 DIR（默认：项目下的 build/preview/，"
    "与发布用的 build/site/ 分开，草稿不会混进要发布的网站）。",
)
@click.option(
    "--force",
    is_flag=True,
    help="--out 的文件夹里已有别的文件时也写入（根文件夹和系统文件夹仍然拒绝）。",
)
def serve(port: int, out: Path | None, force: bool) -> None:
    from liandong.files import check_out_folder
    from liandong.project import default_out, find_root
    from liandong.serve import serve as run_server
    from liandong.site import DEFAULT_PREVIEW_OUT

    root = find_root(Path.cwd())
    if out is not None:
        check_out_folder(out, is_site_output, force=force, marks=SITE_MARKS)
    run_server(
        root, out if out is not None else default_out(root, DEFAULT_PREVIEW_OUT), port, click.echo
    )


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    short_help="新建下一期的稿件。",
    help="""新建下一期的稿件：issues/<年>/<期>/ 下的 issue.yaml 和一篇文章 01.md。

期号为当年最后一期加 1（新的一年从第 1 期起；series.yaml 写“期号编排: 连续”则跨年接着编）。

总期号为最后一期的总期号加 1；日期为今天或 --date 指定的日期；版记的发送范围从 series.yaml 抄来。

稿件中“【待填写】”处由编辑填写，liandong check 会提醒尚未填写的地方。已有同名文件夹时不做任何改动。""",
)
@click.option(
    "--date", "date", default=None, metavar="日期", help="本期日期，写作 2024-08-30（默认：今天）。"
)
def new(date: str | None) -> None:
    import datetime as dt

    from liandong.new import new_issue, parse_date_option
    from liandong.project import find_root

    root = find_root(Path.cwd())
    numbers, written = new_issue(root, parse_date_option(date, dt.date.today()))
    click.echo(
        f"已新建 {numbers.year} 年第 {numbers.number} 期（总第 {numbers.total} 期，"
        f"{numbers.date.isoformat()}）："
    )
    for path in written:
        click.echo(_shown(path))


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""检查稿件，不生成文件：设置和格式、期号、中文标点排版、字体缺字。

\b
期号可写作：
  （不写）  检查全部各期
  13        最近一个有第 13 期的年份的第 13 期
  2024/13   2024 年第 13 期

每个问题一行，标明 文件:行:列 和修改办法。设置或格式错误、缺字是“错误”，退出状态为 1。

期号不连续、日期颠倒和标点排版问题是“提醒”，加 --strict 时也算错误。

--fix 就地修正可以安全修正的问题（半角标点、全角数字、多余空格、文号括号等），并把 GBK 或 UTF-16 编码的稿件转为 UTF-8。

--fix 只改有问题的字符，注释、键的顺序、换行符都保持原样。""",
)
@click.argument("issue", required=False, metavar="[期号]")
@click.option(
    "--all", "every", is_flag=True, help="检查 issues/ 下的全部各期（不写期号时也是如此）。"
)
@click.option(
    "--strict", is_flag=True, help="提醒也算作错误（退出状态为 1），适合付印前或自动检查。"
)
@click.option("--fix", is_flag=True, help="就地修正可以安全修正的问题，并列出改动。")
def check(issue: str | None, every: bool, strict: bool, fix: bool) -> None:
    from liandong.check import check as check_issues
    from liandong.project import find_root, select_folders
    from liandong.validate import scan_archive

    if issue and every:
        raise click.UsageError("不能同时指定期号和 --all。")
    root = find_root(Path.cwd())
    archive = scan_archive(root)  # misnamed folders are reported with every other problem
    folders = select_folders(root, issue, every or not issue, archive)
    sys.exit(check_issues(root, folders, strict=strict, fix=fix, echo=click.echo, archive=archive))


@main.command(
    context_settings=CONTEXT,
    options_metavar="[选项]",
    help="""列出每种字体角色 → 字体名称 → 字体文件，以及各角色的补字字体。

查找顺序：项目 fonts/ 文件夹中的字体（如授权的方正小标宋简体、仿宋_GB2312），
然后是本机已安装的字体，最后是开源默认字体（FandolFang 仿宋、Noto CJK、霞鹜文楷）。
字体按名称精确匹配，不让系统悄悄替换成别的字体。某个字体缺的字，逐字改用这一角色的
补字字体印出（series.yaml 的“补字字体”可以另选），liandong check 会逐字列出。""",
)
def fonts() -> None:
    from liandong.errors import display_path, printable
    from liandong.project import find_root, resolve_project_fonts
    from liandong.validate import font_settings

    root = find_root(Path.cwd())
    origins = {"fonts/": "项目 fonts/", "installed": "本机安装", "default": "开源默认"}
    resolved = resolve_project_fonts(root)
    for font in resolved.values():
        index = f" #{font.index}" if font.index else ""
        what = (
            f"补字（{font.role.style}缺的字）"
            if font.fallback
            else f"{font.role.style}（{font.role.label}）"
        )
        click.echo(
            f"{what}→ {printable(font.family)}（{origins[font.origin]}）→ "
            f"{display_path(font.file)}{index}"
        )
    accepted = font_settings(root).accepted
    for font in resolved.values():
        if font.notice and font.family != accepted:
            click.echo(f"注意：{font.notice}", err=True)


@main.command(
    "import",
    context_settings=CONTEXT,
    options_metavar="[选项]",
    short_help="把已发表的各期导入为稿件。",
    help="""把已发表的一期（或许多期）导入为稿件：每期写进自己的 issues/<年>/<期>/，
即 issue.yaml 和 01.md 等。

\b
文件可以是：
  .pdf    印出的 PDF（Word、WPS 导出的，或 liandong 生成的）
  .docx   Word/WPS 文档（表格、列表、图片一并导入）
  .txt    从 PDF 提取的文字（UTF-8；GBK/GB18030 编码会自动转换并提示）

可以给几个文件，或一个文件夹（连同子文件夹里的 .pdf、.docx、.txt）。

识别报头（刊名、期号、总期号、编印单位、日期）、编者按、标题和副标题、正文段落和
一、（一）1.（1）各级标题、版记（报、送、发、责任编辑、联系方式、批准文号、印数）。
去掉页码，接回跨页断开的段落。文字保持原样：半角逗号等由 liandong check --fix 修正。
与 series.yaml 相同的设置不重复写入。已有的一期绝不覆盖。

导入几个文件时，最后列出：已导入、需要核对（及原因）、未导入（及原因）。

\b
退出状态：0 全部导入（可能有需要核对的）；1 有文件未导入（其余照常导入）；
2 命令用法错误。""",
)
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="文件或文件夹..."
)
def import_(files: tuple[Path, ...]) -> None:
    from liandong.importer import import_files, import_issue, report
    from liandong.project import find_root

    root = find_root(Path.cwd())
    if len(files) == 1 and not files[0].is_dir():
        for path in import_issue(root, files[0]):
            click.echo(_shown(path))
        return
    outcomes = import_files(root, list(files))
    for outcome in outcomes:
        for path in outcome.written:
            click.echo(_shown(path))
    click.echo(report(outcomes, root))
    if any(outcome.refused is not None for outcome in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
