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


class DatabaseUnavailable(DomainError):
    """The panel's database cannot be read or written now: its disk is full, or it is unreachable."""


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


class QuotaBelowUsage(ValidationError):
    """A storage size smaller than what the volume's files already take."""

    def __init__(self, used_bytes: int, size_mb: int):
        used_mb = -(-used_bytes // (1024 * 1024))
        super().__init__("storage_mb", f"The files already take {used_mb} MB, more than the {size_mb} MB asked for.")
        self.used_bytes, self.size_mb = used_bytes, size_mb


class StorageFull(Conflict):
    """An app whose files reached its storage quota, on an engine that cannot cap the volume: it stays stopped."""

    def __init__(self, used_bytes: int, size_mb: int):
        super().__init__(f"Storage full ({used_bytes // (1024 * 1024)} of {size_mb} MB used): the app stays stopped until an "
                         "administrator gives it a larger plan. Its files can still be downloaded.")
        self.used_bytes, self.size_mb = used_bytes, size_mb
