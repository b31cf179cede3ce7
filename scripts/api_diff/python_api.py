"""The Python view: what changed in the package's public API, by griffe (the library Stainless's
openai-python uses for the same check) plus what griffe does not report.

griffe's `find_breaking_changes` names removed objects, removed, moved or now-required parameters,
changed defaults and values. It does not report additions (a new public name, a new parameter with
a default: a minor bump), and it does not see the `__init__` that attrs writes for our models, so a
request model's field that lost its default (`SendInvoiceRequest.sent_from: now required`) is found
here, from the class attributes of every `@define` class. Answer models (those built on
`OpenObject`) are built by the tolerant reader from JSON, not by users: which of their fields has a
default follows the spec's `required` and changes no type (every answer field is `X | Unset`), so it
is not rated (the README's rules).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import griffe

from scripts.api_diff.changes import Bump, Change
from scripts.project import PACKAGE

# Subpackages whose Python names are not the package's API: the command line's interface is the
# `leadway-invoices` command and its options (README "Bulk sending"), not its modules.
NOT_API = frozenset({"cli"})

# griffe's breakage kinds, said the way the report says a change.
_WHAT = {
    griffe.BreakageKind.OBJECT_REMOVED: "removed",
    griffe.BreakageKind.PARAMETER_REMOVED: "removed",
    griffe.BreakageKind.PARAMETER_MOVED: "moved",
    griffe.BreakageKind.PARAMETER_CHANGED_KIND: "kind changed",
    griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT: "default changed",
    griffe.BreakageKind.PARAMETER_CHANGED_REQUIRED: "now required",
    griffe.BreakageKind.PARAMETER_ADDED_REQUIRED: "added, required",
    griffe.BreakageKind.RETURN_CHANGED_TYPE: "return type changed",
    griffe.BreakageKind.ATTRIBUTE_CHANGED_TYPE: "type changed",
    griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE: "value changed",
    griffe.BreakageKind.CLASS_REMOVED_BASE: "base class removed",
}

# Parameters that never need an argument, though they have no default.
_VARIADIC = frozenset({griffe.ParameterKind.var_positional, griffe.ParameterKind.var_keyword})


def load(search_path: Path, package: str = PACKAGE) -> griffe.Module:
    """The package as griffe sees it, statically (nothing is imported or run).

    Our private layers (`_runtime/`, `_ledger/`, `_bulk/`) are namespace packages, without an
    `__init__.py`, which griffe skips below the top level: then the models' base class, and every
    member they inherit from it, would be invisible (and reported removed). So griffe reads a copy
    given the empty `__init__.py` files Python does not need.
    """
    with tempfile.TemporaryDirectory(prefix="api-diff-griffe-") as scratch:
        copy = Path(scratch, package)
        shutil.copytree(search_path / package, copy, ignore=shutil.ignore_patterns("__pycache__"))
        for folder in [copy, *(path for path in copy.rglob("*") if path.is_dir())]:
            if any(folder.glob("*.py")) and not (folder / "__init__.py").exists():
                (folder / "__init__.py").write_text("", encoding="utf-8")
        module = griffe.load(package, search_paths=[scratch], resolve_aliases=True, allow_inspection=False)
    assert isinstance(module, griffe.Module)
    return module


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def exports(package: griffe.Module) -> dict[str, str]:
    """Where each public name of a private layer is exported: `..._runtime.pacing.Pacer` ->
    `leadway_invoices_client.Pacer` (griffe reports a breakage at the object, not its export).

    A name re-exported on the way (`SendState`, defined in `_ledger/records.py`, imported by
    `_ledger/ledger.py`, exported by the package from there) is mapped at each step, down to where it
    is defined: that is where griffe sees its members change."""
    found: dict[str, str] = {}
    for member in _walk(package):
        if isinstance(member, griffe.Alias) and _public(member) and not any(map(_private, member.path.split("."))):
            for target in _targets(member):
                found.setdefault(target, member.path)
    return found


def _targets(alias: griffe.Alias) -> Iterator[str]:
    """The paths an alias leads through, to the object itself (those griffe can resolve)."""
    step: griffe.Object | griffe.Alias = alias
    for _ in range(16):  # a chain of imports, not a cycle
        if not isinstance(step, griffe.Alias):
            return
        yield step.target_path
        try:
            step = step.target
        except griffe.AliasResolutionError:
            return


def subject(path: str, exported: dict[str, str] | None = None) -> str | None:
    """How a user names it: `Invoice.invoice_number` for what `models` exports, `Pacer.__init__` for
    what the package exports from a private layer, else the dotted path under the package
    (`api.invoices.send_invoice.sync`); None when it is private (not the package's API)."""
    if any(map(_private, path.split("."))):
        prefixes = [prefix for prefix in (exported or {}) if path == prefix or path.startswith(prefix + ".")]
        if not prefixes:
            return None
        prefix = max(prefixes, key=len)
        path = (exported or {})[prefix] + path[len(prefix) :]
    parts = path.split(".")[1:]
    if not parts or parts[0] in NOT_API:
        return None
    if parts[0] == "models" and len(parts) > 2:
        return ".".join(parts[2:])
    return ".".join(parts)


def changes(old: griffe.Module, new: griffe.Module) -> list[Change]:
    exported = {**exports(old), **exports(new)}
    breakages = [b for b in griffe.find_breaking_changes(old, new) if not _same_default(b, old, new)]
    found: list[Change | None] = [_breakage(breakage, exported) for breakage in breakages]
    found += _attrs_fields(old, new, exported)
    found += _additions(old, new, exported)
    found += _new_parameters(old, new, exported)
    return [change for change in found if change is not None]


def _value(expression: object, package: griffe.Module) -> str:
    """A default as written, or the value of the constant it names (`PACER_MAX_WAIT` -> `60.0`)."""
    if isinstance(expression, griffe.ExprName):
        try:
            target = package[expression.canonical_path.split(".", 1)[1]]
            if target.is_alias:
                target = target.final_target
        except (KeyError, IndexError, griffe.AliasResolutionError):
            return str(expression)
        if isinstance(target, griffe.Attribute) and target.value is not None:
            return str(target.value)
    return str(expression)


def _same_default(breakage: griffe.Breakage, old: griffe.Module, new: griffe.Module) -> bool:
    """A default that moved into a named constant of the same value is no change (the defaults all
    live in `_runtime/constants.py`)."""
    if breakage.kind is not griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
        return False
    return _value(breakage.old_value.default, old) == _value(breakage.new_value.default, new)


def _breakage(breakage: griffe.Breakage, exported: dict[str, str]) -> Change | None:
    name = subject(breakage.obj.path, exported)
    if name is None:
        return None
    what = _WHAT.get(breakage.kind, breakage.kind.value)
    # A parameter's breakage is the function's, with the parameter as its old (or new) value.
    parameter = next((v for v in (breakage.old_value, breakage.new_value) if isinstance(v, griffe.Parameter)), None)
    if parameter is not None:
        name = f"{name}({parameter.name})"
        if breakage.kind is griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
            what = f"{what}: {breakage.old_value.default} -> {breakage.new_value.default}"
    elif breakage.kind is griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE:
        what = f"{what}: {breakage.old_value} -> {breakage.new_value}"
    return Change(Bump.MAJOR, name, what, f"griffe:{breakage.kind.name.lower()}", view="python")


def _is_request_model(cls: griffe.Class) -> bool:
    """An attrs class that users build: not an answer model (those derive from OpenObject)."""
    is_attrs = any("define" in str(decorator.value) for decorator in cls.decorators)
    return is_attrs and not any("OpenObject" in str(base) for base in cls.bases)


def _fields(cls: griffe.Class) -> dict[str, griffe.Attribute]:
    return {
        name: member
        for name, member in cls.members.items()
        if not member.is_alias and isinstance(member, griffe.Attribute) and not name.startswith("_")
    }


def _walk(obj: griffe.Object) -> Iterator[griffe.Object | griffe.Alias]:
    for member in obj.members.values():
        yield member
        if not member.is_alias and isinstance(member, griffe.Module | griffe.Class):
            yield from _walk(member)


def _change(bump: Bump, path: str, what: str, rule: str, exported: dict[str, str]) -> Change | None:
    name = subject(path, exported)
    return None if name is None else Change(bump, name, what, rule, view="python")


def _attrs_fields(old: griffe.Module, new: griffe.Module, exported: dict[str, str]) -> list[Change | None]:
    """Fields of request models (what their `__init__` takes) that became required or optional."""
    found: list[Change | None] = []
    old_objects = {obj.path: obj for obj in _walk(old)}
    for obj in _walk(new):
        if obj.is_alias or not isinstance(obj, griffe.Class) or not _is_request_model(obj):
            continue
        before = old_objects.get(obj.path)
        if not isinstance(before, griffe.Class):
            continue
        old_fields = _fields(before)
        for name, field in _fields(obj).items():
            if name not in old_fields:
                continue  # a new field: `_additions` rates it
            had_default, has_default = old_fields[name].value is not None, field.value is not None
            if had_default and not has_default:
                found.append(_change(Bump.MAJOR, field.path, "now required", "attrs:field-now-required", exported))
            elif has_default and not had_default:
                found.append(_change(Bump.MINOR, field.path, "now optional", "attrs:field-now-optional", exported))
    return found


def _additions(old: griffe.Module, new: griffe.Module, exported: dict[str, str]) -> list[Change | None]:
    """New public names, the outermost only (a new module, not also each of its functions)."""
    old_paths = {obj.path for obj in _walk(old)}
    found: list[Change | None] = []
    for obj in _walk(new):
        if obj.path in old_paths or obj.parent is None or obj.parent.path not in old_paths | {old.path}:
            continue
        if not _public(obj):
            continue
        parent = obj.parent
        request_field = isinstance(parent, griffe.Class) and _is_request_model(parent)
        if request_field and isinstance(obj, griffe.Attribute) and obj.value is None:
            found.append(_change(Bump.MAJOR, obj.path, "added, required", "attrs:required-field-added", exported))
            continue
        found.append(_change(Bump.MINOR, obj.path, "added", "added", exported))
    return found


def _new_parameters(old: griffe.Module, new: griffe.Module, exported: dict[str, str]) -> list[Change | None]:
    """Parameters with a default (or `*args`, `**kwargs`) added to a function that was there: a minor
    change griffe does not report (it reports a new required one, `PARAMETER_ADDED_REQUIRED`)."""
    old_functions = {obj.path: obj for obj in _walk(old) if not obj.is_alias and isinstance(obj, griffe.Function)}
    found: list[Change | None] = []
    for obj in _walk(new):
        before = old_functions.get(obj.path)
        if before is None or obj.is_alias or not isinstance(obj, griffe.Function) or not _public(obj):
            continue
        had = {parameter.name for parameter in before.parameters}
        for parameter in obj.parameters:
            optional = parameter.default is not None or parameter.kind in _VARIADIC
            if parameter.name not in had and optional and not _private(parameter.name):
                found.append(_change(Bump.MINOR, f"{obj.path}({parameter.name})", "added", "added", exported))
    return found


def _public(obj: griffe.Object | griffe.Alias) -> bool:
    try:
        return bool(obj.is_public)
    except griffe.AliasResolutionError:  # an alias to another package: public only if exported
        return False
