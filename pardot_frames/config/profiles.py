"""Named credentials ("Authentications" in the connector's words), kept in a user file of mode 0600.

``$PARDOT_FRAMES_HOME`` (default: the user's config folder on this OS, ``$XDG_CONFIG_HOME/pardot-frames`` or
``~/.config/pardot-frames`` on Linux, via platformdirs)
holds ``credentials.toml``: one table per name with client_id, client_secret, refresh_token,
login_url, pardot_domain and business_unit. A job file says ``auth = "prod"`` instead of secrets.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from pardot_frames.config.files import write_private
from pardot_frames.errors import ConfigError

FIELDS = ("client_id", "client_secret", "refresh_token", "login_url", "pardot_domain", "business_unit")


def home() -> Path:
    """The folder of the user's pardot-frames files."""
    if os.environ.get("PARDOT_FRAMES_HOME"):
        return Path(os.environ["PARDOT_FRAMES_HOME"])
    from platformdirs import user_config_path

    return user_config_path("pardot-frames", appauthor=False)


def credentials_file() -> Path:
    return home() / "credentials.toml"


def load_all() -> dict[str, dict[str, Any]]:
    path = credentials_file()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path} is not valid TOML: {exc}"]) from None


def load(name: str) -> dict[str, Any]:
    """The saved credentials called ``name`` (a ConfigError naming the known ones if absent)."""
    saved = load_all()
    if name not in saved:
        known = ", ".join(sorted(saved)) or "none saved yet"
        raise ConfigError(
            [
                f"auth = {name!r} is not a saved authentication ({known}); "
                f"save it with 'pardot-frames auth save --name {name}'"
            ]
        )
    return {k: v for k, v in saved[name].items() if k in FIELDS}


def save(name: str, values: dict[str, Any]) -> Path:
    """Add or replace the credentials called ``name``; the file stays 0600."""
    saved = load_all()
    saved[name] = {k: str(v) for k, v in values.items() if k in FIELDS and v is not None}
    path = credentials_file()
    write_private(path, tomli_w.dumps({key: saved[key] for key in sorted(saved)}))
    return path


def update(name: str, **values: str) -> Path:
    """Change some values of the saved credentials called ``name`` (a rotated refresh token); stays 0600."""
    return save(name, {**load(name), **values})
