"""A Media Streams server as Twilio's security page asks one to be: its WebSocket route
validates X-Twilio-Signature with Twilio's own RequestValidator (the `twilio` package) over the
URL the client asked for, and refuses (a 403, before accepting) when it does not match. Served
by uvicorn on a port the OS picks (printed first); the auth token comes from TWILIO_AUTH_TOKEN."""
import os
import socket
import sys

import uvicorn
from fastapi import FastAPI, WebSocket
from twilio.request_validator import RequestValidator

app = FastAPI()
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])


@app.websocket("/media-stream")
async def media_stream(websocket: WebSocket):
    signature = websocket.headers.get("x-twilio-signature", "")
    if not validator.validate(str(websocket.url), {}, signature):
        await websocket.close(code=1008)
        return
    await websocket.accept()
    async for _ in websocket.iter_text():
        pass


if __name__ == "__main__":
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    sys.stdout = open(os.devnull, "w")
    uvicorn.run(app, fd=listener.fileno(), log_level="warning")
