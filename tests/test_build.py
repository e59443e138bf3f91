"""Building: per-issue values override the series, and the 版记 never meets the body text."""

from __future__ import annotations

import pytest

from conftest import liandong, make_project
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
    assert any("共印300份" in t for t in text)


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
            before = [line for line in all_lines if abs(line.size - 16) < 0.01
                      and line.page == last_page - 1]
            assert before, "the 版记 moved, but the body does not end on the page before"
            # It moved only because it did not fit: one blank line above it, then its rules.
            needed = LINE + (BOTTOM - found[0][0])
            free = BOTTOM - max(line.baseline for line in before)
            assert free < needed, (extra, free / MM, needed / MM)
            outcomes.add("moved to the next page")
    assert outcomes == {"shares the page", "moved to the next page"}


def test_a_short_issue_keeps_its_banji_on_its_only_page(tmp_path):
    """No note and a one-line article: the 版记 fits under the body and must stay there."""
    from conftest import REPO

    article = (REPO / ARTICLE).read_text(encoding="utf-8")
    article = article[:article.index("---", 3) + 3] + "\n\n8月28日，省委书记主持召开会议。\n"
    issue = (REPO / ISSUE).read_text(encoding="utf-8")
    project = make_project(tmp_path, overrides={ARTICLE: article,
                                                ISSUE: issue[:issue.index("编者按")]})
    result = liandong("build", "13", "--out", "out", cwd=project, check=True)
    pdf = project / "out" / "2024-13.pdf"
    all_lines = lines(pdf)
    assert {line.page for line in all_lines} == {1}
    body_end = max(line.baseline for line in all_lines if abs(line.size - 16) < 0.01)
    found = rules(pdf, 1, body_end, BOTTOM + 5 * MM)  # below the body: not the masthead's red rule
    assert len(found) == 4
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    assert "共 1 页" in result.stderr  # an odd page count is only a warning


def test_lines_with_dashes_and_ellipses_stay_flush(tmp_path):
    """—— and …… are measured as Pango sets them inside Chinese text (full-width, Han script)."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    sentences = [f"各承办单位要充分认识办理工作{'的' * k}重要意义——这是法定职责……不能敷衍。"
                 for k in range(12)]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    marked = 0
    for line, following in zip(body, body[1:]):
        continues = (following.page == line.page
                     and abs(following.x0 - text_left(following.page)) < 0.1 * MM)
        if continues and ("——" in line.text or "……" in line.text):
            marked += 1
            assert abs(line.x1 - text_right(line.page)) <= 0.5 * MM, line.text
    assert marked >= 5


def test_bold_latin_is_measured_in_the_bold_face_and_stays_flush(tmp_path):
    """**strong** prints in the family's bold face, whose Latin letters are wider than the
    regular ones: lines with bold Latin text still end on the text area's right edge."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    sentences = [f"会议强调，要把{'代表' * k}**APEC Business Advisory Council meeting**精神落到实处。"
                 for k in range(8)]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)  # preflight: nothing sticks out
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    bold = 0
    for line, following in zip(body, body[1:]):
        continues = (following.page == line.page
                     and abs(following.x0 - text_left(following.page)) < 0.1 * MM)
        if continues and any(word in line.text for word in ("APEC", "Business", "Council")):
            bold += 1
            assert abs(line.x1 - text_right(line.page)) <= 0.5 * MM, line.text
    assert bold >= 4


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
    for index, env in enumerate(({"TZ": "UTC"},
                                 {"TZ": "Asia/Shanghai", "SOURCE_DATE_EPOCH": "1", "LANG": "C"})):
        project = make_project(tmp_path / f"project-{index}-{'x' * index}")
        if index:
            time.sleep(1.1)  # the clock has moved on: nothing may carry it
        subprocess.run([str(exe), "build", "13", "--print-shop"], cwd=project, check=True,
                       capture_output=True, env={**os.environ, **env})
        outputs.append({name: (project / "build" / name).read_bytes()
                        for name in ("2024-13.pdf", "2024-13-print.pdf", "2024-13.html")})
        # No trace of the project's folder anywhere, compressed streams included.
        for name in ("2024-13.pdf", "2024-13-print.pdf"):
            with pikepdf.open(project / "build" / name) as pdf:
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream):
                        assert str(project).encode() not in obj.read_bytes()
        assert str(project) not in outputs[-1]["2024-13.html"].decode("utf-8")
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
        subprocess.run(["localedef", "-i", language, "-f", "UTF-8", str(folder / name)],
                       check=True, capture_output=True)
    return folder


def test_the_same_bytes_in_every_locale(tmp_path, locales):
    """`LANG=zh_CN.UTF-8 liandong build 13` and `LANG=C liandong build 13` write the same bytes,
    and so do en_US, ja_JP, and FC_LANG set on its own. Under zh_CN fontconfig names fonts in
    Chinese (霞鹜文楷), which used to reach the PDF's font names."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from conftest import REPO

    environments = {
        "C": {"LANG": "C"},
        "en_US": {"LANG": "en_US.UTF-8"},
        "zh_CN": {"LANG": "zh_CN.UTF-8"},
        "ja_JP": {"LC_ALL": "ja_JP.UTF-8", "FC_LANG": "ja"},
        "FC_LANG": {"LANG": "C", "FC_LANG": "zh-cn"},
    }
    base = {key: value for key, value in os.environ.items()
            if key not in ("LANG", "LANGUAGE", "FC_LANG") and not key.startswith("LC_")}
    base["LOCPATH"] = str(locales)
    project = make_project(tmp_path / "project")
    exe = Path(sys.executable).with_name("liandong")
    outputs = {}
    for label, extra in environments.items():
        env = {**base, **extra}
        # The locale is really in force (the C library accepts it; LC_COLLATE, which Python
        # does not coerce to C.UTF-8) ...
        applied = subprocess.run([sys.executable, "-c",
                                  "import locale; print(locale.setlocale(locale.LC_COLLATE, ''))"],
                                 env=env, capture_output=True, text=True, check=True).stdout.strip()
        assert applied == extra.get("LC_ALL", extra.get("LANG")), label
        out = tmp_path / label
        subprocess.run([str(exe), "build", "13", "--print-shop", "--out", str(out)], cwd=project,
                       env=env, check=True, capture_output=True)
        outputs[label] = {path.name: path.read_bytes() for path in sorted(out.iterdir())}
    # ... and it changes what fontconfig answers: the Kai font's first name is its Chinese one.
    named = {label: subprocess.run(["fc-match", "-f", "%{family[0]}", "LXGW WenKai"],
                                   env={**base, **environments[label]}, capture_output=True,
                                   text=True, check=True).stdout for label in ("C", "zh_CN")}
    assert named == {"C": "LXGW WenKai", "zh_CN": "霞鹜文楷"}
    for label in environments:
        assert outputs[label].keys() == outputs["C"].keys()
        for name, data in outputs[label].items():
            assert data == outputs["C"][name], (label, name)
