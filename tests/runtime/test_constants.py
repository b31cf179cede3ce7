"""`_runtime/constants.py`: every default of the package in one place. Each default a module takes is
the constant (no module writes one of its own), and the names the outside world gives the package
are the ones it uses."""

from __future__ import annotations

import importlib
import inspect
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import leadway_invoices_client
from leadway_invoices_client import DEFAULT_RETRY, AuthenticatedClient, Pacer, RetryPolicy, SendLedger
from leadway_invoices_client._runtime import constants
from leadway_invoices_client.cli import command

from scripts.project import PACKAGE, PACKAGE_DIR, ROOT

# Each parameter that takes a default of constants.py: by its name, or by its owner and name.
DEFAULTS: dict[str, object] = {
    "grace_period": constants.GRACE_PERIOD,
    "max_reads": constants.MAX_READS,
    "lease": constants.LEASE,
    "concurrency": constants.BULK_CONCURRENCY,
    "per_location": constants.BULK_PER_LOCATION,
    "margin": constants.PACER_MARGIN,
    "timeout": constants.DEFAULT_TIMEOUT,
    "api_version": constants.DEFAULT_API_VERSION,
    "Pacer.max_wait": constants.PACER_MAX_WAIT,
    "RetryPolicy.attempts": constants.RETRY_ATTEMPTS,
    "RetryPolicy.backoff": constants.RETRY_BACKOFF,
    "RetryPolicy.max_wait": constants.RETRY_MAX_WAIT,
}


def _modules() -> Iterator[ModuleType]:
    """Every module of the package, read from its files (its layers are namespace packages)."""
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__main__":  # runs the command when imported
            continue
        yield importlib.import_module(".".join([PACKAGE, *parts]).removesuffix(".__init__"))


def _callables() -> Iterator[tuple[str, Any]]:
    """Every function, class and method the package defines, by qualified name."""
    for module in _modules():
        for value in vars(module).values():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value):
                yield value.__qualname__, value
            elif inspect.isclass(value):
                yield value.__qualname__, value
                for name, member in vars(value).items():
                    if inspect.isfunction(member) and not name.startswith("__"):
                        yield f"{value.__qualname__}.{name}", member


def _defaults() -> Iterator[tuple[str, str, object]]:
    for qualname, value in _callables():
        try:
            parameters = inspect.signature(value).parameters.values()
        except (TypeError, ValueError):
            continue
        for parameter in parameters:
            if parameter.default is not inspect.Parameter.empty:
                yield qualname, parameter.name, parameter.default


def test_every_default_a_module_takes_is_the_constant() -> None:
    checked = set()
    for qualname, name, default in _defaults():
        owner = qualname.split(".")[0]
        expected = DEFAULTS.get(f"{owner}.{name}", DEFAULTS.get(name, default))
        # The very object, not an equal literal written again (small ints are one object anyway).
        same = default == expected if isinstance(expected, int) else default is expected
        assert same, f"{qualname}({name}={default!r}) is not constants' own"
        checked.add((owner, name))
    # The walk does see the defaults it checks: the reconcile calls, the ledger, the pacer, the engine...
    assert {
        ("reconcile", "grace_period"),
        ("areconcile_send", "max_reads"),
        ("SendLedger", "lease"),
        ("Pacer", "max_wait"),
        ("RetryPolicy", "max_wait"),
        ("RetryPolicy", "attempts"),
        ("run_bulk", "per_location"),
        ("bulk_client", "concurrency"),
        ("AuthenticatedClient", "timeout"),
    } <= checked


def test_the_objects_built_with_defaults_carry_the_constants(tmp_path: Path) -> None:
    assert (
        RetryPolicy()
        == DEFAULT_RETRY
        == RetryPolicy(
            attempts=constants.RETRY_ATTEMPTS, max_wait=constants.RETRY_MAX_WAIT, backoff=constants.RETRY_BACKOFF
        )
    )
    pacer = Pacer()
    assert (pacer.margin, pacer.max_wait) == (constants.PACER_MARGIN, constants.PACER_MAX_WAIT)
    with SendLedger(tmp_path / "sends.db") as ledger:
        assert (ledger.grace_period, ledger.max_reads, ledger.lease) == (
            constants.GRACE_PERIOD,
            constants.MAX_READS,
            constants.LEASE,
        )
    client = AuthenticatedClient("https://api.test", "t")
    assert client.api_version == constants.DEFAULT_API_VERSION
    assert client.get_httpx_client().timeout == constants.DEFAULT_TIMEOUT


def test_the_command_line_defaults_are_the_constants() -> None:
    args = command.parser().parse_args(["send", "invoices.csv"])

    assert args.base_url == constants.PRODUCTION_URL
    assert (args.grace_period, args.concurrency, args.per_location) == (
        constants.GRACE_PERIOD,
        constants.BULK_CONCURRENCY,
        constants.BULK_PER_LOCATION,
    )
    default = command.ledger_path(Path("in/invoices.csv"), None)
    assert isinstance(default, Path)
    assert default.parts[-2:] == (
        constants.LEDGER_APP,
        constants.LEDGER_FILE,
    )
    description = command.parser().description
    assert description is not None
    assert f"${constants.API_TOKEN_ENV}" in description


def test_the_names_are_the_packages_own() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == constants.DISTRIBUTION
    assert leadway_invoices_client.__name__ == constants.PACKAGE == constants.LOGGER_NAME
