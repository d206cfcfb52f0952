"""python-socketio mounted over a FastAPI app, the way its docs show (`socketio.ASGIApp` with
`other_asgi_app`), served by uvicorn[standard] on a port the OS picks (printed first). The app
has no plain WebSocket route: the call path gets Starlette's bare 403, and Socket.IO answers
only at /socket.io/."""
import os
import socket
import sys

import socketio
import uvicorn
from fastapi import FastAPI

sio = socketio.AsyncServer(async_mode="asgi")
api = FastAPI()
app = socketio.ASGIApp(sio, other_asgi_app=api)


if __name__ == "__main__":
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    sys.stdout = open(os.devnull, "w")
    uvicorn.run(app, fd=listener.fileno(), log_level="warning")
