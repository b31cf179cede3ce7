"""The base revision: which one (the newest `v*` tag, else the first parent commit), whether this
clone has it, and its files, extracted once per commit (kept under .nox/, so a second run reuses
them and their mypy results)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.project import ROOT

CACHE = ROOT / ".nox" / ".api-diff"
# What the comparison reads from the base.
PATHS = ("spec", "generated", "README.md", "pyproject.toml", "scripts/api_diff/usage.py")
# What, when unchanged since the base, leaves nothing to compare.
COMPARED = ("spec", "generated")


class BaseError(RuntimeError):
    """The base cannot be found or read; the message says why and what to do."""


@dataclass(frozen=True)
class Base:
    ref: str
    sha: str
    how: str  # "given", "newest v* tag", "first parent"

    @property
    def short(self) -> str:
        return self.sha[:12]


def _git(args: Sequence[str], root: Path, *, text: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=text, check=False)
    except FileNotFoundError:
        raise BaseError("git is not installed: the base revision is read with git") from None


def _shallow(root: Path) -> bool:
    return _git(["rev-parse", "--is-shallow-repository"], root).stdout.strip() == "true"


def find(root: Path = ROOT, ref: str | None = None) -> Base:
    """The base: `ref` if given, else the newest `v*` tag reachable from HEAD, else HEAD's first parent."""
    if _git(["rev-parse", "--git-dir"], root).returncode != 0:
        raise BaseError(f"{root} is not a git clone: the base revision is read from git history")
    how = "given"
    if ref is None:
        described = _git(["describe", "--tags", "--abbrev=0", "--match=v[0-9]*", "HEAD"], root)
        ref, how = (
            (described.stdout.strip(), "newest v* tag") if described.returncode == 0 else ("HEAD^1", "first parent")
        )
    found = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], root)
    if found.returncode == 0:
        return Base(ref, found.stdout.strip(), how)
    if _shallow(root):
        raise BaseError(
            f"the base {ref} is not in this clone: it is shallow. Fetch the history "
            "(`git fetch --unshallow --tags`) or name a commit you have with --base REF"
        )
    if how == "first parent":
        raise BaseError("HEAD has no parent commit and there is no v* tag: name a base with --base REF")
    raise BaseError(
        f"the base {ref} is not a commit of this clone (no such tag, branch or commit; `git fetch --tags`?)"
    )


def unchanged(base: Base, root: Path = ROOT, paths: Sequence[str] = COMPARED) -> bool:
    """True when the working tree's `paths` equal the base's (tracked changes and untracked files)."""
    diff = _git(["diff", "--quiet", base.sha, "--", *paths], root)
    if diff.returncode not in (0, 1):
        raise BaseError(f"git diff against {base.ref} failed: {diff.stderr.strip()}")
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--", *paths], root).stdout.strip()
    return diff.returncode == 0 and not untracked


def version(base: Base, root: Path = ROOT) -> str:
    """The base's pyproject.toml version."""
    shown = _git(["show", f"{base.sha}:pyproject.toml"], root)
    if shown.returncode != 0:
        raise BaseError(f"the base {base.ref} has no pyproject.toml")
    project = tomllib.loads(shown.stdout).get("project", {})
    return str(project.get("version", "0.0.0"))


def extract(base: Base, root: Path = ROOT, cache: Path = CACHE) -> Path:
    """The base's files (`PATHS` that it has) in a folder of their own, extracted once per commit."""
    folder = cache / base.sha
    tree, done = folder / "tree", folder / "extracted"
    if done.is_file():
        return tree
    shutil.rmtree(folder, ignore_errors=True)
    tree.mkdir(parents=True)
    listed = _git(["ls-tree", "--name-only", base.sha, "--", *PATHS], root).stdout.split()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", base.sha, "--", *listed], cwd=root, capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise BaseError(f"git archive of {base.ref} failed: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    done.write_text(base.sha, encoding="utf-8")
    return tree
