"""A voice bot as teams write them with Python's `websockets`: it reads the provider's messages,
finds the end of the caller's turn by level (speech above -40 dBFS, then 400 ms of quiet), and
answers with a second of audio and a mark, paced at 20 ms. Its first argument picks the way it
answers, right or with one of the faults the field reports:

  good, clear-on-barge-in (good, and sends `clear` when the caller speaks over it), one-way,
  alaw (A-law on a mu-law stream), wav (a WAV file as the payload), late (2.5 s), fast (24 kHz
  audio in 8 kHz frames), no-stream-sid (Twilio replies without streamSid), stutter (a 300 ms
  stall mid-answer), silent, hang-up (closes 1011 after answering), sloppy (text that is not
  JSON, a nameless mark, 100-byte chunks), first-call-only (mute after its first call).

Serves on 127.0.0.1 at a port the OS picks, printed first."""
import asyncio
import audioop
import base64
import io
import json
import math
import os
import socket
import sys
import wave

from websockets.asyncio.server import serve

MODE = sys.argv[1]
CALLS = 0


def tone(freq, rate, seconds=1.0, amplitude=0.4):
    count = int(rate * seconds)
    samples = (int(amplitude * 32767 * math.sin(2 * math.pi * freq * n / rate)) for n in range(count))
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def encode(pcm, codec):
    if codec in ("PCMA", "audio/x-alaw"):
        return audioop.lin2alaw(pcm, 2)
    if codec in ("L16", "audio/l16"):
        return audioop.byteswap(pcm, 2)
    return audioop.lin2ulaw(pcm, 2)


def decode(payload, codec):
    if codec in ("PCMA", "audio/x-alaw"):
        return audioop.alaw2lin(payload, 2)
    if codec in ("L16", "audio/l16"):
        return audioop.byteswap(payload, 2)
    return audioop.ulaw2lin(payload, 2)


def wav_file(pcm, rate):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


class Call:
    def __init__(self, ws, mode):
        self.ws = ws
        self.mode = mode
        self.codec = "PCMU"
        self.stream_sid = None
        self.speech = 0
        self.quiet = 0
        self.turn = 0
        self.speaking = None

    async def say(self, event, body):
        message = {"event": event, event: body}
        if self.stream_sid and self.mode != "no-stream-sid":
            message["streamSid"] = self.stream_sid
        await self.ws.send(json.dumps(message))

    async def answer(self):
        await asyncio.sleep(2.5 if self.mode == "late" else 0.3)
        pcm = tone(440 + 110 * self.turn, 8000)
        if self.mode == "silent":
            pcm = bytes(len(pcm))
        if self.mode == "wav":
            await self.say("media", {"payload": base64.b64encode(wav_file(pcm, 8000)).decode()})
        else:
            if self.mode == "sloppy":
                await self.ws.send("hello, provider")
                await self.say("mark", {})
            if self.mode == "fast":
                pcm = tone(440, 24000)
            codec = "PCMA" if self.mode == "alaw" else self.codec
            audio = encode(pcm, codec)
            size = {"fast": 480, "sloppy": 100}.get(self.mode, 320 if codec in ("L16", "audio/l16") else 160)
            for n, at in enumerate(range(0, len(audio), size)):
                await self.say("media", {"payload": base64.b64encode(audio[at:at + size]).decode()})
                stall = 0.3 if self.mode == "stutter" and n == 25 else 0
                await asyncio.sleep((0.012 if self.mode == "sloppy" else 0.02) + stall)
        await self.say("mark", {"name": f"turn-{self.turn}"})
        if self.mode == "hang-up":
            await asyncio.sleep(0.2)
            await self.ws.close(1011, "internal error")

    async def heard(self, payload):
        pcm = decode(base64.b64decode(payload), self.codec)
        rms = audioop.rms(pcm, 2) if pcm else 0
        loud = rms > 0 and 20 * math.log10(rms / 32768) > -40
        talking = self.speaking is not None and not self.speaking.done()
        if loud:
            self.speech += 1
            self.quiet = 0
            if talking and self.mode == "clear-on-barge-in" and self.speech >= 3:
                self.speaking.cancel()
                await self.say("clear", {})
            return
        self.quiet += 1
        if self.speech >= 10 and self.quiet >= 20:
            self.speech = 0
            self.turn += 1
            if self.mode != "one-way":
                self.speaking = asyncio.create_task(self.answer())


async def handler(ws):
    global CALLS
    CALLS += 1
    mode = "one-way" if MODE == "first-call-only" and CALLS > 1 else MODE
    call = Call(ws, mode)
    try:
        async for text in ws:
            message = json.loads(text)
            event = message.get("event")
            if event == "start":
                call.stream_sid = message.get("streamSid")
                start = message.get("start", {})
                media_format = start.get("media_format") or start.get("mediaFormat") or {}
                call.codec = media_format.get("encoding", "PCMU")
            elif event == "media":
                await call.heard(message["media"]["payload"])
            elif event == "stop":
                break
    finally:
        if call.speaking is not None:
            call.speaking.cancel()


async def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    sys.stdout = open(os.devnull, "w")
    async with serve(handler, sock=listener):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
