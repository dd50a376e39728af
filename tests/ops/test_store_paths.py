"""History lands on the volume in the image and in the state directory under systemd:
the variables the Dockerfile and the unit set are ones the configuration reads."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from chat_server.config import load
from chat_server.store.base import data_dir

ROOT = Path(__file__).parents[2]


def test_the_image_keeps_history_on_its_volume() -> None:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(
        line[4:] for line in text.splitlines() if line.startswith("ENV "))))
    volume = next(line.split()[1] for line in text.splitlines() if line.startswith("VOLUME "))
    store = load(None, environ=env).store
    assert data_dir(store, env) == Path(volume)


def test_the_unit_keeps_history_in_its_state_directory() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "scripts" / "roomchat.service")
    service = unit["Service"]
    env = dict(item.split("=", 1) for item in service["Environment"].split())
    store = load(None, environ=env).store
    assert data_dir(store, env) == Path("/var/lib", service["StateDirectory"])
