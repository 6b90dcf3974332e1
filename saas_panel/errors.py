"""Errors shared by every layer; each carries a message fit to show a person."""


class DomainError(Exception):
    """Base class; `str(error)` is the user-facing message."""


class ValidationError(DomainError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class AuthenticationError(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class EngineUnavailable(DomainError):
    """The container engine cannot be reached."""


class ContainerNotFound(NotFound):
    pass


class EngineError(DomainError):
    """The engine refused or failed an operation."""


class ContainerExists(EngineError):
    """A container with this name already exists."""


class Throttled(DomainError):
    """Too many attempts; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many attempts, try again in {retry_after} seconds.")
        self.retry_after = retry_after
