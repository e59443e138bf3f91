"""liandong import: published text and Word files → sources, and the sample back to issue 13."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import (
    FIXTURES,
    MM,
    REPO,
    SAMPLE_TEXT,
    blank_pdf,
    golden,
    golden_folder,
    liandong,
    make_project,
)
from liandong.importer import sentences, split_title
from liandong.validate import load_issues

CASES = FIXTURES / "import"
ISSUE = Path("issues") / "2024" / "13"

REPAIRS = str.maketrans({",": "，", "(": "（", ")": "）"})
"""The documented extraction damage that `liandong check --fix` repairs, and nothing else."""


def project_without_13(tmp: Path) -> Path:
    root = make_project(tmp)
    shutil.rmtree(root / ISSUE)
    return root


def _cases(with_sources: bool) -> list[str]:
    return sorted(
        case.name
        for case in CASES.iterdir()
        if list(case.glob("input.*")) and (case / "expected").is_dir() == with_sources
    )


def _import_case(tmp: Path, case: str) -> tuple[Path, subprocess.CompletedProcess]:
    root = project_without_13(tmp)
    (source,) = (CASES / case).glob("input.*")
    shutil.copy(source, root / source.name)
    return root, liandong("import", source.name, cwd=root)


def _expected_stderr(case: str, printed: str) -> str:
    """What the case expects on stderr (expected.txt, none when absent); --regenerate writes
    `printed` there (and no file for nothing printed)."""
    path = CASES / case / "expected.txt"
    if printed or path.exists():
        return golden(path, printed)
    return ""


def _assert_sources(root: Path, expected: Path, result: subprocess.CompletedProcess) -> None:
    golden_folder(expected, root / ISSUE)
    written = sorted(path.name for path in (root / ISSUE).iterdir())
    assert written == sorted(path.name for path in expected.iterdir())
    for name in written:
        assert (root / ISSUE / name).read_text(encoding="utf-8") == (expected / name).read_text(
            encoding="utf-8"
        ), name
    # It prints what it created: issue.yaml, then the articles in order.
    printed = ["issue.yaml"] + [name for name in written if name.endswith(".md")]
    assert result.stdout.splitlines() == [f"issues/2024/13/{name}" for name in printed]


@pytest.mark.parametrize("case", _cases(with_sources=True))
def test_import_case(tmp_path, case):
    root, result = _import_case(tmp_path, case)
    assert result.returncode == 0, result.stderr
    assert result.stderr == _expected_stderr(case, result.stderr)
    _assert_sources(root, CASES / case / "expected", result)


@pytest.mark.parametrize("case", _cases(with_sources=False))
def test_import_error(tmp_path, case):
    root, result = _import_case(tmp_path, case)
    assert result.returncode == 1
    assert result.stderr == _expected_stderr(case, result.stderr)
    assert "Traceback" not in result.stderr
    assert not (root / ISSUE).exists(), "nothing may be written from a file that was refused"


def test_imported_cases_validate(tmp_path):
    """Every successful case gives sources that load (the raw heading case excepted)."""
    for case in _cases(with_sources=True):
        if case == "numbered_headings":  # keeps its half-width (二) for check --fix
            continue
        root, _ = _import_case(tmp_path / case, case)
        problems: list = []
        assert load_issues(root, [root / ISSUE], problems) and not problems, (case, problems)


# --- Word documents, made here with python-docx ---------------------------------------------

SEND = "送：全国人大常委会代表工作委员会，省人民政府办公厅。"


def _masthead(document, styled: bool) -> None:
    document.add_paragraph("联络动态")
    if styled:
        document.add_paragraph("第13期")
        document.add_paragraph("（总第714期）")
        # WPS templates often lay out the compiler and the date as a table row.
        row = document.add_table(rows=1, cols=2).rows[0]
        row.cells[0].text = "湖南省人大常委会代表工作委员会编"
        row.cells[1].text = "2024年8月30日"
    else:
        # Soft line breaks (Shift+Enter) inside one paragraph.
        document.add_paragraph("第十三期\n（总第七百一十四期）")
        document.add_paragraph("湖南省人大常委会代表工作委员会编\t2024年8月30日")


def docx_with_styles(path: Path) -> None:
    import docx

    document = docx.Document()
    _masthead(document, styled=True)
    document.add_paragraph(
        "【编者按】今年以来,各地代表联络站建设取得新进展。现将有关情况编发,供参考。"
    )
    document.add_paragraph("代表联络站建设现场推进会召开", style="Title")
    document.add_paragraph("推动代表履职常态化", style="Subtitle")
    document.add_paragraph("会议提出三点要求：")
    document.add_paragraph("一是加强阵地建设。")
    document.add_paragraph("一、主要工作", style="Heading 1")
    document.add_paragraph("（一）加强代表联络", style="Heading 2")
    document.add_paragraph("1.建好联络站", style="Heading 3")
    document.add_paragraph("（1）完善制度", style="Heading 4")
    # A Word paragraph is whole: one that stops mid-sentence is not joined with the next.
    document.add_paragraph(
        "各联络站普遍建立了接待制度，持续推进阵地建设、制度建设和队伍建设，"
        "切实发挥联络站在密切人大代表同人民群众联系中的作用"
    )
    document.add_paragraph("会议要求,进一步完善工作机制。")
    document.add_paragraph("第二篇文章用标题 1 样式", style="Heading 1")
    document.add_paragraph("第二篇文章的正文。")
    table = document.add_table(rows=3, cols=1)
    table.cell(0, 0).text = SEND
    table.cell(1, 0).text = "责任编辑：王小益\t联系方式：0731—85309270 hnrldgwxrc@163.com"
    table.cell(2, 0).text = "批准文号：湘党简准字〔2000〕第 28 号"
    document.save(str(path))


def docx_without_styles(path: Path) -> None:
    import docx

    document = docx.Document()
    _masthead(document, styled=False)
    document.add_paragraph("代表工作情况报告")
    document.add_paragraph("今年以来，代表工作稳步推进。")
    document.add_paragraph("一、主要工作")
    document.add_paragraph("（一）加强代表联络")
    document.add_paragraph("1.建好联络站")
    document.add_paragraph("（1）完善制度")
    document.add_paragraph("各联络站普遍建立了接待制度。")
    document.add_paragraph("")
    document.add_paragraph(SEND)
    document.add_paragraph("责任编辑：王小益 联系方式：0731—85309270 hnrldgwxrc@163.com")
    document.add_paragraph("批准文号：湘党简准字〔2000〕第 28 号")
    document.save(str(path))


@pytest.mark.parametrize("make", [docx_with_styles, docx_without_styles])
def test_import_docx(tmp_path, make):
    root = project_without_13(tmp_path)
    make(root / "input.docx")
    result = liandong("import", "input.docx", cwd=root)
    assert result.returncode == 0, result.stderr
    expected = CASES / make.__name__
    assert result.stderr == _expected_stderr(make.__name__, result.stderr)
    _assert_sources(root, expected / "expected", result)
    problems: list = []
    assert load_issues(root, [root / ISSUE], problems) and not problems


# --- Refusals -----------------------------------------------------------------------------


def test_existing_issue_is_refused(tmp_path):
    root = make_project(tmp_path)
    before = {path: path.read_bytes() for path in (root / ISSUE).iterdir()}
    result = liandong("import", str(SAMPLE_TEXT), cwd=root)
    assert result.returncode == 1
    assert result.stderr == (
        f"错误：{SAMPLE_TEXT}: issues/2024/13 已经存在：liandong import 不会覆盖已有的一期"
        "（2024 年第 13 期）。如要重新导入，请先把这个文件夹移走\n"
    )
    assert {path: path.read_bytes() for path in (root / ISSUE).iterdir()} == before
    assert result.stdout == ""


def test_existing_empty_folder_is_used(tmp_path):
    """An empty folder holds nothing to lose: the import fills it."""
    root = project_without_13(tmp_path)
    (root / ISSUE).mkdir()
    result = liandong("import", str(SAMPLE_TEXT), cwd=root)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (root / ISSUE).iterdir()) == ["01.md", "issue.yaml"]


def test_missing_file(tmp_path):
    root = project_without_13(tmp_path)
    result = liandong("import", "没有这个文件.txt", cwd=root)
    assert (result.returncode, result.stderr) == (1, "错误：没有这个文件.txt: 找不到要导入的文件\n")


def test_outside_a_project(tmp_path):
    result = liandong("import", str(SAMPLE_TEXT), cwd=tmp_path)
    assert result.returncode == 1
    assert "找不到 issues/series.yaml" in result.stderr


def test_help_is_chinese():
    result = liandong("import", "--help", cwd=REPO)
    assert result.returncode == 0
    assert "把已发表的一期（或许多期）导入为稿件" in result.stdout and "用法：" in result.stdout


# --- Pieces -------------------------------------------------------------------------------


def test_sentences_join_back_to_the_paragraph():
    text = "他说：“好！”然后走了。这是第二句？是的。。最后“引号。”结尾 没有句号"
    lines = sentences(text)
    assert "".join(lines) == text
    assert lines == [
        "他说：“好！”",
        "然后走了。",
        "这是第二句？",
        "是的。。",
        "最后“引号。”",
        "结尾 没有句号",
    ]


@pytest.mark.parametrize(
    "text, parts",
    [
        ("标题： 副标题", ("标题", "副标题")),
        ("标题 ——副标题", ("标题", "——副标题")),
        ("沈晓明：切实做好代表工作", ("沈晓明：切实做好代表工作", None)),  # a colon inside a title
        ("一个标题", ("一个标题", None)),
    ],
)
def test_split_title(text, parts):
    assert split_title(text) == parts


# --- The sample: issue 13 as published → the hand-made issue 13 -------------------------------


def _content(yaml_text: str) -> str:
    """issue.yaml without its comment lines (the import says where it came from) and its 状态:
    an imported issue is a draft until the editor has checked it and signs it off."""
    return "\n".join(line for line in yaml_text.splitlines() if not line.startswith(("#", "状态:")))


def _structure(root: Path, repair: bool) -> dict:
    """Every field, paragraph, heading, title and list item of issue 13 as the build sees it."""
    problems: list = []
    (issue,) = load_issues(root, [root / ISSUE], problems)
    assert not problems

    def text(value: str) -> str:
        return value.translate(REPAIRS) if repair else value

    return {
        "masthead": (issue.name, issue.number, issue.total, issue.date, text(issue.compiler.value)),
        "note": [text(block.text) for block in issue.note],
        "articles": [
            (
                text(a.title.value),
                a.subtitle and text(a.subtitle.value),
                [(block.level, text(block.text)) for block in a.blocks],
            )
            for a in issue.articles
        ],
        "distribution": [
            (key, [text(item.value) for item in items]) for key, items in issue.distribution
        ],
        "colophon": [
            issue.editor and text(issue.editor.value),
            issue.contact and text(issue.contact.value),
            text(issue.approval.value),
            issue.print_count,
        ],
    }


def _pdf_text(pdf: Path) -> str:
    """The printed text without line breaks and page numbers: half-width commas are narrower,
    so the raw import breaks its lines and pages elsewhere."""
    out = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    lines = [line for line in out.splitlines() if not re.fullmatch(r"\s*—\s*\d+\s*—\s*", line)]
    return re.sub(r"\s+", "", "".join(lines))


def test_sample_reproduces_issue_13(tmp_path, sample_build):
    root = project_without_13(tmp_path)
    result = liandong("import", str(SAMPLE_TEXT), cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["issues/2024/13/issue.yaml", "issues/2024/13/01.md"]
    imported, hand_made = root / ISSUE, REPO / ISSUE
    assert sorted(p.name for p in imported.iterdir()) == sorted(p.name for p in hand_made.iterdir())

    # The sources, line by line, differ only by the half-width marks check --fix repairs.
    article = (imported / "01.md").read_text(encoding="utf-8")
    assert article.translate(REPAIRS) == (hand_made / "01.md").read_text(encoding="utf-8")
    issue_yaml = _content((imported / "issue.yaml").read_text(encoding="utf-8"))
    assert issue_yaml.translate(REPAIRS) == _content(
        (hand_made / "issue.yaml").read_text(encoding="utf-8")
    )

    # The text is raw: every half-width comma of the published text is still there for check.
    published = SAMPLE_TEXT.read_text(encoding="utf-8")
    assert article.count(",") + issue_yaml.count(",") == published.count(",") > 0

    # Field by field, as the build reads them.
    assert _structure(root, repair=True) == _structure(REPO, repair=False)

    # Built, the PDF's text is the hand-made issue's, but for the same marks.
    out = tmp_path / "out"
    liandong("build", "13", "--out", str(out), cwd=root, check=True)
    assert _pdf_text(out / "2024-13.pdf").translate(REPAIRS) == _pdf_text(sample_build["pdf"])


def test_check_fix_turns_the_imported_sample_into_issue_13(tmp_path, sample_build):
    """The editor's round: import the published text, check lists its half-width commas,
    --fix repairs them, check is then clean, and the build prints issue 13's text."""
    root = project_without_13(tmp_path)
    liandong("import", str(SAMPLE_TEXT), cwd=root, check=True)
    published_commas = SAMPLE_TEXT.read_text(encoding="utf-8").count(",")

    listed = liandong("check", "13", cwd=root)
    assert listed.returncode == 0, listed.stderr
    comma_lines = [line for line in listed.stdout.splitlines() if "半角“,”" in line]
    assert len(comma_lines) == published_commas > 0
    assert all(
        re.match(r"issues/2024/13/(issue\.yaml|01\.md):\d+:\d+: ", line) for line in comma_lines
    )

    fixed = liandong("check", "13", "--fix", cwd=root)
    assert fixed.returncode == 0, fixed.stderr
    clean = liandong("check", "13", "--strict", cwd=root)
    assert clean.returncode == 0, clean.stderr
    assert "没有发现问题" in clean.stdout + clean.stderr

    # The repaired sources are the hand-made ones, but for the import's provenance comment.
    assert (root / ISSUE / "01.md").read_bytes() == (REPO / ISSUE / "01.md").read_bytes()
    assert _content((root / ISSUE / "issue.yaml").read_text(encoding="utf-8")) == _content(
        (REPO / ISSUE / "issue.yaml").read_text(encoding="utf-8")
    )

    out = tmp_path / "out"
    liandong("build", "13", "--out", str(out), cwd=root, check=True)
    assert _pdf_text(out / "2024-13.pdf") == _pdf_text(sample_build["pdf"])


# --- Limits (issue 14, 8): checked before reading, memory stays bounded -------------------------

MEMORY = 1024 * 1024 * 1024
"""Address space the command may use in these tests: a file of a gigabyte read whole, or a
zip bomb inflated, does not fit; liandong refusing it does."""


def _import_with_little_memory(root: Path, name: str) -> subprocess.CompletedProcess:
    import resource
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    exe = Path(sys.executable).with_name("liandong")
    return subprocess.run(
        [str(exe), "import", name],
        cwd=root,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=300,
    )


def test_a_huge_text_file_is_refused_before_it_is_read(tmp_path):
    """A 414 MB text file was imported (1.7 GB of memory, a 432 MB issue.yaml)."""
    root = project_without_13(tmp_path)
    with open(root / "huge.txt", "wb") as handle:
        handle.truncate(414 * 1024 * 1024)  # sparse: no disk used
    result = _import_with_little_memory(root, "huge.txt")
    assert result.returncode == 1
    assert result.stderr == (
        "错误：huge.txt: 文件有 414.0 MB，超过 1 MB 的上限"
        "（limits.IMPORT_TEXT_BYTES）：这不像是一期简报，没有导入\n"
    )
    assert not (root / ISSUE).exists()


def _docx_bomb(path: Path, inflated: int) -> Path:
    """A .docx whose document.xml inflates to `inflated` bytes (a few MB on disk)."""
    import io
    import zipfile

    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(buffer)
    chunk = b"<w:p/>" * (1 << 17)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                bomb.writestr(item, source.read(item))
                continue
            xml = source.read(item)
            head, tail = xml.split(b"<w:body>")
            with bomb.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                for _ in range(inflated // len(chunk)):
                    part.write(chunk)
                part.write(tail)
    return path


def test_a_zip_bomb_docx_is_refused_within_the_limits(tmp_path):
    """A .docx that inflates to a gigabyte used 3.2 GB before "文件已损坏"."""
    root = project_without_13(tmp_path)
    _docx_bomb(root / "bomb.docx", 1024 * 1024 * 1024)
    assert (root / "bomb.docx").stat().st_size < 8 * 1024 * 1024
    result = _import_with_little_memory(root, "bomb.docx")
    assert result.returncode == 1
    assert result.stderr == (
        "错误：bomb.docx: Word 文档的 word/document.xml 解压后超过 16 MB 的上限"
        "（limits.DOCX_PART_BYTES）：文件已损坏或不是一期简报，没有导入\n"
    )
    assert not (root / ISSUE).exists()


def _declare(path: Path, member: str, size: int) -> Path:
    """The zip with `member`'s declared (uncompressed) size rewritten, its data unchanged."""
    import struct

    data = bytearray(path.read_bytes())
    # Rewrite the declared size in the local and central headers
    # (the 32-bit field, or the zip64 extra field where the 32-bit one says 0xFFFFFFFF).
    for signature, size_at, name_length_at, name_at in (
        (b"PK\x01\x02", 24, 28, 46),
        (b"PK\x03\x04", 22, 26, 30),
    ):
        at = data.find(signature)
        while at != -1:
            length = struct.unpack("<H", data[at + name_length_at : at + name_length_at + 2])[0]
            if data[at + name_at : at + name_at + length] == member.encode():
                if data[at + size_at : at + size_at + 4] == b"\xff\xff\xff\xff":
                    extra = at + name_at + length
                    data[extra + 4 : extra + 12] = struct.pack("<Q", size)
                else:
                    data[at + size_at : at + size_at + 4] = struct.pack("<I", size)
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    return path


def test_a_docx_part_that_holds_more_than_it_declares_is_refused(tmp_path):
    """A part whose header claims a small size but inflates further: never read past it."""
    root = project_without_13(tmp_path)
    _declare(_docx_bomb(root / "liar.docx", 64 * 1024 * 1024), "word/document.xml", 1024)
    result = _import_with_little_memory(root, "liar.docx")
    assert result.returncode == 1
    assert result.stderr == (
        "错误：liar.docx: 无法读取 Word 文档：文件已损坏，或不是 .docx 格式；"
        "请在 Word/WPS 中重新另存为 .docx\n"
    )


# --- PDF (issue 13): read by fonts, sizes, colours and positions -------------------------------


def _import_pdf(
    tmp: Path, pdf: Path, name: str = "2024-13.pdf"
) -> tuple[Path, subprocess.CompletedProcess]:
    root = project_without_13(tmp)
    shutil.copy(pdf, root / name)
    return root, liandong("import", name, cwd=root)


def _assert_issue_13_sources(root: Path) -> None:
    """The imported sources are the repository's issue 13, byte for byte, but for what the
    import says it cannot know: its provenance comment and 状态 (an import is a draft)."""
    imported, hand_made = root / ISSUE, REPO / ISSUE
    assert sorted(p.name for p in imported.iterdir()) == sorted(p.name for p in hand_made.iterdir())
    assert (imported / "01.md").read_bytes() == (hand_made / "01.md").read_bytes()
    ours = (imported / "issue.yaml").read_text(encoding="utf-8").splitlines()
    theirs = (hand_made / "issue.yaml").read_text(encoding="utf-8").splitlines()
    assert ours[1] == "# 由 liandong import 从 2024-13.pdf 导入：请与原件核对。"
    assert [line for line in ours if line != ours[1]] == [
        line for line in theirs if not line.startswith("状态:")
    ]


def _glyphs(pdf: Path) -> list[list[tuple]]:
    """Every drawn character of every page: its text, font, size and position."""
    import pdfplumber

    with pdfplumber.open(pdf) as document:
        return [
            [
                (
                    c["text"],
                    c["fontname"].split("+")[-1],
                    round(c["size"], 2),
                    round(c["x0"], 2),
                    round(c["top"], 2),
                )
                for c in page.chars
            ]
            for page in document.pages
        ]


def _pdftotext(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_pdf_of_issue_13_imports_back_to_its_sources(tmp_path, sample_build):
    root, result = _import_pdf(tmp_path, sample_build["pdf"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["issues/2024/13/issue.yaml", "issues/2024/13/01.md"]
    _assert_issue_13_sources(root)

    # Rebuilt, the PDF prints the same text, in the same fonts, at the same places.
    out = tmp_path / "out"
    liandong("build", "13", "--out", str(out), cwd=root, check=True)
    assert _pdftotext(out / "2024-13.pdf") == _pdftotext(sample_build["pdf"])
    assert _glyphs(out / "2024-13.pdf") == _glyphs(sample_build["pdf"])


def _untagged(pdf: Path, path: Path) -> Path:
    """The PDF without its structure tree, as Word and WPS usually write theirs."""
    import pikepdf

    with pikepdf.open(pdf) as document:
        del document.Root["/StructTreeRoot"]
        del document.Root["/MarkInfo"]
        document.save(path)
    return path


def test_the_pdf_of_issue_13_imports_without_its_tags(tmp_path, sample_build):
    """The layout alone gives the same sources: the tag tree is used, not needed."""
    untagged = _untagged(sample_build["pdf"], tmp_path / "untagged.pdf")
    root, result = _import_pdf(tmp_path / "p", untagged)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    _assert_issue_13_sources(root)


def test_the_tag_tree_says_where_a_paragraph_ends(tmp_path, sample_build):
    """Two paragraphs whose P elements are made one in the tag tree import as one: where the
    PDF is tagged, its paragraphs are the tree's."""
    import pikepdf

    tagged = tmp_path / "merged.pdf"
    with pikepdf.open(sample_build["pdf"]) as document:
        article = _find(document.Root.StructTreeRoot, "/Art")
        paragraphs = [kid for kid in article.K if kid.get("/S") == "/P"]
        first, second = paragraphs[1], paragraphs[2]  # the first body paragraphs
        kids = list(first.K) + list(second.K)
        for kid in second.K:
            if isinstance(kid, pikepdf.Dictionary) and "/P" in kid:
                kid.P = first
        first.K = pikepdf.Array(kids)
        article.K = pikepdf.Array([kid for kid in article.K if kid.objgen != second.objgen])
        document.save(tagged)
    root, result = _import_pdf(tmp_path / "p", tagged)
    assert result.returncode == 0, result.stderr
    body = (root / ISSUE / "01.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    hand_made = (REPO / ISSUE / "01.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert body == hand_made.replace("情况。\n\n乙烯项目", "情况。\n乙烯项目", 1)


def _find(element, kind: str):
    """The first structure element of a type, depth first."""
    import pikepdf

    kids = element.get("/K")
    for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            if kid.S == kind:
                return kid
            found = _find(kid, kind)
            if found is not None:
                return found
    return None


# --- PDF refusals and limits --------------------------------------------------------------


def test_a_pdf_without_text_is_refused(tmp_path):
    """A scanned issue has pictures of pages, no text."""
    root = project_without_13(tmp_path)
    blank_pdf(root / "scan.pdf")
    result = liandong("import", "scan.pdf", cwd=root)
    assert (result.returncode, result.stderr) == (
        1,
        (
            "错误：scan.pdf: PDF 里没有可以提取的文字（可能是扫描件或图片）：扫描件要先做文字识别（OCR），"
            "无法直接导入\n"
        ),
    )
    assert not (root / ISSUE).exists()


def test_an_encrypted_pdf_is_refused(tmp_path, sample_build):
    import pikepdf

    root = project_without_13(tmp_path)
    with pikepdf.open(sample_build["pdf"]) as pdf:
        pdf.save(root / "locked.pdf", encryption=pikepdf.Encryption(user="secret", owner="secret"))
    result = liandong("import", "locked.pdf", cwd=root)
    assert (result.returncode, result.stderr) == (
        1,
        "错误：locked.pdf: PDF 设有密码，无法导入；请用不加密的 PDF\n",
    )
    assert not (root / ISSUE).exists()


def test_a_huge_pdf_is_refused_before_it_is_read(tmp_path):
    root = project_without_13(tmp_path)
    with open(root / "huge.pdf", "wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(300 * 1024 * 1024)  # sparse: no disk used
    result = _import_with_little_memory(root, "huge.pdf")
    assert result.returncode == 1
    assert result.stderr == (
        "错误：huge.pdf: 文件有 300.0 MB，超过 64 MB 的上限"
        "（limits.PDF_BYTES）：这不像是一期简报，没有导入\n"
    )
    assert not (root / ISSUE).exists()


def test_a_pdf_whose_content_inflates_past_the_limit_is_refused(tmp_path):
    """Preflight's limits on what a PDF decodes to hold for import too."""
    root = project_without_13(tmp_path)
    bomb = blank_pdf(
        root / "bomb.pdf", content=b"BT /F1 12 Tf (x) Tj ET\n", inflated=512 * 1024 * 1024
    )
    assert bomb.stat().st_size < 4 * 1024 * 1024
    result = _import_with_little_memory(root, "bomb.pdf")
    assert result.returncode == 1
    assert result.stderr == (
        "错误：bomb.pdf: 内容解压后超过 128 MB 的上限（limits.PDF_DECODED_BYTES）："
        "不像是一期简报，可能是恶意构造的文件，未导入\n"
    )
    assert not (root / ISSUE).exists()


def test_a_pdf_of_too_many_pages_is_refused(tmp_path):
    from liandong import limits

    root = project_without_13(tmp_path)
    blank_pdf(root / "many.pdf", pages=limits.PDF_PAGES + 1)
    result = _import_with_little_memory(root, "many.pdf")
    assert result.returncode == 1
    assert result.stderr == (
        f"错误：many.pdf: 共 {limits.PDF_PAGES + 1} 页，超过 {limits.PDF_PAGES} "
        "页的上限（limits.PDF_PAGES），未导入\n"
    )


# --- Several files or a folder: each into its own issue, then a report ---------------------------


def _as_issue(case: str, number: int, path: Path) -> Path:
    """A text case of issue 13 made into issue `number` of 2024."""
    text = (CASES / case / "input.txt").read_text(encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("第 13 期", f"第 {number} 期"), encoding="utf-8")
    return path


def test_several_files_are_imported_each_into_its_issue_with_a_report(tmp_path, sample_build):
    root = project_without_13(tmp_path)
    shutil.copy(sample_build["pdf"], root / "2024-13.pdf")
    _as_issue("numbered_headings", 14, root / "14.txt")  # imports, with a notice
    (root / "broken.pdf").write_bytes(b"%PDF-1.7\n%%EOF\n")
    shutil.copy(sample_build["pdf"], root / "again.pdf")  # issue 13 again: there by then
    before = (root / "issues" / "series.yaml").read_bytes()
    result = liandong("import", "2024-13.pdf", "14.txt", "broken.pdf", "again.pdf", cwd=root)
    assert result.returncode == 1
    assert result.stdout == (
        "issues/2024/13/issue.yaml\n"
        "issues/2024/13/01.md\n"
        "issues/2024/14/issue.yaml\n"
        "issues/2024/14/01.md\n"
        "导入结果：共 4 个文件，已导入 2 个（其中 1 个需要核对），未导入 2 个。\n"
        "已导入（1）：\n"
        "  2024-13.pdf → issues/2024/13\n"
        "需要核对（1）：\n"
        "  14.txt → issues/2024/14\n"
        "    issues/2024/14/01.md:17:1: 2级标题（##）应以“（一）”这样的序号开头\n"
        "    导入的稿件还有上面 1 处问题，请修改后再生成（半角标点可用 liandong check --fix 修正）\n"
        "未导入（2）：\n"
        "  broken.pdf: 无法读取 PDF：文件已损坏，或不是 PDF 文件\n"
        "  again.pdf: issues/2024/13 已经存在：liandong import 不会覆盖已有的一期（2024 年第 13 期）。"
        "如要重新导入，请先把这个文件夹移走\n"
    )
    # Each problem was also said as it was found, with its file.
    assert result.stderr == (
        "注意：issues/2024/14/01.md:17:1: 2级标题（##）应以“（一）”这样的序号开头\n"
        "注意：导入的稿件还有上面 1 处问题，请修改后再生成（半角标点可用 liandong check --fix 修正）\n"
        "错误：broken.pdf: 无法读取 PDF：文件已损坏，或不是 PDF 文件\n"
        "错误：again.pdf: issues/2024/13 已经存在：liandong import 不会覆盖已有的一期（2024 年第 13 期）。"
        "如要重新导入，请先把这个文件夹移走\n"
    )
    _assert_issue_13_sources(root)  # the first import of 13 stands: never overwritten
    assert (root / "issues" / "series.yaml").read_bytes() == before


def test_a_folder_is_imported_in_natural_order_with_its_subfolders(tmp_path):
    root = project_without_13(tmp_path)
    archive = root / "往期"
    _as_issue("two_articles", 13, archive / "第13期.txt")
    _as_issue("two_articles", 2, archive / "2024" / "第2期.txt")
    _as_issue("two_articles", 10, archive / "2024" / "第10期.txt")
    (archive / "说明.doc").write_bytes(b"not imported: not searched for in a folder")
    (archive / "~$第13期.docx").write_bytes(b"Word's lock file")
    (archive / ".hidden.txt").write_text("x", encoding="utf-8")
    result = liandong("import", "往期", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-4:] == [
        "已导入（3）：",
        "  往期/2024/第2期.txt → issues/2024/2",
        "  往期/2024/第10期.txt → issues/2024/10",
        "  往期/第13期.txt → issues/2024/13",
    ]
    assert (
        result.stdout.splitlines()[-5]
        == "导入结果：共 3 个文件，已导入 3 个（其中 0 个需要核对），未导入 0 个。"
    )


def test_a_folder_without_files_to_import_is_refused(tmp_path):
    root = project_without_13(tmp_path)
    (root / "空的").mkdir()
    (root / "空的" / "说明.doc").write_bytes(b"x")
    result = liandong("import", "空的", cwd=root)
    assert result.returncode == 1
    assert result.stdout == (
        "导入结果：共 1 个文件，已导入 0 个（其中 0 个需要核对），未导入 1 个。\n"
        "未导入（1）：\n"
        "  空的: 文件夹里没有可以导入的文件（.pdf、.docx、.txt）\n"
    )


def test_no_file_is_a_usage_error():
    result = liandong("import", cwd=REPO)
    assert result.returncode == 2
    assert "缺少参数" in result.stderr


# --- The corpus, built to PDF and imported back --------------------------------------------------

CORPUS = REPO / "tests" / "corpus"
ROUND_TRIP = ["2024/16", "2024/17", "2024/20", "2025/3", "2025/10", "2025/11", "2025/13"]
"""Corpus issues whose PDF imports back to their sources: headings at four levels and rare
names (2024/16), Latin, digits and an English sentence (2024/17), long titles and a two-line
subtitle (2024/20), a 版记 without the series' 送 (2025/3), a one-line paragraph alone on page 2
(2025/10), a 版记 of 43 units (2025/11), bold run-in headings (2025/13)."""


SAME_FORMS = {
    "2025/16": "a run-in heading's text broken mid-sentence by the editor, a space after “1.” "
    "(not printed), a list item on two lines",
    "2025/17": "columns aligned right by the delimiter row (------:), which numbers are anyway",
    "2025/18": "the photos' file names (照片/接待.jpg comes back as 图1.jpg)",
}
"""Corpus issues whose PDF imports to sources that differ only in how they are written: every
block the same (kind, level, run-in phrase, text, bold), the rebuilt PDF's text the same."""


@pytest.fixture(scope="module")
def corpus_pdfs(tmp_path_factory, corpus_build) -> dict[str, Path]:
    """The corpus issues' PDFs as `liandong build` writes them (conftest.corpus_build renders
    the same bytes, once per run), each issue one that build accepts."""
    out = tmp_path_factory.mktemp("corpus-pdf")
    built = {}
    for name in [*ROUND_TRIP, "2024/21", "2024/24", *SAME_FORMS]:
        item = corpus_build[name]
        assert item.pdf is not None and not item.refused, (name, item.refused)
        year, number = name.split("/")
        built[name] = out / f"{year}-{int(number):02d}.pdf"
        built[name].write_bytes(item.pdf)
    return built


def _import_corpus_issue(tmp: Path, name: str, pdf: Path) -> Path:
    root = tmp / "project"
    shutil.copytree(CORPUS / "issues", root / "issues")
    shutil.rmtree(root / "issues" / name)
    liandong("import", str(pdf), cwd=root, check=True)
    return root


def _settings(path: Path) -> dict:
    """issue.yaml's values, but 状态 (an import is a draft); an empty list as no value."""
    import yaml

    values = yaml.safe_load(path.read_text(encoding="utf-8"))
    values.pop("状态", None)
    return {key: value if value != [] else None for key, value in values.items()}


def _differences(root: Path, name: str) -> list[str]:
    imported, original = root / "issues" / name, CORPUS / "issues" / name
    found = []
    if sorted(p.name for p in imported.iterdir()) != sorted(p.name for p in original.iterdir()):
        found.append("files")
    if _settings(imported / "issue.yaml") != _settings(original / "issue.yaml"):
        found.append("issue.yaml")
    found += [
        md.name
        for md in sorted(original.glob("*.md"))
        if (imported / md.name).exists() and (imported / md.name).read_bytes() != md.read_bytes()
    ]
    return found


@pytest.mark.parametrize("tags", ["tagged", "untagged"])
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_a_corpus_issue_imports_back_to_its_sources(tmp_path, corpus_pdfs, name, tags):
    pdf = (
        corpus_pdfs[name] if tags == "tagged" else _untagged(corpus_pdfs[name], tmp_path / "u.pdf")
    )
    root = _import_corpus_issue(tmp_path, name, pdf)
    assert _differences(root, name) == []


def test_a_title_broken_by_the_editor_comes_back_whole(tmp_path, corpus_pdfs):
    """2024/21 breaks its titles by hand (a | block, a folded line): the PDF cannot tell a
    chosen break from the title breaker's, so the import writes each title on one line and
    leaves the breaking to liandong. All else is the same."""
    root = _import_corpus_issue(tmp_path, "2024/21", corpus_pdfs["2024/21"])
    assert _differences(root, "2024/21") == ["01.md", "02.md"]
    for md in ("01.md", "02.md"):
        imported = (root / "issues/2024/21" / md).read_text(encoding="utf-8")
        original = (CORPUS / "issues/2024/21" / md).read_text(encoding="utf-8")
        assert imported.split("---\n")[2] == original.split("---\n")[2]  # the bodies
    assert "标题: 学习贯彻党的二十届三中全会精神全省人大代表履职培训班在长沙举办\n" in (
        root / "issues/2024/21/01.md"
    ).read_text(encoding="utf-8")


def test_sentences_the_editor_kept_on_one_line_come_back_one_per_line(tmp_path, corpus_pdfs):
    """2024/24 keeps two sentences on one source line: the import writes one sentence per
    line; the rebuilt PDF prints the same text."""
    root = _import_corpus_issue(tmp_path, "2024/24", corpus_pdfs["2024/24"])
    assert _differences(root, "2024/24") == ["01.md"]
    out = tmp_path / "out"
    liandong("build", "2024/24", "--out", str(out), cwd=root, check=True)
    assert _pdftotext(out / "2024-24.pdf") == _pdftotext(corpus_pdfs["2024/24"])


# --- What the import writes prints as it reads (docs/syntax.md, 7 and 9) ----------------------


def _parsed(markdown: str) -> tuple[list, list, list]:
    from liandong.source import SourceFile, parse_blocks

    source = SourceFile(Path("01.md"), "01.md", markdown)
    problems: list = []
    notices: list = []
    return parse_blocks(source, 0, len(markdown), problems, notices), problems, notices


@pytest.mark.parametrize(
    "text",
    [
        "说明：*号表示必填项*，4*4 得 16，a_b 与 __ 原样印出。",
        "加粗写作 **文字**，四个星号 **** 也照印。",
        "路径 C:\\文件 和 a\\*b 里的反斜杠照印。",
        "链接写法 [文字](www.hnrd.gov.cn) 与脚注 [^1]、[甲][乙] 都照印。",
        "尖括号 <b> 与 <https://www.hnrd.gov.cn> 以及 &nbsp; 都照印。",
        "会议提出。# 不是标题。- 不是列表。1. 不是编号。| 不是表格。> 不是引用。",
        "第一句。注：这不是注释块的开头。",
        "第一句。![图](a.jpg) 不是图片。",
        "第一句。--- 不是分隔线。",
    ],
)
def test_imported_text_prints_as_it_reads(text):
    from liandong.importer import Article, Text, article_markdown

    markdown = article_markdown(Article("标题", None, [Text(text)]))
    body = markdown.split("---\n", 2)[2]
    blocks, problems, notices = _parsed(body)
    assert (problems, notices) == ([], [])
    assert [type(block).__name__ for block in blocks] == ["Block"]
    assert blocks[0].text == text and all(not run.strong for run in blocks[0].runs)


def test_bold_runs_and_run_in_headings_are_written_in_the_forms_syntax():
    from liandong.importer import Article, Text, article_markdown

    blocks = [
        Text("（一）完善接待制度。代表每月进社区接待群众一次。现场收集意见建议。", 2, 10),
        Text("一是完善制度体系。市人大常委会修订了工作规则。", strong=[(0, 9)]),
    ]
    markdown = article_markdown(Article("标题", None, blocks))
    assert markdown.split("---\n", 2)[2] == (
        "\n## （一）完善接待制度。代表每月进社区接待群众一次。\n现场收集意见建议。\n"
        "\n**一是完善制度体系。**市人大常委会修订了工作规则。\n"
    )
    parsed, problems, notices = _parsed(markdown.split("---\n", 2)[2])
    assert (problems, notices) == ([], [])
    assert (parsed[0].level, parsed[0].lead, parsed[0].text) == (2, 10, blocks[0].text)
    assert [(run.text, run.strong) for run in parsed[1].runs] == [
        ("一是完善制度体系。", True),
        ("市人大常委会修订了工作规则。", False),
    ]


def test_a_pdf_laid_out_as_word_lays_one_out_imports(tmp_path):
    """Not liandong's layout: the same margins on every page, ragged lines, a Song body, Hei
    and Kai headings, bold and Kai run-in headings, a centred page number, the 版记 in a ruled
    table running onto a third page, no tags (fixtures/import/word_pdf/layout.html, rendered
    here by WeasyPrint itself)."""
    import weasyprint

    root = project_without_13(tmp_path)
    case = CASES / "word_pdf"
    weasyprint.HTML(case / "layout.html").write_pdf(root / "input.pdf")
    result = liandong("import", "input.pdf", cwd=root)
    assert result.returncode == 0, result.stderr
    _assert_sources(root, case / "expected", result)
    problems: list = []
    assert load_issues(root, [root / ISSUE], problems) and not problems


# --- Issue 13's done criterion: a Word file with the new forms, made here with python-docx -------

RUN_IN = "（一）联络站建设全面铺开。"
ITEMS = ["加强阵地建设；", "完善工作制度；", "提升履职实效。"]
TABLE = [
    ["地区", "联络站（个）", "代表（人）", "覆盖率"],
    ["长沙市", "1,268", "3,150", "98.5%"],
    ["株洲市", "562", "1,420", "96%"],
]
"""A 3×4 table: a header row and two body rows of four columns."""
PHOTO_MM = 120


def _photo() -> bytes:
    """A photo-like JPEG: a colour gradient, 2400 × 1600 pixels (508 dpi at 120 mm)."""
    import io

    from PIL import Image

    gradient = Image.linear_gradient("L")  # dark to light, top to bottom
    photo = Image.merge(
        "RGB",
        (
            gradient.resize((2400, 1600)),
            gradient.rotate(90).resize((2400, 1600)),
            Image.new("L", (2400, 1600), 90),
        ),
    )
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def docx_with_forms(path: Path, photo: bytes) -> None:
    import io

    import docx
    from docx.shared import Mm

    document = docx.Document()
    _masthead(document, styled=True)
    document.add_paragraph("代表联络站建设现场推进会召开", style="Title")
    document.add_paragraph("推动代表履职常态化", style="Subtitle")
    document.add_paragraph("今年以来，各地代表联络站建设取得新进展。")
    paragraph = document.add_paragraph()
    paragraph.add_run(RUN_IN).bold = True  # a bold run-in heading, as Word users set one
    paragraph.add_run("各市州把联络站建设作为闭会期间代表工作的重要载体。")
    document.add_paragraph("会议提出三点要求：")
    for item in ITEMS:
        document.add_paragraph(item, style="List Bullet")
    document.add_paragraph("表1　2024年部分市州代表联络站建设情况")
    table = document.add_table(rows=len(TABLE), cols=len(TABLE[0]))
    for row, values in enumerate(TABLE):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    document.add_picture(io.BytesIO(photo), width=Mm(PHOTO_MM))
    document.add_paragraph("图1　株洲市代表联络站接待群众")
    document.add_paragraph("会议要求，进一步完善工作机制。")
    document.add_paragraph(SEND)
    document.add_paragraph("责任编辑：王小益 联系方式：0731—85309270 hnrldgwxrc@163.com")
    document.add_paragraph("批准文号：湘党简准字〔2000〕第 28 号")
    document.save(str(path))


@pytest.fixture(scope="module")
def forms_issue(tmp_path_factory) -> dict:
    """The Word file imported, checked (--fix, then --strict) and built."""
    tmp = tmp_path_factory.mktemp("forms")
    root = project_without_13(tmp)
    photo = _photo()
    docx_with_forms(root / "第13期.docx", photo)
    imported = liandong("import", "第13期.docx", cwd=root)
    fixed = liandong("check", "13", "--fix", cwd=root)
    strict = liandong("check", "13", "--strict", cwd=root)
    out = tmp / "out"
    built = liandong("build", "13", "--out", str(out), cwd=root)
    return {
        "root": root,
        "photo": photo,
        "imported": imported,
        "fixed": fixed,
        "strict": strict,
        "built": built,
        "pdf": out / "2024-13.pdf",
        "html": out / "2024-13.html",
    }


def test_a_word_file_with_the_new_forms_imports_checks_clean_and_builds(forms_issue):
    root = forms_issue["root"]
    assert forms_issue["imported"].returncode == 0, forms_issue["imported"].stderr
    assert forms_issue["imported"].stdout.splitlines() == [
        "issues/2024/13/issue.yaml",
        "issues/2024/13/01.md",
        "issues/2024/13/图1.jpg",
    ]
    # The photo is copied into the issue's folder as it was in the Word file.
    assert (root / ISSUE / "图1.jpg").read_bytes() == forms_issue["photo"]
    assert (root / ISSUE / "01.md").read_text(encoding="utf-8").split("---\n", 2)[2] == (
        "\n今年以来，各地代表联络站建设取得新进展。\n"
        f"\n## {RUN_IN}各市州把联络站建设作为闭会期间代表工作的重要载体。\n"
        "\n会议提出三点要求：\n"
        "\n"
        + "".join(f"- {item}\n" for item in ITEMS)
        + "\n表1　2024年部分市州代表联络站建设情况\n"
        + "".join(
            "| " + " | ".join(row) + " |\n" + ("|---|---|---|---|\n" if not n else "")
            for n, row in enumerate(TABLE)
        )
        + f"\n![图1　株洲市代表联络站接待群众](图1.jpg){{宽={PHOTO_MM}mm}}\n"
        "\n会议要求，进一步完善工作机制。\n"
    )
    for step in ("fixed", "strict", "built"):
        assert forms_issue[step].returncode == 0, forms_issue[step].stderr
    assert "没有发现问题" in forms_issue["strict"].stdout + forms_issue["strict"].stderr


def _pdf_lines(page) -> list[tuple[float, list[dict]]]:
    """A page's characters grouped by baseline (within 5 pt: a list's ● sits a little
    higher than its text), top to bottom, each line left to right."""
    lines: list[tuple[float, list[dict]]] = []
    for char in sorted(page.chars, key=lambda c: -c["matrix"][5]):
        base = char["matrix"][5]
        if lines and abs(lines[-1][0] - base) <= 5:
            lines[-1][1].append(char)
        else:
            lines.append((base, [char]))
    return [(base, sorted(chars, key=lambda c: c["x0"])) for base, chars in lines]


def _cells(chars: list[dict]) -> list[str]:
    """A table row's text cut into cells where a gap of more than a character separates them."""
    cells, previous = [""], None
    for char in chars:
        if previous is not None and char["x0"] - previous["x1"] > char["size"]:
            cells.append("")
        cells[-1] += char["text"]
        previous = char
    return cells


def test_the_pdf_prints_the_forms(forms_issue):
    """The table's cells in order, with rules; the list as separate items; the run-in heading's
    phrase in its face; the photo as an image."""
    import pdfplumber
    import pypdfium2

    with pdfplumber.open(forms_issue["pdf"]) as pdf:
        lines = [
            (page.page_number, base, chars)
            for page in pdf.pages
            for base, chars in _pdf_lines(page)
        ]
        texts = ["".join(c["text"] for c in chars) for _, _, chars in lines]

        # The run-in heading: one paragraph, its phrase in the subtitle's face (楷体), the
        # text going on in the body's face on the same line.
        subtitle_font = {c["fontname"] for c in lines[texts.index("推动代表履职常态化")][2]}
        body_font = {
            c["fontname"] for c in lines[texts.index("今年以来，各地代表联络站建设取得新进展。")][2]
        }
        (run_in,) = [
            chars for _, _, chars in lines if "".join(c["text"] for c in chars).startswith(RUN_IN)
        ]
        assert {c["fontname"] for c in run_in[: len(RUN_IN)]} == subtitle_font
        assert {c["fontname"] for c in run_in[len(RUN_IN) :]} == body_font
        assert subtitle_font != body_font

        # The list: each item on a line of its own, after its marker.
        start = texts.index("会议提出三点要求：") + 1
        assert texts[start : start + len(ITEMS)] == [f"●{item}" for item in ITEMS]

        # The table: caption, then each row's cells in order, then rules all round.
        caption = next(i for i, text in enumerate(texts) if text.startswith("表1"))
        rows = [_cells(chars) for _, _, chars in lines[caption + 1 : caption + 1 + len(TABLE)]]
        assert rows == TABLE
        page = pdf.pages[lines[caption][0] - 1]
        top = page.height - lines[caption + 1][1] - 28  # a row is a grid line (29 pt) high
        bottom = page.height - lines[caption + len(TABLE)][1] + 10
        # Rules are drawn cell by cell: where they run, not how long each piece is, counts.
        across = {
            round(e["top"])
            for e in page.edges
            if e["orientation"] == "h" and e["width"] > 20 and top <= e["top"] <= bottom
        }
        down = {
            round(e["x0"])
            for e in page.edges
            if e["orientation"] == "v"
            and e["height"] > 10
            and e["top"] >= top - 1
            and e["bottom"] <= bottom + 1
        }
        assert len(_merged(across)) == len(TABLE) + 1  # a rule above, between and under the rows
        assert len(_merged(down)) == len(TABLE[0]) + 1  # and left, between and right of the cells

        # The photo: one image, as wide as the Word file set it (less the little the grid takes
        # to round its height to whole lines), in its proportions; what is drawn there is it.
        ((number, image),) = [(p.page_number, i) for p in pdf.pages for i in p.images]
        assert 0.9 * PHOTO_MM * MM < image["width"] <= PHOTO_MM * MM + 0.5
        assert abs(image["width"] / image["height"] - 2400 / 1600) < 0.01
    document = pypdfium2.PdfDocument(forms_issue["pdf"])
    scale = 72 / 72
    bitmap = document[number - 1].render(scale=scale).to_pil()
    box = bitmap.crop(
        (
            int(image["x0"] * scale) + 2,
            int(image["top"] * scale) + 2,
            int(image["x1"] * scale) - 2,
            int(image["bottom"] * scale) - 2,
        )
    )
    # The photo's red runs dark to light from top to bottom, its green across.
    top, bottom = box.getpixel((box.width // 2, 2)), box.getpixel((box.width // 2, box.height - 3))
    left, right = box.getpixel((2, box.height // 2)), box.getpixel((box.width - 3, box.height // 2))
    assert bottom[0] - top[0] > 150 and abs(right[1] - left[1]) > 150
    document.close()


def _merged(positions: set[int]) -> list[int]:
    """Positions closer than 2 pt taken as one (a rule drawn as a thin box has two edges)."""
    result: list[int] = []
    for position in sorted(positions):
        if not result or position - result[-1] > 2:
            result.append(position)
    return result


def test_the_web_page_shows_the_forms(forms_issue, browser):
    """The same in a browser: the table's cells in order with rules, the list as separate
    items, the heading phrase in the 楷体 face, the photo shown."""
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(forms_issue["html"].as_uri())
    cells = page.eval_on_selector_all(
        "table tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    assert cells == TABLE
    borders = page.eval_on_selector_all(
        "table td, table th", "cells => cells.map(c => getComputedStyle(c).borderTopWidth)"
    )
    assert all(width != "0px" for width in borders)

    items = page.eval_on_selector_all(
        "ul li", "items => items.map(i => [i.textContent.trim(), i.getBoundingClientRect().top])"
    )
    assert [text for text, _ in items] == [f"●{item}" for item in ITEMS]
    assert len({top for _, top in items}) == len(ITEMS)  # one under the other

    phrase, phrase_font, text_font = page.evaluate("""() => {
        const heading = document.querySelector('.runin');
        const kai = heading.querySelector('.kai');
        return [kai.textContent, getComputedStyle(kai).fontFamily, getComputedStyle(heading).fontFamily];
    }""")
    assert phrase == RUN_IN
    assert phrase_font != text_font and "WenKai" in phrase_font

    shown = page.evaluate("""() => { const img = document.querySelector('figure img');
        return [img.complete && img.naturalWidth > 0, img.alt,
                document.querySelector('figure figcaption').textContent]; }""")
    assert shown == [True, "图1　株洲市代表联络站接待群众", "图1　株洲市代表联络站接待群众"]
    page.close()


def test_the_pdf_with_the_forms_imports_back_to_its_sources(forms_issue, tmp_path):
    """liandong's PDF of that issue imports back to the same sources (its tags give the list
    items, the table's cells and the figure's caption), but for the figure's width: the print
    rounds the photo's height to whole grid lines, so 120 mm comes back as what was printed."""
    root = project_without_13(tmp_path)
    shutil.copy(forms_issue["pdf"], root / "2024-13.pdf")
    result = liandong("import", "2024-13.pdf", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "issues/2024/13/issue.yaml",
        "issues/2024/13/01.md",
        "issues/2024/13/图1.jpg",
    ]
    original = (forms_issue["root"] / ISSUE / "01.md").read_text(encoding="utf-8")
    imported = (root / ISSUE / "01.md").read_text(encoding="utf-8")
    printed = re.search(r"\{宽=(\d+)mm\}", imported).group(1)
    assert 108 <= int(printed) < PHOTO_MM
    assert imported == original.replace(f"{{宽={PHOTO_MM}mm}}", f"{{宽={printed}mm}}")
    # The photo is the one the PDF holds (converted for print, in its proportions).
    from PIL import Image

    with Image.open(root / ISSUE / "图1.jpg") as photo:
        assert abs(photo.width / photo.height - 1.5) < 0.01


def _blocks(root: Path, name: str) -> list:
    """An issue as the build reads it: each block's kind, level, run-in phrase and text, the
    bold runs of its units; a figure's caption and width, not its file."""
    problems: list = []
    (issue,) = load_issues(root, [root / "issues" / name], problems)
    assert not problems, problems
    found = []
    for article in issue.articles:
        found.append(("article", article.title.value, article.subtitle and article.subtitle.value))
        for block in article.blocks:
            units = [[(run.text, run.strong) for run in unit.runs] for unit in block.units()]
            found.append(
                (
                    type(block).__name__,
                    getattr(block, "level", 0),
                    getattr(block, "lead", 0),
                    block.text,
                    units,
                    getattr(block, "width", None),
                )
            )
    return found


@pytest.mark.parametrize("name", SAME_FORMS)
def test_a_corpus_issue_imports_back_to_the_same_forms(tmp_path, corpus_pdfs, name):
    root = _import_corpus_issue(tmp_path, name, corpus_pdfs[name])
    # Written differently (and 2025/18's photos under other names) …
    assert _differences(root, name) == (["files", "01.md"] if name == "2025/18" else ["01.md"])
    assert _blocks(root, name) == _blocks(CORPUS, name)  # … the same blocks
    out = tmp_path / "out"
    liandong("build", name, "--out", str(out), cwd=root, check=True)
    year, number = name.split("/")
    pdf = f"{year}-{int(number):02d}.pdf"
    assert _pdftotext(out / pdf) == _pdftotext(corpus_pdfs[name])


def test_a_pdf_without_a_masthead_is_refused(tmp_path):
    """The Word-like layout without its masthead: refused at its first page, nothing written
    (a body line with a date in it is not taken for the masthead's)."""
    import weasyprint

    root = project_without_13(tmp_path)
    case = CASES / "word_pdf"
    html = (case / "layout.html").read_text(encoding="utf-8")
    start, end = html.index('<p class="name">'), html.index('<p><span class="label">')
    weasyprint.HTML(string=html[:start] + html[end:], base_url=str(case)).write_pdf(
        root / "input.pdf"
    )
    result = liandong("import", "input.pdf", cwd=root)
    assert (result.returncode, result.stderr) == (
        1,
        (
            "错误：input.pdf（第 1 页）: 找不到报头：文件开头应是刊名和“第 N 期”，这不像是一期已发表的简报\n"
        ),
    )
    assert not (root / ISSUE).exists()


def test_characters_a_pdf_gives_no_text_for_are_said(tmp_path, sample_build):
    """A font without its ToUnicode map (the 编者按's 楷体 here) gives glyphs, not characters:
    they are left out with a notice at their page, never imported as garbage."""
    import pikepdf

    root = project_without_13(tmp_path)
    with pikepdf.open(sample_build["pdf"]) as pdf:
        for font in pdf.pages[0].Resources.Font.values():
            if "WenKai" in str(font.BaseFont):
                del font["/ToUnicode"]
        pdf.save(root / "2024-13.pdf")
    result = liandong("import", "2024-13.pdf", cwd=root)
    assert result.returncode == 0, result.stderr
    kai = _glyphs_in(root / "2024-13.pdf", 0, "WenKai")
    assert result.stderr.splitlines()[0] == (
        f"注意：2024-13.pdf（第 1 页）: 有 {kai} 个字在 PDF 里没有对应的文字编码（字体缺少 Unicode 映射），"
        "导入时缺了这些字：请对照原件补上"
    )
    note = (root / ISSUE / "issue.yaml").read_text(encoding="utf-8").split("编者按: |\n")[1]
    assert set(note) <= set("“”‘’ \n")  # the note's quotes are set in 仿宋, which has its map


def _glyphs_in(pdf: Path, page: int, font: str) -> int:
    """How many characters a page draws in a font, as PDFium counts them (pdfplumber counts
    one fewer in the sample's 楷体: the count the notice gives is PDFium's)."""
    import ctypes

    import pypdfium2
    import pypdfium2.raw as raw

    document = pypdfium2.PdfDocument(pdf)
    textpage = document[page].get_textpage()
    name, flags, count = ctypes.create_string_buffer(256), ctypes.c_int(), 0
    for index in range(raw.FPDFText_CountChars(textpage)):
        if not raw.FPDFText_IsGenerated(textpage, index):
            length = raw.FPDFText_GetFontInfo(textpage, index, name, len(name), flags)
            count += font in name.raw[:length].decode("utf-8", "replace")
    document.close()
    return count
