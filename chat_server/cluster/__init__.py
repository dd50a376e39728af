"""Several server processes and machines as one network, through a Redis log.

See `chat_server/cluster/log.py` and the README's "Running several servers" section.
Importing this package does not import Redis's client: a server without a cluster
does not load it.
"""


class ClusterError(Exception):
    """Redis cannot be used for this network; the message says why, in one line."""
