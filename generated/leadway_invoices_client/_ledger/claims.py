"""Who holds a ledger key while it is being sent, and whether that holder is still alive.

A key being sent is marked with its owner: the process (pid, and on Linux its start time, boot id
and pid namespace, so a reused pid or a reboot is not mistaken for the owner) and a claim id unique
to the one send. Another process seeing the mark must tell a live owner (still sending: leave the
key alone) from a dead one (killed between intent and outcome: reconcile the key). Only when the
owner cannot be checked (another host or container sharing the file, or a platform without a way
to test a pid) does the lease decide: the owner is presumed alive until it expires.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

# Claims held by sends running in this process: a row owned by this pid whose claim is not here
# was left by an interrupted send, or by a process that had this pid before a fork.
_active: set[str] = set()
_active_lock = threading.Lock()


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux); "" when unknown or when the
    process has ended (a zombie waiting for its parent to reap it runs no code any more)."""
    stat = _read(f"/proc/{pid}/stat")
    # The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    _, paren, rest = stat.rpartition(")")
    fields = rest.split() if paren else []
    if len(fields) <= 19 or fields[0] in ("Z", "X"):
        return ""
    return fields[19]


def _namespace() -> str:
    """Boot id and pid namespace (Linux): two processes seeing the same can check each other's pids."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return f"{boot}/{pid_ns}" if boot and pid_ns else ""


@dataclass(frozen=True)
class Owner:
    """Identity of a process that may hold ledger keys."""

    host: str
    namespace: str
    pid: int
    start: str


_me: Owner | None = None


def me() -> Owner:
    """This process (computed again after a fork, since the pid changes)."""
    global _me
    pid = os.getpid()
    if _me is None or _me.pid != pid:
        _me = Owner(socket.gethostname(), _namespace(), pid, _start_time(pid))
    return _me


def new_claim() -> str:
    """A claim id for one send, registered as held by this process until `drop_claim`."""
    claim = uuid.uuid4().hex
    with _active_lock:
        _active.add(claim)
    return claim


def holds(claim: str) -> bool:
    """Whether a send of this process still holds `claim`."""
    with _active_lock:
        return claim in _active


def held() -> list[str]:
    """Every claim a send of this process holds now (whose lease its heartbeat renews)."""
    with _active_lock:
        return list(_active)


def drop_claim(claim: str) -> None:
    with _active_lock:
        _active.discard(claim)


def _pid_alive(pid: int) -> bool | None:
    """Whether a pid of this host's namespace runs; None when it cannot be told (Windows)."""
    if sys.platform == "win32":
        # os.kill(pid, 0) would send CTRL_C_EVENT there, not probe the process.
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return None
    return True


def _boot(owner: Owner) -> str:
    return owner.namespace.split("/")[0]


def alive(owner: Owner, claim: str, lease_until: float, now: float) -> bool:
    """Whether the owner of `claim` may still be sending (True when in doubt and the lease runs)."""
    mine = me()
    same_host = owner.host == mine.host
    if same_host and owner.namespace == mine.namespace:
        if owner.pid == mine.pid and owner.start == mine.start:
            with _active_lock:
                return claim in _active
        if owner.start:
            # Linux: the pid must still exist and be the same process, not a later one given its pid.
            return _start_time(owner.pid) == owner.start
        probed = _pid_alive(owner.pid)
        if probed is not None:
            return probed
    elif same_host and owner.namespace and mine.namespace and _boot(owner) != _boot(mine):
        return False  # the host has rebooted since: every process of that boot is gone
    return lease_until > now
