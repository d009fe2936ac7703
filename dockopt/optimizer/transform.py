"""What a transform is: data that describes a rewrite, and one function that finds it.

Each module in `dockopt.transforms` declares one `Transform`. Its id is stable (users put
it in `--select`, `--ignore` and pragmas), its `safety` says whether the built image is
equivalent (`safe`) or its contents change so a person should read the change (`review`),
and its documentation is the module's docstring, printed by `dockopt explain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from dockopt.optimizer.context import BuildContext
    from dockopt.optimizer.edits import Edit
    from dockopt.optimizer.syntax import Dockerfile

SAFE, REVIEW = "safe", "review"
# The key every rule naming a BuildKit check answers to: `# check=skip=all` silences them all.
BUILDKIT_ALL = "CHECK=SKIP=ALL"


@dataclass(frozen=True)
class Transform:
    id: str  # e.g. "DO101"
    name: str  # e.g. "exec-form"
    title: str  # one line, for `dockopt rules`
    why: str  # one sentence, shown with every change it makes
    safety: str  # SAFE or REVIEW
    fix: Callable[["Dockerfile", "BuildContext"], Iterable["Edit"]]
    doc: str  # the module docstring: what, why, example, when it is not safe
    hadolint: tuple[str, ...] = ()  # the hadolint rules it fixes (their pragmas silence it)
    buildkit: tuple[str, ...] = ()  # BuildKit's build checks it fixes (`# check=skip=` silences it)
    opt_in: bool = False  # runs only when selected by name or switched on (`--cache-mounts`)
    replaces: tuple[str, ...] = ()  # ids of transforms that do not run beside it
    after: tuple[str, ...] = ()  # ids whose changes it must see: it waits while they change the file
    # A file beside the Dockerfile it changes (DO205: the .dockerignore), which the runner
    # asks for once the Dockerfile is rewritten: (path, source, output, context_dir, others)
    # -> None, or (plan, problem) where problem says why the plan failed verification, if it did
    companion: Callable[..., tuple | None] | None = None

    @property
    def keys(self) -> frozenset[str]:
        """Every name a pragma may use for this transform."""
        return rule_keys(self.id, self.name, self.hadolint, self.buildkit)

    def __post_init__(self) -> None:
        if self.safety not in (SAFE, REVIEW):
            raise ValueError(f"{self.id}: safety must be {SAFE!r} or {REVIEW!r}")


def rule_keys(id_: str, name: str, hadolint: tuple[str, ...], buildkit: tuple[str, ...]) -> frozenset[str]:
    """The names pragmas may use for a transform or check: its id and name, its hadolint
    rules, its BuildKit checks (as `# check=skip=` names them) and, with any of those,
    BUILDKIT_ALL."""
    return frozenset({id_, name.upper(), *hadolint, *(b.upper() for b in buildkit),
                      *((BUILDKIT_ALL,) if buildkit else ())})
