"""Recorded request/response pairs and the contract checks every one of them must pass.

An `Exchange` is one HTTP call as a cassette holds it. `ContractChecker` validates it against a spec:
the request with openapi-core (schemathesis has no request validator), the response with
schemathesis's offline checks (status, content type, headers, body schema). The drift-proof tests
run the same checker over mutated copies of cassettes and of the spec, so what passes here is what
our users' CI relies on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import schemathesis
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from werkzeug.datastructures import Headers, ImmutableMultiDict

from contract_tests import CASSETTES
from scripts.sandbox import SPEC_PATH

# The checks that judge a response on its own. `not_a_server_error` is left out on purpose: the
# cassettes record 5xx answers deliberately, and the spec documents them.
RESPONSE_CHECKS = (
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
)

# Every check that applies to one POST. The other three (use_after_free, ensure_resource_availability,
# object_level_authorization) need linked operations and would pass without testing anything.
SINGLE_POST_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
    checks.missing_required_header,
    checks.unsupported_method,
    checks.allow_header_conformance,
    checks.ignored_auth,
]


@dataclass(frozen=True)
class Exchange:
    """One recorded HTTP call."""

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: bytes | None
    status: int
    response_headers: Mapping[str, str]
    response_body: bytes
    where: str = field(default="", compare=False)  # "cassette.yaml#3", for messages

    def request_json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body)

    def to_httpx_response(self) -> httpx.Response:
        request = httpx.Request(self.method, self.url, headers=dict(self.request_headers), content=self.request_body)
        response = httpx.Response(
            self.status, headers=dict(self.response_headers), content=self.response_body, request=request
        )
        # schemathesis reads `elapsed`, which only a sent response has.
        response.elapsed = timedelta(0)
        return response


def _single(values: Any) -> str:
    # vcrpy stores every header as a list of values.
    return ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    return value if isinstance(value, bytes) else str(value).encode()


def load_cassette(path: Path) -> list[Exchange]:
    """Read a vcrpy cassette (YAML) into exchanges, without vcrpy: a test must see what is on disk."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    exchanges: list[Exchange] = []
    for index, interaction in enumerate(data["interactions"]):
        request, response = interaction["request"], interaction["response"]
        body = response.get("body", {})
        exchanges.append(
            Exchange(
                method=request["method"].upper(),
                url=request["uri"],
                request_headers={k.lower(): _single(v) for k, v in (request.get("headers") or {}).items()},
                request_body=_bytes(request.get("body")),
                status=int(response["status"]["code"]),
                response_headers={k.lower(): _single(v) for k, v in (response.get("headers") or {}).items()},
                response_body=_bytes(body.get("string") if isinstance(body, dict) else body) or b"",
                where=f"{path.name}#{index}",
            )
        )
    return exchanges


def dump_cassette(exchanges: Iterable[Exchange], path: Path) -> None:
    """Write exchanges in vcrpy's cassette format (what `load_cassette` reads back)."""
    interactions = [
        {
            "request": {
                "method": e.method,
                "uri": e.url,
                "headers": {k: [v] for k, v in e.request_headers.items()},
                "body": e.request_body.decode() if e.request_body is not None else None,
            },
            "response": {
                "status": {"code": e.status, "message": httpx.codes.get_reason_phrase(e.status)},
                "headers": {k: [v] for k, v in e.response_headers.items()},
                "body": {"string": e.response_body.decode()},
            },
        }
        for e in exchanges
    ]
    path.write_text(yaml.safe_dump({"version": 1, "interactions": interactions}, sort_keys=False), encoding="utf-8")


def iter_cassettes(folder: Path = CASSETTES) -> list[Path]:
    return sorted(folder.rglob("*.yaml"))


@dataclass
class _RecordedRequest:
    """An `Exchange`'s request in the shape openapi-core's `Request` protocol asks for."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None


def _openapi_request(exchange: Exchange) -> _RecordedRequest:
    url = urlsplit(exchange.url)
    return _RecordedRequest(
        host_url=f"{url.scheme}://{url.netloc}",
        path=url.path,
        method=exchange.method.lower(),
        parameters=RequestParameters(
            query=ImmutableMultiDict(httpx.QueryParams(url.query).multi_items()),
            header=Headers(list(exchange.request_headers.items())),
        ),
        content_type=exchange.request_headers.get("content-type", "").lower(),
        body=exchange.request_body,
    )


def _describe(exc: BaseException) -> str:
    """openapi-core hides the schema errors in the cause chain; name them, they are the point."""
    messages: list[str] = []
    cause: BaseException | None = exc
    while cause is not None:
        messages += [getattr(e, "message", str(e)) for e in getattr(cause, "schema_errors", None) or []]
        cause = cause.__cause__
    if messages:
        return f"{type(exc).__name__}: {'; '.join(messages)}"
    text = str(exc)
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"


class ContractChecker:
    """Validates exchanges against one spec file."""

    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        self.spec_path = spec_path

    @cached_property
    def _openapi(self) -> OpenAPI:
        return OpenAPI.from_file_path(str(self.spec_path))

    @cached_property
    def _schema(self) -> Any:
        return schemathesis.openapi.from_path(self.spec_path)

    def request_problems(self, exchange: Exchange) -> list[str]:
        return [
            f"{exchange.where} request: {_describe(error)}"
            for error in self._openapi.iter_request_errors(_openapi_request(exchange))
        ]

    def response_problems(self, exchange: Exchange) -> list[str]:
        url = urlsplit(exchange.url)
        operation = self._schema.find_operation_by_path(exchange.method, url.path)
        if operation is None:
            return [f"{exchange.where} response: the spec has no operation for {exchange.method} {url.path}"]
        template = operation.path.strip("/").split("/")
        actual = url.path.strip("/").split("/")
        path_parameters = {t[1:-1]: a for t, a in zip(template, actual, strict=True) if t.startswith("{")}
        try:
            body = exchange.request_json()
        except ValueError:
            body = exchange.request_body
        case = operation.Case(
            path_parameters=path_parameters,
            headers=dict(exchange.request_headers),
            body=body,
            media_type=exchange.request_headers.get("content-type", "application/json").split(";")[0],
        )
        try:
            case.validate_response(exchange.to_httpx_response(), checks=list(RESPONSE_CHECKS))
        except FailureGroup as exc:
            failures: Iterable[BaseException] = getattr(exc, "exceptions", None) or [exc]
            return [f"{exchange.where} response: {_failure(f)}" for f in failures]
        return []

    def problems(self, exchange: Exchange) -> list[str]:
        return self.request_problems(exchange) + self.response_problems(exchange)


def _failure(failure: BaseException) -> str:
    title = getattr(failure, "title", "") or type(failure).__name__
    message = str(getattr(failure, "message", failure))
    # The first paragraph names the problem; the rest is the schema and the value, truncated.
    return f"{title}: {' '.join(message.split(chr(10) * 2)[0].split())}"
