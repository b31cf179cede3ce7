"""What changed for the users of the package since a base revision, and the version bump it needs.

`python -m scripts.api_diff [--base REF]` (the `api-diff` session) compares the working tree with a
git revision, the newest `v*` tag by default, else the first parent commit. Three views, each change
rated major, minor or patch by the rules that fit our tolerant reader (`rules.py`, the README's
table):

- the HTTP contract: `redocly diff` of the two specs, each of its changes rated again by our rules
  (`contract.py`) and named by what a user's code touches (`SendInvoiceRequest.sent_from`);
- the Python API of the package: griffe's breaking changes between the two packages, plus what it
  does not report (new public names; new parameters with a default; attrs fields that lost their
  default) (`python_api.py`);
- types: old typed usage (`usage.py` and the README's examples, as the base has them) checked by
  mypy against the new package; an error the base did not have is a break (`typed_usage.py`).

The last line printed is `required bump: major|minor|patch|none`; the exit status is 1 when
pyproject.toml's version is not bumped at least that much over the base's (`report.py`).
"""
