"""The Python view: what changed in the package's public API, by griffe (the library Stainless's
openai-python uses for the same check) plus what griffe does not report.

griffe's `find_breaking_changes` names removed objects, removed, moved or now-required parameters,
changed defaults and values. It does not report additions (a minor bump), and it does not see the
`__init__` that attrs writes for our models, so a request model's field that lost its default
(`SendInvoiceRequest.sent_from: now required`) is found here, from the class attributes of every
`@define` class. Answer models (those built on `OpenObject`) are built by the tolerant reader from
JSON, not by users: which of their fields has a default follows the spec's `required` and changes
no type (every answer field is `X | Unset`), so it is not rated (the README's rules).
"""

from __future__ import annotations

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
    griffe.BreakageKind.RETURN_CHANGED_TYPE: "return type changed",
    griffe.BreakageKind.ATTRIBUTE_CHANGED_TYPE: "type changed",
    griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE: "value changed",
    griffe.BreakageKind.CLASS_REMOVED_BASE: "base class removed",
}


def load(search_path: Path, package: str = PACKAGE) -> griffe.Module:
    """The package as griffe sees it, statically (nothing is imported or run)."""
    module = griffe.load(package, search_paths=[str(search_path)], resolve_aliases=False, allow_inspection=False)
    assert isinstance(module, griffe.Module)
    return module


def subject(obj: griffe.Object | griffe.Alias) -> str:
    """How a user names it: `Invoice.invoice_number` for what `models` exports, else the dotted path
    under the package (`api.invoices.send_invoice.sync`)."""
    parts = obj.path.split(".")[1:]
    if parts[0] == "models" and len(parts) > 2:
        return ".".join(parts[2:])
    return ".".join(parts)


def changes(old: griffe.Module, new: griffe.Module) -> list[Change]:
    found = [_breakage(breakage) for breakage in griffe.find_breaking_changes(old, new)]
    found += _attrs_fields(old, new)
    found += _additions(old, new)
    return [change for change in found if change.subject.split(".", 1)[0].split("(", 1)[0] not in NOT_API]


def _breakage(breakage: griffe.Breakage) -> Change:
    name = subject(breakage.obj)
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


def _attrs_fields(old: griffe.Module, new: griffe.Module) -> list[Change]:
    """Fields of request models (what their `__init__` takes) that became required or optional."""
    found: list[Change] = []
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
                found.append(Change(Bump.MAJOR, subject(field), "now required", "attrs:field-now-required", "python"))
            elif has_default and not had_default:
                found.append(Change(Bump.MINOR, subject(field), "now optional", "attrs:field-now-optional", "python"))
    return found


def _additions(old: griffe.Module, new: griffe.Module) -> list[Change]:
    """New public names, the outermost only (a new module, not also each of its functions)."""
    old_paths = {obj.path for obj in _walk(old)}
    found: list[Change] = []
    for obj in _walk(new):
        if obj.path in old_paths or obj.parent is None or obj.parent.path not in old_paths | {old.path}:
            continue
        if not _public(obj):
            continue
        parent = obj.parent
        request_field = isinstance(parent, griffe.Class) and _is_request_model(parent)
        if request_field and isinstance(obj, griffe.Attribute) and obj.value is None:
            found.append(Change(Bump.MAJOR, subject(obj), "added, required", "attrs:required-field-added", "python"))
            continue
        found.append(Change(Bump.MINOR, subject(obj), "added", "added", "python"))
    return found


def _public(obj: griffe.Object | griffe.Alias) -> bool:
    try:
        return bool(obj.is_public)
    except griffe.AliasResolutionError:  # an alias to another package: public only if exported
        return False
