from __future__ import annotations

from app.i18n import gettext, ngettext


class AuthError(Exception):
    """Base of the accounts domain's errors."""


class LoginThrottled(AuthError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        minutes = max(1, (retry_after_seconds + 59) // 60)
        super().__init__(
            ngettext(
                "Too many failed sign-in attempts. Wait %(num)s minute and try again.",
                "Too many failed sign-in attempts. Wait %(num)s minutes and try again.",
                minutes,
            )
            % {"num": minutes}
        )


class InvalidCredentials(AuthError):
    def __init__(self) -> None:
        super().__init__(gettext("That email and password do not match an active account."))


class DuplicateEmail(AuthError):
    def __init__(self, email: str) -> None:
        super().__init__(
            gettext("An account with the email %(email)s already exists.", email=email)
        )


class SelfLockout(AuthError):
    pass


class WeakPassword(AuthError):
    """A new password that would be guessed; the message says why and what would be better."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(message)
        self.field = field


class WrongCurrentPassword(AuthError):
    def __init__(self) -> None:
        super().__init__(gettext("That is not your current password."))
