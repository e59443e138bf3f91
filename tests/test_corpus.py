"""Every issue of the corpus (tests/corpus) built once and measured against the one measure."""

from __future__ import annotations

import pytest

from conftest import REPO, liandong
from liandong.validate import issue_folders
from measure import CRITERIA, load_title_words, measure_built

CORPUS = REPO / "tests" / "corpus"
NAMES = [f"{folder.parent.name}/{folder.name}" for folder in issue_folders(CORPUS)]


@pytest.fixture(scope="module")
def corpus(corpus_build):
    """Each corpus issue rendered (conftest.corpus_build: as `liandong build` renders it, but
    going on past an issue that build would refuse) and measured: {"2024/13": Measurement}."""
    words = load_title_words(CORPUS / "title-words.yaml")
    return {name: measure_built(CORPUS, item, words) for name, item in corpus_build.items()}


def test_the_corpus_has_at_least_20_issues():
    assert len(NAMES) >= 20, NAMES


def test_check_finds_no_error_in_the_corpus():
    """The corpus is written as editors write: `check` accepts every issue (so an issue that
    `build` refuses is a case of check passing what build refuses)."""
    result = liandong("check", "--all", cwd=CORPUS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("name", NAMES)
def test_corpus_issue_meets_the_measure(corpus, name, criterion):
    result = corpus[name]
    assert not result.of(criterion), result.report(criterion)
