"""Fixtures of the send ledger's tests: a sandbox of drafts served for each test module (reset before
each test), a ledger file's path, and `target`: a new ledger in each store (a file, a PostgreSQL URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.sandbox import serve_in_thread

from .draft_sandbox import Served, create_sandbox

DRAFTS = 60


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    app = create_sandbox(tmp_path_factory.mktemp("sandbox"), DRAFTS)
    with serve_in_thread(app) as base_url:
        yield Served(app, base_url)


@pytest.fixture
def sandbox(served: Served) -> Served:
    served.sandbox.reset()
    return served


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sends.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.twin)])
def target(request: pytest.FixtureRequest, path: Path) -> str | Path:
    """A new ledger: a file, or a PostgreSQL schema of the test's own (the same tests, both stores)."""
    if request.param == "sqlite":
        return path
    url: str = request.getfixturevalue("pg_url")
    return url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL the twins run in async mode only: sync and async differ in the ledger (`send`,
    `asend`), whose both paths the file's twins run, while the PostgreSQL store runs both on one
    `_run` (`asubmit` in a thread of its own); test_postgres_store.py runs its faults in both modes."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = params.params if params is not None else {}
        (drop if chosen.get("target") == "postgres" and chosen.get("mode") == "sync" else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
