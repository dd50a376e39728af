"""roomchat server: IRC and plain text on one port, one hub, one event loop."""

__version__ = "0.1.0"
