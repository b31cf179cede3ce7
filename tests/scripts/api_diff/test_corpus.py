"""The labelled corpus (`corpus.py`): each spec edit through the contract view gives its bump and lines.

Redocly costs ~0.5 s of CPU per diff, mostly Node starting, so edits that touch different things
share one diff: they are dealt into batches where no two name the same subject (`batches`), each
batch's edits are applied to one copy of the spec, and each edit is judged by the changes that name
its subjects. A change no edit expects fails every test of its batch.
"""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pytest
import yaml

from scripts.api_diff import contract
from scripts.api_diff.changes import Change, deduplicated, required_bump
from scripts.project import load_spec

from .corpus import CORPUS, Edit


class _NoAliases(yaml.SafeDumper):
    """Both sides written without YAML anchors, so that only the edits differ."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def touched(edit: Edit) -> set[str]:
    """What an edit changes: each line's subject, without an argument (`get_invoice(alt_type)` and
    `api.invoices.get_invoice` are both `get_invoice`), an enum for any of its members (a member
    named anew renames the others)."""
    keys = set()
    for line in edit.lines:
        key = re.split(r"[(:]", line, maxsplit=1)[0].removeprefix("api.invoices.")
        owner, _, member = key.rpartition(".")
        keys.add(owner if owner and member.isupper() else key)
    return keys


def batches(corpus: Sequence[Edit]) -> list[list[Edit]]:
    """First fit: each edit into the first batch that touches nothing it touches."""
    dealt: list[tuple[list[Edit], set[str]]] = []
    for edit in corpus:
        keys = touched(edit)
        for members, taken in dealt:
            if not keys & taken:
                members.append(edit)
                taken |= keys
                break
        else:
            dealt.append(([edit], set(keys)))
    return [members for members, _ in dealt]


BATCHES = batches(CORPUS)


@cache
def rated(index: int) -> tuple[Change, ...]:
    """The changes of batch `index`, all its edits applied to one copy of the spec."""
    base = copy.deepcopy(load_spec())
    new = copy.deepcopy(base)
    for edit in BATCHES[index]:
        edit.edit(new)
    with tempfile.TemporaryDirectory(prefix="api-diff-corpus-") as folder:
        (Path(folder) / "base.yaml").write_text(yaml.dump(base, Dumper=_NoAliases), encoding="utf-8")
        (Path(folder) / "new.yaml").write_text(yaml.dump(new, Dumper=_NoAliases), encoding="utf-8")
        report = contract.redocly_diff(Path(folder) / "base.yaml", Path(folder) / "new.yaml")
    return tuple(deduplicated(contract.rate(report, base, new)))


def test_the_corpus_has_at_least_twenty_edits_and_batches_save_most_diffs() -> None:
    assert len(CORPUS) >= 20
    assert len({edit.name for edit in CORPUS}) == len(CORPUS)
    assert sorted(edit.name for batch in BATCHES for edit in batch) == sorted(edit.name for edit in CORPUS)
    assert len(BATCHES) <= len(CORPUS) // 4


@pytest.mark.parametrize("edit", CORPUS, ids=[edit.name for edit in CORPUS])
def test_each_edit_gives_its_bump_and_lines(edit: Edit) -> None:
    index = next(number for number, batch in enumerate(BATCHES) if edit in batch)
    changes = rated(index)
    expected_anywhere = {line for other in BATCHES[index] for line in other.lines}
    assert {change.line for change in changes} - expected_anywhere == set(), "a change no edit of the batch expects"
    mine = [change for change in changes if change.line in edit.lines]
    assert ({change.line for change in mine}, required_bump(mine)) == (set(edit.lines), edit.bump)
    assert {change.rule for change in mine} == set(edit.rules)
