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
    shutil.copytree(
        REPO,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "node_modules", "*.egg-info", "__pycache__", ".pytest_cache"
        ),
    )
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # setup.sh must not show an editor a wall of setuptools warnings (the templates link).
    assert "Warning" not in built.stdout + built.stderr
    wheel = next(wheels.glob("liandong-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for name in (
        "print.html",
        "print.css",
        "web.html",
        "web.css",
        "_lines.html",
        "site_issue.html",
        "site_home.html",
        "site.css",
        "site_search.js",
        "site_favicon.svg",
    ):
        assert f"liandong/templates/{name}" in names
    project = make_project(tmp_path / "project")
    assert not (project / "templates").exists()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(
        [sys.executable, "-m", "liandong", "build", "13"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (project / "build" / "2024-13.pdf").stat().st_size > 10_000
    # The build used the extracted package, not this checkout.
    probe = subprocess.run(
        [sys.executable, "-c", "import liandong; print(liandong.__file__)"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(tmp_path / "site"))


def test_nothing_reads_outside_the_repository():
    """Whoever clones the project has only the project: no code or test may name a folder beside
    it (the developers' folder of references, one level up) or climb out of the repository."""
    import re

    beside = "sha" + "red"  # the developers' folder; spelled so that a grep for it finds no reader
    outside = re.compile(
        "|".join(
            [
                r"\.\./" + beside,  # the folder beside the repository
                r"""["']""" + beside + r"""["']""",  # its name as a path component
                r"REPO\.parent",  # the folder that holds the repository
                r"\.parent\.parent\.parent",  # three levels up from tests/ or liandong/
            ]
        )
    )
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in ("liandong", "tests", "scripts", "benchmarks")
        for path in sorted((REPO / folder).rglob("*"))
        if path.suffix in (".py", ".sh") and path.is_file() and path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []


# --- The lock files: every Python package at one version, with hashes ----------------------

LOCKS = {"editor": REPO / "requirements" / "editor.txt", "dev": REPO / "requirements" / "dev.txt"}


def _locked(path) -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) of a pip-compile lock file."""
    import re

    text = path.read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        block = "\n".join(line for line in block.splitlines() if not line.lstrip().startswith("#"))
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", block.strip())
        if match:
            found[_normal(match.group(1))] = (
                match.group(2),
                re.findall(r"--hash=sha256:([0-9a-f]{64})", block),
            )
    return found


def _normal(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_locked_package_is_pinned_with_hashes():
    for level, path in LOCKS.items():
        locked = _locked(path)
        assert len(locked) > 20, level
        for name, (_, hashes) in locked.items():
            assert hashes, f"{level}: {name} has no hash"
        # Nothing else in the file: no unpinned requirement, no index of this machine.
        lines = [
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith(("#", " "))
        ]
        assert all("==" in line for line in lines), lines
        assert "file://" not in path.read_text(encoding="utf-8")


def test_the_locks_hold_what_pyproject_asks_for_at_one_version():
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    editor, dev = _locked(LOCKS["editor"]), _locked(LOCKS["dev"])
    wanted = {"editor": [*project["project"]["dependencies"], *project["build-system"]["requires"]]}
    wanted["dev"] = wanted["editor"] + [
        requirement
        for extra in ("test", "bench")
        for requirement in project["project"]["optional-dependencies"][extra]
    ]
    for level, requirements in wanted.items():
        locked = editor if level == "editor" else dev
        for text in requirements:
            requirement = Requirement(text)
            name = _normal(requirement.name)
            assert name in locked, f"{level}: {name} is not locked"
            assert requirement.specifier.contains(locked[name][0], prereleases=True), (level, text)
    # The editor's level is the developer's, less the test tools: the same versions.
    assert {name: version for name, (version, _) in editor.items()} == {
        name: dev[name][0] for name in editor
    }


def test_this_environment_is_the_lock():
    """The tests run against exactly the developer's lock (setup.sh --dev installed it)."""
    from importlib import metadata

    for name, (version, _) in _locked(LOCKS["dev"]).items():
        assert metadata.version(name) == version, name


def test_setup_installs_from_the_locks_only():
    script = (REPO / "setup.sh").read_text(encoding="utf-8")
    assert "lock=requirements/editor.txt" in script
    assert '[ "$level" = dev ] && lock=requirements/dev.txt' in script
    assert 'pip install -q --require-hashes -r "$lock"' in script
    assert "pip install -q --no-deps --no-build-isolation -e ." in script
    assert "--upgrade pip" not in script  # no unpinned pip either


def test_the_publish_workflow_runs_in_a_pinned_image_and_snapshot():
    import re

    import yaml

    workflow = yaml.safe_load(
        (REPO / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8")
    )
    build = workflow["jobs"]["build"]
    assert re.fullmatch(r"debian@sha256:[0-9a-f]{64}", build["container"]["image"])
    assert re.fullmatch(r"\d{8}T\d{6}Z", build["env"]["DEBIAN_SNAPSHOT"])
    first = build["steps"][0]["run"]
    assert "http://snapshot.debian.org/archive/debian/${DEBIAN_SNAPSHOT}" in first
    assert "http://snapshot.debian.org/archive/debian-security/${DEBIAN_SNAPSHOT}" in first
    assert any(step.get("run", "").startswith("bash scripts/publish.sh") for step in build["steps"])
