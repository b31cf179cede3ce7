"""Sessions that regenerate and verify everything. `nox` alone runs what a pull request needs."""

from __future__ import annotations

import fcntl
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
nox.options.sessions = [
    "drift",
    "lint",
    "typecheck",
    "tests",
    "tests-lowest",
    "contract",
    "upstream-drift",
    "api-diff",
    "peer",
]

# contract_tests.CONTRACT_TOKEN_ENV (nox cannot import the suite): where contract-live reads the token.
CONTRACT_TOKEN_ENV = "LEADWAY_CONTRACT_TOKEN"  # noqa: S105 (a variable's name, not a token)

PYTHONS = ["3.11", "3.12", "3.13"]
DEFAULT_PYTHON = "3.11"
# tests-3.13 runs the client's tests on the newest versions pyproject.toml's ranges allow, not the lock's.
NEWEST_PYTHON = PYTHONS[-1]
# ruff skips the generator's folders of the package (pyproject.toml); the rest of it is handwritten.
HANDWRITTEN = ["noxfile.py", "scripts", "tests", "contract_tests", "peer_tests", "generated"]
_PRINT_RUNTIME_VERSIONS = (
    "from importlib.metadata import version; "
    "names = ('attrs', 'httpx', 'httpcore', 'anyio', 'httpx-retries', 'rich', 'platformdirs', 'sniffio',"
    " 'psycopg', 'psycopg-pool', 'cryptography', 'uvicorn'); "
    "print('testing with', *(f'{name}=={version(name)}' for name in names))"
)


# What tests-3.12, tests-3.13 and tests-lowest run: the package's tests (a folder per layer, a file per
# module) and the README example, less those marked `slow` (pyproject.toml): processes sharing a
# ledger, workers and commands killed or interrupted, threads and tasks sharing a pacer, paced runs
# against the sandbox, each seconds long; and those marked `twin`: the ledger's tests run again on
# PostgreSQL (the PostgreSQL store's own tests, in all sessions, try psycopg's newest and lowest
# versions). tests-3.11 runs those, with the tests of the sandbox and the tools, which do not depend
# on the Python version. The bulk-send command is among the package's
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
    "not slow and not twin",
]


def pytest_args(session: nox.Session, *default_paths: str) -> list[str]:
    """Posargs for pytest, with `default_paths` first unless they name a path themselves.

    So `nox -s contract -- --contract-max-examples=5000` runs the contract suite only, not every
    testpath pyproject.toml lists.
    """
    names_a_path = any(not arg.startswith("-") for arg in session.posargs)
    return list(session.posargs) if names_a_path else [*default_paths, *session.posargs]


def npm_ci(session: nox.Session, folder: Path, needed_by: str) -> None:
    """`npm ci` of `folder`'s package-lock.json into its git-ignored node_modules/, again only when the
    lock changed. Two sessions of the default run's lanes (lint, api-diff) may get here at once on a
    fresh clone, and `npm ci` first deletes node_modules/: a file lock lets one install while the
    other waits."""
    if shutil.which("npm") is None:
        session.error(f"{needed_by} needs Node.js 20.19+ with npm on PATH")
    lock_hash = hashlib.sha256((folder / "package-lock.json").read_bytes()).hexdigest()
    stamp = folder / "node_modules" / ".installed-from-lock"
    Path(".nox").mkdir(exist_ok=True)
    with Path(".nox", "npm-ci.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file() or stamp.read_text(encoding="utf-8") != lock_hash:
            npm = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", f"--prefix={folder}"]
            session.run(*npm, external=True, silent=True)
            stamp.write_text(lock_hash, encoding="utf-8")


def redocly(session: nox.Session) -> dict[str, str]:
    """Install the Redocly CLI that package-lock.json pins; answer the environment to run it in."""
    npm_ci(session, Path("."), "the spec tools (Redocly CLI)")
    # No telemetry and no update check: it runs offline.
    return {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


def redocly_lint(session: nox.Session) -> None:
    """Lint spec/openapi.yaml with the pinned Redocly CLI (config: redocly.yaml)."""
    quiet = redocly(session)
    session.run(str(Path("node_modules", ".bin", "redocly")), "lint", "spec/openapi.yaml", env=quiet, external=True)


def install(session: nox.Session, *groups: str, project: bool = True) -> None:
    """Install exactly the locked versions of the given dependency groups into the session, and the
    project with its command line, PostgreSQL ledger and webhook receiver (the `cli`, `postgres` and
    `webhooks` extras) unless `project` is False."""
    args = ["uv", "sync", "--locked", "--no-default-groups", f"--python={session.virtualenv.location}"]
    args += [f"--group={group}" for group in groups]
    args += ["--extra=cli", "--extra=postgres", "--extra=webhooks"] if project else ["--no-install-project"]
    session.run_install(*args, env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}, silent=True)


def install_unlocked(session: nox.Session, group: str, resolution: str) -> None:
    """Install the project with its command line and PostgreSQL ledger and the given dependency group
    as uv's `resolution` (`highest`, `lowest-direct`) picks them within pyproject.toml's ranges,
    ignoring uv.lock, and nothing else.

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
        "--editable=.[cli,postgres,webhooks]",
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
    """Redocly lint of the spec; ruff lint and format check of the handwritten code; actionlint and
    zizmor over the GitHub workflows."""
    redocly_lint(session)
    install(session, "lint", project=False)
    session.run("ruff", "check", *HANDWRITTEN)
    session.run("ruff", "format", "--check", *HANDWRITTEN)
    workflows = sorted(str(path) for path in Path(".github", "workflows").glob("*.yml"))
    # actionlint runs the venv's shellcheck on every `run:` script.
    session.run("actionlint", "-no-color", *workflows)
    # Offline: no audit that asks GitHub (impostor commits, known-vulnerable action versions). The
    # auditor persona reports everything, code smells and likely false positives included: none is left.
    session.run("zizmor", "--offline", "--no-progress", "--persona=auditor", *workflows)


@nox.session(python=DEFAULT_PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the generated package and the handwritten code."""
    install(session, "lint")
    session.run("mypy", "generated/leadway_invoices_client")
    session.run("mypy", "noxfile.py", "scripts", "tests", "contract_tests", "peer_tests")


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
        # Two workers, as for 3.11: many of these tests wait on sockets, fsync and grace periods.
        parallel = [] if session.posargs else ["--numprocesses=2"]
        session.run("pytest", *parallel, *pytest_args(session, *CLIENT_TESTS))
        return
    # The tests of scripts/api_diff run Redocly's diff over the labelled spec edits.
    quiet = redocly(session)
    if session.posargs:
        session.run("pytest", *pytest_args(session, "tests"), env=quiet)
    else:
        # Two workers: measured 158 s -> 106 s for the whole suite, as many tests wait on sockets,
        # fsync and sleeps rather than the CPU. Targeted runs (with posargs) stay in one process.
        session.run("pytest", "--numprocesses=2", "tests", env=quiet)


@nox.session(name="tests-lowest", python=DEFAULT_PYTHON)
def tests_lowest(session: nox.Session) -> None:
    """The client's tests on the lowest versions of its runtime dependencies pyproject.toml allows."""
    # Not `uv sync`: the lock holds the newest versions. uv's lowest-direct resolution takes the low
    # end of each range we declare; the test tools keep their exact pins from the `test-client` group.
    install_unlocked(session, "test-client", "lowest-direct")
    session.run("python", "-c", _PRINT_RUNTIME_VERSIONS)
    session.run("pytest", *([] if session.posargs else ["--numprocesses=2"]), *pytest_args(session, *CLIENT_TESTS))


@nox.session(python=DEFAULT_PYTHON)
def contract(session: nox.Session) -> None:
    """Contract suite: schemathesis, recorded cassettes and property tests against the spec."""
    install(session, "test")
    session.run("pytest", *pytest_args(session, "contract_tests"))


@nox.session(name="contract-live", python=DEFAULT_PYTHON)
def contract_live(session: nox.Session) -> None:
    """The live read check against a real API: reads the named invoices, sends nothing
    (`-- --url URL --location-id ID --invoice-id ID [--invoice-id ID ...] [--max-reads N]`; token from
    $LEADWAY_CONTRACT_TOKEN). The package's own `leadway-invoices check`, as a user's install runs it."""
    token = os.environ.get(CONTRACT_TOKEN_ENV, "").strip()
    if not token:
        session.error(f"set ${CONTRACT_TOKEN_ENV} to a token with the invoices.readonly scope (never an option)")
    install(session)
    # The command reads the token from its own variable; the session's comes from the suite's.
    session.run("leadway-invoices", "check", *session.posargs, env={"LEADWAY_API_TOKEN": token})


@nox.session(python=DEFAULT_PYTHON)
def peer(session: nox.Session) -> None:
    """Upstream's published SDKs, pinned, driven against the sandbox on loopback: Python and TypeScript."""
    # Their own environments: the Python SDK in this venv only (the `peer` group, which no other session
    # installs), the TypeScript one in peer_tests/typescript/node_modules/ (its own package-lock.json).
    install(session, "peer", project=False)
    npm_ci(session, Path("peer_tests", "typescript"), "the TypeScript SDK's peer test")
    session.run("pytest", *pytest_args(session, "peer_tests"))


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


@nox.session(name="api-diff", python=DEFAULT_PYTHON)
def api_diff(session: nox.Session) -> None:
    """What changed for users since the base (`-- --base REF`; default: the newest v* tag, else the
    first parent commit), each change rated major, minor or patch; fails when the version is not bumped."""
    quiet = redocly(session)
    install(session, "api-diff")
    session.run("python", "-m", "scripts.api_diff", *session.posargs, env=quiet)


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
