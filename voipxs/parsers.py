"""The API's JSON parser (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES). Its own module: voipxs.api imports DRF's views,
which read the parser setting while they are imported."""
from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.validators import ProhibitSurrogateCharactersValidator


TOO_DEEP = "JSON parse error - nested too deeply"


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, but a lone surrogate (a "\\ud800" escape, which JSON allows and no UTF-8 text can hold)
    is refused at once, 400 naming the field it came in, in DRF's own words ("Surrogate characters are not allowed").
    Past the parser it reached fields that echo their input (a choice's "is not a valid choice") and the response
    could not be encoded: a 500. Every JSON body of the API comes through here (REST_FRAMEWORK's parsers)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            found = _surrogate_in(data, "detail")
        except RecursionError:
            # Arrays or objects nested past Python's recursion limit ("[" * 5000): DRF reads only ValueError as a
            # parse error, and this one was a 500.
            raise exceptions.ParseError(TOO_DEEP) from None
        if found is not None:
            field, char = found
            try:
                ProhibitSurrogateCharactersValidator()(char)
            except exceptions.ValidationError as exc:
                raise exceptions.ParseError({field: exc.detail}) from None
        return data


SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate_in(value: Any, field: str) -> tuple[str, str] | None:
    """The top-level field holding a lone surrogate and the surrogate; "detail" for a body that is no object, or a key
    that holds one itself (a name that cannot be shown)."""
    if isinstance(value, str):
        match = SURROGATE.search(value)
        return (field, match.group()) if match else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and SURROGATE.search(key):
            return "detail", SURROGATE.search(key).group()
        inner = key if field == "detail" and isinstance(key, str) else field
        found = _surrogate_in(item, inner)
        if found is not None:
            return found
    return None
