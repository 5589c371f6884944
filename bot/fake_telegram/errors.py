"""Bot API error responses: the real Telegram error descriptions and FakeApiError."""

from __future__ import annotations

from typing import Any

# Real Telegram error descriptions (https://core.telegram.org/bots/api#making-requests).
NOT_FOUND = "Not Found"
UNAUTHORIZED = "Unauthorized"
INTERNAL_SERVER_ERROR = "Internal Server Error"
FORBIDDEN_BOT_BLOCKED = "Forbidden: bot was blocked by the user"
BAD_REQUEST_CHAT_NOT_FOUND = "Bad Request: chat not found"
BAD_REQUEST_TEXT_EMPTY = "Bad Request: message text is empty"
BAD_REQUEST_TEXT_TOO_LONG = "Bad Request: message is too long"
BAD_REQUEST_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BAD_REQUEST_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
BAD_REQUEST_CANT_EDIT = "Bad Request: message can't be edited"
BAD_REQUEST_NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
BAD_REQUEST_NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
BAD_REQUEST_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BAD_REQUEST_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
BAD_REQUEST_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
BAD_REQUEST_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BAD_REQUEST_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BAD_REQUEST_BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
BAD_REQUEST_TEXT_BUTTON = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BAD_REQUEST_MARKUP_JSON = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_REQUEST_INLINE_EXPECTED = "Bad Request: inline keyboard expected"
BAD_REQUEST_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BAD_REQUEST_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
BAD_REQUEST_WRONG_ACTION = "Bad Request: wrong parameter action in request"
BAD_REQUEST_FILE_EMPTY = "Bad Request: file must be non-empty"
BAD_REQUEST_WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
BAD_REQUEST_IMAGE_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
BAD_REQUEST_PARSE_MODE = "Bad Request: unsupported parse_mode"
BAD_REQUEST_PARSE_ENTITIES = "Bad Request: can't parse entities: "
CONFLICT_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class FakeApiError(Exception):
    """A Bot API error response (HTTP status + Telegram description)."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        """Store the error code, description and optional retry_after."""
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def too_many_requests(retry_after: int) -> str:
    """Return Telegram's 429 description for the given retry_after."""
    return f"Too Many Requests: retry after {retry_after}"
