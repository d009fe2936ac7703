"""The transforms, in the order the pipeline runs them.

The list is explicit: a module missing from it is caught by a test, not silently skipped.
"""

from __future__ import annotations

from dockopt.optimizer.transform import Transform
from dockopt.transforms import (
    add_to_copy,
    cache_order,
    copy_dest_slash,
    duplicate_cmd,
    exec_form,
    maintainer,
    pin_base_tag,
    slim_base,
    stage_names,
    workdir_absolute,
)

ALL: tuple[Transform, ...] = (
    exec_form.TRANSFORM,
    maintainer.TRANSFORM,
    add_to_copy.TRANSFORM,
    copy_dest_slash.TRANSFORM,
    duplicate_cmd.TRANSFORM,
    stage_names.TRANSFORM,
    workdir_absolute.TRANSFORM,
    cache_order.TRANSFORM,
    pin_base_tag.TRANSFORM,
    slim_base.TRANSFORM,
)


class UnknownTransform(ValueError):
    pass


def by_id(key: str) -> Transform:
    """A transform by id (`DO101`) or name (`exec-form`), case-insensitively."""
    for t in ALL:
        if key.upper() == t.id or key.lower() == t.name:
            return t
    raise UnknownTransform(f"unknown transform {key!r}; `dockopt rules` lists them")


def choose(select: list[str] | None = None, ignore: list[str] | None = None) -> list[Transform]:
    chosen = [by_id(k) for k in select] if select else list(ALL)
    dropped = {by_id(k).id for k in ignore or []}
    return [t for t in ALL if t in chosen and t.id not in dropped]
