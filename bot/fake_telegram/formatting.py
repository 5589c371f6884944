"""Telegram text rendering: validate HTML and Markdown like Telegram, return plain text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .errors import BAD_REQUEST_PARSE_ENTITIES, BAD_REQUEST_PARSE_MODE, FakeApiError


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units (how Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Return the UTF-8 byte offset of a character index (Telegram error positions)."""
    return len(text[:index].encode("utf-8"))


def _parse_error(detail: str) -> FakeApiError:
    """Build a 400 "can't parse entities" error."""
    return FakeApiError(400, BAD_REQUEST_PARSE_ENTITIES + detail)


_HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ]
)


class _HtmlRenderer(HTMLParser):
    """Validate Telegram-flavoured HTML and collect the displayed plain text."""

    def __init__(self, text: str) -> None:
        """Prepare to parse text."""
        super().__init__(convert_charrefs=True)
        self._text = text
        self._out: list[str] = []
        self._stack: list[str] = []
        self._line_starts = [0]
        for line in text.split("\n")[:-1]:
            self._line_starts.append(self._line_starts[-1] + len(line) + 1)

    def _offset(self) -> int:
        """Return the byte offset of the tag being handled."""
        line, column = self.getpos()
        return _byte_offset(self._text, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept only tags Telegram supports."""
        if tag not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            )
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Require properly nested end tags."""
        if not self._stack:
            raise _parse_error(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        if self._stack[-1] != tag:
            raise _parse_error(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self._stack[-1]}>", found "</{tag}>"'
            )
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        """Collect displayed text."""
        self._out.append(data)

    def render(self) -> str:
        """Parse the whole text and return the plain text."""
        self.feed(self._text)
        self.close()
        if self._stack:
            raise _parse_error(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1]}"'
            )
        return "".join(self._out)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}


def _find_unescaped(text: str, needle: str, start: int) -> int:
    """Return the index of needle at or after start, skipping backslash escapes; -1 if none."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape_v2(text: str) -> str:
    """Remove MarkdownV2 backslash escapes."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _render_markdown_v2(text: str) -> str:
    """Validate MarkdownV2 (reserved characters, unclosed entities) and return plain text."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise _parse_error(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.append(text[i + 1])
            i += 2
        elif char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                name = "Pre" if fence == "```" else "Code"
                raise _parse_error(
                    f"Can't find end of {name} entity at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body and " " not in body.split("\n", 1)[0]:
                body = body.split("\n", 1)[1]
            out.append(_unescape_v2(body))
            i = end + len(fence)
        elif char in "*_~" or text.startswith("||", i):
            marker = "__" if text.startswith("__", i) else "||" if char == "|" else char
            if stack and stack[-1][0] == marker:
                stack.pop()
            else:
                stack.append((marker, i))
            i += len(marker)
        elif char == "[" or text.startswith("![", i):
            stack.append(("[", i))
            i += 1 if char == "[" else 2
        elif char == "]" and stack and stack[-1][0] == "[":
            stack.pop()
            i += 1
            if text.startswith("(", i):
                end = _find_unescaped(text, ")", i + 1)
                if end < 0:
                    raise _parse_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                i = end + 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
        elif char in _MDV2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(char)
            i += 1
    if stack:
        marker, start = stack[-1]
        raise _parse_error(
            f"Can't find end of {_MDV2_ENTITY_NAMES[marker]} entity at byte offset "
            f"{_byte_offset(text, start)}"
        )
    return "".join(out)


def _render_markdown_legacy(text: str) -> str:
    """Validate legacy Markdown (unclosed *, _, `, [) and return plain text."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if char not in "*_`[":
            out.append(char)
            i += 1
            continue
        closer = "```" if text.startswith("```", i) else "]" if char == "[" else char
        end = text.find(closer, i + len(closer) if closer != "]" else i + 1)
        if end < 0 or (char == "[" and not text.startswith("(", end + 1)):
            raise _parse_error(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
            )
        out.append(text[i + (1 if closer == "]" else len(closer)) : end])
        if char == "[":
            url_end = text.find(")", end + 2)
            if url_end < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            i = url_end + 1
        else:
            i = end + len(closer)
    return "".join(out)


def render_text(text: str, parse_mode: str | None) -> str:
    """Return the plain text Telegram would display, validating the markup like Telegram."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _HtmlRenderer(text).render()
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown_legacy(text)
    raise FakeApiError(400, BAD_REQUEST_PARSE_MODE)
