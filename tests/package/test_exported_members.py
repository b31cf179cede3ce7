"""The package's public names, computed from what its modules define (not a list kept by hand):
removing or renaming one is a breaking change, and a name defined without being exported is a slip."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import leadway_invoices_client
from leadway_invoices_client import api, errors, models
from leadway_invoices_client._runtime import errors as runtime_errors

PACKAGE = leadway_invoices_client.__name__


def public_names(module: ModuleType) -> set[str]:
    """The names a module binds that are neither private nor submodules."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }


def defined_in(value: object, module: ModuleType) -> bool:
    """Whether `value` is a class or function `module` defines (not one it imports)."""
    return (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == module.__name__


def test_the_package_exports_every_name_it_binds() -> None:
    assert set(leadway_invoices_client.__all__) == public_names(leadway_invoices_client) | {"__version__"}
    for name in leadway_invoices_client.__all__:
        value = getattr(leadway_invoices_client, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith(f"{PACKAGE}."), name


def test_the_errors_module_exports_the_error_tree() -> None:
    tree = {
        name
        for name, value in vars(runtime_errors).items()
        if inspect.isclass(value) and value.__module__ == runtime_errors.__name__ and not name.startswith("_")
    }
    # LedgerError is the send ledger's bad-input error, not one an API call raises.
    assert set(errors.__all__) == tree | {"RateLimit"}
    assert "LedgerError" not in errors.__all__
    for name in errors.__all__:
        assert getattr(errors, name) is getattr(leadway_invoices_client, name)


def test_the_models_package_exports_every_model_its_modules_define() -> None:
    defined = set()
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"{models.__name__}.{info.name}")
        defined |= {
            name
            for name, value in vars(module).items()
            if inspect.isclass(value) and value.__module__ == module.__name__
        }
    assert set(models.__all__) == defined
    assert {"SendInvoiceRequest", "SendInvoiceResponse", "Invoice", "ErrorResponse", "AltType", "SendAction"} <= defined


def test_every_operation_has_the_same_calls() -> None:
    calls = {"prepare", "sync", "sync_detailed", "sync_prepared", "asyncio", "asyncio_detailed", "asyncio_prepared"}
    operations = [
        importlib.import_module(f"{api.__name__}.{tag.name}.{info.name}")
        for tag in pkgutil.iter_modules(api.__path__)
        for info in pkgutil.iter_modules(importlib.import_module(f"{api.__name__}.{tag.name}").__path__)
    ]
    assert {module.__name__.rsplit(".", 1)[1] for module in operations} == {"send_invoice", "get_invoice"}
    for module in operations:
        assert {name for name, value in vars(module).items() if defined_in(value, module)} - {
            "_parse_response"
        } == calls


def test_the_public_modules_re_export_the_runtime() -> None:
    from leadway_invoices_client import client, types

    assert client.AuthenticatedClient is leadway_invoices_client.AuthenticatedClient
    assert set(client.__all__) == public_names(client)
    assert set(types.__all__) == public_names(types)
    assert set(errors.__all__) == public_names(errors)


def test_the_webhooks_module_exports_every_name_it_binds() -> None:
    from leadway_invoices_client import webhooks

    assert set(webhooks.__all__) == public_names(webhooks)
    for name in webhooks.__all__:
        value = getattr(webhooks, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith(f"{PACKAGE}.webhooks."), name
