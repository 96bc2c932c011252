"""Jinja settings for rendering the template.

`tojson` must keep non-ASCII text as it is: with Jinja's default
(ensure_ascii) an emoji becomes a UTF-16 surrogate pair escape, which TOML
rejects and Python turns into unencodable text.
"""

from jinja2.ext import Extension


class UnicodeJson(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
