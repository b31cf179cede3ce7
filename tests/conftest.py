"""Fixtures shared by several folders of tests: a scratch spec, and the client's calls in both modes
(`mode`, `send`, `send_detailed`, `read`) for the tests of the package."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import AuthenticatedClient
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, Invoice, SendInvoiceResponse
from leadway_invoices_client.types import Response

from scripts.pg_server import PgServer, running_server
from scripts.project import SPEC_DIR

from .mock_api import INVOICE_ID, LOCATION, Read, Send, SendDetailed, request_body

_DATA_FOLDERS = itertools.count()


@pytest.fixture(autouse=True)
def user_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own user data folder ($XDG_DATA_HOME, inherited by the commands it runs): the bulk
    command's default ledger goes there, never into the real home. Made only when used."""
    folder = tmp_path_factory.getbasetemp() / f"user-data-{next(_DATA_FOLDERS)}"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server on a free loopback port, for the session (one per xdist worker)."""
    with running_server() as server:
        yield server


_SCHEMAS = itertools.count()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A PostgreSQL ledger's URL (with its password) to a schema of the test's own: a new ledger."""
    schema = f"test_{os.getpid()}_{next(_SCHEMAS)}"
    pg_server.execute(f"CREATE SCHEMA {schema}")
    return pg_server.url(schema)


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A scratch copy of spec/ that a test may break without touching the real one."""
    target = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def send(mode: str) -> Send:
    """`send_invoice.sync`, or `send_invoice.asyncio` run to completion: one test body for both."""

    def call(client: AuthenticatedClient, invoice_id: str = INVOICE_ID, **kwargs: Any) -> SendInvoiceResponse:
        kwargs.setdefault("body", request_body())
        if mode == "sync":
            return send_invoice.sync(invoice_id, client=client, **kwargs)
        return asyncio.run(send_invoice.asyncio(invoice_id, client=client, **kwargs))

    return call


@pytest.fixture
def send_detailed(mode: str) -> SendDetailed:
    def call(client: AuthenticatedClient, invoice_id: str = INVOICE_ID, **kwargs: Any) -> Response[Any]:
        kwargs.setdefault("body", request_body())
        if mode == "sync":
            return send_invoice.sync_detailed(invoice_id, client=client, **kwargs)
        return asyncio.run(send_invoice.asyncio_detailed(invoice_id, client=client, **kwargs))

    return call


@pytest.fixture
def read(mode: str) -> Read:
    """`get_invoice.sync`, or `get_invoice.asyncio` run to completion, of LOCATION's invoice."""

    def call(client: AuthenticatedClient, invoice_id: str = INVOICE_ID, **kwargs: Any) -> Invoice:
        kwargs.setdefault("alt_id", LOCATION)
        kwargs.setdefault("alt_type", AltType.LOCATION)
        if mode == "sync":
            return get_invoice.sync(invoice_id, client=client, **kwargs)
        return asyncio.run(get_invoice.asyncio(invoice_id, client=client, **kwargs))

    return call
