#!/usr/bin/env python3
"""The floor a WebSocket receiver cannot go below: answers the upgrade, then only reads the
streams from the socket, 16 KiB at a time, one thread per connection, and throws the bytes
away (no frame is parsed). When what it read ends with a client's close frame (a masked close
with code 1000, as replay sends), it answers with a close and hangs up, so senders end cleanly.
scripts/bench-listen measures stream-doctor's listener against it.
Usage: floor-receiver.py PORT"""
import base64
import hashlib
import socket
import sys
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def serve(conn):
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        key = b""
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        buf = bytearray(16384)
        view = memoryview(buf)
        tail = head[head.index(b"\r\n\r\n") + 4:][-8:]
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                return
            tail = (tail + bytes(view[max(0, n - 8):n]))[-8:]
            # A masked close carrying code 1000, unmasked: a media frame's bytes match this by
            # chance about once in 2^32 reads.
            if (
                len(tail) == 8
                and tail[0] == 0x88
                and tail[1] == 0x82
                and tail[6] ^ tail[2] == 0x03
                and tail[7] ^ tail[3] == 0xE8
            ):
                conn.sendall(b"\x88\x02\x03\xe8")
                return


def main():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[1])))
    server.listen(128)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
