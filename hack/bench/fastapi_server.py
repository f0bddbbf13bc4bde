"""The stack the seed projects serve with, for the side-by-side in vs-fastapi.bench.ts: FastAPI on
uvicorn, PyTorch on CPU, Pillow for decoding. It serves the same architecture as the sample model
(MultiHeadCNN of examples/trainers/image-classifier/train.py, built from the model's
modelship.json: heads, input size, width) on the same raw image/jpeg POST /predict, with the
same preprocessing (RGB, bilinear stretch to the input size, normalised) and an answer of the
same shape (label and per-class scores per head). Weights are not loaded: speed does not
depend on their values. One PyTorch thread per worker, one worker per core (uvicorn --workers).
"""
import io
import json
import os
import socket
import sys

import torch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from PIL import Image
from uvicorn.protocols.http.h11_impl import H11Protocol

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples", "trainers", "image-classifier"))
from train import MEAN, STD, MultiHeadCNN  # noqa: E402

# Debian's uvicorn 0.17 leaves Nagle on: its separate header and body writes then wait for the
# client's delayed ACK, ~40 ms a keep-alive request (48 ms p50 at one connection, where one
# request takes 5.5 ms of CPU). Later uvicorn releases set TCP_NODELAY; so does this, so that
# the comparison is with the stack at its best.
_made = H11Protocol.connection_made


def _connection_made(self, transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    _made(self, transport)


H11Protocol.connection_made = _connection_made

torch.set_num_threads(1)
MODEL_DIR = os.environ["MODEL_DIR"]
with open(os.path.join(MODEL_DIR, "modelship.json")) as f:
    SIGNATURE = json.load(f)
SIZE = SIGNATURE["input"]["width"]
HEADS = SIGNATURE["heads"]
WIDTH = int(os.environ.get("MODEL_WIDTH", "8"))
MODEL = MultiHeadCNN(HEADS, width=WIDTH, image_size=SIZE, dropout=0.0).eval()
MEAN_T = torch.tensor(MEAN).view(1, 3, 1, 1)
STD_T = torch.tensor(STD).view(1, 3, 1, 1)

app = FastAPI()


def predict_one(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR)
    x = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8).view(1, SIZE, SIZE, 3)
    x = (x.permute(0, 3, 1, 2).float() / 255.0 - MEAN_T) / STD_T
    with torch.no_grad():
        outputs = MODEL(x)
    heads = {}
    for head, out in zip(HEADS, outputs):
        if head["type"] == "binary":
            p = torch.sigmoid(out[0, 0]).item()
            scores = {head["labels"][0]: 1 - p, head["labels"][1]: p}
        else:
            probs = torch.softmax(out[0], dim=0).tolist()
            scores = dict(zip(head["labels"], probs))
        label = max(scores, key=scores.get)
        heads[head["name"]] = {"label": label, "score": scores[label], "scores": scores}
    return {"heads": heads}


@app.post("/predict")
async def predict(request: Request) -> JSONResponse:
    return JSONResponse({"predictions": [predict_one(await request.body())]})


@app.get("/ready")
async def ready() -> dict:
    return {"ready": True}
