"""Regenerate `generated/` from `spec/`, or check that it has not drifted.

    python -m scripts.generate generate   # rewrite generated/ (what `scripts/nox -s generate` runs)
    python -m scripts.generate drift      # exit 1 with a unified diff when generated/ is stale

Both first validate the spec (openapi-spec-validator) and every example in it against its schema,
then run the pinned openapi-python-client into a fresh temporary folder.

The generator owns two folders of the package, `api/` and `models/` (`OWNED`): `generate` replaces
them with the fresh ones, and `drift` compares them whole, so changed, missing and extra files all
count (the generator's own `--overwrite` would leave stale files behind). Everything else in the
package is handwritten and never touched: the runtime, the application and the package's public
modules (`__init__`, `client`, `errors`, `types`), which in this project are ours rather than the
generator's; the generator's own versions of those modules are left in the scratch folder.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from scripts.project import GENERATED_DIR as OUTPUT_DIR
from scripts.project import PACKAGE, SPEC_DIR
from scripts.spec_checks import SpecError, check_spec

OWNED = ("api", "models")
"""The package's folders the generator writes; nothing else in the package is generated."""
# What the generator writes besides: its versions of the modules this project writes by hand.
_NOT_KEPT = frozenset({"__init__.py", "client.py", "errors.py", "types.py"})


class GenerationError(Exception):
    """The generator failed or warned; its output is not trustworthy."""


def _generator_env() -> dict[str, str]:
    env = dict(os.environ)
    # The generator's post hooks call `ruff` by name: make the one installed beside this Python win,
    # or the output would silently stay unformatted.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_into(target: Path, spec_dir: Path = SPEC_DIR) -> Path:
    """Validate `spec_dir` and generate the package into `target` (which must not exist)."""
    check_spec(spec_dir / "openapi.yaml")
    package_dir = target / PACKAGE
    target.mkdir(parents=True)
    generator = Path(sys.executable).parent / "openapi-python-client"
    command = [
        str(generator if generator.exists() else "openapi-python-client"),
        "generate",
        "--path",
        str(spec_dir / "openapi.yaml"),
        "--config",
        str(spec_dir / "generator.yaml"),
        "--custom-template-path",
        str(spec_dir / "templates"),
        "--meta",
        "none",
        "--output-path",
        str(package_dir),
    ]
    env = _generator_env()
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=target, check=False)
    output = (result.stdout + result.stderr).strip()
    # The generator exits 0 after warnings such as "Endpoint will not be generated": treat any
    # warning or error as a failure, since the output would silently lack part of the API.
    if result.returncode != 0 or "Warning" in output or "Error" in output:
        raise GenerationError(f"openapi-python-client failed (exit {result.returncode}):\n{output}")
    unexpected = sorted({path.name for path in package_dir.iterdir()} - set(OWNED) - _NOT_KEPT)
    if unexpected:
        # A new generator version writing a new module: decide whether it is ours or its own.
        raise GenerationError(f"the generator wrote {', '.join(unexpected)}, which scripts/generate.py does not place")
    return package_dir


def _files(folder: Path, root: Path) -> Iterator[Path]:
    """The files under `folder`, relative to `root`."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(root)


def tree_diff(expected: Path, actual: Path) -> list[str]:
    """Unified diff lines turning the generator's folders of the package in `actual` (the committed
    tree) into those in `expected` (fresh output)."""
    expected, actual = expected / PACKAGE, actual / PACKAGE
    want = {rel for owned in OWNED for rel in _files(expected / owned, expected)}
    have = {rel for owned in OWNED for rel in _files(actual / owned, actual)}
    lines: list[str] = []
    for rel in sorted(want | have):
        new, old = expected / rel, actual / rel
        if rel in want and rel in have and filecmp.cmp(new, old, shallow=False):
            continue
        old_text = old.read_text(encoding="utf-8").splitlines(keepends=True) if rel in have else []
        new_text = new.read_text(encoding="utf-8").splitlines(keepends=True) if rel in want else []
        old_name = f"generated/{PACKAGE}/{rel}" if rel in have else "/dev/null"
        new_name = f"generated/{PACKAGE}/{rel}" if rel in want else "/dev/null"
        diff = list(difflib.unified_diff(old_text, new_text, old_name, new_name))
        lines.extend(diff or [f"Binary or whitespace-only difference in generated/{PACKAGE}/{rel}\n"])
    return lines


def drift(spec_dir: Path = SPEC_DIR, output_dir: Path = OUTPUT_DIR) -> list[str]:
    """Regenerate into a scratch folder and diff the generator's folders against `output_dir`'s
    package; empty means in sync."""
    with tempfile.TemporaryDirectory(prefix="leadway-drift-") as scratch:
        fresh = generate_into(Path(scratch) / "out", spec_dir)
        return tree_diff(fresh.parent, output_dir)


def regenerate(spec_dir: Path = SPEC_DIR, output_dir: Path = OUTPUT_DIR) -> None:
    """Replace the generator's folders of `output_dir`'s package with fresh ones; the handwritten
    rest of the package stays as it is. On failure the old tree is left untouched."""
    with tempfile.TemporaryDirectory(prefix="leadway-generate-") as scratch:
        fresh = generate_into(Path(scratch) / "out", spec_dir)
        for owned in OWNED:
            shutil.rmtree(output_dir / PACKAGE / owned, ignore_errors=True)
            shutil.copytree(fresh / owned, output_dir / PACKAGE / owned)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["generate", "drift"])
    parser.add_argument("--spec-dir", type=Path, default=SPEC_DIR, help="folder with openapi.yaml (default: spec/)")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help="generated tree (default: generated/)")
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            regenerate(args.spec_dir, args.output_dir)
            print(f"Regenerated {args.output_dir} from {args.spec_dir}")
            return 0
        diff = drift(args.spec_dir, args.output_dir)
    except (SpecError, GenerationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if diff:
        sys.stdout.writelines(diff)
        print(f"\n{args.output_dir} differs from what {args.spec_dir} generates: run `scripts/nox -s generate`.")
        return 1
    print(f"{args.output_dir} matches {args.spec_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
