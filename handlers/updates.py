"""Small readers of an update shared by every handler."""

from __future__ import annotations

from telegram import Update

from bot.coaching.screen import Chat


def chat_of(update: Update) -> Chat:
    """Return who acted, in which chat, and on which message (for a button tap)."""
    user, chat, query = update.effective_user, update.effective_chat, update.callback_query
    assert user is not None  # the routes only pass on updates from a member
    message = query.message if query is not None else None
    # An inline-mode button has no chat: in a private-chat bot, the member's chat is their id.
    chat_id = chat.id if chat is not None else user.id
    return Chat(user.id, chat_id, message.message_id if message is not None else None)


def text_of(update: Update) -> str:
    """Return the text of the update's message ('' if it has none)."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def data_of(update: Update) -> str:
    """Return the callback data of a button tap ('' if it has none)."""
    query = update.callback_query
    return (query.data or "") if query is not None else ""
