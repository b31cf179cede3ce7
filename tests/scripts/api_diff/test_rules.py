"""scripts/api_diff/rules.py: the README's table is the rules, and each rule has a corpus edit."""

from __future__ import annotations

from pathlib import Path

from scripts.api_diff.rules import RULES, markdown_table
from scripts.project import ROOT

from .corpus import CORPUS


def test_the_readme_table_is_the_rules() -> None:
    readme = Path(ROOT, "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme


def test_every_rule_has_a_corpus_edit() -> None:
    assert {rule for edit in CORPUS for rule in edit.rules} == set(RULES)


def test_every_rule_rates_both_directions_or_defers_to_redocly_in_both() -> None:
    for rule in RULES.values():
        assert (rule.request is None) == (rule.answer is None), rule.id
