"""DO501 secret-in-env: a secret given a value in ENV or ARG.

What it does
    Reports an ENV or ARG whose name says it holds a secret (a password, token, API key,
    private key or credentials: `DB_PASSWORD`, `GITHUB_TOKEN`, `API_KEY`, `SECRET_KEY_BASE`)
    when the Dockerfile gives it a value: a literal value is an error (the secret is in the
    file and in every image built from it), an ENV copied from a variable a warning (the
    build argument's value ends up in the image's configuration).

Why
    ENV values are part of the image: `docker inspect` and `docker history` show them to
    anyone who can pull it, and build arguments a RUN uses are recorded in its history.
    Secrets a build needs belong in `RUN --mount=type=secret`, secrets a container needs in
    its run-time environment or a mounted file (hadolint DL3064, BuildKit
    SecretsUsedInArgOrEnv).

Example
    ENV DB_PASSWORD=hunter2                         error
    ARG NPM_TOKEN=npm_0123456789                    error
    ENV GITHUB_TOKEN=$GITHUB_TOKEN                  warning
    ARG NPM_TOKEN                                   not reported: no value here
    ENV POSTGRES_PASSWORD_FILE=/run/secrets/db      not reported: where the secret is
    ENV AUTH_ENABLED=true, ENV GPG_KEY=A5D3...      not reported: a switch, a public key
    ENV RECAPTCHA_SITE_KEY=6Lc...                   not reported: KEY alone names no secret

Why there is no fix
    The secret has to leave the Dockerfile for the build's or the container's secrets,
    which only its owner can set up; a secret that was ever committed must be rotated.
"""

from __future__ import annotations

import re

from dockopt.optimizer.findings import Check, Problem
from dockopt.optimizer.messages import joined
from dockopt.optimizer.words import raw_words, unquote

# BuildKit's tokens (SecretsUsedInArgOrEnv), matched as whole words of the name; KEY only
# with a word saying which kind (`SITE_KEY`, `SORT_KEY`, `Filters__0__Key` hold no secret).
_SECRET = frozenset({"APIKEY", "AUTH", "CREDENTIAL", "CREDENTIALS", "PASSWORD", "PWORD", "PASSWD", "SECRET", "TOKEN"})
_SECRET_KEY = frozenset(
    "API PRIVATE ACCESS SIGNING SIGN ENCRYPTION MASTER LICENSE CLIENT APP APPLICATION SSH SERVICE ACCOUNT "
    "ADMIN DEPLOY JWT HMAC WEBHOOK".split()
)
_PUBLIC = frozenset({"PUBLIC", "GPG", "PGP", "FINGERPRINT", "KEYRING", "KEYSERVER"})
# A last word that makes the variable describe a secret rather than hold it.
_ABOUT = frozenset(
    "FILE PATH DIR DIRECTORY FILENAME LOCATION TYPE MODE METHOD ENABLED ENABLE DISABLED DISABLE URL URI HOST "
    "PORT USER USERNAME NAME ID LENGTH SIZE PROVIDER ALGORITHM ALG HEADER TTL EXPIRY EXPIRATION TIMEOUT "
    "VERSION SERVER ENDPOINT REGION ISSUER AUDIENCE SCOPE SCOPES BACKEND STRATEGY".split()
)
_NOT_SECRET_VALUES = frozenset({"", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null"})
_WORDS = re.compile(r"[A-Z]+[0-9]*|[0-9]+")


def is_secret_name(name: str) -> bool:
    words = _WORDS.findall(re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper())
    if not words or words[-1] in _ABOUT or _PUBLIC & set(words):
        return False
    if _SECRET & set(words) or "APIKEY" in name.upper().replace("_", ""):
        return True
    return "KEY" in words and bool(_SECRET_KEY & set(words[: words.index("KEY")]))


def _pairs(ins) -> list[tuple[str, str | None]]:
    """(name, raw value or None) for each variable an ENV or ARG sets."""
    words = raw_words(ins.args_text)
    if ins.keyword == "ENV" and words and "=" not in words[0]:
        return [(words[0], ins.args_text[len(words[0]) :].strip())]  # legacy `ENV NAME value`
    pairs = []
    for word in words:
        name, eq, value = word.partition("=")
        pairs.append((name, value if eq else None))
    return pairs


def find(dockerfile):
    for ins in dockerfile.instructions:
        if ins.keyword not in ("ENV", "ARG"):
            continue
        for name, raw in _pairs(ins):
            if raw is None or not is_secret_name(name):
                continue
            value = unquote(raw)
            if value.lower() in _NOT_SECRET_VALUES or value.startswith(("/", "./", "~/")):
                continue
            at = dockerfile.source.find(name, ins.args_offset(), ins.end)
            start, end = (at, at + len(name)) if at >= 0 else ins.content_span()
            if "$" not in value:
                yield Problem(start, end, joined(
                    f"{ins.keyword} {name} has a literal value: the secret is in the Dockerfile and the image",
                    "pass it as a build secret (RUN --mount=type=secret) or at run time"))
            elif ins.keyword == "ENV":
                yield Problem(start, end, joined(
                    f"ENV {name} copies a value into the image's configuration, where `docker inspect` shows it",
                    "use a build secret (RUN --mount=type=secret) or set it at run time"), severity="warning")


CHECK = Check(
    id="DO501",
    name="secret-in-env",
    title="A secret (password, token, key) given a value in ENV or ARG",
    why="ENV and ARG values are stored in the image, where anyone who pulls it can read them.",
    severity="error",
    find=find,
    doc=__doc__,
    hadolint=("DL3064",),
    buildkit=("SecretsUsedInArgOrEnv",),
)
