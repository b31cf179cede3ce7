"""The rules: what each kind of spec change means for code that uses this package, and why.

Our models read answers tolerantly (every answer field is typed `X | Unset`, except the few marked
`x-must-parse`; a deviating value becomes UNSET and a deviation, never an exception) and write
requests strictly. So a change's rating depends on its direction: a new enum value in a request is
a new member callers may use (minor); in an answer it is the same plus values that used to read as
UNSET now read as the member (minor, where Redocly, rating for a strict client, says major).

The README's table "What a change means for you" is `markdown_table()` (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

from scripts.api_diff.changes import Bump


@dataclass(frozen=True)
class Rule:
    id: str
    change: str
    # None: Redocly's own rating of the change.
    request: Bump | None
    answer: Bump | None
    why: str
    # A change only an answer can have (its headers): `request` is unused, the table shows a dash.
    answer_only: bool = False


_RULES = (
    Rule(
        "field-added",
        "a new optional field",
        Bump.MINOR,
        Bump.MINOR,
        "a new model attribute or keyword with a default: old code still runs and type-checks",
    ),
    Rule(
        "required-field-added",
        "a new required field",
        Bump.MAJOR,
        Bump.MINOR,
        "request: every existing call lacks it (TypeError at run time); answer: one more attribute, "
        "typed `X | Unset` like every answer field",
    ),
    Rule(
        "field-removed",
        "a field removed (or renamed: removed plus added)",
        Bump.MAJOR,
        Bump.MAJOR,
        "the attribute or keyword vanishes: code that reads or passes it fails",
    ),
    Rule(
        "field-renamed",
        "a field renamed",
        Bump.MAJOR,
        Bump.MAJOR,
        "the attribute or keyword has a new name: code using the old one fails",
    ),
    Rule(
        "name-changed",
        "a Python name changed, its JSON not (an enum member named anew)",
        Bump.MAJOR,
        Bump.MAJOR,
        "code using the old name fails",
    ),
    Rule(
        "wire-name-changed",
        "a field's JSON name changed, its Python name not (`userId` -> `userID`); an operation's path",
        Bump.PATCH,
        Bump.PATCH,
        "the model writes and reads the new name, the function calls the new path: code that uses the "
        "package sees the same names",
    ),
    Rule(
        "field-now-required",
        "an optional field made required",
        Bump.MAJOR,
        Bump.PATCH,
        "request: calls that leave it out now fail; answer: its type stays `X | Unset` and a missing "
        "value still reads as UNSET",
    ),
    Rule(
        "field-now-optional",
        "a required field made optional",
        Bump.MINOR,
        Bump.PATCH,
        "request: it gains a default, so callers may leave it out; answer: its type was already "
        "`X | Unset` (an `x-must-parse` field would be a type change, caught by mypy)",
    ),
    Rule(
        "enum-value-added",
        "a new enum value",
        Bump.MINOR,
        Bump.MINOR,
        "a new enum member; in an answer the tolerant reader read the value as UNSET (a deviation) "
        "before and reads the member now, and an open enum kept the string: nothing raises",
    ),
    Rule(
        "enum-value-removed",
        "an enum value removed",
        Bump.MAJOR,
        Bump.MAJOR,
        "the enum member vanishes: code that names it fails, in answers too",
    ),
    Rule(
        "type-widened",
        "a field's type widened (accepts more)",
        Bump.MINOR,
        Bump.MAJOR,
        "request: old arguments are still accepted; answer: code typed for the old values no longer "
        "type-checks (mypy) and may meet values it cannot handle",
    ),
    Rule(
        "type-narrowed",
        "a field's type narrowed (accepts less)",
        Bump.MAJOR,
        Bump.PATCH,
        "request: some old arguments are refused; answer: the values that still arrive are ones old code handled",
    ),
    Rule(
        "type-changed",
        "a field's type changed otherwise",
        Bump.MAJOR,
        Bump.MAJOR,
        "old arguments are refused and old readers get values of another type",
    ),
    Rule(
        "operation-added",
        "a new operation",
        Bump.MINOR,
        Bump.MINOR,
        "a new module under `api/`: nothing existing changes",
    ),
    Rule(
        "operation-removed",
        "an operation removed",
        Bump.MAJOR,
        Bump.MAJOR,
        "its module under `api/` vanishes",
    ),
    Rule(
        "status-added",
        "a newly documented status",
        Bump.MINOR,
        Bump.MINOR,
        "`*_detailed(...).parsed` now holds a model for it; `sync`/`asyncio` raise the same typed error "
        "(the runtime maps statuses to errors, not the spec)",
    ),
    Rule(
        "status-removed",
        "a status no longer documented",
        Bump.MINOR,
        Bump.MINOR,
        "`sync`/`asyncio` raise the same typed error for it; `*_detailed(...).parsed` is None for it, "
        "which its type (`T | None`) already allows",
    ),
    Rule(
        "answer-header-added",
        "an answer header documented, or made required",
        Bump.PATCH,
        Bump.PATCH,
        "no code changes: the generated functions give answer headers only as the plain "
        "`Response.headers` map, and the runtime reads the ones it uses (the `X-RateLimit-*` that pace "
        "sends) tolerantly, so an answer without it is handled as before",
        answer_only=True,
    ),
    Rule(
        "answer-header-removed",
        "an answer header no longer documented, or made optional",
        Bump.MINOR,
        Bump.MINOR,
        "not a break: nothing raises and no name changes, since the reader already tolerated its "
        "absence; but what the runtime does with it can stop (without `X-RateLimit-*` the pacer falls "
        "back to its defaults), so the changelog says so under a minor version",
        answer_only=True,
    ),
    Rule(
        "definition-only",
        "a shared definition under `components/` (a header, answer, parameter, example; not a schema) added or removed",
        Bump.PATCH,
        Bump.PATCH,
        "nothing is generated from a definition itself; each operation that starts or stops using it "
        "is a change of its own, rated by the other rules",
    ),
    Rule(
        "parameter-added",
        "a new optional parameter (query, path or request header)",
        Bump.MINOR,
        Bump.MINOR,
        "a new keyword argument with a default",
    ),
    Rule(
        "required-parameter-added",
        "a new required parameter (or one made required)",
        Bump.MAJOR,
        Bump.MAJOR,
        "every existing call lacks the argument",
    ),
    Rule(
        "parameter-removed",
        "a parameter removed",
        Bump.MAJOR,
        Bump.MAJOR,
        "calls that pass it fail",
    ),
    Rule(
        "documentation",
        "a description, summary, title, example or `info.version` edited",
        Bump.PATCH,
        Bump.PATCH,
        "docstrings change, code does not",
    ),
    Rule(
        "other",
        "any other change Redocly reports",
        None,
        None,
        "no rule of ours fits: Redocly's own rating (it rates for a strict client, so it errs toward major)",
    ),
)

RULES = {rule.id: rule for rule in _RULES}


def markdown_table() -> str:
    lines = ["| rule | change | in a request | in an answer | why |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| `{rule.id}` | {rule.change} | {'—' if rule.answer_only else _shown(rule.request)} "
        f"| {_shown(rule.answer)} | {rule.why} |"
        for rule in _RULES
    ]
    return "\n".join(lines) + "\n"


def _shown(bump: Bump | None) -> str:
    return "Redocly's" if bump is None else str(bump)
