"""The default run (`scripts/nox` with no session named) in parallel lanes.

nox runs sessions one after another, which leaves one of the machine's cores idle for most of the
run: the sessions are independent (each has its own venv), so `scripts/nox` starts one nox per lane
and streams their output with the session list of each lane as a prefix. The exit status is the
first non-zero one. Anything that names sessions, lists them or asks for help goes to nox as is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence

# Options after which nox does not run the default sessions (or runs no session at all).
SELECTING = frozenset(
    {"-s", "--session", "--sessions", "-e", "-k", "--keywords", "-t", "--tags", "-p", "--python", "--pythons"}
    | {"-l", "--list", "--list-sessions", "--json", "-h", "--help", "--version", "--usage"}
)
# The longest session gets a lane of its own; the others share the remaining lanes.
LONGEST = "tests-3.11"
LANES = 3


def selects(args: Sequence[str]) -> bool:
    """True when the arguments choose sessions themselves (or are not a run at all)."""
    return any(arg.split("=", 1)[0] in SELECTING for arg in args) or "--" in args


def split(sessions: Sequence[str], lanes: int = LANES) -> list[list[str]]:
    """`LONGEST` alone in the first lane, the others dealt in turn to the rest, order kept."""
    if lanes < 2 or LONGEST not in sessions:
        return [list(sessions)]
    rest = [name for name in sessions if name != LONGEST]
    dealt: list[list[str]] = [[] for _ in range(lanes - 1)]
    for index, name in enumerate(rest):
        dealt[index % len(dealt)].append(name)
    return [[LONGEST], *(lane for lane in dealt if lane)]


def default_sessions(nox: str) -> list[str]:
    listed = subprocess.run([nox, "--list", "--json"], check=True, capture_output=True, text=True).stdout
    return [entry["session"] for entry in json.loads(listed)]


def _stream(process: subprocess.Popen[str], tag: str, lock: threading.Lock) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        with lock:
            sys.stdout.write(f"{tag} {line}")
            sys.stdout.flush()


def main(argv: Sequence[str]) -> int:
    nox = os.environ.get("NOX", "nox")
    args = list(argv)
    if selects(args):
        os.execvp(nox, [nox, *args])
    lanes = split(default_sessions(nox))
    lock = threading.Lock()
    processes: list[subprocess.Popen[str]] = []
    threads: list[threading.Thread] = []
    for lane in lanes:
        tag = "[" + " ".join(lane) + "]"
        process = subprocess.Popen(
            [nox, *args, "--sessions", *lane], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        processes.append(process)
        threads.append(threading.Thread(target=_stream, args=(process, tag, lock), daemon=True))
        threads[-1].start()
    codes = [process.wait() for process in processes]
    for thread in threads:
        thread.join()
    failed = [" ".join(lane) for lane, code in zip(lanes, codes, strict=True) if code]
    print(
        "lanes:",
        "; ".join(f"{' '.join(lane)}: {'failed' if code else 'ok'}" for lane, code in zip(lanes, codes, strict=True)),
    )
    if failed:
        print("failed lanes:", "; ".join(failed), file=sys.stderr)
    return next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
