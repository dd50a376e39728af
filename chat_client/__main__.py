def main() -> None:
    print("usage: chat-client [HOST[:PORT]] [--nick N] [--room R ...]")

