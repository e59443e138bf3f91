"""Recognising the encodings Windows tools save Chinese text in."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from liandong.source import foreign_encoding

TEXT = (REPO / "issues" / "2024" / "13" / "01.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "raw, expected",
    [
        (TEXT.encode("utf-8"), None),
        (b"\xef\xbb\xbf" + TEXT.replace("\n", "\r\n").encode("utf-8"), None),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("gb18030"), "gb18030"),
        (("䶮" + TEXT).encode("gb18030"), "gb18030"),  # a four-byte GB18030 character
        (TEXT.encode("utf-16"), "utf-16"),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "utf-16"),
    ],
    ids=[
        "utf-8",
        "utf-8 bom crlf",
        "gbk",
        "gb18030",
        "gb18030 four-byte",
        "utf-16 le",
        "utf-16 be",
    ],
)
def test_encodings(raw: bytes, expected: str | None) -> None:
    assert foreign_encoding(raw) == expected


def test_utf8_with_a_damaged_byte_is_not_taken_for_gbk() -> None:
    raw = TEXT.encode("utf-8")
    damaged = raw[:200] + b"\x80" + raw[201:]
    assert foreign_encoding(damaged) is None


def test_bytes_that_are_no_chinese_encoding_are_not_taken_for_gbk() -> None:
    assert foreign_encoding(bytes(range(128, 256)) * 4) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'a: "abc\\q"\n',
            "x.yaml:1:9: 双引号里的“\\q”不是有效的写法：反斜杠请写成“\\\\”，或改用单引号",
        ),
        ("a: [1, 2\n", "x.yaml:2:1: 方括号 [ ] 没有闭合，或列表的项之间缺少“,”"),
        ("a: {b: 1\n", "x.yaml:2:1: 花括号 { } 没有闭合，或项之间缺少“,”"),
        ("a:\n  - x\n  y: 1\n", "x.yaml:3:3: 缩进没有对齐：同一层的各项应缩进同样多的空格"),
        ("a: @x\n", "x.yaml:1:4: “@”不能用在值的开头：含有它的文字请加引号"),
        ("a: 1\n---\nb: 1\n", "x.yaml:2:1: 一个文件里只能有一份设置，不能有第二个“---”"),
        (
            "a: !<x y\n",
            "x.yaml:1:7: YAML 格式错误：这里的写法无法识别，请检查冒号、引号、括号和缩进",
        ),
    ],
)
def test_yaml_syntax_errors_are_explained_in_chinese(text: str, expected: str) -> None:
    """Issue 14, 14: PyYAML's English reasons were shown as they are."""
    from liandong.source import SourceFile, compose_yaml

    problems: list = []
    assert compose_yaml(SourceFile(Path("x.yaml"), "x.yaml", text), problems) is None
    assert [str(p) for p in problems] == [expected]


# --- Article bodies: the forms an editor writes (issue 13) ------------------------------


def body(text: str):
    """The forms of a Markdown body, and the errors and warnings found, as printed lines."""
    from liandong.source import SourceFile, parse_blocks

    problems: list = []
    notices: list = []
    source = SourceFile(Path("01.md"), "01.md", text)
    forms = parse_blocks(source, 0, len(text), problems, notices)
    return forms, [str(p) for p in problems], [str(p) for p in notices]


def test_single_asterisks_underscores_and_backslashes_print_as_written() -> None:
    """Issue 13: "注：*号表示必填项*" printed as "注：号表示必填项", 4*4 as 44, escapes vanished."""
    forms, problems, notices = body(
        "注意：*号表示必填项*，4*4，a_b_c，__ 处填写，C:\\文件，\\*星\\*，\\\\。\n"
    )
    assert forms[0].text == "注意：*号表示必填项*，4*4，a_b_c，__ 处填写，C:\\文件，*星*，\\。"
    assert problems == notices == []


def test_strong_pairs_end_in_chinese_punctuation() -> None:
    forms, _, _ = body("**一是完善制度体系。**市人大常委会修订了规则。\n")
    assert [(run.text, run.strong) for run in forms[0].runs] == [
        ("一是完善制度体系。", True),
        ("市人大常委会修订了规则。", False),
    ]


def test_an_unpaired_strong_mark_prints_with_a_warning() -> None:
    forms, _, notices = body("注：**号表示必填项\n")
    assert forms[0].items[0].text == "**号表示必填项"
    assert notices == [
        "01.md:1:3: “**”没有配对，按原样印出两个星号：加粗请成对写“**文字**”；"
        "要印出星号，写成“\\*\\*”"
    ]


def test_list_items_are_items_not_one_paragraph() -> None:
    """Issue 13: "- 第一项……；- 第二项……" merged into one paragraph."""
    forms, problems, _ = body("- 第一项，\n  接着写。\n- 第二项。\n\n1. 甲。\n2. 乙。\n")
    assert [type(form).__name__ for form in forms] == ["ListBlock", "ListBlock"]
    assert [(item.marker, item.text) for item in forms[0].items] == [
        ("●", "第一项，接着写。"),
        ("●", "第二项。"),
    ]
    assert [(item.marker, item.text) for item in forms[1].items] == [("1.", "甲。"), ("2.", "乙。")]
    assert problems == []


def test_a_list_that_skips_a_number_is_a_warning() -> None:
    _, _, notices = body("1. 甲。\n3. 乙。\n")
    assert notices == ["01.md:2:1: 列表序号不连续：这里是 3.，按顺序应是 2."]


def test_a_nested_list_is_an_error() -> None:
    _, problems, _ = body("- 甲。\n  - 甲一。\n")
    assert problems == [
        "01.md:2:3: 不支持多层列表：里面一层请写成条目中的（1）（2）……，"
        "或另起一个列表（前面空一行、不缩进）"
    ]


TABLE = """表1　各市州情况
| 地区 | 联络站（个） | 覆盖率 |
|------|-------:|:---:|
| 长沙市 | 1,268 | 98.5% |
| 株\\|洲 |  | 96% |
注：覆盖率按行政村计算。
"""


def test_a_table_has_its_caption_header_rows_alignments_and_note() -> None:
    """Issue 13: a table printed as "| 地区 | 基站数 | 普及率 ||---|---|---||…"."""
    forms, problems, _ = body(TABLE)
    table, note = forms
    assert table.caption.text == "表1　各市州情况"
    assert [cell.text for cell in table.header] == ["地区", "联络站（个）", "覆盖率"]
    assert [[cell.text for cell in row] for row in table.rows] == [
        ["长沙市", "1,268", "98.5%"],
        ["株|洲", "", "96%"],
    ]
    assert table.aligns == ("", "right", "center")
    assert [(item.marker, item.text) for item in note.items] == [("注：", "覆盖率按行政村计算。")]
    assert str(table.rows[1][2].loc.problem("x")) == "01.md:5:13: x"
    assert problems == []


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "| 地区 | 数 |\n|---|---|\n| 长沙 | 1 |\n",
            "01.md:1:1: 表格缺少表题：在表格上一行（不空行）写表题，如“表1　2024年各市州代表联络站建设情况”",
        ),
        (
            "表1　x\n| 地区 | 数 |\n| 长沙 | 1 |\n",
            "01.md:3:1: 表格的第二行应是分隔行，如“|---|---|”（各列一个，数字列可写“---:”靠右）：第一行是表头",
        ),
        (
            "表1　x\n| 地区 | 数 |\n|---|---|\n| 长沙 |\n",
            "01.md:4:1: 这一行有 1 格，表头有 2 格：每一行的格数应与表头相同（空格也要写出“| |”）",
        ),
    ],
    ids=["no caption", "no delimiter row", "short row"],
)
def test_table_errors(text: str, expected: str) -> None:
    assert body(text)[1] == [expected]


def test_a_figure_with_caption_and_width() -> None:
    forms, problems, _ = body("![图1　株洲市代表联络站](照片/联络站.jpg){宽=80mm}\n")
    figure = forms[0]
    assert (figure.caption.text, figure.src, figure.width) == (
        "图1　株洲市代表联络站",
        "照片/联络站.jpg",
        (80.0, "mm"),
    )
    assert problems == []


def test_run_in_and_whole_line_headings() -> None:
    text = (
        "## （一）联络站建设全面铺开。各市州把联络站建设作为重要载体，\n全省已建成 1,268 个。\n\n"
        "### 1. 完善制度体系。\n市人大常委会修订了工作规则。\n\n## （二）整体标题\n\n正文。\n"
    )
    forms, problems, _ = body(text)
    run_in, third, whole, _ = forms
    assert (run_in.level, run_in.text[: run_in.lead]) == (2, "（一）联络站建设全面铺开。")
    assert (
        run_in.text
        == "（一）联络站建设全面铺开。各市州把联络站建设作为重要载体，全省已建成 1,268 个。"
    )
    assert (third.level, third.text[: third.lead], third.text[third.lead :]) == (
        3,
        "1.完善制度体系。",
        "市人大常委会修订了工作规则。",
    )
    assert (whole.level, whole.lead, whole.text) == (2, 0, "（二）整体标题")
    assert problems == []


def test_a_heading_followed_by_text_without_a_full_stop_is_an_error() -> None:
    _, problems, _ = body("## （一）联络站建设\n各市州……\n")
    assert problems == [
        "01.md:2:1: 标题的下一行紧接着文字：独立成行的标题，后面空一行；"
        "标题与正文同段（接排标题），标题短语要写在 # 这一行、以“。”（或“！”“？”）结束，正文接着写"
    ]


def test_a_heading_number_written_as_text_is_a_warning() -> None:
    """Issue 13: a run-in heading written as plain text lost its face, and check said nothing."""
    _, _, notices = body("（一）**完善接待制度。**株洲市各级人大代表。\n")
    assert notices == [
        "01.md:1:1: 这一段以“（一）”开头，像是二级标题，写成正文就印不出标题的字体："
        "独立成行的标题写成“## （一）……”，标题与正文同段（接排标题）写成“## （一）标题短语。正文……”"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "见[网站](http://x.cn)。\n",
            "01.md:1:2: 不支持链接：网址请直接写出（如 www.hnrd.gov.cn），"
            "不写方括号和圆括号；要印出“[”，写成“\\[”",
        ),
        ("见<http://x.cn>。\n", "01.md:1:2: 不支持链接：网址、电子邮箱请直接写出，不加尖括号“< >”"),
        (
            "一行<br>两行。\n",
            "01.md:1:3: 不支持 HTML 标记“<br>”：加粗请写成 **文字**，"
            "其他格式请用本刊的写法；要印出“<”，写成“\\<”",
        ),
        (
            "见图![照片](a.jpg)。\n",
            "01.md:1:3: 图片要单独成段：上下各空一行，一段只写“![图题](文件名)”",
        ),
        (
            "据统计[^1]。\n",
            "01.md:1:4: 简报不用脚注“[^1]”：请把注释写成“注：……”段落，放在文末或表格下面",
        ),
        ("[^1]: 说明。\n", "01.md:1:1: 简报不用脚注：请把注释写成“注：……”段落，放在文末或表格下面"),
        (
            "> 引用的话。\n",
            "01.md:1:1: 不支持引用块（以“>”开头的行）：引用的话请加引号写在段落里；"
            "说明性的文字请写成“注：……”段落",
        ),
        (
            "```\n代码\n```\n",
            "01.md:1:1: 不支持代码块（``` 或 ~~~）：请把内容写成普通段落；要印出这几个符号，在前面加“\\”",
        ),
        (
            "正文。\n\n---\n",
            "01.md:3:1: 不支持分隔线（---、*** 或 ___ 单独一行）：请删去；要分开两部分，用标题",
        ),
        ("标题\n===\n", "01.md:2:1: 不支持用“===”标出标题：标题请在行首写 #、##、###、####"),
        ("#一、标题\n", "01.md:1:1: 标题的“#”后面要空一格，如“## （一）……”"),
    ],
    ids=[
        "link",
        "autolink",
        "html",
        "inline image",
        "footnote",
        "footnote definition",
        "blockquote",
        "code fence",
        "rule",
        "setext",
        "no space after #",
    ],
)
def test_markup_that_would_print_raw_is_an_error(text: str, expected: str) -> None:
    """Issue 13: blockquotes, footnotes, images and links printed as their markup, silently."""
    assert body(text)[1] == [expected]


def test_an_html_entity_is_a_warning() -> None:
    _, problems, notices = body("甲&nbsp;乙。\n")
    assert problems == [] and notices == [
        "01.md:1:2: “&nbsp;”是 HTML 的写法，会原样印出：请直接写出要印的字符"
    ]


def test_a_weibo_topic_is_text() -> None:
    forms, problems, _ = body("#两会#话题。\n")
    assert forms[0].text == "#两会#话题。" and problems == []
