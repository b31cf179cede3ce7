"""Compare the working tree's spec and package with a base revision, rate every change, check the version.

    python -m scripts.api_diff                  # base: the newest v* tag, else the first parent commit
    python -m scripts.api_diff --base v0.1.0    # any tag, branch or commit
    python -m scripts.api_diff --report PATH    # where the Markdown draft goes (default build/api-diff.md)

What is compared and how each change is rated: the package's docstring (`scripts/api_diff/__init__.py`)
and the README's "What a change means for you".

The last line is `required bump: major|minor|patch|none`. Exit status: 0 pyproject.toml's version is
bumped at least that much over the base's; 1 it is not; 2 the base or a tool could not be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from scripts.api_diff import base as bases
from scripts.api_diff import contract, python_api, typed_usage
from scripts.api_diff.changes import Change, VersionError, bump_of, deduplicated, next_version, required_bump
from scripts.api_diff.report import lines, markdown
from scripts.project import ROOT, load_spec

REPORT = ROOT / "build" / "api-diff.md"


def current_version(root: Path = ROOT) -> str:
    return str(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def contract_changes(base_tree: Path, root: Path = ROOT) -> list[Change]:
    base_spec, new_spec = base_tree / "spec" / "openapi.yaml", root / "spec" / "openapi.yaml"
    report = contract.redocly_diff(base_spec, new_spec)
    return contract.rate(report, load_spec(base_spec), load_spec(new_spec))


def python_changes(base_tree: Path, root: Path = ROOT) -> list[Change]:
    return python_api.changes(python_api.load(base_tree / "generated"), python_api.load(root / "generated"))


def usage_sources(base_tree: Path, root: Path = ROOT) -> dict[str, str]:
    """What users wrote against the base: its usage file (this tree's when the base predates it) and
    its README's examples."""
    usage = base_tree / typed_usage.USAGE
    if not usage.is_file():
        usage = root / typed_usage.USAGE
    readme = (base_tree / typed_usage.README).read_text(encoding="utf-8")
    return {"usage.py": usage.read_text(encoding="utf-8"), "readme_examples.py": typed_usage.readme_examples(readme)}


def type_changes(base_tree: Path, root: Path = ROOT) -> list[Change]:
    sources = usage_sources(base_tree, root)
    work = base_tree.parent
    files = typed_usage.write_usage(sources, work / "usage")
    # The base's errors depend only on the base and the usage: kept beside its files, keyed by both.
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:16]
    baseline = work / f"mypy-base-{digest}.json"
    if baseline.is_file():
        old = {typed_usage.TypeCheckError(*row) for row in json.loads(baseline.read_text(encoding="utf-8"))}
    else:
        old = typed_usage.check(files, base_tree / "generated", cache_dir=work / "mypy-cache")
        rows = sorted((error.file, error.line, error.message) for error in old)
        baseline.write_text(json.dumps(rows), encoding="utf-8")
    new = typed_usage.check(files, root / "generated", cache_dir=work.parent / "mypy-cache-new")
    return typed_usage.changes(old, new)


def main(argv: Sequence[str] | None = None) -> int:
    # Named as it is run: argparse would otherwise call a package's command "__main__.py".
    parser = argparse.ArgumentParser(prog="python -m scripts.api_diff", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", help="git tag, branch or commit (default: newest v* tag, else the first parent)")
    parser.add_argument("--report", type=Path, default=REPORT, help="the Markdown draft (default build/api-diff.md)")
    args = parser.parse_args(argv)
    return run(ROOT, args.base, args.report)


def run(root: Path, ref: str | None, report: Path, cache: Path = bases.CACHE) -> int:
    """Compare `root`'s working tree with `ref` (None: the default base); print, write `report`."""
    try:
        base = bases.find(root, ref)
        base_version = bases.version(base, root)
        version = current_version(root)
        print(f"base: {base.ref} ({base.how}, {base.short}), version {base_version}; working tree version {version}")
        if bases.unchanged(base, root):
            print("spec/ and generated/ are unchanged since the base: nothing to compare")
            changes: list[Change] = []
        else:
            tree = bases.extract(base, root, cache)
            found = [*contract_changes(tree, root), *python_changes(tree, root), *type_changes(tree, root)]
            changes = deduplicated(found)
        moved = bump_of(base_version, version)
    except (bases.BaseError, contract.ContractError, VersionError, RuntimeError) as exc:
        print(f"api-diff: {exc}", file=sys.stderr)
        return 2
    bump = required_bump(changes)
    for line in lines(changes):
        print(line)
    label = f"{base.ref} ({base.short})"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        markdown(changes, bump=bump, base_label=label, base_version=base_version, version=version), encoding="utf-8"
    )
    print(f"report: {report}")
    failed = moved < bump
    if failed:
        wanted = next_version(base_version, bump)
        print(
            f"version {version} is not a {bump} bump over {base_version}: set at least {wanted}"
            " in pyproject.toml and add the report to CHANGELOG.md",
            file=sys.stderr,
        )
    print(f"required bump: {bump}")
    return 1 if failed else 0
