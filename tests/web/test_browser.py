"""The web page in real headless Chromium: two browser users and a netcat user chat.

One chat-server process and one pair of browsers serve the whole module (a browser takes
seconds to start); each test uses its own room so that they do not see each other.
"""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from support.servers import ServerProcess
from support.tools import require_tool
from support.web import web_server_process

TIMEOUT = 15.0
CLOCK = re.compile(r"^\d\d:\d\d")


class Netcat:
    """A person at `nc host port`: lines typed, lines read with a timeout."""

    def __init__(self, host: str, port: int) -> None:
        nc = require_tool("nc", apt="netcat-openbsd")
        self.proc = subprocess.Popen([nc, host, str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def expect(self, text: str, timeout: float = TIMEOUT) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"netcat never saw {text!r}; saw {self.seen[-15:]}") \
                    from None
            self.seen.append(line)
            if text in line:
                return line

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._reader.join(timeout=10)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def chromium(profile: Path) -> WebDriver:
    require_tool("chromium", apt="chromium")
    driver_path = require_tool("chromedriver", apt="chromium-driver")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,800",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service(driver_path), options=options)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    # Flood control off for this server: the netcat user pastes a long history at once.
    directory = tmp_path_factory.mktemp("web")
    server, url = web_server_process(directory, toml="[limits]\nflood_rate = 0\n")
    yield server, url
    server.stop()


@pytest.fixture(scope="module")
def browsers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[WebDriver]]:
    drivers: list[WebDriver] = []
    try:
        for name in ("alice", "bob"):
            drivers.append(chromium(tmp_path_factory.mktemp(f"chromium-{name}")))
        yield drivers
    finally:
        for driver in drivers:
            driver.quit()


@pytest.fixture
def carol(web: tuple[ServerProcess, str]) -> Iterator[Netcat]:
    server, _ = web
    user = Netcat("127.0.0.1", server.port)
    yield user
    user.close()


def wait(driver: WebDriver, condition: object, what: str) -> object:
    return WebDriverWait(driver, TIMEOUT).until(condition, what)  # type: ignore[arg-type]


def sign_in(driver: WebDriver, url: str, nick: str) -> None:
    driver.get(url)
    box = driver.find_element(By.ID, "nick-input")
    box.clear()
    box.send_keys(nick, Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "my-nick").text == nick, f"{nick} signed in")


def say(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "input")
    box.send_keys(text, Keys.ENTER)


def room_lines(driver: WebDriver, room: str) -> list[tuple[str, str, str]]:
    """(time, nick, text) of every line shown in `room`'s log."""
    rows = driver.execute_script(
        """return [...document.querySelectorAll(`.log[data-room="${arguments[0]}"] .msg`)]
             .map(r => [r.querySelector('.time')?.textContent || '',
                        r.querySelector('.nick')?.textContent || '',
                        r.querySelector('.text')?.textContent || ''])""", room)
    return [tuple(row) for row in rows]  # type: ignore[misc]


def shows(driver: WebDriver, room: str, nick: str, text: str) -> tuple[str, str, str]:
    """Wait until `room` shows `text` said by `nick`; the line."""
    def found(d: WebDriver) -> tuple[str, str, str] | bool:
        for line in room_lines(d, room):
            if line[1] == nick and line[2] == text:
                return line
        return False
    line = wait(driver, found, f"{nick}: {text} in {room}")
    assert isinstance(line, tuple)
    return line


def test_two_browsers_and_a_netcat_user_chat_with_timestamps_and_history(
    web: tuple[ServerProcess, str], browsers: list[WebDriver], carol: Netcat
) -> None:
    _, url = web
    alice, bob = browsers
    carol.expect("Pick a nickname")
    carol.type("carol")
    carol.expect("#lobby")
    carol.type("said before anyone came")
    carol.expect("said before anyone came")

    sign_in(alice, url, "alice")
    # History on join: the line said before the page was opened.
    earlier = shows(alice, "#lobby", "carol", "said before anyone came")
    assert CLOCK.match(earlier[0]), earlier
    sign_in(bob, url, "bob")
    shows(bob, "#lobby", "carol", "said before anyone came")

    say(alice, "hello from alice")
    for line in (shows(bob, "#lobby", "alice", "hello from alice"),
                 shows(alice, "#lobby", "alice", "hello from alice")):
        assert CLOCK.match(line[0]), line
    assert "hello from alice" in carol.expect("hello from alice")

    say(bob, "bob here too")
    assert CLOCK.match(shows(alice, "#lobby", "bob", "bob here too")[0])
    assert "bob" in carol.expect("bob here too")

    # Half a line typed in a browser stays as it is, focused, while lines arrive.
    bob.find_element(By.ID, "input").send_keys("half a thou")
    carol.type("carol says hi")
    for driver in browsers:
        assert CLOCK.match(shows(driver, "#lobby", "carol", "carol says hi")[0])
    box = bob.find_element(By.ID, "input")
    assert box.get_attribute("value") == "half a thou"
    assert bob.switch_to.active_element == box
    box.send_keys("ght", Keys.ENTER)
    shows(alice, "#lobby", "bob", "half a thought")

    # Everyone is in the member list.
    wait(alice, lambda d: {"alice", "bob", "carol"} <= {
        e.text for e in d.find_elements(By.CSS_SELECTOR, "#member-list .nick")}, "members")


def test_a_hostile_message_is_shown_as_text(
    web: tuple[ServerProcess, str], browsers: list[WebDriver], carol: Netcat
) -> None:
    alice, _ = browsers
    carol.expect("Pick a nickname")
    carol.type("mallory")
    carol.expect("#lobby")
    hostile = ('<img src=x onerror="alert(1)"><script>alert(2)</script>'
               '<b onmouseover=alert(3)>bold</b>')
    carol.type(hostile)
    shows(alice, "#lobby", "mallory", hostile)
    assert alice.find_elements(By.CSS_SELECTOR, "#messages img, #messages script, "
                                                "#messages b") == []
    with pytest.raises(NoAlertPresentException):
        alice.switch_to.alert.text  # noqa: B018 - reading it is the check
    assert alice.title.endswith("roomchat")


def test_scrolling_up_loads_older_history(browsers: list[WebDriver], carol: Netcat) -> None:
    _, bob = browsers
    carol.expect("Pick a nickname")
    carol.type("archivist")
    carol.expect("#lobby")
    carol.type("/join deep")
    carol.expect("#deep")
    # More than two pages of the page's 50: the first must come from scrolling up.
    for n in range(120):
        carol.type(f"deep line {n}")
    carol.expect("deep line 119")
    say(bob, "/join #deep")
    shows(bob, "#deep", "archivist", "deep line 119")
    assert not [line for line in room_lines(bob, "#deep") if line[2] == "deep line 0"]

    def scrolled_to_the_start(d: WebDriver) -> bool:
        d.execute_script("document.getElementById('messages').scrollTop = 0")
        return any(line[2] == "deep line 0" for line in room_lines(d, "#deep"))
    wait(bob, scrolled_to_the_start, "the first line after scrolling up")
    texts = [line[2] for line in room_lines(bob, "#deep") if line[1] == "archivist"]
    assert texts == [f"deep line {n}" for n in range(120)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_page_reconnects_after_a_server_restart(
    tmp_path: Path, browsers: list[WebDriver]
) -> None:
    """Last in the module: it takes a browser to a server of its own."""
    _, bob = browsers
    chat, page = free_port(), free_port()
    args = ("--port", str(chat), "--web", f"127.0.0.1:{page}")
    first, url = web_server_process(tmp_path / "first", *args)
    try:
        sign_in(bob, url, "rita")
        shows_event(bob, "#lobby", "You joined #lobby")
    finally:
        first.stop()
    wait(bob, lambda d: "Reconnecting in" in d.find_element(By.ID, "status").text,
         "the page saying it reconnects")
    second, _ = web_server_process(tmp_path / "second", *args)
    try:
        watcher = Netcat("127.0.0.1", chat)
        try:
            watcher.expect("Pick a nickname")
            watcher.type("watcher")
            # Back by itself, under the same nick, in the same room: there already, or
            # joining soon after.
            if "rita" not in watcher.expect("#lobby"):
                watcher.expect("rita")
            wait(bob, lambda d: d.find_element(By.ID, "status").text == "", "status cleared")
            say(bob, "back again")
            assert "back again" in watcher.expect("back again")
        finally:
            watcher.close()
    finally:
        second.stop()


def shows_event(driver: WebDriver, room: str, text: str) -> None:
    wait(driver, lambda d: any(line[2] == text for line in room_lines(d, room)), text)
