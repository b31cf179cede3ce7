"""Reading an OpenAPI document, following its local `$ref`s, and finding one of our operations in it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from scripts.upstream_drift.operations import SEND, Operation


class DriftError(Exception):
    """A document cannot be read, or does not describe the send operation."""


def load_document(source: str) -> dict[str, Any]:
    """Read an OpenAPI document (JSON or YAML) from a path or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, follow_redirects=True, timeout=30)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DriftError(f"cannot fetch {source}: {exc}") from exc
        text = response.text
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise DriftError(f"cannot read {source}: {exc}") from exc
    if source.endswith(".md"):
        return webhook_document(source, text)
    try:
        document = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise DriftError(f"{source} is neither JSON nor YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise DriftError(f"{source} is not an OpenAPI document (no `paths` mapping)")
    return document


# Upstream's webhook pages (`docs/webhook events/NAME.md`) give the body's schema in one fenced block.
_SCHEMA_BLOCK = re.compile(r"^```json json_schema\n(.*?)^```", re.MULTILINE | re.DOTALL)


def webhook_document(source: str, text: str) -> dict[str, Any]:
    """An upstream webhook page as a document of one webhook, named by the page (`InvoiceSent.md`,
    vendored as `webhook-InvoiceSent.md`), whose POST body is the page's schema."""
    found = _SCHEMA_BLOCK.search(text)
    if found is None:
        raise DriftError(f"{source} has no ```json json_schema block (not an upstream webhook page?)")
    try:
        schema = json.loads(found.group(1))
    except json.JSONDecodeError as exc:
        raise DriftError(f"{source}: its schema block is not JSON: {exc}") from exc
    name = Path(source.rsplit("/", 1)[-1]).stem.removeprefix("webhook-")
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    return {"paths": {}, "webhooks": {name: {"post": {"requestBody": body}}}}


def resolve(document: Mapping[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """Follow `$ref`s (local ones only) until a node without one."""
    while isinstance(node, Mapping) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise DriftError(f"only local $refs are supported, got {ref!r}")
        if ref in seen:
            raise DriftError(f"circular $ref {ref}")
        seen = seen | {ref}
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise DriftError(f"$ref {ref} points nowhere")
            target = target[part]
        # Sibling keywords of a $ref (3.1 allows them) only add descriptions here; the target rules.
        node = target
    return node


def find_operation(document: Mapping[str, Any], wanted: Operation = SEND) -> dict[str, Any]:
    """The operation: by path and method, else by operationId (upstream may rename the param)."""

    def shape(path: str) -> str:
        parts = path.strip("/").split("/")
        return "/".join("{}" if p.startswith("{") and p.endswith("}") else p for p in parts)

    if wanted.webhook:
        item = resolve(document, (document.get("webhooks") or {}).get(wanted.path))
        operation = item.get(wanted.method) if isinstance(item, Mapping) else None
        if not isinstance(operation, Mapping):
            raise DriftError(f"no webhook {wanted.path} ({wanted.method.upper()}) in the document")
        return dict(operation)
    candidates: list[dict[str, Any]] = []
    for path, item in document["paths"].items():
        item = resolve(document, item)
        if not isinstance(item, Mapping):
            continue
        operation = item.get(wanted.method)
        if not isinstance(operation, Mapping):
            continue
        if shape(path) == shape(wanted.path):
            return dict(operation)
        if operation.get("operationId") == wanted.operation_id:
            candidates.append(dict(operation))
    if len(candidates) == 1:
        return candidates[0]
    raise DriftError(f"no {wanted.title} (operationId {wanted.operation_id}) in the document")
