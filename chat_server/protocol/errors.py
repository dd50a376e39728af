"""Errors of the protocol layer, named by whose fault they are.

Must not import anything from roomchat beyond this package.
"""


class ProtocolViolation(ValueError):
    """The peer sent something the grammar does not allow; the reply is the caller's choice."""
