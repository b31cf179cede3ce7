"""Sessions that regenerate and verify everything. `nox` alone runs what a pull request needs."""

from __future__ import annotations

import os

import nox

# .python-version selects pyenv's 3.11, 3.12 and 3.13 for the shims; uv must never download a Python.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["drift", "lint", "typecheck", "tests", "contract", "upstream-drift"]

PYTHONS = ["3.11", "3.12", "3.13"]
DEFAULT_PYTHON = "3.11"
HANDWRITTEN = ["noxfile.py", "scripts", "tests", "contract_tests", "spec/runtime"]


def pytest_args(session: nox.Session, default_path: str) -> list[str]:
    """Posargs for pytest, with `default_path` first unless they name a path themselves.

    So `nox -s contract -- --contract-max-examples=5000` runs the contract suite only, not every
    testpath pyproject.toml lists.
    """
    names_a_path = any(not arg.startswith("-") for arg in session.posargs)
    return list(session.posargs) if names_a_path else [default_path, *session.posargs]


def install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install exactly the locked versions of the given dependency groups into the session."""
    args = ["uv", "sync", "--locked", "--no-default-groups", f"--python={session.virtualenv.location}"]
    args += [f"--group={group}" for group in groups]
    if not project:
        args.append("--no-install-project")
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}, silent=True)


@nox.session(python=DEFAULT_PYTHON)
def generate(session: nox.Session) -> None:
    """Rewrite generated/ from spec/ with the pinned generator (run after every spec change)."""
    install(session, "generate", project=False)
    session.run("python", "-m", "scripts.generate", "generate")


@nox.session(python=DEFAULT_PYTHON)
def drift(session: nox.Session) -> None:
    """Fail with a unified diff when generated/ differs from what spec/ generates."""
    install(session, "generate", project=False)
    session.run("python", "-m", "scripts.generate", "drift")


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check of the handwritten code."""
    install(session, "generate", project=False)
    session.run("ruff", "check", *HANDWRITTEN)
    session.run("ruff", "format", "--check", *HANDWRITTEN)


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the generated package and the handwritten code."""
    install(session, "lint")
    session.run("mypy", "generated/leadway_invoices_client")
    session.run("mypy", "noxfile.py", "scripts", "tests", "contract_tests")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit tests of the scripts, sandbox, templates and generated package."""
    install(session, "test")
    session.run("pytest", *pytest_args(session, "tests"))


@nox.session(python=DEFAULT_PYTHON)
def contract(session: nox.Session) -> None:
    """Contract suite: schemathesis, recorded cassettes and property tests against the spec."""
    install(session, "test")
    session.run("pytest", *pytest_args(session, "contract_tests"))


@nox.session(python=DEFAULT_PYTHON)
def sandbox(session: nox.Session) -> None:
    """Serve the local sandbox on 127.0.0.1 until stopped (`-- --port PORT`)."""
    install(session, "sandbox")
    session.run("python", "-m", "scripts.sandbox", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def demo(session: nox.Session) -> None:
    """Start the sandbox, send one invoice with the generated client and print what happened."""
    install(session, "sandbox")
    session.run("python", "-m", "scripts.demo", *session.posargs)


@nox.session(name="upstream-drift", python=DEFAULT_PYTHON)
def upstream_drift(session: nox.Session) -> None:
    """List differences between our send and read operations and upstream's OpenAPI excerpts."""
    install(session, "test")
    if session.posargs:  # one run as asked (a document, --operation read, --suggest-known ...)
        session.run("python", "-m", "scripts.upstream_drift", *session.posargs)
        return
    session.run("python", "-m", "scripts.upstream_drift")
    session.run("python", "-m", "scripts.upstream_drift", "--operation", "read")


@nox.session(python=DEFAULT_PYTHON)
def record(session: nox.Session) -> None:
    """Re-record the cassettes in contract_tests/cassettes (sandbox by default)."""
    install(session, "test")
    session.run("python", "-m", "scripts.record_cassettes", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: client overhead, parsing, regeneration and paced bulk sends (prints a table)."""
    install(session, "test")
    session.run("python", "-m", "scripts.bench", *session.posargs)
