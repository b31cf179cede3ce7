"""Sessions that regenerate and verify everything. `nox` alone runs what a pull request needs."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import nox

# .python-version selects pyenv's 3.11, 3.12 and 3.13 for the shims; uv must never download a Python.
os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")

nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["drift", "lint", "typecheck", "tests", "tests-lowest", "contract", "upstream-drift"]

PYTHONS = ["3.11", "3.12", "3.13"]
DEFAULT_PYTHON = "3.11"
# tests-3.13 runs the client's tests on the newest versions pyproject.toml's ranges allow, not the lock's.
NEWEST_PYTHON = PYTHONS[-1]
# ruff skips the generator's folders of the package (pyproject.toml); the rest of it is handwritten.
HANDWRITTEN = ["noxfile.py", "scripts", "tests", "contract_tests", "generated"]
_PRINT_RUNTIME_VERSIONS = (
    "from importlib.metadata import version; "
    "names = ('attrs', 'httpx', 'httpcore', 'anyio', 'httpx-retries', 'rich', 'platformdirs', 'sniffio',"
    " 'cryptography', 'uvicorn'); "
    "print('testing with', *(f'{name}=={version(name)}' for name in names))"
)


# What tests-3.12, tests-3.13 and tests-lowest run: the package's tests (a folder per layer, a file per
# module) and the README example, less those marked `slow` (pyproject.toml): processes sharing a
# ledger, workers and commands killed or interrupted, threads and tasks sharing a pacer, paced runs
# against the sandbox, each seconds long. tests-3.11 runs those, with the tests of the sandbox and the
# tools, which do not depend on the Python version. The bulk-send command is among the package's
# tests (rich's lowest version too; its worker processes forked on each Python).
# They need the sandbox and the test tools only (the `test-client` group), never the generator.
CLIENT_TESTS = [
    "tests/runtime",
    "tests/api",
    "tests/models",
    "tests/ledger",
    "tests/bulk",
    "tests/cli",
    "tests/webhooks",
    "tests/test_readme.py",
    "-m",
    "not slow",
]


def pytest_args(session: nox.Session, *default_paths: str) -> list[str]:
    """Posargs for pytest, with `default_paths` first unless they name a path themselves.

    So `nox -s contract -- --contract-max-examples=5000` runs the contract suite only, not every
    testpath pyproject.toml lists.
    """
    names_a_path = any(not arg.startswith("-") for arg in session.posargs)
    return list(session.posargs) if names_a_path else [*default_paths, *session.posargs]


def redocly_lint(session: nox.Session) -> None:
    """Lint spec/openapi.yaml with the Redocly CLI that package-lock.json pins (config: redocly.yaml).

    `npm ci` installs it into the git-ignored node_modules/, again only when the lock changed.
    """
    if shutil.which("npm") is None:
        session.error("the spec linter (Redocly CLI) needs Node.js 20.19+ with npm on PATH")
    lock_hash = hashlib.sha256(Path("package-lock.json").read_bytes()).hexdigest()
    stamp = Path("node_modules", ".installed-from-lock")
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != lock_hash:
        session.run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", external=True, silent=True)
        stamp.write_text(lock_hash, encoding="utf-8")
    # No telemetry and no update check: the linter runs offline.
    quiet = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    session.run(str(Path("node_modules", ".bin", "redocly")), "lint", "spec/openapi.yaml", env=quiet, external=True)


def install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install exactly the locked versions of the given dependency groups into the session, and the
    project with its command line and webhook receiver (the `cli` and `webhooks` extras) unless
    `project` is False."""
    args = ["uv", "sync", "--locked", "--no-default-groups", f"--python={session.virtualenv.location}"]
    args += [f"--group={group}" for group in groups]
    args += ["--extra=cli", "--extra=webhooks"] if project else ["--no-install-project"]
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}, silent=True)


def install_unlocked(session: nox.Session, group: str, resolution: str) -> None:
    """Install the project with its command line and the given dependency group as uv's `resolution`
    (`highest`, `lowest-direct`) picks them within pyproject.toml's ranges, ignoring uv.lock, and
    nothing else.

    uv.lock is one resolution for every group: the `generate` group's openapi-python-client holds
    httpx below 0.29 there, and the `test` group's schemathesis rich at 13.9.4 or above, so the lock
    cannot say whether the client works with the newest httpx or the oldest rich. The groups' own
    pins stay exact; `--upgrade` resolves afresh at each run (a new release), `--exact` removes
    what an earlier install left in the reused venv.
    """
    session.run_install(
        "uv",
        "pip",
        "install",
        "--quiet",
        "--exact",
        "--upgrade",
        f"--resolution={resolution}",
        f"--python={session.virtualenv.location}",
        f"--group={group}",
        "--editable=.[cli,webhooks]",
    )


@nox.session(python=DEFAULT_PYTHON)
def generate(session: nox.Session) -> None:
    """Lint spec/, then rewrite generated/ from it with the pinned generator (after every spec change)."""
    redocly_lint(session)
    install(session, "generate", project=False)
    session.run("python", "-m", "scripts.generate", "generate")


@nox.session(python=DEFAULT_PYTHON)
def drift(session: nox.Session) -> None:
    """Fail with a unified diff when generated/ differs from what spec/ generates."""
    install(session, "generate", project=False)
    session.run("python", "-m", "scripts.generate", "drift")


@nox.session(python=DEFAULT_PYTHON)
def lint(session: nox.Session) -> None:
    """Redocly lint of the spec; ruff lint and format check of the handwritten code."""
    redocly_lint(session)
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
    """3.11: every unit test (scripts, sandbox, templates, generated package); 3.12: the client's;
    3.13: the client's, on the newest dependency versions pyproject.toml allows (not uv.lock's)."""
    if session.python == NEWEST_PYTHON:
        install_unlocked(session, "test-client", "highest")
        session.run("python", "-c", _PRINT_RUNTIME_VERSIONS)
    else:
        install(session, "test")
    if session.python != DEFAULT_PYTHON:
        session.run("pytest", *pytest_args(session, *CLIENT_TESTS))
    elif session.posargs:
        session.run("pytest", *pytest_args(session, "tests"))
    else:
        # Two workers: measured 158 s -> 106 s for the whole suite, as many tests wait on sockets,
        # fsync and sleeps rather than the CPU. Targeted runs (with posargs) stay in one process.
        session.run("pytest", "--numprocesses=2", "tests")


@nox.session(name="tests-lowest", python=DEFAULT_PYTHON)
def tests_lowest(session: nox.Session) -> None:
    """The client's tests on the lowest versions of its runtime dependencies pyproject.toml allows."""
    # Not `uv sync`: the lock holds the newest versions. uv's lowest-direct resolution takes the low
    # end of each range we declare; the test tools keep their exact pins from the `test-client` group.
    install_unlocked(session, "test-client", "lowest-direct")
    session.run("python", "-c", _PRINT_RUNTIME_VERSIONS)
    session.run("pytest", *pytest_args(session, *CLIENT_TESTS))


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
    """List differences between our send and read operations (and the InvoiceSent webhook) and upstream's
    OpenAPI excerpts (and its webhook page)."""
    install(session, "test")
    if session.posargs:  # one run as asked (a document, --operation read, --suggest-known ...)
        session.run("python", "-m", "scripts.upstream_drift", *session.posargs)
        return
    session.run("python", "-m", "scripts.upstream_drift")
    session.run("python", "-m", "scripts.upstream_drift", "--operation", "read")
    session.run("python", "-m", "scripts.upstream_drift", "--operation", "webhook")


@nox.session(python=DEFAULT_PYTHON)
def record(session: nox.Session) -> None:
    """Re-record the cassettes in contract_tests/cassettes (sandbox by default)."""
    install(session, "test")
    session.run("python", "-m", "contract_tests.record", *session.posargs)


@nox.session(python=DEFAULT_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: client overhead, parsing, regeneration and paced bulk sends (prints a table)."""
    install(session, "test")
    session.run("python", "-m", "scripts.bench", *session.posargs)
