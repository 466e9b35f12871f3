"""Independent Python writers and readers of the dump formats of emb(5)
(issue 13), for the tests: big-ann-benchmarks .fbin/.u8bin/.i8bin/.ibin
(as big-ann-benchmarks' own read_fbin/xbin_mmap read them: numpy) and
safetensors (written from the format's description and the reference
writer's choices: compact JSON, __metadata__ first, tensors sorted by
dtype alignment then name, the header padded with spaces to a multiple of
8).  Written from the specs, not from the C code.

Command line (python3 formats_oracle.py CMD ...):
  bigann-write KIND OUT.bin IN.npy      KIND fbin u8bin i8bin ibin
  bigann-read KIND IN.bin OUT.npy       numpy's reading, as big-ann's
  st-write OUT META_JSON NAME=IN.npy:DTYPE ...
  st-read IN NAME OUT.npy               the tensor as float64
  st-meta IN                            the __metadata__ as JSON
"""
import json
import struct
import sys

import numpy as np

BIGANN = {"fbin": np.float32, "u8bin": np.uint8, "i8bin": np.int8, "ibin": np.int32}
ST = {"F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": (None, 2),
      "I64": ("<i8", 8), "I32": ("<i4", 4), "U8": ("<u1", 1), "I8": ("<i1", 1)}


def bigann_write(kind, path, x):
    x = np.ascontiguousarray(x, dtype=BIGANN[kind])
    with open(path, "wb") as f:
        np.array(x.shape, dtype=np.uint32).tofile(f)
        x.tofile(f)


def bigann_read(kind, path):
    # big-ann-benchmarks' read_fbin/read_ibin: the header as int32
    with open(path, "rb") as f:
        n, d = np.fromfile(f, count=2, dtype=np.int32)
        arr = np.fromfile(f, count=n * d, dtype=BIGANN[kind])
    return arr.reshape(n, d)


def to_bf16_bytes(x):
    # round to nearest even, as torch does
    b = np.ascontiguousarray(x, dtype="<f4").view("<u4").astype(np.uint64)
    b = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype("<u2")
    return b.tobytes()


def st_bytes(tensors, metadata=None):
    """tensors: {name: (array, DTYPE)}; returns the file's bytes."""
    order = sorted(tensors, key=lambda k: (-ST[tensors[k][1]][1], k))
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in order:
        x, dt = tensors[name]
        raw = to_bf16_bytes(x) if dt == "BF16" else np.ascontiguousarray(x, ST[dt][0]).tobytes()
        header[name] = {"dtype": dt, "shape": list(np.shape(x)),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def st_read(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        if t["dtype"] == "BF16":
            x = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            x = np.frombuffer(raw, ST[t["dtype"]][0])
        out[name] = x.reshape(t["shape"])
    return out, meta


def main(argv):
    cmd = argv[1]
    if cmd == "bigann-write":
        bigann_write(argv[2], argv[3], np.load(argv[4]))
    elif cmd == "bigann-read":
        np.save(argv[4], bigann_read(argv[2], argv[3]))
    elif cmd == "st-write":
        meta = json.loads(argv[3])
        tensors = {}
        for spec in argv[4:]:
            name, rest = spec.split("=", 1)
            path, dt = rest.rsplit(":", 1)
            tensors[name] = (np.load(path), dt)
        open(argv[2], "wb").write(st_bytes(tensors, meta))
    elif cmd == "st-read":
        t, _ = st_read(argv[2])
        np.save(argv[4], t[argv[3]].astype(np.float64))
    elif cmd == "st-meta":
        print(json.dumps(st_read(argv[2])[1]))
    else:
        sys.exit("formats_oracle: unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
