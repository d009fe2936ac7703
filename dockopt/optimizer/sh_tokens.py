"""The sh tokens both command finders read: redirection operators and reserved words.

shell.py parses any script with a recursive descent; shell_plain.py finds the commands of
a plain script with regular expressions, and must read a redirection or a reserved word
exactly where the parser does. The two patterns they share live here, so that neither
module imports the other's internals (shell.py calls shell_plain.py first, as its fast path).
"""

from __future__ import annotations

import re

REDIRECT = re.compile(r"(?:\d+|\{[A-Za-z_]\w*\})?(<<<|<<-|<<|<>|<&|>&|>>|>\||<|>)|&>>?")
RESERVED = re.compile(
    r"(if|then|elif|else|fi|do|done|case|esac|while|until|for|select|function|in)(?=[ \t\n;&|()<>]|$)"
    r"|(\})(?=[ \t\n;&|)<>]|$)"
    r"|(\{|!|\[\[)(?=[ \t\n]|$)"
)
