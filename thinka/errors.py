"""Errors a user can act on. The CLI prints their message and exits non-zero, without a traceback."""


class ThinkaError(Exception):
    """A problem with the user's input or environment, explained in plain words."""

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class ConfigError(ThinkaError):
    """The phase configuration or the codebook is malformed."""
