#!/usr/bin/env python3
"""Writes small GGUF seed files for the `gguf` fuzz target from a real GGUF model.

usage: make_gguf_seed.py REAL.gguf OUT_DIR

The real file's metadata is copied with every array cut to its first 64 elements (the
tokenizer's tokens, types and merges stay real), and a few of its tensors are kept with their
real type and their first blocks of real data, reshaped small. Two seeds are written: one
with the tensors in the file's own types, one with them as F32. No dependency beyond Python.
"""
import struct
import sys

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
# ggml type -> (elements per block, bytes per block)
BLOCK = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 8: (32, 34), 12: (256, 144), 14: (256, 210)}


class Reader:
    def __init__(self, f):
        self.f = f

    def unpack(self, fmt):
        return struct.unpack(fmt, self.f.read(struct.calcsize(fmt)))[0]

    def string(self):
        return self.f.read(self.unpack("<Q"))

    def value(self, t):
        if t in SCALAR:
            return self.unpack(SCALAR[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.unpack("<I"), self.unpack("<Q")
            return (et, [self.value(et) for _ in range(n)])
        raise ValueError(f"unknown GGUF value type {t}")


def write_value(out, t, v):
    if t in SCALAR:
        out += struct.pack(SCALAR[t], v)
    elif t == 8:
        out += struct.pack("<Q", len(v)) + v
    else:
        et, items = v
        out += struct.pack("<IQ", et, len(items))
        for x in items:
            write_value(out, et, x)


def main(src, out_dir):
    with open(src, "rb") as f:
        r = Reader(f)
        assert f.read(4) == b"GGUF"
        version, n_tensors, n_kv = r.unpack("<I"), r.unpack("<Q"), r.unpack("<Q")
        kvs = []
        for _ in range(n_kv):
            key = r.string()
            t = r.unpack("<I")
            v = r.value(t)
            if t == 9:
                v = (v[0], v[1][:64])
            kvs.append((key, t, v))
        tensors = {}
        for _ in range(n_tensors):
            name = r.string()
            dims = [r.unpack("<Q") for _ in range(r.unpack("<I"))]
            tensors[name.decode()] = (dims, r.unpack("<I"), r.unpack("<Q"))
        align = next((v for k, t, v in kvs if k == b"general.alignment"), 32)
        data_start = (f.tell() + align - 1) // align * align
        keep = [n for n in ("token_embd.weight", "output_norm.weight", "blk.0.attn_q.weight") if n in tensors]
        picked = []
        for name in keep:
            dims, ty, off = tensors[name]
            per, size = BLOCK.get(ty, (1, 4))
            cols = per if per > 1 else 8
            rows = 2 if len(dims) > 1 else 1
            n = cols * rows
            f.seek(data_start + off)
            raw = f.read(n // per * size)
            picked.append((name, [cols, rows] if len(dims) > 1 else [cols], ty, raw))
    for variant in ("native", "f32"):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", version, len(picked), len(kvs))
        for key, t, v in kvs:
            out += struct.pack("<Q", len(key)) + key + struct.pack("<I", t)
            write_value(out, t, v)
        blobs, off = [], 0
        for name, dims, ty, raw in picked:
            if variant == "f32":
                ty, n = 0, 1
                for d in dims:
                    n *= d
                raw = struct.pack(f"<{n}f", *[((i % 7) - 3) / 8 for i in range(n)])
            out += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(dims))
            out += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ty, off)
            blobs.append(raw)
            off += (len(raw) + align - 1) // align * align
        out += b"\0" * ((-len(out)) % align)
        for raw in blobs:
            out += raw + b"\0" * ((-len(raw)) % align)
        with open(f"{out_dir}/smollm2-mini-{variant}.gguf", "wb") as g:
            g.write(out)
        print(f"{out_dir}/smollm2-mini-{variant}.gguf: {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
