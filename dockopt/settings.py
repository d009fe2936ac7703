"""Which rules run on each Dockerfile, and whether `review` rewrites do: its configuration, then the flags.

`dockopt fix`, `dockopt check` and the bot choose rules the same way: each Dockerfile's
project configuration (dockopt/optimizer/config.py) gives the defaults, and the flags
(`--select`, `--ignore`, `--safe`, `--review`, `--cache-mounts`) override them. Both the
command line and the bot import this module, so neither imports the other. A name no rule
has, `--safe` with `--review`, or an unreadable configuration raises `SettingsError`,
whose message the caller prints as its error.
"""

from __future__ import annotations


class SettingsError(ValueError):
    """A bad flag or configuration, said in one line."""


def names(value: str | None) -> list[str]:
    """The rule ids or names of a comma-separated flag value."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


class Settings:
    """The rules and safety for each Dockerfile: its configuration, then the flags."""

    def __init__(self, select, ignore, safe: bool, review: bool, with_checks: bool, noun: str, cache_mounts: bool = False):
        from dockopt.optimizer.config import Configs
        from dockopt.rules import UnknownRule, choose_rules

        if safe and review:
            raise SettingsError("--safe and --review cannot be used together")
        self.select, self.ignore = names(select), names(ignore)
        self.review = False if safe else True if review else None
        self.cache_mounts = True if cache_mounts else None
        self.with_checks, self.noun = with_checks, noun
        self.configs = Configs()
        self.chosen: dict = {}
        try:  # the flags' own ids first, so a typo is reported as the user's
            choose_rules(self.select, self.ignore, with_checks, noun)
        except UnknownRule as exc:
            raise SettingsError(str(exc)) from None

    def for_target(self, path: str) -> tuple[list, list, bool]:
        """(transforms, checks, safe_only) for a Dockerfile path, or "-"."""
        from dockopt.optimizer.config import ConfigError
        from dockopt.rules import UnknownRule, choose_rules

        try:
            config = self.configs.for_target(path)
        except ConfigError as exc:
            raise SettingsError(str(exc)) from None
        if config.path not in self.chosen:
            merged = config.override(self.select, self.ignore, self.review, self.cache_mounts)
            switched_on = ("cache-mounts",) if merged.cache_mounts else ()
            try:
                transforms, checks = choose_rules(merged.select, merged.ignore, self.with_checks, self.noun, switched_on)
            except UnknownRule as exc:
                raise SettingsError(f"{config.path}: {exc}") from None
            self.chosen[config.path] = (transforms, checks, not merged.review)
        return self.chosen[config.path]
