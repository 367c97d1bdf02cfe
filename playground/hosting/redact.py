"""What a visitor may read of an error: its message, never the server's paths.

Errors that reach a visitor (a failed run, missing MNIST) are made on the server and often name
files there (torchvision's and our own messages do). A shared link must not show them: they tell
a stranger how the server is laid out. URLs stay: MNIST's public mirrors are no secret.
"""

from __future__ import annotations

import re

HIDDEN = "<server folder>"

# An absolute POSIX path (or ~/…) not inside a URL: the slash may not follow a letter, digit,
# colon, slash or dot, which rules out "https://host/path" and relative "a/b".
_POSIX = re.compile(r"(?<![\w:/.])~?/(?:[\w.+@~-]+/?)+")
_WINDOWS = re.compile(r"\b[A-Za-z]:\\[^\s'\"`,;]*")


def hide_paths(text: str) -> str:
    """`text` with every absolute server path replaced by a placeholder."""
    return _WINDOWS.sub(HIDDEN, _POSIX.sub(HIDDEN, text))
