"""Text a person types, made safe at the edge: the one place every form (and the API) uses.

- Line breaks: CRLF and lone CR become LF *before* the length is counted, so the
  server counts a line break once, as the browser's `maxlength` does (browsers
  send CRLF but count one character).
- C0/C1 control characters are dropped, except LF and TAB in multi-line fields;
  in a single-line field a line break or tab becomes a space (a pasted title
  keeps its words apart instead of gluing them together).
- Bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069) are dropped: they
  make text read differently from what it is ("Trojan Source").
- NFC normalisation, so the same word typed on two keyboards is one string.

`header_line()` folds any text to one safe line for a mail header (subject):
no CR/LF, no control characters, bounded length.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
)
LINE_SEPARATORS = "\u2028\u2029"
HEADER_LIMIT = 150

_NEWLINES = re.compile(r"\r\n?")


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


def clean_text(value: str, *, multiline: bool) -> str:
    """`value` with line breaks normalised, control and bidi characters gone, NFC."""
    value = _NEWLINES.sub("\n", str(value))
    out = []
    for ch in value:
        if ch in LINE_SEPARATORS:
            ch = "\n"
        if ch in "\n\t":
            out.append(ch if multiline else " ")
        elif ch in BIDI_CONTROLS or _is_control(ch):
            continue
        else:
            out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def header_line(value: str, *, limit: int = HEADER_LIMIT) -> str:
    """One line safe for a mail header: no CR/LF or control characters, at most `limit`."""
    line = " ".join(clean_text(value, multiline=False).split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


class CleanCharField(forms.CharField):
    """A CharField whose value is cleaned by `clean_text` before any length check.

    `multiline=True` keeps LF and TAB (textareas); `max_length` then counts a line
    break as one character, the way the browser's `maxlength` does.
    """

    default_error_messages = {
        "max_length": _(
            "This text is too long: %(show_value)s characters, at most %(limit_value)s characters."
        ),
    }

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        if multiline:
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value not in self.empty_values:
            value = clean_text(value, multiline=self.multiline)
        return super().to_python(value)
