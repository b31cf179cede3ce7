"""Request validation by the spec itself, through openapi-core: no copy of the schema lives here."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    InvalidRequestBody,
    MissingRequestBodyError,
    SecurityValidationError,
)
from starlette.requests import Request

from scripts.sandbox.config import SPEC_SERVER_URL


class _AsIfOnSandboxServer(StarletteOpenAPIRequest):
    # openapi-core matches the request's scheme, host and port against the spec's `servers`. Requests
    # reach the sandbox on any loopback port, or from a test client's made-up host, so they are
    # validated as if sent to the spec's sandbox server.
    @property
    def host_url(self) -> str:
        return SPEC_SERVER_URL

    # RFC 9110 allows empty parameters (`application/json;`); openapi-core's parser raises on them and
    # on a parameter without '=', so only well-formed parameters reach it (a malformed one is reported
    # by `media_type_problem`).
    @property
    def content_type(self) -> str:
        mime, parameters = _split_media_type(super().content_type)
        return "; ".join([mime, *parameters])


_PARAMETER = re.compile(r"""[!#$%&'*+.^_`|~0-9A-Za-z-]+=(?:"[^"=;]*"|[^"=;\s]*)""")


def _split_media_type(value: str) -> tuple[str, list[str]]:
    mime, *rest = value.split(";")
    return mime.strip(), [part.strip() for part in rest if _PARAMETER.fullmatch(part.strip())]


def media_type_problem(value: str | None) -> str | None:
    """What is wrong with a Content-Type's parameters (empty ones are fine), or None."""
    if value is None:
        return None
    _, *rest = value.split(";")
    bad = [part.strip() for part in rest if part.strip() and not _PARAMETER.fullmatch(part.strip())]
    return f"header Content-Type: malformed parameter {bad[0][:40]!r}" if bad else None


@dataclass(frozen=True)
class CheckedRequest:
    """What the spec says about one request.

    `token` is None when the Authorization header is missing or not a bearer token (401). Otherwise
    `messages` lists every way the request breaks the spec (422 when not empty), and `invoice_id`
    and `body` hold the validated values when it is empty.
    """

    token: str | None
    messages: list[str] = field(default_factory=list)
    invoice_id: str | None = None
    body: dict[str, Any] | None = None


@functools.cache
def load_openapi(spec_path: Path) -> OpenAPI:
    """The spec as openapi-core reads it; loaded once per process (every app validates with the same one)."""
    return OpenAPI.from_file_path(str(spec_path))


class OperationValidator:
    """Validates requests to one operation of the spec with openapi-core."""

    def __init__(self, spec_path: Path, path: str, method: str) -> None:
        self._openapi = load_openapi(spec_path)
        operation = self._openapi.spec / "paths" / path / method
        # openapi-core fills a missing required parameter with its schema default instead of
        # reporting it, so required headers are checked for presence here (names read from the spec).
        self._required_headers = [
            str(parameter["name"])
            for parameter in operation / "parameters"
            if parameter["in"] == "header" and parameter.get("required", False)
        ]

    def check(self, request: Request, body: bytes) -> CheckedRequest:
        """Validate security, parameters and body (in that order, like openapi-core)."""
        body_problems: list[str] = []
        try:
            result = self._openapi.unmarshal_request(_AsIfOnSandboxServer(request, body))
        except RecursionError:
            # json.loads gives up on very deep nesting: validate the rest without the body, and say why.
            result = self._openapi.unmarshal_request(_AsIfOnSandboxServer(request, b""))
            body_problems = ["body: JSON nested too deeply to read"]
        if any(isinstance(error, PathNotFound | OperationNotFound) for error in result.errors):
            # A dot segment (`%2e%2e`) that the router kept as the id but the spec's path resolution
            # removed: the id breaks the parameter's pattern. (`/invoices/%2E/send` resolves to
            # `/invoices/send`, the read's path with another method: OperationNotFound.)
            invoice_id = str(request.path_params.get("invoiceId", ""))[:40]
            token = _bearer(request)
            return CheckedRequest(token=token, messages=[f"path parameter invoiceId: {invoice_id!r} is not a valid id"])
        if any(isinstance(error, SecurityValidationError) for error in result.errors):
            return CheckedRequest(token=None)
        token = next(iter(result.security.values())) if result.security else None
        messages = [
            f"Missing required header parameter: {name}"
            for name in self._required_headers
            if name not in request.headers
        ]
        for error in result.errors:
            if not (body_problems and isinstance(error, MissingRequestBodyError)):
                messages.extend(_messages(error))
        messages += body_problems
        problem = media_type_problem(request.headers.get("content-type"))
        if problem is not None:
            messages.append(problem)
        if messages:
            return CheckedRequest(token=token, messages=messages)
        return CheckedRequest(token=token, invoice_id=str(result.parameters.path["invoiceId"]), body=result.body)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _messages(error: Exception) -> list[str]:
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if isinstance(error, InvalidParameter) and schema_errors:
        return [f"{error.location} parameter {error.name}: {e.message}" for e in schema_errors]
    if isinstance(error, InvalidRequestBody) and schema_errors:
        return [f"{'.'.join(['body', *map(str, e.absolute_path)])}: {e.message}" for e in schema_errors]
    if isinstance(cause, MediaTypeDeserializeError):
        # openapi-core's own message echoes the body and crashes on bytes that are not UTF-8.
        return [f"body: cannot be read as {cause.mimetype}"]
    return [str(error)]
