"""Font roles: fonts/ first, then installed fonts, then the open defaults; never a silent swap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, liandong, make_project
from fontfiles import WENKAI, sample_characters
from liandong import fonts as fonts_module
from liandong.fonts import ROLES, Face, resolve_fonts


def _renamed_subset(
    source: Path, index: int, family: str, english: str, postscript: str, text: str, path: Path
) -> Path:
    """A font file made from an installed one: only the characters of text, and a new name
    (family in Chinese and in English, PostScript name)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=index)
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17):
            names.removeNames(nameID=record.nameID)
    for name_id, value in (
        (1, family),
        (4, family),
        (6, postscript),
        (16, family),
        (3, f"liandong-test-{postscript}"),
    ):
        names.setName(value, name_id, 3, 1, 0x804)
        names.setName(value if name_id not in (1, 4, 16) else english, name_id, 3, 1, 0x409)
    if "CFF " in font:
        font["CFF "].cff.fontNames = [postscript]
    font.save(path)
    return path


@pytest.fixture(scope="module")
def licensed_fangsong(tmp_path_factory) -> Path:
    """Stands in for an office's licensed 仿宋_GB2312: a subset of LXGW WenKai, renamed."""
    return _renamed_subset(
        WENKAI,
        0,
        "仿宋_GB2312",
        "FangSong_GB2312",
        "FangSong_GB2312",
        sample_characters(),
        tmp_path_factory.mktemp("fonts") / "fangsong_gb2312.ttf",
    )


@pytest.fixture
def office_project(tmp_path, licensed_fangsong) -> Path:
    project = make_project(tmp_path)
    (project / "fonts").mkdir()
    (project / "fonts" / licensed_fangsong.name).write_bytes(licensed_fangsong.read_bytes())
    return project


FANGSONG_NOTICE = (
    "注意：没有找到授权的仿宋字体（仿宋_GB2312、仿宋等），正文用开源仿宋 FandolFang 代替。"
    "把授权的仿宋字体文件放进 fonts/ 文件夹即可改用；确认使用 FandolFang 的，"
    "可在 issues/series.yaml 写“接受代用仿宋: FandolFang”，不再提醒。"
)


def test_open_defaults_here_with_one_plain_notice_for_fangsong():
    resolved = resolve_fonts(REPO / "fonts")
    assert [resolved[role.key].origin for role in ROLES] == ["default"] * len(ROLES)
    assert resolved["body"].family == "FandolFang" and resolved["body"].is_substitute
    assert resolved["body"].file.name == "FandolFang-Regular.otf"
    assert resolved["title"].weight == 700
    assert resolved["kai"].family == "LXGW WenKai"
    assert resolved["hei"].family == "Noto Sans CJK SC"
    assert [key for key, font in resolved.items() if font.is_substitute] == ["body"]
    # 补字: only where the 补字 font is not the role's own face.
    assert {key: font.family for key, font in resolved.items() if font.fallback} == {
        "body-fallback": "Noto Serif CJK SC",
        "kai-fallback": "Noto Serif CJK SC",
    }


def test_without_fandolfang_the_body_falls_back_to_noto_serif_with_its_own_notice(monkeypatch):
    real = fonts_module.installed_faces()
    monkeypatch.setattr(
        fonts_module,
        "installed_faces",
        lambda: tuple(f for f in real if "FandolFang" not in f.families),
    )
    resolved = resolve_fonts(REPO / "fonts")
    assert (resolved["body"].family, resolved["body"].origin) == ("Noto Serif CJK SC", "default")
    assert "body-fallback" not in resolved  # Noto Serif is both: nothing more to borrow
    assert resolved["body"].notice == (
        "没有找到仿宋字体（仿宋_GB2312、仿宋、FandolFang 等），正文暂用 Noto Serif CJK SC"
        "（宋体风格）代替。运行 bash setup.sh 可安装开源仿宋 FandolFang，或把授权的仿宋字体文件放进 fonts/ 文件夹。"
    )


def test_fonts_command_lists_role_family_and_file():
    result = liandong("fonts", cwd=REPO, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == len(ROLES) + 2
    assert lines[1].startswith("仿宋（正文）→ FandolFang（开源默认）→ /")
    assert lines[1].endswith("/fandol/FandolFang-Regular.otf")
    assert lines[-2].startswith("补字（仿宋缺的字）→ Noto Serif CJK SC（本机安装）→ /")
    assert lines[-2].endswith("NotoSerifCJK-Regular.ttc #2")
    assert lines[-1].startswith("补字（楷体缺的字）→ Noto Serif CJK SC（本机安装）→ /")
    assert result.stderr.strip() == FANGSONG_NOTICE


def test_build_says_the_fangsong_notice_once(sample_build):
    assert sample_build["stderr"].strip() == FANGSONG_NOTICE


def test_issue_13_embeds_fandolfang_for_its_body(sample_build):
    from pdfmeasure import lines

    listing = subprocess.run(
        ["pdffonts", str(sample_build["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    assert [
        row.split()[0].split("+")[1] for row in listing.splitlines()[2:] if "FandolFang" in row
    ] == ["FandolFang"]
    body = [
        line
        for line in lines(sample_build["pdf"])
        if abs(line.size - 16) < 0.01 and line.text.startswith("各承办单位和岳阳市高度重视")
    ]
    assert body and body[0].fonts == {"FandolFang"}


def test_a_font_in_fonts_folder_wins_and_is_embedded(office_project):
    result = liandong("fonts", cwd=office_project, check=True)
    assert f"仿宋（正文）→ 仿宋_GB2312（项目 fonts/）→ {office_project / 'fonts'}" in result.stdout
    assert "没有找到仿宋字体" not in result.stderr
    out = office_project / "out"
    result = liandong("build", "13", "--out", str(out), cwd=office_project, check=True)
    assert "没有找到仿宋字体" not in result.stderr
    listing = subprocess.run(
        ["pdffonts", str(out / "2024-13.pdf")], capture_output=True, text=True, check=True
    ).stdout
    # The PDF names the licensed font it carries (its PostScript name), not the private
    # @font-face name (liandong-body) it was loaded under.
    assert "liandong-" not in listing
    body = [line for line in listing.splitlines() if "+FangSong_GB2312 " in line]
    assert len(body) == 1 and body[0].split()[-5:-3] == ["yes", "yes"]


def test_installed_family_beats_the_default_and_matches_by_exact_name(monkeypatch, tmp_path):
    fake = Face(("仿宋", "FangSong"), WENKAI, 0, 400)
    real = fonts_module.installed_faces()
    monkeypatch.setattr(fonts_module, "installed_faces", lambda: (*real, fake))
    resolved = resolve_fonts(tmp_path / "fonts")
    assert (resolved["body"].family, resolved["body"].origin) == ("仿宋", "installed")
    near_miss = Face(("仿宋体 Light",), WENKAI, 0, 400)  # not a listed family: never taken
    monkeypatch.setattr(fonts_module, "installed_faces", lambda: (*real, near_miss))
    assert resolve_fonts(tmp_path / "fonts")["body"].origin == "default"


def test_no_default_font_is_a_clear_error(monkeypatch, tmp_path):
    from liandong.errors import LiandongError

    monkeypatch.setattr(fonts_module, "installed_faces", lambda: ())
    with pytest.raises(LiandongError) as error:
        resolve_fonts(tmp_path / "fonts")
    assert error.value.message.startswith("标题（小标宋）没有可用字体")
    assert "fonts-noto-cjk" in error.value.message


# --- 补字: what a role's font lacks, printed from its named fallback font --------------------

FONT_CASES = FIXTURES / "fonts"


def _case(tmp_path: Path, name: str, **extra) -> Path:
    case = FONT_CASES / name
    files = {
        path.relative_to(case).as_posix(): path.read_bytes()
        for path in sorted((case / "issues").rglob("*"))
        if path.is_file()
    }
    return make_project(tmp_path, overrides={**files, **extra})


def _notices(case: str) -> list[str]:
    return (FONT_CASES / case / "expected.txt").read_text(encoding="utf-8").splitlines()


def test_characters_the_body_font_lacks_are_notices_of_check_and_errors_with_strict(tmp_path):
    root = _case(tmp_path, "name_characters_the_body_font_lacks")
    result = liandong("check", "13", cwd=root)
    assert result.returncode == 0
    expected = _notices("name_characters_the_body_font_lacks")
    assert result.stdout.splitlines() == [*expected, "检查了 2024 年第 13 期：0 处错误，4 处提醒。"]
    strict = liandong("check", "13", "--strict", cwd=root)
    assert strict.returncode == 1
    assert strict.stdout.splitlines()[-1] == (
        "检查了 2024 年第 13 期：0 处错误，4 处提醒；使用了 --strict，提醒也算作错误。"
    )


def test_characters_the_body_font_lacks_print_from_the_fallback_font(tmp_path):
    from pdfmeasure import MM, lines, text_right

    root = _case(tmp_path, "name_characters_the_body_font_lacks")
    result = liandong("build", "13", "--out", "out", cwd=root, check=True)
    # Each character once, where it first appears, as check lists it.
    listed = [line for line in result.stderr.splitlines() if "补字字体" in line]
    assert listed == [
        f"注意：{path}: {message[3:]}"
        for path, message in (
            line.split(": ", 1) for line in _notices("name_characters_the_body_font_lacks")
        )
    ]
    printed = lines(root / "out" / "2024-13.pdf")
    borrowed = {}
    for line in printed:
        for char in line.chars:
            if char["text"] in "珺彧赟昇" and char["size"] < 20:  # the title has its own 珺
                borrowed.setdefault(char["text"], set()).add(char["fontname"].split("+")[1])
    assert borrowed == {char: {"Noto-Serif-CJK-SC"} for char in "珺彧赟昇"}
    # Character by character: the rest of those lines stays in FandolFang, and flush (the
    # visible edge, from what is drawn: see measure.Line.right).
    from measure import drawn_lines, line_at

    drawn = drawn_lines(root / "out" / "2024-13.pdf")
    for line in printed:
        if any(char["text"] in "珺彧赟" for char in line.chars) and line.size < 20:
            assert line.fonts == {"FandolFang", "Noto-Serif-CJK-SC"}
            if not line.text.endswith("。"):
                edge = line_at(drawn, line.page, line.baseline).right
                assert abs(edge - text_right(line.page)) < 0.2 * MM, line.text
    editor = next(line for line in printed if line.text.startswith("责任编辑："))
    assert editor.text.split("联系方式：")[0] == "责任编辑：李昇"  # the contact may share the line
    assert editor.font_of("李") == "FandolFang" and editor.font_of("昇") == "Noto-Serif-CJK-SC"


NOTO_SANS = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def test_a_project_font_wins_over_an_installed_font_of_the_same_name(office_project, tmp_path):
    """An installed 仿宋_GB2312 (here a renamed Noto Sans, CFF outlines) must not replace the
    one in fonts/ (TrueType outlines), even though the PDF now names the font by its real
    name: the one embedded is the project's file."""
    import pikepdf

    installed = tmp_path / "installed"
    installed.mkdir()
    _renamed_subset(
        NOTO_SANS,
        2,
        "仿宋_GB2312",
        "FangSong_GB2312",
        "FangSong_GB2312",
        sample_characters(),
        installed / "impostor.otf",
    )
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        '<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{installed}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "COLUMNS": "100"}
    listed = subprocess.run(
        ["fc-list", ":family=仿宋_GB2312", "file"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "impostor.otf" in listed  # the machine really has an installed 仿宋_GB2312
    exe = Path(sys.executable).with_name("liandong")
    subprocess.run(
        [str(exe), "build", "13", "--out", "out"],
        cwd=office_project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    with pikepdf.open(office_project / "out" / "2024-13.pdf") as pdf:
        fonts = {
            str(font.BaseFont).split("+")[1]: font
            for page in pdf.pages
            for font in page.Resources.Font.values()
        }
        descriptor = fonts["FangSong_GB2312"].DescendantFonts[0].FontDescriptor
        assert "/FontFile2" in descriptor and "/FontFile3" not in descriptor


# --- 接受代用仿宋: the office says "yes, we know" once, in series.yaml --------------------------

SERIES = "issues/series.yaml"


def _series_with(extra: str) -> str:
    return (REPO / SERIES).read_text(encoding="utf-8") + extra


def test_accepting_fandolfang_in_series_yaml_silences_the_notice(tmp_path):
    root = make_project(tmp_path, overrides={SERIES: _series_with("接受代用仿宋: FandolFang\n")})
    for command in (["check", "13"], ["build", "13", "--out", "out"], ["fonts"]):
        result = liandong(*command, cwd=root, check=True)
        assert "仿宋" not in result.stderr, command
    assert liandong("fonts", cwd=root).stdout.splitlines()[1].startswith("仿宋（正文）→ FandolFang")


def test_accepting_another_font_than_the_one_used_keeps_the_notice(tmp_path):
    root = make_project(
        tmp_path, overrides={SERIES: _series_with("接受代用仿宋: Noto Serif CJK SC\n")}
    )
    for command in (["check", "13"], ["build", "13", "--out", "out"], ["fonts"]):
        result = liandong(*command, cwd=root, check=True)
        assert result.stderr.splitlines().count(FANGSONG_NOTICE) == 1, command


def test_a_fallback_font_named_in_series_yaml_is_the_only_other_font_preflight_accepts(tmp_path):
    """补字字体 names a font in fonts/: it prints what FandolFang lacks, under its real name,
    and preflight accepts it because series.yaml names it, and for no other reason."""
    from liandong.fonts import resolve_fonts as resolve
    from liandong.preflight import preflight

    root = _case(
        tmp_path,
        "name_characters_the_body_font_lacks",
        **{SERIES: _series_with("补字字体:\n  仿宋: 补字测试体\n")},
    )
    (root / "fonts").mkdir()
    _renamed_subset(
        WENKAI,
        0,
        "补字测试体",
        "BuziTest",
        "BuziTest-Regular",
        "珺彧赟昇",
        root / "fonts" / "buzi.ttf",
    )
    result = liandong("check", "13", cwd=root)
    assert result.stdout.splitlines()[:4] == [
        line.replace("Noto Serif CJK SC", "补字测试体")
        for line in _notices("name_characters_the_body_font_lacks")
    ]
    liandong("build", "13", "--out", "out", cwd=root, check=True)
    pdf = root / "out" / "2024-13.pdf"
    listing = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert "+BuziTest-Regular " in listing and "liandong-" not in listing
    # Without the setting, the same font is one the roles do not name: a silent swap.
    report = preflight(pdf.read_bytes(), resolve(root / "fonts"))
    assert not report.ok
    assert (
        "  ✗ 字体 BuziTest-Regular 不是任何字体角色所定的字体（用于第 4、5 页），应为 "
        "FandolFang、LXGW-WenKai、Noto-Sans-CJK-SC、Noto-Serif-CJK-SC 之一："
        "多半是缺字时系统悄悄换用的字体" in report.text().splitlines()
    )


MEASURED = [
    "AV",
    "AVATAR",
    "COVID-19",
    "iPhone15",
    "Win11",
    "office",
    "0731—85309270",
    "—",
    "——",
    "省——会",
    "2024—2025年",
    "A—B",
    "3—5",
    "https://www.hnrd.gov.cn/",
    "hnrldgwxrc@163.com",
    "The quick fox",
    "要求He",
    "today.省",
    "“金点子”",
    "省人大常委会，",
    "8月28日",
    "（一）",
    "…",
    "·",
]
"""Latin words with kerning and ligatures, digits, dashes next to Latin text and inside Chinese
text, marks: everything whose width depends on how Pango itemizes and shapes it."""


def _laid_out_widths(fonts: dict, items: list[tuple[str, str, float, bool]]) -> list[float]:
    """The width (pt) WeasyPrint gives each text as a span of its own, styled as print.css
    styles it: family and weight of its role, letter-spacing, full-width forms."""
    import html

    import weasyprint

    faces = "".join(
        f"@font-face {{ font-family: '{font.css_family}'; src: url('{font.file.as_uri()}'); "
        f"font-weight: {font.weight}; }}"
        for font in fonts.values()
        if font.origin == "fonts/"
    )
    spans = []
    for style, text, spacing, full_width in items:
        role, _, variant = style.partition("+")
        font = fonts[role]
        weight = 700 if variant == "strong" else font.weight
        east_asian = "full-width" if full_width else "normal"
        spans.append(
            f"<p><span style=\"font-family: '{font.css_family}'; font-weight: {weight}; "
            f'letter-spacing: {spacing:.3f}pt; font-variant-east-asian: {east_asian}">'
            f"{html.escape(text)}</span></p>"
        )
    document = weasyprint.HTML(
        string=(
            f"<html lang='zh-CN'><style>{faces} @page {{ size: 3000pt 6000pt; margin: 0 }} "
            "p { white-space: nowrap; margin: 0; font-size: 16pt; line-height: 20pt; "
            "font-kerning: normal }</style><body>" + "".join(spans) + "</body></html>"
        )
    ).render()
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
    items = [
        (style, text, spacing, full_width)
        for style in styles
        for text in MEASURED
        for spacing in (0.0, -0.207, 1.0)
        for full_width in (False, True)
    ]
    laid_out = _laid_out_widths(fonts, items)
    measurer = Measurer(fonts)
    measured = [
        measurer.width(style, text, 16, spacing, full_width)
        for style, text, spacing, full_width in items
    ]
    wrong = [
        (item, round(width, 3), round(mine, 3))
        for item, width, mine in zip(items, laid_out, measured)
        if abs(mine - width) > 0.001
    ]
    assert len(laid_out) == len(items) and wrong == []
