"""A fresh clone alone in an empty folder is the whole project: no tracked file reads outside it.

The upstream references once lived in a folder beside the checkout, so every run on a fresh clone
failed. This scans every tracked file for the ways a path escapes the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from scripts.project import ROOT

SHARED = "sha" + "red"

# Built from parts so that this file does not flag itself.
_SHARED = re.compile(r"\.\./" + "shared|" + "shared/" + "reference")
# Machine folders: a path that exists on one machine only.
_MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:" + "work|home|root|Users|tmp|mnt|srv|opt" + r")/")
_PARENTS_INDEX = re.compile(r"\bparents\[(\d+)\]")
_PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\))?((?:\.parent)+)\b")
_ABOVE_ROOT = re.compile(r"\bROOT\.parent\b|\bROOT\s*/\s*['\"]\.\.|dirname \"\$0\"\)/\.\./\.\.")


def escapes(relative: str, text: str) -> list[str]:
    """Why `text`, the content of the tracked file `relative`, refers outside the repository."""
    depth = len(PurePosixPath(relative).parts)  # parents[depth - 1] of the file is the root
    found: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{relative}:{number}"
        if _SHARED.search(line):
            found.append(f"{where}: names the folder beside the checkout: {line.strip()}")
        if _MACHINE_PATH.search(line):
            found.append(f"{where}: absolute machine path: {line.strip()}")
        for match in _PARENTS_INDEX.finditer(line):
            if int(match.group(1)) >= depth:
                found.append(f"{where}: parents[{match.group(1)}] is above the repository root")
        for match in _PARENT_CHAIN.finditer(line):
            if match.group(1).count(".parent") > depth:
                found.append(f"{where}: {match.group(0)} is above the repository root")
        if _ABOVE_ROOT.search(line):
            found.append(f"{where}: steps above the repository root: {line.strip()}")
    return found


def tracked_files() -> list[str]:
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout ({exc}): nothing to scan")
    return [name for name in listing.split("\0") if name]


def test_no_tracked_file_refers_outside_the_repository() -> None:
    this = Path(__file__).resolve().relative_to(ROOT).as_posix()
    problems: list[str] = []
    files = tracked_files()
    assert "pyproject.toml" in files
    for relative in files:
        if relative == this:
            continue
        try:
            text = (ROOT / relative).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary, or deleted in the work tree
        problems += escapes(relative, text)
    assert problems == []


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        # Built from parts so that this file does not itself name the folder it looks for.
        ("scripts/upstream_drift.py", f'UPSTREAM = ROOT.parent / "{SHARED}" / "reference" / "x.json"'),
        ("scripts/x.py", f"    python -m scripts.x   # against ../{SHARED}/reference/"),
        ("README.md", f"the Leadway page (`{SHARED}/reference/leadway-send-invoice-doc.txt`)"),
        ("tests/x/test_y.py", "ROOT = Path(__file__).resolve().parents[3]"),
        ("tests/test_y.py", "ROOT = Path(__file__).parent.parent.parent"),
        ("tests/test_y.py", 'DATA = ROOT / "../data.json"'),
        ("scripts/tool.py", 'CACHE = "/work/main/.cache"'),
        ("scripts/tool.py", 'open("/home/me/spec.yaml")'),
        (".ci/run", 'cd "$(dirname "$0")/../.."'),
    ],
)
def test_each_kind_of_escape_is_caught(relative: str, line: str) -> None:
    assert escapes(relative, line)


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        ("scripts/project.py", "ROOT = Path(__file__).resolve().parent.parent"),
        ("tests/sandbox/test_cli.py", "ROOT = Path(__file__).resolve().parents[2]"),
        ("scripts/nox", 'root=$(cd "$(dirname "$0")/.." && pwd)'),
        (".ci/run", "#!/usr/bin/env bash"),
        ("tests/runtime/test_validation.py", '    "traversal": "../send",'),
        ("README.md", "https://github.com/GoHighLevel/highlevel-api-docs/blob/main/apps/invoices.json"),
    ],
)
def test_paths_inside_the_repository_pass(relative: str, line: str) -> None:
    assert escapes(relative, line) == []
