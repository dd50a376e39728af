"""Running the server as a service: daemon mode, readiness notification, logs, reload.

Used by chat_server.app only; nothing below the app layer imports this package.
"""
