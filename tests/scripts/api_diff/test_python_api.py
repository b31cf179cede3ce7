"""scripts/api_diff/python_api.py on two small packages: what griffe reports, and what we add to it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scripts.api_diff import python_api
from scripts.api_diff.changes import Bump

OLD = {
    "__init__.py": "from ._runtime.pacing import Pacer\nfrom .client import Client\n__all__ = ('Client', 'Pacer')\n",
    "client.py": """
        class Client:
            def send(self, invoice_id: str, *, strict: bool = False) -> None: ...
            def read(self, invoice_id: str) -> None: ...
    """,
    "models/__init__.py": "",
    "models/send_action.py": """
        from enum import StrEnum
        class SendAction(StrEnum):
            EMAIL = "email"
            SMS = "sms"
    """,
    "models/request.py": """
        from attrs import define as _attrs_define
        UNSET = object()
        @_attrs_define
        class Request:
            alt_id: str
            sent_from: str | None = UNSET
            live_mode: bool
    """,
    "models/invoice.py": """
        from attrs import define as _attrs_define
        from .._runtime.open_object import OpenObject
        UNSET = object()
        @_attrs_define
        class Invoice(OpenObject):
            id: str
            invoice_number: str
            title: str = UNSET
            def raw(self) -> dict[str, str]: ...
    """,
    "cli/__init__.py": "def render() -> None: ...\n",
    # A private layer, as ours are: a namespace package (no __init__.py).
    "_runtime/open_object.py": "class OpenObject: ...\n\n\ndef helper() -> None: ...\n",
    "_runtime/pacing.py": """
        class Pacer:
            def __init__(self, max_wait: float = 60.0, margin: float = 0.002) -> None: ...
            def wait(self) -> None: ...
    """,
}

NEW = {
    **OLD,
    "client.py": """
        class Client:
            def send(self, invoice_id: str, *, strict: bool = True, dry_run: bool = False) -> None: ...
            def close(self) -> None: ...
    """,
    "models/send_action.py": """
        from enum import StrEnum
        class SendAction(StrEnum):
            EMAIL = "email"
            WHATSAPP = "whatsapp"
    """,
    "models/request.py": """
        from attrs import define as _attrs_define
        UNSET = object()
        @_attrs_define
        class Request:
            alt_id: str
            sent_from: str | None
            live_mode: bool = UNSET
            channel: str
            note: str = UNSET
    """,
    "models/invoice.py": """
        from attrs import define as _attrs_define
        from .._runtime.open_object import OpenObject
        UNSET = object()
        @_attrs_define
        class Invoice(OpenObject):
            id: str
            invoice_number: str = UNSET
            title: str
            sent_at: str
    """,
    "cli/__init__.py": "def lines() -> None: ...\n",
    "_runtime/open_object.py": "class OpenObject:\n    def raw(self) -> dict[str, str]: ...\n",
    "_runtime/constants.py": "PACER_MAX_WAIT = 60.0\nPACER_MARGIN = 0.005\n",
    "_runtime/pacing.py": """
        from .constants import PACER_MARGIN, PACER_MAX_WAIT
        class Pacer:
            def __init__(self, max_wait: float = PACER_MAX_WAIT, margin: float = PACER_MARGIN) -> None: ...
    """,
}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_each_change_of_the_public_api_is_named_and_rated(tmp_path: Path) -> None:
    old = python_api.load(write(tmp_path / "old", OLD), "pkg")
    new = python_api.load(write(tmp_path / "new", NEW), "pkg")
    found = {(change.bump, change.line) for change in python_api.changes(old, new)}
    assert found == {
        (Bump.MAJOR, "client.Client.read: removed"),
        (Bump.MAJOR, "client.Client.send(strict): default changed: False -> True"),
        (Bump.MINOR, "client.Client.close: added"),
        (Bump.MINOR, "client.Client.send(dry_run): added"),
        (Bump.MAJOR, "SendAction.SMS: removed"),
        (Bump.MINOR, "SendAction.WHATSAPP: added"),
        # attrs writes __init__: griffe does not see these. Request models only.
        (Bump.MAJOR, "Request.sent_from: now required"),
        (Bump.MINOR, "Request.live_mode: now optional"),
        (Bump.MAJOR, "Request.channel: added, required"),
        (Bump.MINOR, "Request.note: added"),
        # An answer model is built by the reader: a new field is one more attribute, whatever its default.
        (Bump.MINOR, "Invoice.sent_at: added"),
        # A private layer's class, named as the package exports it; a default moved into a constant
        # of the same value is no change, one of another value is.
        (Bump.MAJOR, "Pacer.wait: removed"),
        (Bump.MAJOR, "Pacer.__init__(margin): default changed: 0.002 -> PACER_MARGIN"),
        # Not reported: cli/ (the command is its interface), _runtime/'s own names (private),
        # Invoice.raw (now inherited from OpenObject).
    }


# The handwritten layers as ours are: a name defined in one private module, imported by another, and
# exported by the package from there.
LAYERED = {
    "__init__.py": """
        from ._ledger.ledger import SendLedger, SendState
        from ._ledger.reconcile import reconcile, reconcile_send
        __all__ = ("SendLedger", "SendState", "reconcile", "reconcile_send")
    """,
    "_ledger/records.py": """
        from enum import StrEnum
        class SendState(StrEnum):
            PENDING = "pending"
            SENT = "sent"
    """,
    "_ledger/ledger.py": """
        from .records import SendState
        class SendLedger:
            def send(self, key: str, *, body: str) -> SendState: ...
            async def asend(self, key: str, *, body: str) -> SendState: ...
    """,
    "_ledger/reconcile.py": "def reconcile() -> None: ...\n\n\ndef reconcile_send() -> None: ...\n",
    "_ledger/commit.py": "def commit() -> None: ...\n",
}

LAYERED_NEW = {
    "__init__.py": """
        from ._ledger.ledger import SendLedger, SendState
        from ._ledger.reconcile import reconcile_send
        __all__ = ("SendLedger", "SendState", "reconcile_send")
    """,
    "_ledger/records.py": """
        from enum import StrEnum
        class SendState(StrEnum):
            PENDING = "pending"
            SENT = "sent"
            REFUSED = "refused"
    """,
    "_ledger/ledger.py": """
        from .records import SendState
        class SendLedger:
            def send(self, key: str, *, body: str, only_if_draft: bool = False) -> SendState: ...
            async def asend(self, key: str, *, body: str, mode: str) -> SendState: ...
    """,
    "_ledger/reconcile.py": "def reconcile_send() -> None: ...\n",
    "_ledger/sqlite_store.py": "def commit() -> None: ...\n",
}


def test_a_re_exported_private_layer_is_seen_through(tmp_path: Path) -> None:
    old = python_api.load(write(tmp_path / "old", LAYERED), "pkg")
    new = python_api.load(write(tmp_path / "new", LAYERED_NEW), "pkg")
    found = {(change.bump, change.line) for change in python_api.changes(old, new)}
    assert found == {
        # A member of an enum defined two imports away from where the package exports it.
        (Bump.MINOR, "SendState.REFUSED: added"),
        # A keyword-only parameter with a default: old calls still work.
        (Bump.MINOR, "SendLedger.send(only_if_draft): added"),
        (Bump.MAJOR, "SendLedger.asend(mode): added, required"),
        (Bump.MAJOR, "reconcile: removed"),
        # Not reported: _ledger/commit.py gone (a private module, never exported).
    }
