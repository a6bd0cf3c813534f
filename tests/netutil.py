import socket


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_line(stream, timeout: float = 30.0) -> str:
    """The next line of a child process's pipe, or "" if none comes within ``timeout`` seconds (never hangs)."""
    import select

    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""
