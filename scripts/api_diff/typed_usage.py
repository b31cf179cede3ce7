"""The type view: old typed usage, checked by mypy against the new package.

What users wrote against the base (this folder's `usage.py` and the README's Python examples, as the
base has them) is checked with `mypy --strict` twice: against the base's package and against the
new one. An error only the new package causes is a break (a field's type narrowed or widened in a way
old code cannot take, a name gone); errors both have (an example's placeholder such as `my_oauth`)
are not. Its line names the usage file, line and mypy's message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from scripts.api_diff.changes import Bump, Change

USAGE = Path("scripts", "api_diff", "usage.py")
README = Path("README.md")
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$")


@dataclass(frozen=True)
class TypeCheckError:
    file: str
    line: int
    message: str


def readme_examples(readme: str) -> str:
    """The README's ```python blocks as one module (later examples continue earlier ones)."""
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    return "\n\n".join(blocks)


def write_usage(sources: Mapping[str, str], folder: Path) -> list[Path]:
    """The usage sources as module files in `folder` (names like `usage.py`, `readme_examples.py`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sources.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def check(files: Iterable[Path], package_root: Path, *, cache_dir: Path) -> set[TypeCheckError]:
    """mypy --strict errors in `files` (only theirs) with the package found in `package_root`."""
    files = list(files)
    folder = files[0].parent
    config = folder / "mypy.ini"  # none of the repository's settings (its mypy_path names generated/)
    config.write_text("[mypy]\nstrict = True\nwarn_unreachable = True\n", encoding="utf-8")
    command = [sys.executable, "-m", "mypy", f"--config-file={config}", f"--cache-dir={cache_dir}"]
    command += ["--no-error-summary", "--show-error-codes", "--hide-error-context", "--no-pretty", "--no-color-output"]
    result = subprocess.run(
        [*command, *(path.name for path in files)],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(package_root)},
        check=False,
    )
    if result.returncode not in (0, 1):
        raise RuntimeError(f"mypy failed: {(result.stderr or result.stdout).strip()[-500:]}")
    names = {path.name for path in files}
    errors = set()
    for line in result.stdout.splitlines():
        match = _ERROR.match(line.strip())
        if match and match["file"] in names:
            errors.add(TypeCheckError(match["file"], int(match["line"]), match["message"]))
    return errors


# How the report names the files it checked (the README's examples: their lines once joined).
SHOWN = {"usage.py": str(USAGE), "readme_examples.py": "README.md's Python examples"}


def changes(old_errors: set[TypeCheckError], new_errors: set[TypeCheckError]) -> list[Change]:
    return [
        Change(Bump.MAJOR, f"{SHOWN.get(error.file, error.file)}:{error.line}", error.message, "mypy", view="types")
        for error in sorted(new_errors - old_errors, key=lambda error: (error.file, error.line, error.message))
    ]
