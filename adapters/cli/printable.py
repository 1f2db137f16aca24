"""Text from the archive made safe for a terminal: keys, ids and messages as inert text.

Whoever can write the archive chooses its keys and document contents. Printed raw, an
escape sequence (``\\x1b[2J``), a carriage return, a bidirectional override (U+202E) or
a newline could rewrite or reorder what an auditor reads, and a lone surrogate (a file
name that is not UTF-8) makes printing itself fail. Rich markup is already off on the
CLI's consoles (``common``); this escapes the rest.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with every non-printable character as a Python-style escape.

    Control, format, separator (but the space), surrogate, private-use and unassigned code
    points become ``\\xNN``/``\\uNNNN``/``\\UNNNNNNNN``; a backslash is doubled, so an
    escape shown can always be told from the same characters written literally.
    """
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable():
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
