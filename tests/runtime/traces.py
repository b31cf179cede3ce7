"""Where a token could hide in an error: every text an error shows or carries, its copies and causes
included. Shared by the tests of the modules that keep the token out (auth, scrub)."""

from __future__ import annotations

import copy
import pickle
import traceback

from leadway_invoices_client import APIStatusError, LeadwayError


def leaks(error: BaseException, secret: str) -> list[str]:
    """Every place the secret shows in an error: str, repr, args, traceback, pickle."""
    places = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
        "pickle": pickle.dumps(error).decode("latin-1"),
    }
    return [name for name, text in places.items() if secret.strip() and secret.strip() in text]


def texts_of(error: BaseException) -> dict[str, str]:
    """What an error shows (str, repr, args, traceback, pickle) and the answer it carries."""
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
        "pickle": pickle.dumps(error).decode("latin-1"),
    }
    if isinstance(error, LeadwayError) and error.response is not None:
        texts["content"] = error.response.content.decode("latin-1")
        texts["headers"] = repr(error.response.headers.multi_items())
        texts["request"] = repr(error.response.request.headers.multi_items())
    return texts


def framed(token: str) -> str:
    """A token as the tests' careless servers echo it: a token as short as "a" is in any text, but
    `<<a>>` is only where the server put it."""
    return f"<<{token}>>"


def everything(error: LeadwayError) -> dict[str, str]:
    """Every text an error shows or carries, its copies and causes included."""
    texts = texts_of(error)
    for name, carried in {
        "copy": copy.copy(error),
        "deepcopy": copy.deepcopy(error),
        "unpickled": pickle.loads(pickle.dumps(error)),
    }.items():
        texts.update({f"{name}.{where}": text for where, text in texts_of(carried).items()})
    cause: BaseException | None = error
    depth = 0
    while cause is not None and depth < 10:  # the whole chain, suppressed context included
        texts[f"chain[{depth}]"] = f"{cause!s} {cause.args!r}"
        cause, depth = cause.__cause__ or cause.__context__, depth + 1
    if error.response is not None:
        texts["reason_phrase"] = error.response.reason_phrase
        texts["repr(response)"] = repr(error.response)
    if isinstance(error, APIStatusError):
        texts["message"] = repr(error.message)
        texts["body"] = repr(error.body)
    return texts
