"""The transforms, in the order the pipeline runs them.

The list is explicit: a module missing from it is caught by a test, not silently skipped.
Order matters where rewrites build on each other: instruction-level fixes first, then the
structural rewrites (cache order before the stage split, the split before the base-image
swap, so the split sees the original builder image), then package-manager hygiene.
DO205 (dockerignore) comes last: it changes no Dockerfile; the runner computes its
.dockerignore from the rewritten one.
"""

from __future__ import annotations

from dockopt.optimizer.transform import Transform
from dockopt.transforms import (
    add_to_copy,
    apk_no_cache,
    apt_get_flags,
    apt_lists_cleanup,
    apt_update_merge,
    cache_mounts,
    cd_workdir,
    cache_order,
    copy_dest_slash,
    copy_from_image,
    dockerignore,
    duplicate_cmd,
    empty_continuation,
    exec_form,
    expose_proto_casing,
    from_as_casing,
    frozen_install,
    instruction_casing,
    key_value_format,
    maintainer,
    merge_runs,
    non_root_user,
    npm_cache_clean,
    pin_base_tag,
    pin_package_manager,
    pipefail,
    pip_no_cache,
    redundant_platform,
    rpm_hygiene,
    slim_base,
    stage_name_casing,
    stage_names,
    stage_split,
    useradd_no_log,
    wget_progress,
    workdir_absolute,
    yarn_cache_clean,
)

ALL: tuple[Transform, ...] = (
    exec_form.TRANSFORM,
    maintainer.TRANSFORM,
    key_value_format.TRANSFORM,
    instruction_casing.TRANSFORM,
    from_as_casing.TRANSFORM,
    stage_name_casing.TRANSFORM,
    expose_proto_casing.TRANSFORM,
    empty_continuation.TRANSFORM,
    redundant_platform.TRANSFORM,
    add_to_copy.TRANSFORM,
    copy_dest_slash.TRANSFORM,
    duplicate_cmd.TRANSFORM,
    stage_names.TRANSFORM,
    copy_from_image.TRANSFORM,
    workdir_absolute.TRANSFORM,
    cache_order.TRANSFORM,
    stage_split.TRANSFORM,
    pin_base_tag.TRANSFORM,
    slim_base.TRANSFORM,
    non_root_user.TRANSFORM,
    apt_get_flags.TRANSFORM,
    apt_update_merge.TRANSFORM,
    apt_lists_cleanup.TRANSFORM,
    apk_no_cache.TRANSFORM,
    pip_no_cache.TRANSFORM,
    rpm_hygiene.TRANSFORM,
    yarn_cache_clean.TRANSFORM,
    frozen_install.TRANSFORM,
    pin_package_manager.TRANSFORM,
    npm_cache_clean.TRANSFORM,
    wget_progress.TRANSFORM,
    useradd_no_log.TRANSFORM,
    cd_workdir.TRANSFORM,
    merge_runs.TRANSFORM,
    pipefail.TRANSFORM,
    dockerignore.TRANSFORM,
)

# Off unless switched on (`--cache-mounts`) or selected by id or name.
OPT_IN: tuple[Transform, ...] = (cache_mounts.TRANSFORM,)
REGISTRY: tuple[Transform, ...] = ALL + OPT_IN


class UnknownTransform(ValueError):
    pass


def by_id(key: str) -> Transform:
    """A transform by id (`DO101`) or name (`exec-form`), case-insensitively."""
    for t in REGISTRY:
        if key.upper() == t.id or key.lower() == t.name:
            return t
    raise UnknownTransform(f"unknown transform {key!r}; `dockopt rules` lists them")


def choose(select: list[str] | None = None, ignore: list[str] | None = None, switched_on: tuple[str, ...] = ()) -> list[Transform]:
    """The transforms to run, in pipeline order: `select` (default: ALL and the opt-in
    ones `switched_on`) less `ignore`, less those a chosen transform replaces."""
    chosen = [by_id(k) for k in select] if select else [*ALL, *(by_id(k) for k in switched_on)]
    dropped = {by_id(k).id for k in ignore or []}
    return _without_replaced([t for t in REGISTRY if t in chosen and t.id not in dropped])


def _without_replaced(transforms: list[Transform]) -> list[Transform]:
    replaced = {r for t in transforms for r in t.replaces}
    return [t for t in transforms if t.id not in replaced]
