"""One exception hierarchy; each class knows its exit code. Nothing here prints.

Exit codes (docs/json.md): 0 success, 1 a requirement not met, 2 usage (Typer's own),
3 invalid input, 4 infeasible, 5 solver limit, 70 internal error, 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REQUIREMENT_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INFEASIBLE = 4
EXIT_SOLVER_LIMIT = 5
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class GigaplanError(Exception):
    """Base of every error gigaplan raises on purpose."""

    exit_code = EXIT_INTERNAL


class InputError(GigaplanError):
    """The user's input is wrong: the message names the file, the key and the fix."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)

    @classmethod
    def listing(cls, problems: list[str]) -> InputError:
        """One error for every problem: the first as the message, the count of the rest.

        Parameters
        ----------
        problems : list of str
            One line per problem; at least one.

        Returns
        -------
        InputError
            The error (of the class it is called on) holding every problem.
        """
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return cls(problems[0] + more, problems)


class UnitError(InputError):
    """A quantity string has the wrong dimension or an unknown unit."""


class CatalogError(InputError):
    """A catalog file is unreadable or breaks the catalog schema."""


class SiteError(InputError):
    """A site file, a --set override or a requirement is invalid."""


class VerificationError(GigaplanError):
    """The solver returned a point that breaks a constraint: a bug, never a result."""

    exit_code = EXIT_INTERNAL


def validation_problems(source: str, errors: list[dict], prefix: tuple = ()) -> list[str]:
    """``source: dotted.key: message`` lines from pydantic's ``ValidationError.errors()``.

    Like fastapi-cli, which loops over ``errors()`` and prints ``loc: msg``.

    Parameters
    ----------
    source : str
        The file or input the errors are about, prefixed to each line.
    errors : list of dict
        ``ValidationError.errors()`` of pydantic.
    prefix : tuple, default ()
        Keys prepended to each error's location.

    Returns
    -------
    list of str
        One ``source: dotted.key: message`` line per error.
    """
    lines = []
    for error in errors:
        loc = [*prefix, *error["loc"]]
        key = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (misspelled?)"
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{source}: {key}: {message}")
    return lines

