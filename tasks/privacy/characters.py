"""Which characters an identifier, an e-mail address or a corrected value may carry.

Ticket ids, delivery ids and identities are compared, logged by reference and shown to people
handling the request: a control character (NUL breaks PostgreSQL text), an invisible format
character or a bidirectional override (which makes ``PRIV-12\u202e`` display as something else)
has no business in them. Corrected values are free text (a street address may span lines), so only
tab, line feed and carriage return are allowed among the controls, and bidi overrides are not.
Unpaired surrogates (``"\\ud800"`` in JSON) cannot be encoded for any store and are refused
everywhere. The reasons name the kind of character, never the value.
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "identifier_problem", "text_problem"]

# Unicode's explicit directional formatting characters (UAX #9): marks, embeddings, overrides,
# isolates.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_TEXT_WHITESPACE = frozenset("\t\n\r")
# Cc controls, Cf format characters (zero-width, soft hyphen, BOM, bidi), Cs surrogates,
# Zl / Zp line and paragraph separators.
_NOT_IN_IDENTIFIERS = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _kind(char: str) -> str:
    if char in BIDI_CONTROLS:
        return "contains a bidirectional control character"
    category = unicodedata.category(char)
    if category == "Cs":
        return "contains an unpaired surrogate"
    if category == "Cf":
        return "contains an invisible format character"
    return "contains a control character"


def identifier_problem(value: str) -> str | None:
    """Why ``value`` cannot be an identifier or an e-mail address, or None if it can."""
    if value.isascii() and value.isprintable():
        return None  # what nearly every value is, checked at C speed: no ASCII char is refused
    for char in value:
        if unicodedata.category(char) in _NOT_IN_IDENTIFIERS:
            return _kind(char)
    return None


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as free text (a corrected value), or None if it can."""
    if value.isascii() and value.isprintable():
        return None
    for char in value:
        if char in _TEXT_WHITESPACE:
            continue
        if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            return _kind(char)
    return None
