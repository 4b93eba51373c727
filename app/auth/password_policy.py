"""Which new passwords are refused: guessable ones, by zxcvbn's estimate, and any that contain
the account's own email name or person name (the first guesses of anyone who knows them)."""

from __future__ import annotations

import re

from zxcvbn import zxcvbn

from app.i18n import N_, gettext

# zxcvbn refuses longer input, and its matching grows fast with length; past this a password is
# long enough that the first part decides.
ESTIMATE_CHARS = 72
BETTER = N_("A phrase of four or more unrelated words is both strong and easy to remember.")


def _personal_words(email: str, display_name: str) -> list[str]:
    local = email.split("@", 1)[0].lower()
    words = [local, re.sub(r"[^a-z0-9]", "", local), *re.split(r"[^\w]+", local)]
    name = display_name.lower()
    words += [name, re.sub(r"\W", "", name), *re.split(r"\W+", name)]
    return sorted({w for w in words if w}, key=len, reverse=True)


def password_weakness(
    password: str, *, email: str, display_name: str, min_score: int
) -> str | None:
    """Why `password` would be refused for this account, in words for its owner, or None."""
    lowered = password.lower()
    for word in _personal_words(email, display_name):
        if len(word) >= 3 and word in lowered:
            return gettext(
                "This password contains your name or the name in your email address, which is "
                "the first thing someone would try."
            ) + (" " + gettext(BETTER))
    result = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=_personal_words(email, display_name))
    if result["score"] >= min_score:
        return None
    feedback = result.get("feedback") or {}
    # zxcvbn's own warning and suggestions are in English only.
    why = feedback.get("warning") or gettext("It would be guessed quickly.")
    hints = " ".join(feedback.get("suggestions") or [])
    return " ".join(
        p
        for p in (gettext("This password is too easy to guess."), why, hints, gettext(BETTER))
        if p
    )
