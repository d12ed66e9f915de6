"""One exception family for failures the user can fix (bad file, bad setting, missing access).

Anything that is *not* an ``AppError`` is a bug and is allowed to surface as one.
"""

from __future__ import annotations


class AppError(Exception):
    """An expected failure with a message for the user and an optional hint on what to try."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} {self.hint}"


class InputError(AppError, ValueError):
    """Input data (an uploaded file, a column choice) cannot be used as given.

    A ``ValueError`` too, so notebook users can catch it the way they catch pandas' errors.
    """


class SchemaError(InputError):
    """A frame does not have the canonical shape the rest of the library expects."""


class DataSourceError(AppError):
    """A remote source (AWS) refused or failed; the message names what and why."""
