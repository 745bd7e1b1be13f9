"""Errors a user can act on. Every message names what is wrong and how to fix it."""

from __future__ import annotations


class MurakkabError(Exception):
    """Base for errors shown to users as one clear message (no traceback)."""


class CatalogError(MurakkabError):
    """The packaged or user-supplied catalogue is inconsistent."""


class SpecError(MurakkabError):
    """A workflow spec is invalid. `where` locates the problem (file:line, task)."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 task: str | None = None, fix: str | None = None):
        self.file, self.line, self.task, self.fix = file, line, task, fix
        self.reason = message
        parts = []
        if file:
            parts.append(f"{file}:{line}" if line is not None else file)
        if task:
            parts.append(f"task '{task}'")
        head = ": ".join(parts)
        text = f"{head}: {message}" if head else message
        if fix:
            text += f" (fix: {fix})"
        super().__init__(text)


class ProfileError(MurakkabError):
    """A profile row is invalid; the message names the source file and row."""
