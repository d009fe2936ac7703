"""Every rule dockopt knows, by id or name: the transforms, then the checks.

The engine (`dockopt.optimizer`) knows no rule by name: it runs the transforms and checks
it is handed and reads the configuration as plain data. The ways in (the command line, the
language server, the bot) turn what a user names, in `--select` and `--ignore` or in a
configuration file's `select` and `ignore`, into rules here, and say which name is
unknown. Import arrows point one way: the ways in, then this registry, then
`dockopt.transforms` and `dockopt.checks`, then the engine.

The checks are imported only when wanted, or when a name is no transform's, so that
`dockopt fix` does not load them.
"""

from __future__ import annotations

from typing import Sequence


class UnknownRule(ValueError):
    pass


def all_rules() -> list:
    """The transforms (opt-in ones too), then the checks, in the order `dockopt rules` lists them."""
    from dockopt.checks import ALL as CHECKS
    from dockopt.transforms import REGISTRY as TRANSFORMS

    return [*TRANSFORMS, *CHECKS]


def by_id(key: str):
    """A transform or, failing that, a check by id (`DO101`) or name (`exec-form`),
    case-insensitively."""
    from dockopt.transforms import UnknownTransform
    from dockopt.transforms import by_id as transform

    try:
        return transform(key)
    except UnknownTransform:
        from dockopt.checks import UnknownCheck
        from dockopt.checks import by_id as check

        try:
            return check(key)
        except UnknownCheck:
            raise UnknownRule(f"unknown transform or check {key!r}; `dockopt rules` lists them") from None


def choose_rules(
    select: Sequence[str] | None,
    ignore: Sequence[str] | None,
    with_checks: bool = True,
    noun: str = "transform or check",
    switched_on: Sequence[str] = (),
) -> tuple[list, list]:
    """The transforms and checks that `select` and `ignore` (ids or names) leave, in
    registry order; opt-in transforms run when selected or `switched_on`. The checks are
    imported only when wanted or when a key names no transform, so `dockopt fix` does not
    load them."""
    from dockopt.transforms import REGISTRY as TRANSFORMS
    from dockopt.transforms import choose

    transform_keys = {k for t in TRANSFORMS for k in (t.id, t.name.upper())}
    keys = [k.upper() for k in (*(select or ()), *(ignore or ()))]
    checks: Sequence = ()
    if with_checks or any(k not in transform_keys for k in keys):
        from dockopt.checks import ALL as checks
    check_keys = {k: c for c in checks for k in (c.id, c.name.upper())}
    for key in (*(select or ()), *(ignore or ())):
        if key.upper() not in transform_keys and key.upper() not in check_keys:
            raise UnknownRule(f"unknown {noun} {key!r}; `dockopt rules` lists them")
    # The transforms as `dockopt.transforms.choose` picks them (opt-in and replaced ones
    # included); a selection naming only checks runs no transform.
    mine = [k for k in select or () if k.upper() in transform_keys]
    transforms = [] if select and not mine else choose(
        mine or None, [k for k in ignore or () if k.upper() in transform_keys], tuple(switched_on))
    if not with_checks:
        return transforms, []
    chosen = {id(check_keys[k.upper()]) for k in select or () if k.upper() in check_keys} if select else None
    dropped = {id(check_keys[k.upper()]) for k in ignore or () if k.upper() in check_keys}
    return transforms, [c for c in checks if (chosen is None or id(c) in chosen) and id(c) not in dropped]
