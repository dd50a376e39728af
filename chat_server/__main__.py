"""`python -m chat_server` runs the server, like the chat-server command."""

from chat_server.app import main

main()
