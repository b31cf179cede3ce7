"""Request validation by the spec itself: no copy of the schema lives here.

Each operation's checks are read from the spec once, when its `OperationValidator` is built: its
security schemes, every parameter's schema and the request body's schema, compiled into the very
jsonschema validators openapi-core would build for every request. A request then costs one
`json.loads` and one schema validation (~0.1 ms) instead of openapi-core's walk through the spec
(~10 ms of CPU).

The compiled path answers only what it can decide exactly as openapi-core does: a valid request, or
one whose only fault is a JSON body that breaks the schema (the same validator gives the same messages
in the same order). Anything else (a missing or bad parameter, an unexpected media type, unreadable
JSON, an odd path segment, a scheme other than http) goes through openapi-core itself, so those
answers are openapi-core's by construction. `tests/sandbox/test_validation_equivalence.py` compares
both paths on hostile requests.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema_path import SchemaPath
from openapi_core import OpenAPI
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.unmarshalling.request.unmarshallers import BaseRequestUnmarshaller
from openapi_core.validation.request.exceptions import (
    InvalidParameter,
    InvalidRequestBody,
    MissingRequestBodyError,
    SecurityValidationError,
)
from starlette.requests import Request

from scripts.sandbox.config import SPEC_SERVER_URL
from scripts.sandbox.json_words import json_text, schema_message


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
# Path segments the compiled path takes as they come: RFC 3986 unreserved characters only, so the
# router's decoded value and openapi-core's own reading of the URL cannot differ (`.`/`..` excluded).
_PLAIN_SEGMENT = re.compile(r"(?!\.\.?$)[A-Za-z0-9._~-]+")
# Media types openapi-core reads with `json.loads(body)`.
_JSON_MEDIA_TYPES = frozenset({"application/json", "application/vnd.api+json"})


def _split_media_type(value: str) -> tuple[str, list[str]]:
    mime, *rest = value.split(";")
    return mime.strip(), [part.strip() for part in rest if _PARAMETER.fullmatch(part.strip())]


def media_type_problem(value: str | None) -> str | None:
    """What is wrong with a Content-Type's parameters (empty ones are fine), or None."""
    if value is None:
        return None
    _, *rest = value.split(";")
    bad = [part.strip() for part in rest if part.strip() and not _PARAMETER.fullmatch(part.strip())]
    return f"header Content-Type: malformed parameter {json_text(bad[0][:40])}" if bad else None


@dataclass(frozen=True)
class CheckedRequest:
    """What the spec says about one request.

    `token` is None when the Authorization header is missing or not a bearer token (401). Otherwise
    `messages` lists every way the request breaks the spec (422 when not empty), and `invoice_id`
    and `body` hold the validated values when it is empty (`body` is None for an operation without one).
    """

    token: str | None
    messages: list[str] = field(default_factory=list)
    invoice_id: str | None = None
    body: Any = None


@functools.cache
def load_openapi(spec_path: Path) -> OpenAPI:
    """The spec as openapi-core reads it; loaded once per process (every app validates with the same one)."""
    return OpenAPI.from_file_path(str(spec_path))


class _SchemaValidator:
    """The jsonschema validator openapi-core's request unmarshaller builds for `schema`, built once."""

    def __init__(self, openapi: OpenAPI, schema: SchemaPath) -> None:
        unmarshaller = openapi.request_unmarshaller
        # The protocol type hides the settings; the concrete class has them.
        assert isinstance(unmarshaller, BaseRequestUnmarshaller)
        compiled = unmarshaller.schema_validators_factory.create(
            unmarshaller.spec,
            schema,
            format_validators=unmarshaller.format_validators,
            extra_format_validators=unmarshaller.extra_format_validators,
            forbid_unspecified_additional_properties=unmarshaller.forbid_unspecified_additional_properties,
            enforce_properties_required=unmarshaller.enforce_properties_required,
        )
        self._validator = compiled.validator

    def errors(self, value: Any) -> list[Any]:
        """jsonschema's errors for `value`, in openapi-core's order; empty when valid."""
        return list(self._validator.iter_errors(value))


@dataclass(frozen=True)
class _Parameter:
    name: str
    location: str
    required: bool
    #: None when the value is not taken as it comes (a `content` parameter, a non-string schema):
    #: openapi-core deserialises or casts it, so such a parameter, when sent, goes the openapi-core way.
    validator: _SchemaValidator | None


class OperationValidator:
    """Validates requests to one operation of the spec: compiled checks, openapi-core for the rest."""

    def __init__(self, spec_path: Path, path: str, method: str) -> None:
        self._openapi = load_openapi(spec_path)
        spec = self._openapi.spec
        operation = spec / "paths" / path / method
        self._parameters = _parameters(self._openapi, spec / "paths" / path, operation)
        # openapi-core fills a missing required parameter with its schema default instead of
        # reporting it, so required headers are checked for presence here (names read from the spec).
        self._required_headers = [p.name for p in self._parameters if p.location == "header" and p.required]
        self._security = _security(spec, operation)
        self._body_required = False
        self._body_validators: dict[str, _SchemaValidator] | None = None
        if "requestBody" in operation:
            request_body = operation / "requestBody"
            self._body_required = bool((request_body / "required").read_bool(default=False))
            content = request_body / "content"
            self._body_validators = {
                str(mime): _SchemaValidator(self._openapi, content / mime / "schema")
                for mime in content.str_keys()
                if mime in _JSON_MEDIA_TYPES and "schema" in content / mime
            }

    def check(self, request: Request, body: bytes) -> CheckedRequest:
        """Validate security, parameters and body (in that order, like openapi-core)."""
        try:
            compiled = self._check_compiled(request, body)
        except RecursionError:  # deep JSON: openapi-core's path says why
            compiled = None
        return compiled if compiled is not None else self.check_with_openapi_core(request, body)

    def _check_compiled(self, request: Request, body: bytes) -> CheckedRequest | None:
        """The answer when the compiled checks can give openapi-core's exactly, else None."""
        token = self._token(request.headers)
        if token is None:
            return None
        sources: dict[str, Mapping[str, str]] = {
            "header": request.headers,
            "query": request.query_params,
            "path": request.path_params,
            "cookie": request.cookies,
        }
        for parameter in self._parameters:
            source = sources[parameter.location]
            if parameter.name not in source:
                if parameter.required:
                    return None
                continue
            value = source[parameter.name]
            if parameter.validator is None or parameter.validator.errors(value):
                return None
            if parameter.location == "path" and not _PLAIN_SEGMENT.fullmatch(value):
                return None
            if parameter.location == "query" and not value:  # openapi-core's own empty-value rule
                return None
        invoice_id = request.path_params.get("invoiceId")
        if self._body_validators is None:
            return CheckedRequest(token=token, invoice_id=invoice_id)
        if not body:
            return None if self._body_required else CheckedRequest(token=token, invoice_id=invoice_id)
        # Only a Content-Type naming a spec media type exactly (no parameters) is read here.
        validator = self._body_validators.get(request.headers.get("content-type", ""))
        if validator is None:
            return None
        try:
            value = json.loads(body)
        except ValueError:
            return None
        errors = validator.errors(value)
        if errors:
            return CheckedRequest(token=token, messages=[_schema_message("body", error) for error in errors])
        return CheckedRequest(token=token, invoice_id=invoice_id, body=value)

    def _token(self, headers: Mapping[str, str]) -> str | None:
        """The credential openapi-core's security check would return, or None (then openapi-core decides)."""
        for requirement in self._security or []:
            values = [_http_credentials(headers, scheme) for scheme in requirement]
            if values and all(value is not None for value in values):
                return values[0]
        return None

    def check_with_openapi_core(self, request: Request, body: bytes) -> CheckedRequest:
        """openapi-core's verdict on the whole request, walking the spec (~10 ms): the reference answer."""
        body_problems: list[str] = []
        try:
            result = self._openapi.unmarshal_request(_AsIfOnSandboxServer(request, body))
        except RecursionError:
            # json.loads gives up on very deep nesting: validate the rest without the body, and say why.
            result = self._openapi.unmarshal_request(_AsIfOnSandboxServer(request, b""))
            body_problems = ["body: JSON nested too deeply to read"]
        if any(isinstance(error, PathError) for error in result.errors):
            # A dot segment (`%2e%2e`) that the router kept as the id but the spec's path resolution
            # removed: the id breaks the parameter's pattern. The shortened path may even name another
            # operation (`/invoices/./send` -> `GET /invoices/{invoiceId}` with id `send`).
            invoice_id = str(request.path_params.get("invoiceId", ""))[:40]
            token = _bearer(request)
            return CheckedRequest(
                token=token, messages=[f"path parameter invoiceId: {json_text(invoice_id)} is not a valid id"]
            )
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
        path_id = result.parameters.path.get("invoiceId")
        return CheckedRequest(token=token, invoice_id=None if path_id is None else str(path_id), body=result.body)


def _parameters(openapi: OpenAPI, path_item: SchemaPath, operation: SchemaPath) -> list[_Parameter]:
    # The operation's parameters first, then the path item's not overridden (openapi-core's order).
    parameters: list[_Parameter] = []
    seen: set[tuple[str, str]] = set()
    for owner in (operation, path_item):
        if "parameters" not in owner:
            continue
        for parameter in owner / "parameters":
            name, location = (parameter / "name").read_str(), (parameter / "in").read_str()
            if (name, location) in seen:
                continue
            seen.add((name, location))
            validator = None
            # A string in the simple or form style is taken as sent; other styles and types are not.
            if "schema" in parameter and "content" not in parameter:
                schema = parameter / "schema"
                style = str((parameter / "style").read_str()) if "style" in parameter else ""
                if style in ("", "simple", "form") and "type" in schema and (schema / "type").read_value() == "string":
                    validator = _SchemaValidator(openapi, schema)
            required = bool((parameter / "required").read_bool(default=False))
            parameters.append(_Parameter(name=name, location=location, required=required, validator=validator))
    return parameters


def _security(spec: SchemaPath, operation: SchemaPath) -> list[list[str]] | None:
    """Per security requirement, the `scheme` of each http scheme it names; None when one is not http."""
    security = operation / "security" if "security" in operation else spec / "security" if "security" in spec else None
    if security is None:
        return None
    schemes = spec / "components" / "securitySchemes"
    requirements: list[list[str]] = []
    for requirement in security:
        names = list(requirement.str_keys())
        if not all(name in schemes and (schemes / name / "type").read_str() == "http" for name in names):
            return None
        requirements.append([(schemes / name / "scheme").read_str() for name in names])
    return requirements


def _http_credentials(headers: Mapping[str, str], scheme: str) -> str | None:
    # openapi-core's HttpProvider, to the letter: `<type> <credentials>` split at the first space.
    if "Authorization" not in headers:
        return None
    auth_type, space, credentials = headers["Authorization"].partition(" ")
    return credentials if space and auth_type.lower() == scheme else None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _schema_message(prefix: str, error: Any) -> str:
    return f"{'.'.join([prefix, *map(str, error.absolute_path)])}: {schema_message(error)}"


def _messages(error: Exception) -> list[str]:
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if isinstance(error, InvalidParameter) and schema_errors:
        return [f"{error.location} parameter {error.name}: {schema_message(e)}" for e in schema_errors]
    if isinstance(error, InvalidRequestBody) and schema_errors:
        return [_schema_message("body", e) for e in schema_errors]
    if isinstance(cause, MediaTypeDeserializeError):
        # openapi-core's own message echoes the body and crashes on bytes that are not UTF-8.
        return [f"body: cannot be read as {cause.mimetype}"]
    if isinstance(cause, MediaTypeNotFound):  # openapi-core's words, its Python list in JSON
        return [
            "Request body validation error: Content for the following mimetype not found: "
            f"{json_text(cause.mimetype)}. Valid mimetypes: {json_text(cause.availableMimetypes)}"
        ]
    return [str(error)]
