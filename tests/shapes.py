"""Bot API updates of every kind, built from python-telegram-bot's own classes.

Each update and message kind PTB knows (`UpdateType`, `MessageType`) is built with only its
required fields, filled in from the classes' type hints, so a kind added by a new Bot API
version is generated here without anyone writing its shape by hand.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import re
import types
import typing
from datetime import UTC, datetime
from functools import cache
from typing import Any

import telegram
from telegram.constants import MessageType, UpdateType

MESSAGE_KINDS: tuple[str, ...] = tuple(kind.value for kind in MessageType)
# Every kind of update but the plain new message, which MESSAGE_KINDS covers.
OTHER_UPDATES: tuple[str, ...] = tuple(u.value for u in UpdateType if u != UpdateType.MESSAGE)
WHEN = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
# PTB keeps some arguments optional in the signature but refuses to go without them.
_REQUIRED = re.compile(r"`(\w+)` is a required argument")


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Return the resolved type hints of a class's constructor."""
    return typing.get_type_hints(cls.__init__, globalns=vars(telegram), localns=vars(telegram))


def _value(hint: Any) -> Any:
    """Return the simplest value of a type hint: a scalar, a one-item list or an object."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _value(next(a for a in args if a is not type(None)))
    if origin in (collections.abc.Sequence, collections.abc.Collection, list, tuple):
        return [_value(args[0])]
    if origin is typing.Literal:
        return args[0]
    simple = {str: "x", bool: False, int: 1, float: 1.0, datetime: WHEN}
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, telegram.TelegramObject):
        return minimal(hint)
    raise TypeError(f"no simple value for {hint!r}")


def minimal(cls: type[telegram.TelegramObject], **given: Any) -> telegram.TelegramObject:
    """Build an object of `cls` (or its first concrete subclass) from its required fields."""
    if cls.__subclasses__() and not given:  # e.g. ChatMember → its first kind
        cls = cls.__subclasses__()[0]
    parameters = inspect.signature(cls.__init__).parameters
    fields = {
        name: given[name] if name in given else _value(_hints(cls)[name])
        for name, p in parameters.items()
        if name in given
        or (
            (p.default is inspect.Parameter.empty and name not in ("self", "api_kwargs"))
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        )
    }
    while True:
        try:
            return cls(**fields)
        except TypeError as exc:
            missing = _REQUIRED.search(str(exc))
            if missing is None or missing[1] in fields:
                raise
            fields[missing[1]] = _value(_hints(cls)[missing[1]])


def message(
    kind: str,
    chat: dict[str, Any],
    sender: dict[str, Any] | None,
    *,
    message_id: int,
    sender_chat: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a message of one kind (text, photo, new_chat_members, …) as Telegram sends it."""
    content = {} if kind in extra else {kind: _value(_hints(telegram.Message)[kind])}
    built = telegram.Message(
        message_id=message_id,
        date=WHEN,
        chat=telegram.Chat.de_json(chat, None),
        from_user=telegram.User.de_json(sender, None) if sender else None,
        sender_chat=telegram.Chat.de_json(sender_chat, None) if sender_chat else None,
        **content,
    )
    return {**_json(built), **extra}


def update_of(kind: str, user: dict[str, Any], chat: dict[str, Any]) -> dict[str, Any]:
    """Return the body of an update of `kind` from its required fields, by `user` in `chat`."""
    return {kind: _swap(_json(_value(_hints(telegram.Update)[kind])), user, chat)}


def _json(value: telegram.TelegramObject) -> dict[str, Any]:
    """Return an object as the JSON Telegram would send."""
    return typing.cast(dict[str, Any], json.loads(value.to_json()))


def _swap(value: Any, user: dict[str, Any], chat: dict[str, Any]) -> Any:
    """Replace every placeholder user and chat in a payload with a real one."""
    if isinstance(value, list):
        return [_swap(item, user, chat) for item in value]
    if not isinstance(value, dict):
        return value
    if value.keys() >= {"id", "is_bot", "first_name"}:
        return user
    if value.keys() == {"id", "type"} and value["type"] == "x":  # a bare chat, not a poll
        return chat
    return {key: _swap(item, user, chat) for key, item in value.items()}
