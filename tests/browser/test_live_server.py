"""The browser tests' server survives a browser dropping connections mid-response without leaking files."""
import gc
import socket
import struct
import time
import urllib.request
import warnings
from tests.factories import app_on_demo  # noqa: F401  (the demo database)

BIG_STATIC = "/static/vendor/echarts/echarts.min.js"  # 1.1 MB: more than the socket buffers hold


def _drop_mid_response(base: str, path: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.connect((host, int(port)))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    s.recv(100)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset, as a reload does
    s.close()


def test_connections_dropped_mid_response_leave_no_file_open(live_server):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(200):
            _drop_mid_response(live_server, BIG_STATIC)
        time.sleep(1)  # the server's threads finish writing into closed sockets
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    with urllib.request.urlopen(live_server + BIG_STATIC) as response:
        assert response.status == 200
        assert len(response.read()) > 1_000_000
