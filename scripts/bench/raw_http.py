"""The benchmarks' own HTTP/1.1 client side: a load generator that writes prepared requests on kept-alive
connections needs only each answer's status (httpx's per-request cost would be measured instead)."""

from __future__ import annotations

import asyncio


async def read_status(reader: asyncio.StreamReader) -> int:
    """Read one answer (headers, then its Content-Length body) off `reader`; its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])
