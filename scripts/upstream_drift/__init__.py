"""Upstream drift: how our send (or read) operation differs from upstream's OpenAPI documents.

Both documents are reduced to the facts a client depends on: which fields exist where, their JSON
types, enum values (and whether the enum is open), which are required, which statuses, media types
and headers are documented, and the scopes the operation needs. Descriptions, examples and schema
names are ignored: upstream renames its DTOs freely and that breaks nobody.

Our spec differs from upstream on purpose in places (see its descriptions). Those differences are
listed with a reason in `contract_tests/upstream_known_differences.yaml` (the read's in
`upstream_known_differences_read.yaml`); the command exits 1 only on
differences not listed there, so a new upstream change cannot hide among the intended ones. A listed
difference matches only when both recorded sides are unchanged: if upstream moves again, it is new.
Every entry applies to every document compared; one is stale only when no document shows it.

The modules, in the order a run uses them: `operations` (our operations, upstream's vendored excerpts
of them and their known-differences lists), `documents` (reading a document, finding the operation),
`facts` (reducing it to facts), `differences` (comparing two sets of facts), `known` (the
known-differences list), `check` (one run over several documents), `render` (the text printed) and
`cli` (the command, `python -m scripts.upstream_drift`).
"""
