from __future__ import annotations


class AuthError(Exception):
    """Base of the accounts domain's errors."""


class LoginThrottled(AuthError):
    def __init__(self, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        minutes = max(1, (retry_after_seconds + 59) // 60)
        super().__init__(
            f"Too many failed sign-in attempts. Wait {minutes} minute"
            f"{'s' if minutes != 1 else ''} and try again."
        )


class InvalidCredentials(AuthError):
    def __init__(self) -> None:
        super().__init__("That email and password do not match an active account.")


class DuplicateEmail(AuthError):
    def __init__(self, email: str) -> None:
        super().__init__(f"An account with the email {email} already exists.")


class SelfLockout(AuthError):
    pass


class WeakPassword(AuthError):
    """A new password that would be guessed; the message says why and what would be better."""

    def __init__(self, message: str, field: str = "password") -> None:
        super().__init__(message)
        self.field = field


class WrongCurrentPassword(AuthError):
    def __init__(self) -> None:
        super().__init__("That is not your current password.")
