"""What changes when a script's shell changes: pipelines, pipefail hazards, dash vs bash."""

import pytest

from dockopt.optimizer.shell_switch import bash_difference, pipefail_hazard, pipelines


@pytest.mark.parametrize("text, parts", [
    ("a | b", [["a", "b"]]),
    ("a || b", []),
    ('echo "a|b"', []),
    ("case x in a|b) ;; esac", []),
    ("x | while read l; do echo $l; done", [["x", "while read l; do echo $l; done"]]),
    ("a $(b | c) | d", [["b", "c"], ["a $(b | c)", "d"]]),
    ("{ a; b; } | c && d", [["{ a; b; }", "c"]]),
])
def test_pipelines(text, parts):
    assert [[p.text for p in found] for found, _ in pipelines(text)] == parts


@pytest.mark.parametrize("text", [
    "dpkg -l | grep -q curl || true", "dpkg -s curl | grep Version", "dpkg --listfiles x | wc -l", "ls | head -n 1", "yes | apt-get install x",
    "ls | grep -v x | xargs rm", "cat f 2>/dev/null | tar x", "x | sed -n '1p;q'",
    "x | awk '{ print; exit }'", "x | while read l; do break; done",
    # grep finding nothing before a command that succeeds on empty input, or a grep that
    # prints even when it fails (`-c`), or reads two files (one may be missing)
    "grep x f | wc -l", "grep -c x f | grep 0", "grep x f g | grep y", "grep x f | sort | grep y",
])
def test_pipefail_hazards(text):
    assert pipefail_hazard(text)


@pytest.mark.parametrize("text", [
    "curl -fsSL u | tar xz", "ls | grep -v x | xargs rm || true", "x | while read l; do y; done",
    "x | sed s/q/r/", "a || b",
    # a grep finding nothing already failed the pipeline: what follows fails on empty input
    'grep " node.tar.gz\\$" SHASUMS256.txt | sha256sum -c -', "gpg --list-sigs K | grep A | grep 'B C'",
    "grep -E 'a|b' f | grep -v y",
    # dpkg fails routinely when it asks about packages, not when it prints its architecture
    'curl -fsSL "u/$(dpkg --print-architecture)" | tar xz', "dpkg --print-architecture | awk -F- '{ print $NF }'",
])
def test_no_pipefail_hazard(text):
    assert pipefail_hazard(text) is None


@pytest.mark.parametrize("text", [
    'echo -e "a\\nb"', "echo 'a\\nb'", "mkdir -p /a/{b,c}", '[ "$a" == b ]', "[[ -f x ]] && y",
    "source /x", "cmd &> /dev/null", "echo $RANDOM", "cat <<< x", "rm /x/[^l]*", "echo ${X:1}",
    "printf '\\x41'", "a=(1 2)", "echo $'a\\tb' | cat", "echo \"$(echo 'x')\" && [[ -n x ]]",
    # single-quoted text the same shell runs again, or a quote dash reads as a character
    "eval 'if [[ -f x ]]; then y; fi'", "trap 'rm -rf /tmp/x &> /dev/null' EXIT",
    "echo \"${x:-'}\" ; [[ -n y ]] ; echo \"'}\"",
])
def test_bash_differences(text):
    assert bash_difference(text)


@pytest.mark.parametrize("text", [
    "echo -n x", 'echo "$HOME" > f', 'echo "a\\$b"', "echo ${X:-1} ${#X}", 'find . -name "*.{a,b}"',
    "printf '%s\\n' x", "set -eux", "curl -fsSL u | tar xz",
])
def test_same_in_dash_and_bash(text):
    assert bash_difference(text) is None
