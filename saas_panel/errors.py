"""Domain errors: each carries a message fit to show a person."""


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
