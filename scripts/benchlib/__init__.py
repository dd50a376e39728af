"""Load generator for roomchat and the servers it is compared with (scripts/bench).

Runs in its own process on uvloop, drives many IRC or plain-mode connections against one
server on 127.0.0.1, and reports what the server did and what the generator itself cost,
so that a run limited by the generator is visible. It imports nothing from chat_server:
it must measure other servers too.
"""
