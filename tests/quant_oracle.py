"""numpy references for embquant: sentence-transformers' quantize_embeddings()
formulas written out (sentence_transformers/quantization.py), and the
documented differences (clamping, dequantization), written from embquant.1."""
import numpy as np


def st_quantize(x, precision, ranges=None):
    """quantize_embeddings(x, precision, ranges) as sentence-transformers
    computes it (ranges from x itself when None)."""
    if precision.endswith("int8"):
        if ranges is None:
            ranges = np.vstack((np.min(x, axis=0), np.max(x, axis=0)))
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        with np.errstate(all="ignore"):
            if precision == "uint8":
                return ((x - starts) / steps).astype(np.uint8)
            return ((x - starts) / steps - 128).astype(np.int8)
    if precision == "binary":
        return (np.packbits(x > 0, axis=-1) - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(x > 0).reshape(x.shape[0], -1)
    raise ValueError(precision)


def clamped(x, precision, ranges=None, rounding=np.trunc):
    """embquant's codes: the same arithmetic, in the same precision, then
    toward zero (or ROUNDING) and clipped to the code range instead of
    wrapped; a flat dimension (max = min) gives -inf/0/+inf."""
    if ranges is None:
        ranges = np.vstack((np.min(x, axis=0), np.max(x, axis=0)))
    ranges = ranges.astype(np.result_type(x, ranges))
    starts = ranges[0, :]
    steps = (ranges[1, :] - ranges[0, :]) / 255
    with np.errstate(all="ignore"):
        t = (x - starts) / steps
    flat = np.broadcast_to(steps == 0, x.shape)
    t = np.where(flat, np.sign(x - starts) * np.inf, t).astype(x.dtype)
    t[flat & (x == starts)] = 0
    if precision == "int8":
        t = t - x.dtype.type(128)
        lo, hi = -128, 127
        if rounding is np.rint:   # nearest code of t + 128, then shifted
            t = np.rint(t + x.dtype.type(128)) - 128
    else:
        lo, hi = 0, 255
        if rounding is np.rint:
            t = np.rint(t)
    return np.clip(np.trunc(t), lo, hi).astype(np.int8 if precision == "int8" else np.uint8)


def dequantize(codes, ranges, precision, nearest):
    """The middle of each code's interval of (x - min)/steps."""
    steps = (ranges[1] - ranges[0]) / 255
    c = codes.astype(np.float64)
    if nearest:
        u = c + 128 if precision == "int8" else c
    elif precision == "uint8":
        u = c + 0.5
    else:
        u = np.where(c > 0, c + 128.5, np.where(c < 0, c + 127.5, 128.0))
    return ranges[0] + u * steps
