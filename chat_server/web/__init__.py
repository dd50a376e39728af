"""The browser page's files, shipped inside the package (static/): no build step, no CDN.

Owns reading them, once at start, into the map the web sessions serve from. Must not
import beyond the session package (it builds the session's StaticFile values).
"""

from __future__ import annotations

from importlib import resources

from chat_server.session.web import StaticFile

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


def load_static() -> dict[str, StaticFile]:
    """URL path -> file, for every file of static/ whose kind is known."""
    files: dict[str, StaticFile] = {}
    root = resources.files(__name__) / "static"
    for item in root.iterdir():
        suffix = "." + item.name.rpartition(".")[2]
        kind = _TYPES.get(suffix)
        if item.is_file() and kind is not None:
            files["/" + item.name] = StaticFile(item.read_bytes(), kind)
    return files
