"""The Bot API on the wire: decode HTTP requests (query, JSON, form, multipart) and typed params."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from .errors import BAD_REQUEST_MARKUP_JSON, FakeApiError

Params = dict[str, Any]
Files = dict[str, tuple[str, bytes]]

_PATH_RE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_INT_PARAMS = frozenset(
    [
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "from_chat_id",
    ]
)
_BOOL_PARAMS = frozenset(
    [
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    ]
)
_JSON_PARAMS = frozenset(
    [
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    ]
)


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


def normalise_params(params: Mapping[str, Any]) -> Params:
    """Convert form-encoded Bot API params (all strings) to typed Python values."""
    out: Params = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if key in _JSON_PARAMS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                detail = BAD_REQUEST_MARKUP_JSON if key == "reply_markup" else ""
                raise FakeApiError(
                    400, detail or f"Bad Request: can't parse {key} JSON object"
                ) from None
        elif key in _INT_PARAMS and isinstance(value, str):
            if re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            elif key != "chat_id":
                raise FakeApiError(400, f"Bad Request: wrong parameter {key} in request")
        elif key == "timeout" and isinstance(value, str):
            try:
                value = float(value)  # PTB sends float timeouts verbatim ("0.5")
            except ValueError:
                raise FakeApiError(400, "Bad Request: wrong parameter timeout in request") from None
        elif key in _BOOL_PARAMS and isinstance(value, str):
            value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG/JPEG/GIF/BMP/WEBP image, or None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Return the size stored in a JPEG SOF segment."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
            i += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def json_copy(value: Any) -> Any:
    """Return a deep copy of JSON data (dicts, lists, scalars), far faster than copy.deepcopy."""
    return orjson.loads(orjson.dumps(value))
