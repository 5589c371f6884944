"""What the console itself says (the bot's own words come from the bot)."""

from __future__ import annotations

BOT = "Band Coach"
YOU = "you"
ARROW = " › "
NOTE = "ⓘ "
EDITED = "✎ edited · "

BANNER = (
    "Band Coach, offline: you are {name} (user {user_id}); data in {database}.",
    "Type a message or a /command. Type a button's number or label to tap it. "
    "/quit or Ctrl-D leaves.",
)
FAST = "⏩ --fast: timers and rests run 10x faster."
NEW_HERE = "New here? Type /start."
WELCOME_BACK = {
    "new": NEW_HERE,
    "setup": "Welcome back, {name}! Type /start to finish setting up.",
    "training": "Welcome back, {name}! Your warm-up is still going: type /warmup, then resume.",
    "member": "Welcome back, {name}! Type /warmup to train, or /plan to see your plan.",
}
WELCOME_BACK_ABOVE = {  # when the last messages are shown again above the greeting
    "training": "Welcome back, {name}! Your warm-up is still going: its buttons above still work.",
}
EARLIER = "Earlier in this chat:"
BYE = "Bye! Everything is saved; run `bandcoach chat` again to carry on."
INTERRUPTED = "Interrupted. Everything logged so far is saved."

EMPTY = "Nothing sent. Type a message, a /command, or a button's number or label (/quit leaves)."
NO_SUCH_BUTTON = (
    "There's no button {number} here: type 1 to {last}, a button's label, or a message."
)
AMBIGUOUS = "More than one button is called “{text}”: type its number instead."
LINK = "“{label}” opens {url}; the console doesn't follow links."
TOO_LONG = "That's longer than a Telegram message may be ({limit} characters); nothing was sent."
TAPPED = "↳ tap: {label}"
TOAST = "{bot} (pop-up){arrow}{text}"
ALERT = "{bot} (alert){arrow}{text}"
SAVED = "saved to {path}"
DELETED = "(message deleted)"
CONSOLE_ERROR = "Something went wrong in the console (details in {log}); you can keep chatting."
CRASHED = "bandcoach chat stopped unexpectedly: {error} (details in {log})."
