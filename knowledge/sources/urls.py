"""Links as they may be shown: in the operator's log, in replies and in notices to other users.

A link someone adds may carry secrets: a user name and password before the host, an access token
or a signature in its query string. The library keeps the real link for fetching and shows
``display_url`` everywhere else.
"""

from __future__ import annotations

import re
import urllib.parse

REDACTED = "REDACTED"
# Query (and fragment) parameters whose values are secrets, compared case-insensitively, also
# as a word of a longer name ("client_secret", "X-Amz-Signature", "refresh_token").
SECRET_PARAMETERS = frozenset({
    "token", "key", "api_key", "apikey", "secret", "password", "passwd", "pwd", "auth",
    "signature", "sig", "access_token", "session",
})
_WORDS = re.compile(r"[-_.\s]+")


def is_secret_parameter(name: str) -> bool:
    """True for a query parameter name that looks like it holds a secret."""
    folded = urllib.parse.unquote_plus(name).strip().casefold()
    return folded in SECRET_PARAMETERS or any(
        word in SECRET_PARAMETERS for word in _WORDS.split(folded))


def redact_query(query: str) -> str:
    """A query string (or a fragment of name=value pairs) with secret values replaced by
    REDACTED; other parameters are kept byte for byte."""
    if not query:
        return query
    pairs = re.split(r"([&;])", query)
    for i in range(0, len(pairs), 2):
        name, sep, value = pairs[i].partition("=")
        if sep and value and is_secret_parameter(name):
            pairs[i] = f"{name}={REDACTED}"
    return "".join(pairs)


def display_url(url: str | None) -> str | None:
    """A URL without credentials and with secret query values redacted, for logs and for
    anything shown to users (status, replies, notices)."""
    if not url:
        return url
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if parts.username is not None or parts.password is not None:
            netloc = parts.hostname or ""
            if parts.port:
                netloc += f":{parts.port}"
        shown = parts._replace(netloc=netloc, query=redact_query(parts.query),
                               fragment=redact_query(parts.fragment))
        if shown == parts:
            return url  # nothing to hide: exactly as given
        return urllib.parse.urlunsplit(shown)
    except ValueError:  # not a valid URL (an unclosed IPv6 "[", a port out of range)
        rest, hash_sign, fragment = url.partition("#")
        rest, question, query = rest.partition("?")
        scheme, sep, rest = rest.partition("://")
        authority, slash, path = rest.partition("/")
        return (scheme + sep + authority.rpartition("@")[2] + slash + path + question
                + redact_query(query) + hash_sign + redact_query(fragment))
