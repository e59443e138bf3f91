"""Publishing: the workflow deploys the site and nothing else, installs no test tools, caches by
what the site depends on; scripts/publish.sh uploads the built folder to any web server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, liandong, make_project

WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"
PUBLISH = REPO / "scripts" / "publish.sh"


def workflow_steps() -> list[dict]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def code_lines(path: Path) -> list[str]:
    return [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_workflow_caches_by_what_the_site_depends_on():
    (cache,) = [
        step for step in workflow_steps() if step.get("uses", "").startswith("actions/cache")
    ]
    key = cache["with"]["key"]
    assert "github.sha" not in key
    assert "hashFiles(" in key
    for source in (
        "issues/**",
        "templates/**",
        "fonts/**",
        "liandong/**",
        "pyproject.toml",
        "requirements/editor.txt",  # the locked versions the PDFs are made with
    ):
        assert f"'{source}'" in key
    assert cache["with"]["path"].split() == ["_site", "_site-cache"]


def test_the_workflow_deploys_the_site_folder_alone_and_installs_no_test_tools():
    steps = workflow_steps()
    runs = " ".join(step.get("run", "") for step in steps)
    (build,) = [step for step in steps if "publish.sh" in step.get("run", "")]
    assert build["run"].strip() == "bash scripts/publish.sh _site"
    (upload,) = [
        step for step in steps if step.get("uses", "").startswith("actions/upload-pages-artifact")
    ]
    assert upload["with"]["path"] == "_site"  # the cache (_site-cache) stays out
    script = "\n".join(code_lines(PUBLISH))
    assert "bash setup.sh\n" in script + "\n" and "--dev" not in script
    for tool in ("npm", "playwright", "pytest", "chromium", "java"):
        assert tool not in script and tool not in runs


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("publish")
    project = make_project(tmp / "project")
    out = tmp / "site"
    liandong("site", "--out", str(out), cwd=project, check=True)
    assert (tmp / "site-cache" / "manifest.json").is_file()
    return out


def publish(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(PUBLISH), *args], capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync: bash setup.sh --dev installs it")
def test_publish_uploads_the_site_to_a_web_server_folder(built, tmp_path):
    www = tmp_path / "www" / "liandong"
    www.mkdir(parents=True)
    (www / "old-page.html").write_text("gone", encoding="utf-8")
    result = publish(str(built), "--to", str(www) + "/", "--upload-only")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"已上传到 {www}/"
    uploaded = sorted(p.relative_to(www).as_posix() for p in www.rglob("*") if p.is_file())
    assert uploaded == sorted(
        p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()
    )
    assert (
        "index.html" in uploaded and "2024-13.pdf" in uploaded and "old-page.html" not in uploaded
    )
    assert not any("manifest" in name or name.startswith(".") for name in uploaded)
    assert (www / "index.html").read_bytes() == (built / "index.html").read_bytes()


def test_publish_refuses_to_upload_liandong_records(built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    (site / ".liandong-site.json").write_text("{}", encoding="utf-8")
    result = publish(str(site), "--to", str(tmp_path / "www"), "--upload-only")
    assert result.returncode == 1
    assert result.stderr == (
        f"publish.sh：{site} 里有 liandong 的记录文件（.liandong*）："
        "它们不应发布。请删除后重新运行 liandong site。\n"
    )
    assert not (tmp_path / "www").exists()


@pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync: bash setup.sh --dev installs it")
def test_a_failed_upload_says_so_in_chinese(built, tmp_path):
    """rsync's own error is English; the editor also reads what happened, and the exit status
    is publish.sh's 1, not rsync's code."""
    target = f"{tmp_path / 'nowhere' / 'deeper'}/"  # rsync makes one missing level, not two
    result = publish(str(built), "--to", target, "--upload-only")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"publish.sh：上传到 {target} 没有完成（rsync 的出错信息见上）：请检查地址、权限和网络后重新运行。"
    )
    assert "已上传" not in result.stdout


def test_upload_only_needs_a_target():
    result = publish("build/site", "--upload-only")
    assert result.returncode == 1
    assert result.stderr == "publish.sh：--upload-only 要和 --to 一起用。\n"
