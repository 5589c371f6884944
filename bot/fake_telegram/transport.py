"""HTTP glue: parse Bot API requests and route PTB's httpx traffic to a FakeTelegram."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from telegram.request import HTTPXRequest

if TYPE_CHECKING:
    from .state import FakeTelegram

_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")


@dataclass
class ParsedRequest:
    """A Bot API call decoded from an HTTP request."""

    token: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


def _header_params(value: str, header: str = "content-type") -> Message:
    """Return an email Message holding one header, for RFC 2231-aware param parsing."""
    message = Message()
    message[header] = value
    return message


def _fix_surrogates(text: str) -> str:
    """Turn raw UTF-8 bytes smuggled as surrogate escapes back into text."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        return text


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split a multipart/form-data body into text fields and (filename, bytes) files."""
    boundary = _header_params(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("multipart body without boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = ""
        for line in head.decode("utf-8", "surrogateescape").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                disposition = value.strip()
        parsed = _header_params(disposition, "content-disposition")
        part_name = parsed.get_param("name", header="content-disposition")
        raw_filename = parsed.get_param("filename", header="content-disposition")
        filename = None if raw_filename is None else collapse_rfc2231_value(raw_filename)
        if not isinstance(part_name, str):
            continue
        part_name = _fix_surrogates(part_name)
        if filename is None:
            fields[part_name] = content.decode("utf-8")
        else:
            files[part_name] = (_fix_surrogates(filename), content)
    return fields, files


def parse_http_request(url: str, headers: Mapping[str, str], body: bytes) -> ParsedRequest | None:
    """Decode URL /bot<TOKEN>/<method> plus query, JSON, urlencoded or multipart body."""
    parts = urlsplit(url)
    match = _PATH_RE.search(parts.path)
    if match is None:
        return None
    request = ParsedRequest(match["token"], match["method"])
    request.params.update(parse_qsl(parts.query, keep_blank_values=True))
    lowered = {key.lower(): value for key, value in headers.items()}
    content_type = lowered.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" and body.strip():
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            request.params.update(decoded)
    elif media_type == "application/x-www-form-urlencoded":
        request.params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif media_type == "multipart/form-data":
        fields, files = parse_multipart(content_type, body)
        request.params.update(fields)
        request.files.update(files)
    return request


def mock_transport(fake: FakeTelegram) -> httpx.MockTransport:
    """Return an httpx transport that answers every request from the fake (no network)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        """Forward one httpx request to FakeTelegram.handle_http."""
        body = await request.aread()
        status, payload = await fake.handle_http(
            request.method, str(request.url), request.headers, body
        )
        return httpx.Response(status, content=payload, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def fake_request(fake: FakeTelegram, **kwargs: Any) -> HTTPXRequest:
    """Return a PTB HTTPXRequest whose traffic goes to the fake instead of Telegram."""
    return HTTPXRequest(httpx_kwargs={"transport": mock_transport(fake)}, **kwargs)
