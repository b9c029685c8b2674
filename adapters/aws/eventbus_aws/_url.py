"""``sqs://REGION[?param=value&...]`` URLs.

Parameters (each a field of :class:`AwsConfig`): ``endpoint``, ``profile``, ``provision``,
``wait_time``, ``pollers``, ``timeout``. Credentials are never URL parameters: they come from the
standard AWS chain, and a URL carrying userinfo or a parameter named like a key is refused
without repeating it. Parsing uses the adapter toolkit (``split_url``, ``parse_params``).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote

from eventbus.adapter import ConfigurationError, Param, parse_params, split_url
from eventbus_aws._config import AwsConfig

__all__ = ["parse_sqs_url"]

_WHAT = "SQS URL"
_CREDENTIALS = ("key", "secret", "token", "password", "credential")
_PARAMS = {
    "endpoint": Param.nonempty,
    "profile": Param.nonempty,
    "provision": Param.flag,
    "wait_time": Param.integer(0),
    "pollers": Param.integer(1),
    "timeout": Param.number(0.0),
}
_CHAIN = "they come from the standard AWS chain (environment, profile, SSO, container or role)"


def parse_sqs_url(url: str) -> AwsConfig:
    """Read an ``sqs://`` URL into an :class:`AwsConfig`; raise ConfigurationError if wrong."""
    parts, shown = split_url(url, "sqs", what=_WHAT)
    if "@" in parts.netloc:
        raise ConfigurationError(f"an SQS URL carries no credentials ({shown}): {_CHAIN}")
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigurationError(f"an SQS URL is sqs://REGION[?param=value&...], got {shown}")
    region = unquote(parts.netloc)
    if not region:
        raise ConfigurationError(f"the SQS URL {shown} names no region: sqs://REGION")
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _PARAMS and any(word in key.lower() for word in _CREDENTIALS):
            raise ConfigurationError(
                f"SQS URL parameter {key!r} in {shown}: credentials are never URL parameters; "
                f"{_CHAIN}"
            )
    return AwsConfig(region, **parse_params(parts.query, _PARAMS, what=_WHAT, shown=shown))
