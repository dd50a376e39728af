"""Several server processes and machines as one network, through a Redis log.

See `chat_server/cluster/log.py` and the README's "Running several servers" section.
"""
