"""scripts/api_diff/typed_usage.py: old typed usage checked by mypy against two small packages."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scripts.api_diff import typed_usage
from scripts.api_diff.changes import Bump

USAGE = """
from pkg import Invoice

def read(invoice: Invoice) -> None:
    total: float = invoice.total
    number: str = invoice.number
    print(total, number, undefined_name)
"""


def package(root: Path, body: str) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(textwrap.dedent(body), encoding="utf-8")
    (root / "pkg" / "py.typed").write_text("", encoding="utf-8")
    return root


def test_an_error_only_the_new_package_causes_is_a_break(tmp_path: Path) -> None:
    old = package(tmp_path / "old", "class Invoice:\n    total: float\n    number: str\n")
    new = package(tmp_path / "new", "class Invoice:\n    total: float | str\n    number: str\n")
    files = typed_usage.write_usage({"usage.py": USAGE}, tmp_path / "usage")
    before = typed_usage.check(files, old, cache_dir=tmp_path / "cache")
    after = typed_usage.check(files, new, cache_dir=tmp_path / "cache")  # the standard library cached once
    # The placeholder's error is the base's too: not a break.
    assert any("undefined_name" in error.message for error in before)
    [change] = typed_usage.changes(before, after)
    assert change.bump is Bump.MAJOR
    assert change.view == "types"
    assert change.subject == "scripts/api_diff/usage.py:5"
    assert 'expression has type "float | str", variable has type "float"' in change.what


def test_the_readme_examples_are_its_python_blocks_in_order() -> None:
    readme = "x\n```python\na = 1\n```\n```sh\nls\n```\n```python\nb = a\n```\n"
    assert typed_usage.readme_examples(readme) == "a = 1\n\n\nb = a\n"
