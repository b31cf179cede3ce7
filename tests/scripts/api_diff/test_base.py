"""scripts/api_diff/base.py: which base, in a clone that has it, and a clear message when it does not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scripts.api_diff import base as bases


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def commit(root: Path, text: str, message: str) -> str:
    (root / "spec").mkdir(exist_ok=True)
    (root / "spec" / "openapi.yaml").write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text(f'[project]\nversion = "0.{len(message)}.0"\n', encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    commit(root, "one", "first")
    return root


def test_the_only_commit_has_no_base(repo: Path) -> None:
    with pytest.raises(bases.BaseError, match=r"HEAD has no parent commit and there is no v\* tag: name a base"):
        bases.find(repo)


def test_the_first_parent_then_the_newest_tag(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    second = commit(repo, "two", "second")
    assert bases.find(repo) == bases.Base("HEAD^1", first, "first parent")
    git(repo, "tag", "v0.1.0", first)
    git(repo, "tag", "v0.2.0", second)
    commit(repo, "three", "third!")
    assert bases.find(repo) == bases.Base("v0.2.0", second, "newest v* tag")
    found = bases.find(repo, "v0.1.0")
    assert (found.sha, found.how) == (first, "given")
    assert bases.version(found, repo) == "0.5.0"


def test_unchanged_sees_edits_and_new_files(repo: Path) -> None:
    commit(repo, "two", "second")
    head = bases.find(repo, "HEAD")
    assert bases.unchanged(head, repo)
    (repo / "spec" / "extra.yaml").write_text("new", encoding="utf-8")
    assert not bases.unchanged(head, repo)
    (repo / "spec" / "extra.yaml").unlink()
    (repo / "spec" / "openapi.yaml").write_text("edited", encoding="utf-8")
    assert not bases.unchanged(head, repo)


def test_a_missing_ref_is_named(repo: Path) -> None:
    with pytest.raises(bases.BaseError, match=r"the base v9\.9\.9 is not a commit of this clone"):
        bases.find(repo, "v9.9.9")


def test_a_shallow_clone_says_so(repo: Path, tmp_path: Path) -> None:
    commit(repo, "two", "second")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{repo}", str(shallow))
    with pytest.raises(bases.BaseError, match=r"is not in this clone: it is shallow.*--unshallow"):
        bases.find(shallow)


def test_outside_a_clone(tmp_path: Path) -> None:
    with pytest.raises(bases.BaseError, match="is not a git clone"):
        bases.find(tmp_path)


def test_the_base_is_extracted_once(repo: Path, tmp_path: Path) -> None:
    first = bases.find(repo, "HEAD")
    tree = bases.extract(first, repo, cache=tmp_path / "cache")
    assert (tree / "spec" / "openapi.yaml").read_text(encoding="utf-8") == "one"
    (tree / "spec" / "openapi.yaml").write_text("kept", encoding="utf-8")
    assert bases.extract(first, repo, cache=tmp_path / "cache") == tree
    assert (tree / "spec" / "openapi.yaml").read_text(encoding="utf-8") == "kept"
