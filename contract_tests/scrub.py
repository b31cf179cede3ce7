"""Scrubbing secrets and customer PII out of recorded HTTP traffic, and finding any that is left.

`Scrubber` runs as vcrpy's `before_record_request` / `before_record_response`, so nothing reaches
disk unscrubbed. It replaces consistently: within one scrubber the same real value always becomes
the same placeholder (the second invoice to the same customer still shows the same customer), and
placeholders are numbered, not hashed, so a short value such as a phone number cannot be recovered
by hashing guesses.

`find_leaks` is the other half: the cassette tests run it over every cassette on disk, and it flags
any token and any PII value that is not one of the placeholders below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

TOKEN_PLACEHOLDER = "REDACTED"
AUTHORIZATION_PLACEHOLDER = f"Bearer {TOKEN_PLACEHOLDER}"
# Headers that carry credentials or session state; any other header is kept.
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization", "x-api-key"})

# What each kind of PII becomes; the patterns below recognise exactly these forms.
_PLACEHOLDERS: dict[str, Callable[[int], str]] = {
    "email": lambda n: f"person-{n}@example.invalid",
    "phone": lambda n: f"+1-555-01{n:02d}",
    "name": lambda n: f"Person {n}",
    "street": lambda n: f"{n} Example Street",
    "city": lambda n: f"City {n}",
    "state": lambda n: f"State {n}",
    "postal": lambda n: f"POSTAL-{n}",
    "address": lambda n: f"Address {n}",
}
_PLACEHOLDER_PATTERNS = {
    "email": re.compile(r"person-\d+@example\.invalid"),
    "phone": re.compile(r"\+1-555-01\d{2,}"),
    "name": re.compile(r"Person \d+"),
    "street": re.compile(r"\d+ Example Street"),
    "city": re.compile(r"City \d+"),
    "state": re.compile(r"State \d+"),
    "postal": re.compile(r"POSTAL-\d+"),
    "address": re.compile(r"Address \d+"),
}

# Keys whose value is PII wherever they appear.
_KEY_KINDS = {
    "email": "email",
    "fromEmail": "email",
    "phone": "phone",
    "phoneNo": "phone",
    "fromName": "name",
    "companyName": "name",
    "addressLine1": "street",
    "addressLine2": "street",
    "city": "city",
    "state": "state",
    "postalCode": "postal",
}
# `name` is PII only on a person or business; an invoice or a line item has a `name` too.
_PEOPLE = frozenset({"contactDetails", "businessDetails", "sentFrom"})

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# International numbers only: dates and amounts are digit runs too, but never start with "+".
PHONE = re.compile(r"\+\d[\d\s().-]{6,}\d")
# Shapes of real credentials: JWTs (OAuth access tokens) and Private Integration Tokens.
TOKEN_SHAPES = (
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"pit-[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}"),
)


def _field_kind(key: str, value: Any, parent: str | None) -> str | None:
    """The PII kind of a field's value, or None when the field is not PII (or not a non-empty string)."""
    if not isinstance(value, str) or not value:
        return None
    if key == "address":
        return "address"
    return _KEY_KINDS.get(key) or ("name" if key == "name" and parent in _PEOPLE else None)


class Scrubber:
    """Replaces secrets and customer PII in requests and responses before they are recorded."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._seen: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, value: str) -> str:
        if _PLACEHOLDER_PATTERNS[kind].fullmatch(value):
            return value  # already scrubbed (a recorded request replayed through the scrubber)
        key = (kind, value)
        if key not in self._seen:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._seen[key] = _PLACEHOLDERS[kind](self._counts[kind])
        return self._seen[key]

    def text(self, value: str) -> str:
        """Free text: secrets, PII values already seen in a field, email addresses and phone numbers."""
        for secret in self._secrets:
            value = value.replace(secret, TOKEN_PLACEHOLDER)
        for shape in TOKEN_SHAPES:
            value = shape.sub(TOKEN_PLACEHOLDER, value)
        value = EMAIL.sub(lambda m: self.placeholder("email", m.group()), value)
        value = PHONE.sub(lambda m: self.placeholder("phone", m.group()), value)
        # A name or street seen in a field also turns up in prose ("Invoice #19 from Alex").
        for (kind, real), placeholder in sorted(self._seen.items(), key=lambda item: -len(item[0][1])):
            if kind not in {"email", "phone"} and len(real) > 2:
                value = re.sub(rf"(?<!\w){re.escape(real)}(?!\w)", placeholder, value)
        return value

    def document(self, node: Any) -> Any:
        """A JSON document with every PII field replaced (keys decide the kind; text is searched too)."""
        # Fields first, everywhere, so that free text anywhere in the document knows their values.
        self._fields(node, None)
        return self._replace(node, None)

    def _fields(self, node: Any, parent: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                self._fields(item, parent)
        elif isinstance(node, dict):
            for key, value in node.items():
                kind = _field_kind(key, value, parent)
                if kind is not None:
                    self.placeholder(kind, value)
                else:
                    self._fields(value, key)

    def _replace(self, node: Any, parent: str | None) -> Any:
        if isinstance(node, list):
            return [self._replace(item, parent) for item in node]
        if isinstance(node, dict):
            return {
                key: self.placeholder(kind, value)
                if (kind := _field_kind(key, value, parent)) is not None
                else self._replace(value, key)
                for key, value in node.items()
            }
        if isinstance(node, str):
            return self.text(node)
        return node

    def body(self, body: bytes | str | None) -> bytes | None:
        if body is None or body in (b"", ""):
            return body if body is None else b""
        raw = body.encode() if isinstance(body, str) else body
        try:
            document = json.loads(raw)
        except ValueError:
            return self.text(raw.decode("utf-8", errors="replace")).encode()
        return json.dumps(self.document(document), ensure_ascii=False).encode()

    # --- vcrpy hooks -----------------------------------------------------------------------------

    def request(self, request: Any) -> Any:
        """vcrpy `before_record_request`: gets and returns a `vcr.request.Request` copy."""
        headers = dict(request.headers)
        for name in list(headers):
            if name.lower() == "authorization":
                headers[name] = AUTHORIZATION_PLACEHOLDER
            elif name.lower() in SECRET_HEADERS:
                del headers[name]
            else:
                headers[name] = self.text(str(headers[name]))
        request.uri = self.text(request.uri)
        request.body = self.body(request.body)
        for name in list(headers):
            if name.lower() == "content-length" and request.body is not None:
                headers[name] = str(len(request.body))
        request.headers = headers
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy `before_record_response`: gets and returns the response dict it will store."""
        headers = {
            name: [self.text(str(v)) for v in values]
            for name, values in response.get("headers", {}).items()
            if name.lower() not in SECRET_HEADERS
        }
        # The body changes length; a stale Content-Length would make the replayed answer inconsistent.
        headers.pop("content-length", None)
        headers.pop("Content-Length", None)
        body = dict(response.get("body", {}))
        body["string"] = self.body(body.get("string")) or b""
        return {**response, "headers": headers, "body": body}


def _leaks_in_text(where: str, value: str, secrets: Iterable[str]) -> Iterator[str]:
    for secret in secrets:
        if secret and secret in value:
            yield f"{where}: holds a token"
    for shape in TOKEN_SHAPES:
        if shape.search(value):
            yield f"{where}: holds something shaped like a token"
    for match in EMAIL.finditer(value):
        if not _PLACEHOLDER_PATTERNS["email"].fullmatch(match.group()):
            yield f"{where}: unscrubbed email address {match.group()[:3]}…"
    for match in PHONE.finditer(value):
        if not _PLACEHOLDER_PATTERNS["phone"].fullmatch(match.group()):
            yield f"{where}: unscrubbed phone number {match.group()[:4]}…"


def find_leaks(node: Any, where: str, secrets: Iterable[str] = (), parent: str | None = None) -> Iterator[str]:
    """Every token and every PII value in a JSON document that is not a placeholder.

    Messages never repeat the value itself: a test report must not become the leak.
    """
    secrets = list(secrets)
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from find_leaks(item, f"{where}[{index}]", secrets, parent)
    elif isinstance(node, dict):
        for key, value in node.items():
            inner = f"{where}.{key}"
            kind = _field_kind(key, value, parent)
            if kind is not None:
                if not _PLACEHOLDER_PATTERNS[kind].fullmatch(value):
                    yield f"{inner}: unscrubbed {kind}"
            else:
                yield from find_leaks(value, inner, secrets, key)
    elif isinstance(node, str):
        yield from _leaks_in_text(where, node, secrets)


def find_leaks_in_text(value: str, where: str, secrets: Iterable[str] = ()) -> list[str]:
    """`find_leaks` for a body or header that may or may not be JSON."""
    try:
        document = json.loads(value)
    except ValueError:
        return list(_leaks_in_text(where, value, secrets))
    return list(find_leaks(document, where, secrets))
