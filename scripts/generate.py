"""Regenerate `generated/` from `spec/`, or check that it has not drifted.

    python -m scripts.generate generate   # rewrite generated/ (what `scripts/nox -s generate` runs)
    python -m scripts.generate drift      # exit 1 with a unified diff when generated/ is stale

Both first validate the spec (openapi-spec-validator) and every example in it against its schema,
then run the pinned openapi-python-client into a fresh temporary folder. `generate` swaps that folder
in; `drift` compares whole trees, so changed, missing and extra files all count (the generator's
own `--overwrite` would leave stale files behind).
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

from contract_tests.project import GENERATED_DIR as OUTPUT_DIR
from contract_tests.project import PACKAGE, SPEC_DIR
from scripts.spec_checks import SpecError, check_spec


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
    env["LEADWAY_RUNTIME_DIR"] = str(spec_dir / "runtime")
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=target, check=False)
    output = (result.stdout + result.stderr).strip()
    # The generator exits 0 after warnings such as "Endpoint will not be generated": treat any
    # warning or error as a failure, since the output would silently lack part of the API.
    if result.returncode != 0 or "Warning" in output or "Error" in output:
        raise GenerationError(f"openapi-python-client failed (exit {result.returncode}):\n{output}")
    return package_dir


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(root)


def tree_diff(expected: Path, actual: Path) -> list[str]:
    """Unified diff lines turning `actual` (the committed tree) into `expected` (fresh output)."""
    want = set(_files(expected)) if expected.exists() else set()
    have = set(_files(actual)) if actual.exists() else set()
    lines: list[str] = []
    for rel in sorted(want | have):
        new, old = expected / rel, actual / rel
        if rel in want and rel in have and filecmp.cmp(new, old, shallow=False):
            continue
        old_text = old.read_text(encoding="utf-8").splitlines(keepends=True) if rel in have else []
        new_text = new.read_text(encoding="utf-8").splitlines(keepends=True) if rel in want else []
        old_name = f"generated/{rel}" if rel in have else "/dev/null"
        new_name = f"generated/{rel}" if rel in want else "/dev/null"
        diff = list(difflib.unified_diff(old_text, new_text, old_name, new_name))
        lines.extend(diff or [f"Binary or whitespace-only difference in generated/{rel}\n"])
    return lines


def drift(spec_dir: Path = SPEC_DIR, output_dir: Path = OUTPUT_DIR) -> list[str]:
    """Regenerate into a scratch folder and diff it against `output_dir`; empty means in sync."""
    with tempfile.TemporaryDirectory(prefix="leadway-drift-") as scratch:
        fresh = generate_into(Path(scratch) / "out", spec_dir)
        return tree_diff(fresh.parent, output_dir)


def regenerate(spec_dir: Path = SPEC_DIR, output_dir: Path = OUTPUT_DIR) -> None:
    """Replace `output_dir` with fresh output; on failure the old tree is left untouched."""
    with tempfile.TemporaryDirectory(prefix="leadway-generate-") as scratch:
        fresh = generate_into(Path(scratch) / "out", spec_dir)
        shutil.rmtree(output_dir, ignore_errors=True)
        shutil.copytree(fresh.parent, output_dir)


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
