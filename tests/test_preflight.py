"""Preflight: passes on the sample, fails on crafted bad PDFs with exact messages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest

from conftest import FIXTURES, REPO, blank_pdf, liandong, make_project
from liandong.fonts import Measurer, resolve_fonts
from liandong.project import select_folders
from liandong.render import PACKAGE_TEMPLATES, build_context, render_print, template_environment
from liandong.validate import load_issues

PASSED = """\
  ✓ 成品尺寸（裁切框）为 A4
  ✓ 字体全部嵌入
  ✓ 字体都是字体角色所定的字体
  ✓ 没有缺字（.notdef 空字形）
  ✓ 文字都在版心之内（页码除外）
  ✓ 版记在最后一页版心底部
  ✓ 页数为双数
预检通过。
"""

ROLES = "FandolFang、LXGW-WenKai、Noto-Sans-CJK-SC、Noto-Serif-CJK-SC"


@pytest.fixture(scope="module")
def renderer():
    from liandong.pdf import PdfRenderer

    return PdfRenderer()


def craft(tmp_path: Path, renderer, name: str, css: str = "", root: Path = REPO) -> Path:
    """The sample issue (or the project at root) rendered with extra print CSS: a bad PDF that
    `liandong build` would refuse to write."""
    fonts = resolve_fonts(root / "fonts")
    issue = load_issues(root, select_folders(root, "13", False), [])[0]
    context = build_context(issue, fonts, Measurer(fonts))
    html = render_print(template_environment(root), context).replace("</style>", css + "\n</style>")
    data = renderer.render(html, issue.folder, [PACKAGE_TEMPLATES, issue.folder])
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return path


def preflight(path: Path):
    return liandong("preflight", str(path), cwd=REPO)


def test_sample_passes(sample_build):
    result = preflight(sample_build["pdf"])
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"预检 {sample_build['pdf']}（共 4 页）\n" + PASSED


def test_print_shop_pdf_passes(tmp_path):
    liandong("build", "13", "--print-shop", "--out", str(tmp_path), cwd=REPO, check=True)
    result = preflight(tmp_path / "2024-13-print.pdf")
    assert result.returncode == 0, result.stdout
    assert result.stdout.endswith(PASSED)


def test_letter_size_page(tmp_path, renderer):
    pdf = craft(tmp_path, renderer, "letter", "@page { size: letter; }")
    result = preflight(pdf)
    assert result.returncode == 1
    # The content reflows on the shorter, wider page: every page is reported, and what the
    # reflow moves out of place is reported too.
    assert re.search(
        r"^  ✗ 第 1、2、3、4(、\d)* 页：成品尺寸为 215\.9 × 279\.4 mm，不是 A4（210 × 297 mm）$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    assert "预检未通过" in result.stdout


def test_font_not_embedded(tmp_path, sample_build):
    bad = tmp_path / "not-embedded.pdf"
    with pikepdf.open(sample_build["pdf"]) as pdf:
        for font in pdf.pages[0].Resources.Font.values():
            if str(font.BaseFont).endswith("+Noto-Sans-CJK-SC"):
                del font.DescendantFonts[0].FontDescriptor["/FontFile3"]
        pdf.save(bad)
    result = preflight(bad)
    assert result.returncode == 1
    assert result.stdout.splitlines()[2:4] == [
        "  ✗ 字体 Noto-Sans-CJK-SC 没有嵌入（用于第 1 页）：别的电脑和印刷厂会换成别的字体",
        "  ✓ 字体都是字体角色所定的字体",
    ]
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_font_outside_the_roles(tmp_path, renderer):
    pdf = craft(
        tmp_path, renderer, "outside-roles", '.masthead .number { font-family: "DejaVu Sans"; }'
    )
    result = preflight(pdf)
    assert result.returncode == 1
    assert (
        f"  ✗ 字体 DejaVu-Sans 不是任何字体角色所定的字体（用于第 1 页），应为 {ROLES} 之一："
        "多半是缺字时系统悄悄换用的字体"
    ) in result.stdout.splitlines()
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_text_outside_the_text_area(tmp_path, renderer):
    pdf = craft(tmp_path, renderer, "outside-area", ".note { margin-left: -10mm; }")
    result = preflight(pdf)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if "超出版心" in line]
    assert len(lines) == 1, result.stdout
    match = re.fullmatch(r"  ✗ 第 1 页：“(.*)”等 (\d+) 行超出版心，最多 (\d+\.\d) mm", lines[0])
    assert match, lines[0]
    assert match.group(1) == "联系”的重要指示要求，把…"  # the note's second line, as printed
    assert int(match.group(2)) > 1  # the note's unindented lines, not the indented first ones
    assert float(match.group(3)) == pytest.approx(10, abs=0.5)
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_missing_banji(tmp_path, renderer):
    pdf = craft(tmp_path, renderer, "no-banji", ".banji { display: none; }")
    result = preflight(pdf)
    assert result.returncode == 1
    assert '  ✗ 找不到版记（模板里 id="banji" 的版记元素）' in result.stdout.splitlines()
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_banji_not_at_the_bottom(tmp_path, renderer):
    pdf = craft(tmp_path, renderer, "banji-in-flow", ".banji { float: none; }")
    result = preflight(pdf)
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if "版记" in line]
    match = re.fullmatch(
        r"  ✗ 第 4 页：版记没有排在版心底部：最后一行距版心下边缘 (\d+\.\d) mm", lines[0]
    )
    assert match and float(match.group(1)) > 10.2  # more than one grid line up
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_banji_not_on_the_last_page(tmp_path, renderer):
    pdf = craft(
        tmp_path,
        renderer,
        "page-after-banji",
        'main::after { content: "附"; display: block; break-before: page; }',
    )
    result = preflight(pdf)
    assert result.returncode == 1
    assert "  ✗ 版记不在最后一页：在第 4 页，全文共 5 页" in result.stdout.splitlines()


def test_odd_page_count_is_only_a_warning(tmp_path, renderer):
    # The sample's article cut after its third paragraph: three pages.
    article = (REPO / "issues/2024/13/01.md").read_text(encoding="utf-8").split("\n\n")
    root = make_project(
        tmp_path / "project", overrides={"issues/2024/13/01.md": "\n\n".join(article[:4]) + "\n"}
    )
    pdf = craft(tmp_path, renderer, "three-pages", root=root)
    result = preflight(pdf)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-2:] == [
        "  ! 共 3 页，是单数：双面印刷时最后一页的背面是空白页（仅提示）",
        "预检通过。",
    ]


def test_notdef_glyph(tmp_path, renderer):
    # U+30000 (CJK extension G): no installed font has it, so WeasyPrint prints .notdef.
    pdf = craft(tmp_path, renderer, "notdef", '.masthead .number::after { content: "\\30000"; }')
    result = preflight(pdf)
    assert result.returncode == 1
    assert re.search(
        "^  ✗ 第 1 页：字体 \\S+ 没有“\U00030000”的字形，印出的是空字形（.notdef）$",
        result.stdout,
        re.MULTILINE,
    ), result.stdout
    assert result.stdout.endswith("预检未通过：共 1 处错误。\n")


def test_not_a_pdf(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    result = preflight(bad)
    assert result.returncode == 1
    # In Chinese only: qpdf's own reason ("... not a PDF file ... can't find startxref") is not
    # shown (issue 14, 14).
    assert result.stdout == (
        f"预检 {bad}（共 0 页）\n  ✗ 无法读取：文件已损坏，或不是 PDF 文件\n"
        "预检未通过：共 1 处错误。\n"
    )


def test_build_keeps_the_previous_files_when_preflight_fails(tmp_path):
    root = make_project(
        tmp_path,
        overrides={
            "templates/print.css": (REPO / "templates" / "print.css").read_text(encoding="utf-8")
            + "\n.banji { display: none; }\n"
        },
    )
    out = root / "build"
    out.mkdir()
    (out / "2024-13.pdf").write_bytes(b"previous pdf")
    (out / "2024-13.html").write_text("previous html", encoding="utf-8")
    result = liandong("build", "13", cwd=root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert '  ✗ 找不到版记（模板里 id="banji" 的版记元素）\n' in result.stderr
    assert result.stderr.rstrip().endswith(
        "预检未通过：共 1 处错误。\n2024-13.pdf 预检未通过：没有写出任何文件，原有文件保持不变。"
    )
    assert (out / "2024-13.pdf").read_bytes() == b"previous pdf"
    assert (out / "2024-13.html").read_text(encoding="utf-8") == "previous html"
    assert sorted(p.name for p in out.iterdir()) == ["2024-13.html", "2024-13.pdf"]


def test_missing_file_is_reported_in_chinese(tmp_path):
    result = preflight(tmp_path / "missing.pdf")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"错误：'PDF文件' 的值无效：文件 '{tmp_path / 'missing.pdf'}' 不存在。"
    )


def test_a_role_found_by_its_chinese_name_accepts_the_english_name_in_the_pdf(sample_build):
    """An office's font resolved as 霞鹜文楷 is written by Pango under fontconfig's first family
    (LXGW WenKai): it is the same face, not a fallback."""
    import dataclasses

    from liandong.preflight import preflight as run

    fonts = resolve_fonts(REPO / "fonts")
    fonts["kai"] = dataclasses.replace(fonts["kai"], family="霞鹜文楷")
    assert fonts["kai"].css_family == "霞鹜文楷"
    report = run(sample_build["pdf"].read_bytes(), fonts)
    assert report.ok, report.text()
    # The same face is refused when it is not the role's: the Hei role's font in its place.
    fonts["kai"] = dataclasses.replace(fonts["hei"], role=fonts["kai"].role)
    report = run(sample_build["pdf"].read_bytes(), fonts)
    assert "  ✗ 字体 LXGW-WenKai 不是任何字体角色所定的字体" in report.text()


def test_build_of_an_odd_page_count_warns_and_writes(tmp_path):
    article = (REPO / "issues/2024/13/01.md").read_text(encoding="utf-8").split("\n\n")
    root = make_project(
        tmp_path, overrides={"issues/2024/13/01.md": "\n\n".join(article[:4]) + "\n"}
    )
    result = liandong("build", "13", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (
        "注意：2024-13.pdf：共 3 页，是单数：双面印刷时最后一页的背面是空白页（仅提示）"
        in result.stderr.splitlines()
    )
    assert (root / "build" / "2024-13.pdf").is_file()


def test_a_body_sentence_naming_the_approval_number_is_not_the_banji(tmp_path):
    """The 版记 is found by structure (its element's named destination), not by its words:
    body text that says 批准文号 anywhere does not make a valid issue fail."""
    case = FIXTURES / "preflight" / "body_sentence_names_the_approval_number"
    article = "issues/2024/13/02.md"
    root = make_project(tmp_path, overrides={article: (case / article).read_bytes()})
    result = liandong("build", "13", "--out", "out", cwd=root)
    assert result.returncode == 0, result.stderr
    report = preflight(root / "out" / "2024-13.pdf")
    assert report.returncode == 0
    assert "  ✓ 版记在最后一页版心底部" in report.stdout.splitlines()
    text = subprocess.run(
        ["pdftotext", "-layout", str(root / "out" / "2024-13.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert text.count("批准文号") == 4  # three in the body, one in the 版记


# --- Limits (issue 14, 13) ---------------------------------------------------------------------


def _with_little_memory(path: Path) -> subprocess.CompletedProcess:
    """`liandong preflight` in 1 GB of address space: a PDF inflated whole does not fit."""
    import resource
    import sys

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    exe = Path(sys.executable).with_name("liandong")
    return subprocess.run(
        [str(exe), "preflight", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=300,
    )


def test_a_pdf_whose_content_inflates_past_the_limit_is_refused(tmp_path):
    """Content that inflates to 512 MB (the report's was 1.5 GB: 3.2 GB of memory, then a pass)."""
    bomb = blank_pdf(
        tmp_path / "bomb.pdf", content=b"BT /F1 12 Tf (x) Tj ET\n", inflated=512 * 1024 * 1024
    )
    assert bomb.stat().st_size < 4 * 1024 * 1024
    result = _with_little_memory(bomb)
    assert result.returncode == 1
    assert result.stdout == (
        "预检 bomb.pdf（共 0 页）\n"
        "  ✗ 内容解压后超过 128 MB 的上限（limits.PDF_DECODED_BYTES）：不像是一期简报，"
        "可能是恶意构造的文件，未预检\n"
        "预检未通过：共 1 处错误。\n"
    )


def test_a_pdf_of_too_many_pages_is_refused(tmp_path):
    from liandong import limits

    many = blank_pdf(tmp_path / "many.pdf", pages=limits.PDF_PAGES + 1)
    result = _with_little_memory(many)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        f"  ✗ 共 {limits.PDF_PAGES + 1} 页，超过 {limits.PDF_PAGES} 页的上限（limits.PDF_PAGES），未预检"
    )


def test_a_named_pipe_is_not_waited_for(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.pdf")
    result = subprocess.run(
        [str(Path(__import__("sys").executable).with_name("liandong")), "preflight", "pipe.pdf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == "  ✗ 这不是普通文件（可能是管道或设备），不读取"
