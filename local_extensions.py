"""Jinja settings for rendering the template, and a quiet refusal.

`tojson` must keep non-ASCII text as it is: with Jinja's default
(ensure_ascii) an emoji becomes a UTF-16 surrogate pair escape, which TOML
rejects and Python turns into unencodable text.

Cookiecutter (2.7) logs a failed hook with `logger.exception`, so a refused
answer ends in a traceback of cookiecutter's own call stack after the hook's
`ERROR:` line. That traceback says nothing the hook did not (the hook's own
crash, if any, is printed by the hook's process). This module is the one part
of the template loaded in cookiecutter's process, so it adds a logging filter
(standard `logging` configuration, no patched code) that keeps cookiecutter's
"Stopping generation" line and drops only the traceback of a failed hook.
"""

import logging

from cookiecutter.exceptions import FailedHookException
from jinja2.ext import Extension


class DropFailedHookTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], FailedHookException):
            record.exc_info, record.exc_text = None, None
        return True


# One instance: cookiecutter builds several Jinja environments per run, and
# `addFilter` adds a given filter object only once.
QUIET_HOOK_FAILURE = DropFailedHookTraceback()


class UnicodeJson(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
        logging.getLogger("cookiecutter.hooks").addFilter(QUIET_HOOK_FAILURE)
