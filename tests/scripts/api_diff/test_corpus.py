"""The labelled corpus (`corpus.py`): each spec edit through the contract view gives its bump and lines."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from scripts.api_diff import contract
from scripts.api_diff.changes import deduplicated, required_bump
from scripts.project import load_spec

from .corpus import CORPUS, Edit


class _NoAliases(yaml.SafeDumper):
    """Both sides written without YAML anchors, so that only the edit differs."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def rated(edit: Edit, folder: Path) -> tuple[object, set[str], set[str]]:
    base = copy.deepcopy(load_spec())
    new = copy.deepcopy(base)
    edit.edit(new)
    (folder / "base.yaml").write_text(yaml.dump(base, Dumper=_NoAliases), encoding="utf-8")
    (folder / "new.yaml").write_text(yaml.dump(new, Dumper=_NoAliases), encoding="utf-8")
    report = contract.redocly_diff(folder / "base.yaml", folder / "new.yaml")
    changes = deduplicated(contract.rate(report, base, new))
    return required_bump(changes), {change.line for change in changes}, {change.rule for change in changes}


def test_the_corpus_has_at_least_twenty_edits() -> None:
    assert len(CORPUS) >= 20
    assert len({edit.name for edit in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("edit", CORPUS, ids=[edit.name for edit in CORPUS])
def test_each_edit_gives_its_bump_and_lines(edit: Edit, tmp_path: Path) -> None:
    bump, lines, rules = rated(edit, tmp_path)
    assert (bump, lines) == (edit.bump, set(edit.lines))
    assert rules == set(edit.rules)
