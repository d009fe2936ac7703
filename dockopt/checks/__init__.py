"""The checks: problems `dockopt check` reports that have no mechanical fix.

Each module declares one `Check` (id DO5xx, severity, the hadolint and BuildKit rules it
corresponds to, its documentation) and one function over the parsed Dockerfile; modules
whose names start with `_` hold what several checks share. The list is explicit, in the
order `dockopt rules` prints it, and a test fails when a module is left out.
"""

from __future__ import annotations

from dockopt.checks import (
    apk_cache_kept,
    apk_pin,
    apt_lists_kept,
    apt_pin,
    base_tag,
    cd_workdir,
    container_commands,
    copy_relative_dest,
    curl_pipe_shell,
    from_arg_default,
    gem_pin,
    healthcheck,
    interactive_tools,
    npm_pin,
    pip_pin,
    pipe_without_pipefail,
    root_user,
    runs_apart,
    secret_in_env,
    sudo,
    undefined_var,
)
from dockopt.optimizer.findings import Check

ALL: tuple[Check, ...] = (
    secret_in_env.CHECK,
    curl_pipe_shell.CHECK,
    sudo.CHECK,
    apt_pin.CHECK,
    pip_pin.CHECK,
    apk_pin.CHECK,
    npm_pin.CHECK,
    gem_pin.CHECK,
    container_commands.CHECK,
    interactive_tools.CHECK,
    cd_workdir.CHECK,
    copy_relative_dest.CHECK,
    healthcheck.CHECK,
    root_user.CHECK,
    base_tag.CHECK,
    undefined_var.CHECK,
    from_arg_default.CHECK,
    pipe_without_pipefail.CHECK, runs_apart.CHECK, apt_lists_kept.CHECK, apk_cache_kept.CHECK,
)


class UnknownCheck(ValueError):
    pass


def by_id(key: str) -> Check:
    """A check by id (`DO501`) or name (`secret-in-env`), case-insensitively."""
    for c in ALL:
        if key.upper() == c.id or key.lower() == c.name:
            return c
    raise UnknownCheck(f"unknown check {key!r}; `dockopt rules` lists them")
