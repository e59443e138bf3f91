"""Font roles: fonts/ first, then installed fonts, then the open defaults; never a silent swap."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO, liandong, make_project
from liandong import fonts as fonts_module
from liandong.fonts import Face, ROLES, resolve_fonts

WENKAI = Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")


def _sample_characters() -> str:
    text = "".join(p.read_text(encoding="utf-8") for p in (REPO / "issues").rglob("*.*"))
    return (text + "".join(chr(c) for c in range(0x20, 0x7F)) + "　—〔〕（）：，。、；“”‘’《》【】×"
            + "第期总年月日编〇零一二三四五六七八九十百千万送报发责任辑联系方式批准文号共印份")


@pytest.fixture(scope="module")
def licensed_fangsong(tmp_path_factory) -> Path:
    """Stands in for an office's licensed 仿宋_GB2312: a subset of LXGW WenKai, renamed."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(WENKAI)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=_sample_characters())
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            names.removeNames(nameID=record.nameID)
    for name_id, value in ((1, "仿宋_GB2312"), (4, "仿宋_GB2312"), (6, "FangSong_GB2312"),
                           (16, "仿宋_GB2312"), (3, "liandong-test-fangsong")):
        names.setName(value, name_id, 3, 1, 0x804)
        names.setName(value if name_id != 1 else "FangSong_GB2312", name_id, 3, 1, 0x409)
    path = tmp_path_factory.mktemp("fonts") / "fangsong_gb2312.ttf"
    font.save(path)
    return path


@pytest.fixture
def office_project(tmp_path, licensed_fangsong) -> Path:
    project = make_project(tmp_path)
    (project / "fonts").mkdir()
    (project / "fonts" / licensed_fangsong.name).write_bytes(licensed_fangsong.read_bytes())
    return project


def test_open_defaults_here_with_one_plain_notice_for_fangsong():
    resolved = resolve_fonts(REPO / "fonts")
    assert [resolved[role.key].origin for role in ROLES] == ["default"] * len(ROLES)
    assert resolved["body"].family == "Noto Serif CJK SC" and resolved["body"].is_fallback
    assert resolved["title"].weight == 700
    assert resolved["kai"].family == "LXGW WenKai"
    assert resolved["hei"].family == "Noto Sans CJK SC"
    assert [key for key, font in resolved.items() if font.is_fallback] == ["body"]


def test_fonts_command_lists_role_family_and_file():
    result = liandong("fonts", cwd=REPO, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == len(ROLES)
    assert lines[1].startswith("仿宋（正文）→ Noto Serif CJK SC（开源默认）→ /")
    assert "NotoSerifCJK-Regular.ttc #2" in lines[1]
    assert result.stderr.count("没有找到仿宋字体") == 1


def test_build_says_the_fangsong_notice_once(sample_build):
    assert sample_build["stderr"].count("没有找到仿宋字体") == 1
    assert sample_build["stderr"].strip() == (
        "注意：没有找到仿宋字体（仿宋_GB2312、仿宋等），正文暂用 Noto Serif CJK SC（宋体风格）代替。"
        "把授权的仿宋字体文件放进 fonts/ 文件夹即可改用仿宋。")


def test_a_font_in_fonts_folder_wins_and_is_embedded(office_project):
    result = liandong("fonts", cwd=office_project, check=True)
    assert f"仿宋（正文）→ 仿宋_GB2312（项目 fonts/）→ {office_project / 'fonts'}" in result.stdout
    assert "没有找到仿宋字体" not in result.stderr
    out = office_project / "out"
    result = liandong("build", "13", "--out", str(out), cwd=office_project, check=True)
    assert "没有找到仿宋字体" not in result.stderr
    listing = subprocess.run(["pdffonts", str(out / "2024-13.pdf")], capture_output=True,
                             text=True, check=True).stdout
    body = [line for line in listing.splitlines() if "+liandong-body" in line]
    assert len(body) == 1 and body[0].split()[-5:-3] == ["yes", "yes"]


def test_installed_family_beats_the_default_and_matches_by_exact_name(monkeypatch, tmp_path):
    fake = Face(("仿宋", "FangSong"), WENKAI, 0, 400)
    real = fonts_module.installed_faces()
    monkeypatch.setattr(fonts_module, "installed_faces", lambda: real + (fake,))
    resolved = resolve_fonts(tmp_path / "fonts")
    assert (resolved["body"].family, resolved["body"].origin) == ("仿宋", "installed")
    near_miss = Face(("仿宋体 Light",), WENKAI, 0, 400)  # not a listed family: never taken
    monkeypatch.setattr(fonts_module, "installed_faces", lambda: real + (near_miss,))
    assert resolve_fonts(tmp_path / "fonts")["body"].origin == "default"


def test_no_default_font_is_a_clear_error(monkeypatch, tmp_path):
    from liandong.errors import LiandongError

    monkeypatch.setattr(fonts_module, "installed_faces", lambda: ())
    with pytest.raises(LiandongError) as error:
        resolve_fonts(tmp_path / "fonts")
    assert error.value.message.startswith("标题（小标宋）没有可用字体")
    assert "fonts-noto-cjk" in error.value.message


MEASURED = ["AV", "AVATAR", "COVID-19", "iPhone15", "Win11", "office", "0731—85309270", "—", "——",
            "省——会", "2024—2025年", "A—B", "3—5", "https://www.hnrd.gov.cn/", "hnrldgwxrc@163.com",
            "The quick fox", "要求He", "today.省", "“金点子”", "省人大常委会，", "8月28日", "（一）", "…", "·"]
"""Latin words with kerning and ligatures, digits, dashes next to Latin text and inside Chinese
text, marks: everything whose width depends on how Pango itemizes and shapes it."""


def _laid_out_widths(fonts: dict, items: list[tuple[str, str, float, bool]]) -> list[float]:
    """The width (pt) WeasyPrint gives each text as a span of its own, styled as print.css
    styles it: family and weight of its role, letter-spacing, full-width forms."""
    import html

    import weasyprint

    faces = "".join(
        f"@font-face {{ font-family: '{font.css_family}'; src: url('{font.file.as_uri()}'); "
        f"font-weight: {font.weight}; }}" for font in fonts.values() if font.origin == "fonts/")
    spans = []
    for style, text, spacing, full_width in items:
        role, _, variant = style.partition("+")
        font = fonts[role]
        weight = 700 if variant == "strong" else font.weight
        east_asian = "full-width" if full_width else "normal"
        spans.append(f"<p><span style=\"font-family: '{font.css_family}'; font-weight: {weight}; "
                     f"letter-spacing: {spacing:.3f}pt; font-variant-east-asian: {east_asian}\">"
                     f"{html.escape(text)}</span></p>")
    document = weasyprint.HTML(string=(
        f"<html lang='zh-CN'><style>{faces} @page {{ size: 3000pt 6000pt; margin: 0 }} "
        "p { white-space: nowrap; margin: 0; font-size: 16pt; line-height: 20pt; "
        "font-kerning: normal }</style><body>" + "".join(spans) + "</body></html>")).render()
    widths: list[float] = []

    def walk(box) -> None:
        if type(box).__name__ == "TextBox":
            widths.append(box.width * 0.75)  # CSS px → pt
        for child in getattr(box, "children", []):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return widths


@pytest.mark.parametrize("project", ["installed", "office"])
def test_measured_widths_are_the_widths_weasyprint_lays_out(project, request):
    """Measurer.width asks the system's Pango, as WeasyPrint does. HarfBuzz alone (uharfbuzz, a
    newer HarfBuzz than Pango's) measured A—B, Win11, a lone dash or office with letter-spacing
    differently from what was printed: Pango itemizes by script, gives Latin items their own
    language, and turns ligatures off when letters are spaced."""
    from liandong.fonts import Measurer

    root = request.getfixturevalue("office_project") if project == "office" else REPO
    fonts = resolve_fonts(root / "fonts")
    styles = ["body", "kai", "hei", "title", "body+strong"]
    items = [(style, text, spacing, full_width) for style in styles for text in MEASURED
             for spacing in (0.0, -0.207, 1.0) for full_width in (False, True)]
    laid_out = _laid_out_widths(fonts, items)
    measurer = Measurer(fonts)
    measured = [measurer.width(style, text, 16, spacing, full_width)
                for style, text, spacing, full_width in items]
    wrong = [(item, round(width, 3), round(mine, 3))
             for item, width, mine in zip(items, laid_out, measured) if abs(mine - width) > 0.001]
    assert len(laid_out) == len(items) and wrong == []
