"""A FastAPI app with the WebSocket route a media-stream server has, served by uvicorn on a
port the OS picks (printed first). Run with or without a WebSocket library installed. With
MEDIA_STREAM_ROUTE set it also has a route at /media-stream, a path such servers often use."""
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI, WebSocket

app = FastAPI()


@app.websocket("/api/calls/{call_id}/audio")
async def audio(websocket: WebSocket, call_id: str):
    await websocket.accept()
    async for _ in websocket.iter_text():
        pass


if os.environ.get("MEDIA_STREAM_ROUTE"):

    @app.websocket("/media-stream")
    async def media_stream(websocket: WebSocket):
        await websocket.accept()
        async for _ in websocket.iter_text():
            pass


if __name__ == "__main__":
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    # The test reads only the port; nothing else may fill the pipe it stops reading.
    sys.stdout = open(os.devnull, "w")
    uvicorn.run(app, fd=listener.fileno(), log_level="warning")
