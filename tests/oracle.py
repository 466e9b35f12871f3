"""Independent Python implementation of the emb(5) binary stream, used by the
tests as an oracle: it is written from the format description, not from the
C code, so a test that round-trips through both checks the spec."""
import json
import struct
import sys

import numpy as np

MAGIC = b"\x89EMB\r\n\x1a\n"
_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _T.append(c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = (crc >> 8) ^ _T[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


DT = {"f32": "<f4", "f64": "<f8", "f16": "<f2", "i8": "|i1", "u8": "|u1", "bit": "|u1"}


def rowlen(dim, dtype):
    """Values stored per row: dim, or for bit the ceil(dim/8) packed bytes."""
    return (dim + 7) // 8 if dtype == "bit" else dim


def header(dim, dtype="f32", keys=False, extra=None):
    meta = {"dim": dim, "dtype": dtype, "keys": keys}
    meta.update(extra or {})
    js = json.dumps(meta).encode()
    return MAGIC + struct.pack("<III", 1, len(js), crc32c(js)) + js


def chunk(x, dtype="f32", keys=None):
    x = np.ascontiguousarray(x, dtype=DT[dtype])
    kb = b""
    if keys is not None:
        kb = b"".join(k.encode() + b"\0" for k in keys)
        kb += b"\0" * (-len(kb) % 8)
    payload = kb + x.tobytes()
    return b"CHNK" + struct.pack("<IQQ", crc32c(payload), x.shape[0], len(kb)) + payload


def end(rows):
    n = struct.pack("<Q", rows)
    return b"END\0" + struct.pack("<I", crc32c(n)) + n + struct.pack("<Q", 0)


def write(x, dtype="f32", keys=None, chunk_rows=1000):
    """A whole stream as bytes."""
    x = np.asarray(x)
    out = [header(x.shape[1], dtype, keys is not None)]
    for s in range(0, x.shape[0], chunk_rows):
        out.append(chunk(x[s:s + chunk_rows], dtype,
                         None if keys is None else keys[s:s + chunk_rows]))
    out.append(end(x.shape[0]))
    return b"".join(out)


def read(data):
    """Parse a (possibly concatenated) stream: returns (matrix, keys, headers).
    A bit stream's matrix holds its packed bytes (np.packbits rows)."""
    pos, rows, keys, heads = 0, [], [], []
    while pos < len(data):
        assert data[pos:pos + 8] == MAGIC, "bad magic at %d" % pos
        ver, jl, jc = struct.unpack_from("<III", data, pos + 8)
        js = data[pos + 20:pos + 20 + jl]
        assert crc32c(js) == jc
        h = json.loads(js)
        heads.append(h)
        pos += 20 + jl
        dim, dt = rowlen(h["dim"], h["dtype"]), np.dtype(DT[h["dtype"]])
        while True:
            tag = data[pos:pos + 4]
            crc, n, kb = struct.unpack_from("<IQQ", data, pos + 4)
            pos += 24
            if tag == b"END\0":
                break
            assert tag == b"CHNK"
            payload = data[pos:pos + kb + n * dim * dt.itemsize]
            assert crc32c(payload) == crc, "chunk crc"
            if kb:
                keys += payload[:kb].split(b"\0")[:n]
            rows.append(np.frombuffer(payload[kb:], dtype=dt).reshape(n, dim))
            pos += len(payload)
    x = np.concatenate(rows) if rows else np.zeros((0, 0))
    return x, [k.decode() for k in keys], heads


def load(path):
    """The values of a binary stream file as a float64 matrix."""
    return read(open(path, "rb").read())[0].astype(np.float64)


if __name__ == "__main__":
    # oracle.py read FILE: print rows as repr'd floats (debug aid)
    x, k, h = read(open(sys.argv[2], "rb").read())
    print(h, x.shape, k[:3])
