"""The SQLite schema, as the forward steps that build it: MIGRATIONS[n] takes a database
from user_version n to n + 1. Append a step for a change; never edit a released one.
Must not import anything of roomchat: it is data.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: entries in record order (seq), read by target in (time_ms, seq) order; `nick`
    # is the sender's folded nick, for purging what one person said; `params` holds
    # each IRC parameter after a LF (or, should one hold a LF, a JSON array).
    # `conversations` lists each private conversation under both its parties, for
    # TARGETS to find partners the hub no longer knows.
    """
    CREATE TABLE entries (
        seq     INTEGER PRIMARY KEY,
        target  TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        msgid   TEXT NOT NULL,
        kind    TEXT NOT NULL,
        source  TEXT NOT NULL,
        nick    TEXT NOT NULL,
        params  TEXT NOT NULL
    );
    CREATE INDEX entries_by_target ON entries (target, time_ms, seq);
    CREATE INDEX entries_by_msgid ON entries (msgid);
    CREATE INDEX entries_by_time ON entries (time_ms);
    CREATE TABLE conversations (
        party  TEXT NOT NULL,
        target TEXT NOT NULL,
        PRIMARY KEY (party, target)
    ) WITHOUT ROWID;
    """,
    # 2: one entry per msgid and target, so that a log applied again (a cluster node
    # catching up after a restart) writes nothing twice: INSERT OR IGNORE.
    """
    CREATE UNIQUE INDEX entries_once ON entries (target, msgid);
    """,
    # 3: msgid references are resolved within their target, which entries_once serves;
    # an index on the msgid alone only cost the writer a fourth index to maintain.
    """
    DROP INDEX entries_by_msgid;
    """,
    # 4: accounts and registered rooms, one row each under the folded name, written as
    # their facts are applied (upserts, so a fact applied again changes nothing) and read
    # once at start. An account keeps its argon2id hash and SCRAM-SHA-256 credentials,
    # never a password; `certfps` is space-separated. A room's ban, exception and invite
    # lists are JSON arrays of [mask, setter, time], its access list a JSON object of
    # folded account -> status letters.
    """
    CREATE TABLE accounts (
        folded        TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        scram         TEXT NOT NULL,
        certfps       TEXT NOT NULL,
        registered    REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE rooms (
        folded       TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        founder      TEXT NOT NULL,
        registered   REAL NOT NULL,
        topic        TEXT NOT NULL,
        topic_setter TEXT NOT NULL,
        topic_time   REAL NOT NULL,
        flags        TEXT NOT NULL,
        room_key     TEXT NOT NULL,
        user_limit   INTEGER NOT NULL,
        bans         TEXT NOT NULL,
        excepts      TEXT NOT NULL,
        invexes      TEXT NOT NULL,
        access       TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
]
