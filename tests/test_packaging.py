"""An installed liandong carries its templates: it builds a project that has no templates/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO, make_project


def test_wheel_ships_the_templates_and_builds_outside_the_repository(tmp_path):
    # Build from a copy: setuptools writes build/ next to the sources, where outputs live.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "node_modules", "*.egg-info", "__pycache__", ".pytest_cache"))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "--no-build-isolation", "-w", str(wheels), str(source)],
                           check=True, capture_output=True, text=True)
    # setup.sh must not show an editor a wall of setuptools warnings (the templates link).
    assert "Warning" not in built.stdout + built.stderr
    wheel = next(wheels.glob("liandong-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for name in ("print.html", "print.css", "web.html", "web.css", "_lines.html",
                 "site_issue.html", "site_home.html", "site.css", "site_search.js", "site_favicon.svg"):
        assert f"liandong/templates/{name}" in names
    project = make_project(tmp_path / "project")
    assert not (project / "templates").exists()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run([sys.executable, "-m", "liandong", "build", "13"], cwd=project,
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (project / "build" / "2024-13.pdf").stat().st_size > 10_000
    # The build used the extracted package, not this checkout.
    probe = subprocess.run([sys.executable, "-c", "import liandong; print(liandong.__file__)"],
                           cwd=project, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(tmp_path / "site"))


def test_nothing_reads_outside_the_repository():
    """Whoever clones the project has only the project: no code or test may name a folder beside
    it (the developers' ../shared) or climb out of the repository."""
    import re

    outside = re.compile("|".join([
        r"\.\./" + "shared",                 # ../shared
        r"""["']""" + "shared" + r"""["']""",  # "shared" as a path component
        r"REPO\.parent",                     # the folder that holds the repository
        r"\.parent\.parent\.parent",         # three levels up from tests/ or liandong/
    ]))
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
             for folder in ("liandong", "tests", "scripts", "benchmarks")
             for path in sorted((REPO / folder).rglob("*"))
             if path.suffix in (".py", ".sh") and path.is_file() and path != Path(__file__)
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if outside.search(line)]
    assert found == []
