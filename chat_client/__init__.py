"""roomchat terminal client."""
