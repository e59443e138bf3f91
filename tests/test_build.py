"""Building: per-issue values override the series, and the 版记 never meets the body text."""

from __future__ import annotations

import itertools

import pytest

from conftest import FIXTURES, REPO, liandong, make_project
from pdfmeasure import BOTTOM, MM, TEXT_H, TOP, lines, rules

ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
LINE = TEXT_H / 22


def _issue_with(extra: str) -> str:
    from conftest import REPO

    return (REPO / ISSUE).read_text(encoding="utf-8") + extra


def test_issue_values_override_the_series(tmp_path):
    extra = "\n责任编辑: 李四\n报:\n  - 全国人大常委会代表工作委员会\n印数: 300\n"
    project = make_project(tmp_path, overrides={ISSUE: _issue_with(extra)})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    text = [line.text for line in lines(project / "out" / "2024-13.pdf")]
    joined = "\n".join(text)
    assert "责任编辑：李四" in joined and "王小益" not in joined
    report = next(i for i, t in enumerate(text) if t.startswith("报："))
    send = next(i for i, t in enumerate(text) if t.startswith("送："))
    assert report < send  # 报 (superiors) prints before 送
    assert any(t.endswith("（共印 300 份）") for t in text)


def test_banji_never_overlaps_the_body_and_moves_when_it_does_not_fit(tmp_path):
    """Grow the article a paragraph at a time: wherever the body ends, the 版记 sits at the
    bottom of a text area below the last body line, or alone on the next page."""
    from conftest import REPO

    paragraph = "\n\n要强化协调配合，进一步完善有利于现代石化产业发展的高位推动工作机制。"
    outcomes = set()
    for extra in range(7):
        article = (REPO / ARTICLE).read_text(encoding="utf-8") + paragraph * extra
        project = make_project(tmp_path / str(extra), overrides={ARTICLE: article})
        liandong("build", "13", "--out", "out", cwd=project, check=True)
        pdf = project / "out" / "2024-13.pdf"
        all_lines = lines(pdf)
        last_page = max(line.page for line in all_lines)
        found = rules(pdf, last_page, TOP, BOTTOM + 5 * MM)
        assert len(found) == 4, extra
        assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
        send = next(line for line in all_lines if line.text.startswith("送："))
        assert send.page == last_page
        body = [line for line in all_lines if abs(line.size - 16) < 0.01 and line.page == last_page]
        if body:
            assert max(line.baseline for line in body) + 3 < found[0][0]  # descenders clear
            outcomes.add("shares the page")
        else:
            before = [
                line
                for line in all_lines
                if abs(line.size - 16) < 0.01 and line.page == last_page - 1
            ]
            assert before, "the 版记 moved, but the body does not end on the page before"
            # It moved only because it did not fit: one blank line above it, then its rules.
            needed = LINE + (BOTTOM - found[0][0])
            free = BOTTOM - max(line.baseline for line in before)
            assert free < needed, (extra, free / MM, needed / MM)
            outcomes.add("moved to the next page")
    assert outcomes == {"shares the page", "moved to the next page"}


@pytest.mark.parametrize("count", [11, 12])
def test_a_body_ending_at_the_foot_of_page_1_stays_there_and_the_banji_moves_alone(count, tmp_path):
    """No note, a one-line title and `count` one-line paragraphs: the body ends on grid line
    10 + count of page 1 (the masthead takes 7 lines, the title 3), where the sample's long
    版记 does not fit below it. The body stays on page 1 and only the 版记 goes to the foot of
    page 2 (with 12 lines, the page's last line, WeasyPrint 70 moved the whole article to page
    2 and left the masthead alone: the empty footnote area kept its padding)."""
    from conftest import REPO

    article = (REPO / ARTICLE).read_text(encoding="utf-8")
    front = article[: article.index("---", 3) + 3]
    front = "\n".join(line for line in front.splitlines() if not line.startswith("副标题"))
    article = front + "".join(f"\n\n第{k + 1}项，代表联络站接待群众。" for k in range(count)) + "\n"
    issue = (REPO / ISSUE).read_text(encoding="utf-8")
    project = make_project(
        tmp_path, overrides={ARTICLE: article, ISSUE: issue[: issue.index("编者按")]}
    )
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    pdf = project / "out" / "2024-13.pdf"
    all_lines = lines(pdf)
    body = [line for line in all_lines if "代表联络站接待群众" in line.text]
    assert len(body) == count and {line.page for line in body} == {1}
    # The last body line on grid line 10 + count: its baseline in that line's band.
    band_bottom = BOTTOM - (22 - 10 - count) * LINE
    assert band_bottom - LINE < body[-1].baseline < band_bottom
    assert max(line.page for line in all_lines) == 2
    found = rules(pdf, 2, TOP, BOTTOM + 5 * MM)
    assert len(found) == 4
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    assert all(line.page == 2 for line in all_lines if line.text.startswith(("送：", "批准文号")))


def test_a_short_issue_keeps_its_banji_on_its_only_page(tmp_path):
    """No note and a one-line article: the 版记 fits under the body and must stay there."""
    from conftest import REPO

    article = (REPO / ARTICLE).read_text(encoding="utf-8")
    article = article[: article.index("---", 3) + 3] + "\n\n8月28日，省委书记主持召开会议。\n"
    issue = (REPO / ISSUE).read_text(encoding="utf-8")
    project = make_project(
        tmp_path, overrides={ARTICLE: article, ISSUE: issue[: issue.index("编者按")]}
    )
    result = liandong("build", "13", "--out", "out", cwd=project, check=True)
    pdf = project / "out" / "2024-13.pdf"
    all_lines = lines(pdf)
    assert {line.page for line in all_lines} == {1}
    body_end = max(line.baseline for line in all_lines if abs(line.size - 16) < 0.01)
    found = rules(pdf, 1, body_end, BOTTOM + 5 * MM)  # below the body: not the masthead's red rule
    assert len(found) == 4
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    assert "共 1 页" in result.stderr  # an odd page count is only a warning


def _flush_lines(pdf, chosen) -> int:
    """Assert that every body line whose drawn text `chosen` accepts, and that a line at the
    left edge follows on its page, ends on the text area's right edge: its visible edge (the
    cell of its last inked glyph, measured from what is drawn; a trailing space, which has a
    character box but no ink, does not count). Returns how many lines were checked."""
    from measure import drawn_lines
    from pdfmeasure import text_left, text_right

    body = [l for l in drawn_lines(pdf) if abs(l.size - 16) < 0.01]
    checked = 0
    for line, following in itertools.pairwise(body):
        continues = (
            following.page == line.page
            and abs(following.left - text_left(following.page)) < 0.1 * MM
        )
        if continues and chosen(line.ink_text):
            checked += 1
            edge = line.right - text_right(line.page)
            assert abs(edge) <= 0.05 * MM, f"{line.text}: {edge / MM:+.2f} mm"
    return checked


def test_lines_with_dashes_and_ellipses_stay_flush(tmp_path):
    """—— and …… are measured as Pango sets them inside Chinese text (full-width, Han script)."""
    from conftest import REPO

    sentences = [
        f"各承办单位要充分认识办理工作{'的' * k}重要意义——这是法定职责……不能敷衍。"
        for k in range(12)
    ]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    marked = _flush_lines(
        project / "out" / "2024-13.pdf", lambda text: "——" in text or "……" in text
    )
    assert marked >= 5


def test_bold_latin_is_measured_in_the_bold_face_and_stays_flush(tmp_path):
    """**strong** prints in the family's bold face, whose Latin letters are wider than the
    regular ones: lines with bold Latin text still end on the text area's right edge."""
    from conftest import REPO

    sentences = [
        f"会议强调，要把{'代表' * k}**APEC Business Advisory Council meeting**精神落到实处。"
        for k in range(8)
    ]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong(
        "build", "13", "--out", "out", cwd=project, check=True
    )  # preflight: nothing sticks out
    bold = _flush_lines(
        project / "out" / "2024-13.pdf",
        lambda text: any(word in text for word in ("APEC", "Business", "Council")),
    )
    assert bold >= 4


MIXED = (
    "{pad}会议指出AVATAR与WAVE两个词、COVID-19和iPhone15以及Win11都要测准，"
    "Office里的ffi连字也一样。省人大常委会认真践行两个密切联系的重要指示要求。",
    "{pad}联系电话0731—85309270，时间2024—2025年，范围A—B与3—5项，"
    "省人大常委会认真践行两个密切联系的重要指示要求。",
    "{pad}网址：详见 https://www.hnrd.gov.cn/content/2024/08/30/article_12345.html?from=list&page=2，"
    "省人大常委会认真践行两个密切联系的重要指示要求，邮箱 hnrldgwxrc@163.com 也可以。",
    "{pad}He said the quick brown fox jumps over the lazy dog again and again today. "
    "省人大常委会认真践行两个密切联系的重要指示要求。",
)
"""Paragraphs of mixed text, shifted one character at a time by {pad}, so that their Latin
words, numbers, dashes and URLs fall at every place of a line."""


def test_mixed_text_ends_on_the_right_edge_as_drawn(tmp_path):
    """Latin words (kerned: AV), ligatures (ffi), dashes next to digits, URLs and spaces at
    line ends: every line that a paragraph continues ends, by its last visible glyph, within
    0.05 mm of the text area's edge. Before, such lines ended 0.6–4.7 mm short or stuck out,
    and two kerned words in a line failed the build at preflight."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    paragraphs = [text.format(pad="的" * k) for k in range(6) for text in MIXED]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "\n\n".join(paragraphs) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    checked = 0
    for line, following in itertools.pairwise(body):
        continues = (
            following.page == line.page and abs(following.x0 - text_left(following.page)) < 0.1 * MM
        )
        if not continues or not any(c.isascii() and c.isalnum() for c in line.text):
            continue
        checked += 1
        edge = [c for c in line.chars if c["text"].strip()][-1]["x1"]
        assert abs(edge - text_right(line.page)) <= 0.05 * MM, (
            f"“{line.text}” ends {(edge - text_right(line.page)) / MM:+.2f} mm from the edge"
        )
        assert not line.text.endswith(("0731—", "2024—", "A—", "3—")), line.text
    assert checked >= 20


def test_builds_are_byte_identical_across_folders_times_and_clocks(tmp_path):
    """Same sources → same bytes: another folder, a second later, another time zone and a
    SOURCE_DATE_EPOCH (which WeasyPrint ignores; dates come from the issue)."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pikepdf

    exe = Path(sys.executable).with_name("liandong")
    outputs = []
    for index, env in enumerate(
        ({"TZ": "UTC"}, {"TZ": "Asia/Shanghai", "SOURCE_DATE_EPOCH": "1", "LANG": "C"})
    ):
        project = make_project(tmp_path / f"project-{index}-{'x' * index}")
        if index:
            time.sleep(1.1)  # the clock has moved on: nothing may carry it
        subprocess.run(
            [str(exe), "build", "13", "--print-shop"],
            cwd=project,
            check=True,
            capture_output=True,
            env={**os.environ, **env},
        )
        outputs.append(
            {
                name: (project / "build" / name).read_bytes()
                for name in ("2024-13.pdf", "2024-13-print.pdf", "2024-13.html")
            }
        )
        # No trace of the project's folder anywhere, compressed streams included.
        for name in ("2024-13.pdf", "2024-13-print.pdf"):
            with pikepdf.open(project / "build" / name) as pdf:
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream):
                        assert str(project).encode() not in obj.read_bytes()
        assert str(project) not in outputs[-1]["2024-13.html"].decode("utf-8")
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name


def test_an_issue_with_photos_is_the_same_bytes_from_any_folder(tmp_path):
    """WeasyPrint names an image's XObject after a hash of its URL: a file: URL put the
    project's folder into the PDF of every issue with a photo (corpus 2025/18), so its bytes
    changed with the checkout. The print HTML names pictures by their place in the issue."""
    import shutil

    import pikepdf

    outputs = []
    for index in range(2):
        corpus = tmp_path / f"checkout-{index}{'-elsewhere' * index}" / "corpus"
        shutil.copytree(REPO / "tests" / "corpus", corpus)
        liandong(
            "build", "2025/18", "--print-shop", "--out", str(corpus / "out"), cwd=corpus, check=True
        )
        outputs.append(
            {
                name: (corpus / "out" / name).read_bytes()
                for name in ("2025-18.pdf", "2025-18-print.pdf")
            }
        )
        with pikepdf.open(corpus / "out" / "2025-18.pdf") as pdf:
            pictures = {image.objgen for page in pdf.pages for image in page.get_images().values()}
            assert len(pictures) == 2  # the photo and the figure
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name


LOCALES = ("C", "en_US.UTF-8", "zh_CN.UTF-8", "ja_JP.UTF-8")
"""The locales the build must not depend on: C, and three a Chinese office may run in."""


@pytest.fixture(scope="module")
def locales(tmp_path_factory):
    """en_US, zh_CN and ja_JP compiled with localedef (Debian `locales`) into a folder of their
    own, used through LOCPATH: no root, and the machine's own locales are left alone."""
    import subprocess

    folder = tmp_path_factory.mktemp("locales")
    for name in LOCALES[1:]:
        language = name.split(".")[0]
        subprocess.run(
            ["localedef", "-i", language, "-f", "UTF-8", str(folder / name)],
            check=True,
            capture_output=True,
        )
    return folder


def test_the_same_bytes_in_every_locale(tmp_path, locales):
    """`LANG=zh_CN.UTF-8 liandong build 13` and `LANG=C liandong build 13` write the same bytes,
    and so do en_US, ja_JP, and FC_LANG set on its own. Under zh_CN fontconfig names fonts in
    Chinese (霞鹜文楷), which used to reach the PDF's font names."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    environments = {
        "C": {"LANG": "C"},
        "en_US": {"LANG": "en_US.UTF-8"},
        "zh_CN": {"LANG": "zh_CN.UTF-8"},
        "ja_JP": {"LC_ALL": "ja_JP.UTF-8", "FC_LANG": "ja"},
        "FC_LANG": {"LANG": "C", "FC_LANG": "zh-cn"},
    }
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in ("LANG", "LANGUAGE", "FC_LANG") and not key.startswith("LC_")
    }
    base["LOCPATH"] = str(locales)
    project = make_project(tmp_path / "project")
    exe = Path(sys.executable).with_name("liandong")
    outputs = {}
    for label, extra in environments.items():
        env = {**base, **extra}
        # The locale is really in force (the C library accepts it; LC_COLLATE, which Python
        # does not coerce to C.UTF-8) ...
        applied = subprocess.run(
            [sys.executable, "-c", "import locale; print(locale.setlocale(locale.LC_COLLATE, ''))"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert applied == extra.get("LC_ALL", extra.get("LANG")), label
        out = tmp_path / label
        subprocess.run(
            [str(exe), "build", "13", "--print-shop", "--out", str(out)],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        outputs[label] = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    # ... and it changes what fontconfig answers: the Kai font's first name is its Chinese one.
    named = {
        label: subprocess.run(
            ["fc-match", "-f", "%{family[0]}", "LXGW WenKai"],
            env={**base, **environments[label]},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for label in ("C", "zh_CN")
    }
    assert named == {"C": "LXGW WenKai", "zh_CN": "霞鹜文楷"}
    for label in environments:
        assert outputs[label].keys() == outputs["C"].keys()
        for name, data in outputs[label].items():
            assert data == outputs["C"][name], (label, name)


# --- The 版记 in every form -----------------------------------------------------------------

BANJI_CASES = FIXTURES / "banji"
"""One folder per form: issues/series.yaml with its 版记 values, and expected.txt, the rows as
printed, separated by --- (the rules): "A | B" is one line with A at the left and B flush
right, "> B" a line flush right, "A" a line at the left, "送：*" a list that wraps (its wrapped
lines after the colon)."""


def _banji_case_names() -> list[str]:
    return sorted(path.name for path in BANJI_CASES.iterdir() if path.is_dir())


@pytest.mark.parametrize("name", _banji_case_names())
def test_banji_holds_in_every_form(name, tmp_path):
    from pdfmeasure import text_left, text_right

    case = BANJI_CASES / name
    project = make_project(
        tmp_path, overrides={"issues/series.yaml": (case / "issues" / "series.yaml").read_bytes()}
    )
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    pdf = project / "out" / "2024-13.pdf"
    printed = lines(pdf)
    last = max(line.page for line in printed)
    found = rules(pdf, last, TOP, BOTTOM + 5 * MM)
    expected = [
        row.strip("\n").splitlines()
        for row in (case / "expected.txt").read_text(encoding="utf-8").split("---\n")
    ]
    # A rule above every row and one below the last (报, 送, 发 are one row, GB/T 9704 §7.4.2):
    # the first and last 0.35 mm, those between 0.25 mm, all as wide as the text area, the
    # last on its bottom edge.
    assert len(found) == len(expected) + 1, found
    thickness = [(bottom - top) / MM for top, bottom, _, _ in found]
    assert thickness[0] == pytest.approx(0.35, abs=0.05)
    assert thickness[-1] == pytest.approx(0.35, abs=0.05)
    assert all(t == pytest.approx(0.25, abs=0.05) for t in thickness[1:-1])
    for _, _, left, right in found:
        assert left == pytest.approx(text_left(last), abs=0.1 * MM)
        assert right == pytest.approx(text_right(last), abs=0.1 * MM)
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    # One character in on either side, 四号 FangSong.
    start, end = text_left(last) + 14, text_right(last) - 14
    for index, rows in enumerate(expected):
        inside = [
            line
            for line in printed
            if line.page == last and found[index][1] < line.baseline < found[index + 1][0]
        ]
        assert all(line.size == pytest.approx(14, abs=0.01) for line in inside)
        assert all(line.fonts == {"FandolFang"} for line in inside)
        for row in rows:
            line = inside.pop(0)
            if row.endswith("：*"):  # a list: its label, then wrapped lines after the colon
                assert line.text.startswith(row[:-1]), (name, row)
                assert line.x0 == pytest.approx(start, abs=0.2 * MM)
                colon = line.chars[1]["x1"]
                wrapped = 0
                while inside and inside[0].x0 == pytest.approx(colon, abs=0.2 * MM):
                    inside.pop(0)
                    wrapped += 1
                assert wrapped, (name, row)
                continue
            assert line.text == row.replace(" | ", "").removeprefix("> "), (name, row)
            if row.startswith("> "):
                assert line.x1 == pytest.approx(end, abs=0.2 * MM), (name, row)
                continue
            assert line.x0 == pytest.approx(start, abs=0.2 * MM), (name, row)
            if " | " in row:
                left, right = row.split(" | ")
                assert line.x1 == pytest.approx(end, abs=0.2 * MM), (name, row)
                gap = line.chars[len(left)]["x0"] - line.chars[len(left) - 1]["x1"]
                assert gap >= 0.5 * 14 - 0.01, (name, row)  # half a character at least
                # Squeezed, if at all, by at most SQUEEZE (0.05 em) between two characters
                # (what WeasyPrint writes drifts by up to 1/1000 em a glyph: 0.01 em allowed).
                for a, b in zip(line.chars, line.chars[1:]):
                    assert b["x0"] - a["x1"] >= -0.06 * 14, (name, row, a["text"], b["text"])
        assert not inside, (name, [line.text for line in inside])
