"""Facts about this project that its commands, its tests and the contract suite share.

The contract suite is what users run in their CI, so this module imports nothing from `scripts/`:
commands and tests depend on it, never the other way round.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "spec"
SPEC_PATH = SPEC_DIR / "openapi.yaml"
# Handwritten modules a post hook in spec/generator.yaml copies into the package.
RUNTIME_DIR = SPEC_DIR / "runtime"
GENERATED_DIR = ROOT / "generated"
PACKAGE = "leadway_invoices_client"
PACKAGE_DIR = GENERATED_DIR / PACKAGE
