import socket


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_line(stream, timeout: float = 30.0) -> str:
    """The next non-blank line of a child process's pipe, or "" if none comes within ``timeout`` seconds (never
    hangs: the pipe is read in a daemon thread, so lines the reader buffered are not missed as select would)."""
    import queue
    import threading

    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        line = "\n"
        while line and not line.strip():
            line = stream.readline()
        lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def call_held(sim, process, timeout: float = 60.0) -> bool:
    """Wait until the simulator holds a call of ``process`` (``faults.hold_from_call``): the point a crash
    rehearsal kills at. False if the process ended or the time ran out first."""
    import time

    deadline = time.monotonic() + timeout
    while sim.held < 1 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    return sim.held >= 1
