"""The brute-force throttle on a clock the test moves: when it blocks, for how long,
and what lets a key go."""

from __future__ import annotations

from chat_server.config import AccountsSection
from chat_server.hub.accounts import Throttle, throttle_keys, throttled_text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(**settings: float) -> tuple[Throttle, Clock]:
    clock = Clock()
    section = AccountsSection(login_attempts=5, login_window=60.0, login_delay=2.0,
                              login_delay_max=10.0)
    for key, value in settings.items():
        setattr(section, key, value)
    return Throttle(section, clock), clock


def test_five_failures_in_the_window_block_for_the_delay() -> None:
    throttle, clock = make()
    keys = throttle_keys("Alice", "10.0.0.1")
    for _ in range(4):
        throttle.failed(keys)
        assert throttle.wait(keys) == 0
    throttle.failed(keys)
    assert throttle.wait(keys) == 2.0
    clock.now += 1.5
    assert throttle.wait(keys) == 0.5
    clock.now += 0.5
    assert throttle.wait(keys) == 0


def test_each_failure_past_the_limit_doubles_the_delay_up_to_the_maximum() -> None:
    throttle, clock = make()
    keys = throttle_keys("alice", "10.0.0.1")
    for _ in range(5):
        throttle.failed(keys)
    waits = []
    for _ in range(4):
        clock.now += throttle.wait(keys)
        throttle.failed(keys)
        waits.append(throttle.wait(keys))
    assert waits == [4.0, 8.0, 10.0, 10.0]


def test_failures_older_than_the_window_do_not_count() -> None:
    throttle, clock = make()
    keys = throttle_keys("alice", "10.0.0.1")
    for _ in range(4):
        throttle.failed(keys)
    clock.now += 61
    throttle.failed(keys)
    assert throttle.wait(keys) == 0


def test_keys_are_per_folded_account_and_per_address() -> None:
    throttle, _ = make(login_attempts=1)
    throttle.failed(throttle_keys("ALICE", "10.0.0.1"))
    assert throttle.wait(throttle_keys("alice", "10.0.0.2")) > 0  # same account
    assert throttle.wait(throttle_keys("bob", "10.0.0.1")) > 0  # same address
    assert throttle.wait(throttle_keys("bob", "10.0.0.2")) == 0


def test_a_success_forgets_the_account_but_not_the_address() -> None:
    throttle, _ = make(login_attempts=2)
    account, host = throttle_keys("alice", "10.0.0.1")
    throttle.failed((account, host))
    throttle.succeeded((account,))
    throttle.failed((account, host))
    assert throttle.wait((account,)) == 0
    assert throttle.wait((host,)) > 0


def test_the_refusal_says_how_long_in_whole_seconds() -> None:
    assert throttled_text(0.2).endswith("try again in 1 second")
    assert throttled_text(2.5).endswith("try again in 3 seconds")
