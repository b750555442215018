#!/usr/bin/python3
# Writes the seed corpus of the idx and image harnesses (fuzz/corpus/{idx,image}): a few items
# of Fashion-MNIST as IDX (plain and gzip), small PNG and JPEG files in every color type.
# Usage: fuzz/make_seeds.py [fuzz/corpus]  (needs python3-numpy, python3-pil, dataset-fashion-mnist)
import gzip
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

FASHION = "/usr/share/datasets/fashion-mnist"


def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return np.frombuffer(data[4 + 4 * ndims:], dtype=np.uint8).reshape(dims)


def idx_bytes(array):
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path, data):
    assert len(data) < 4096, (path, len(data))
    with open(path, "wb") as f:
        f.write(data)


def idx_seeds(out):
    images = read_idx_gz(f"{FASHION}/t10k-images-idx3-ubyte.gz")
    labels = read_idx_gz(f"{FASHION}/t10k-labels-idx1-ubyte.gz")
    write(f"{out}/labels5.idx", idx_bytes(labels[:5]))
    write(f"{out}/labels5.idx.gz", gzip.compress(idx_bytes(labels[:5]), mtime=0))
    write(f"{out}/images2.idx", idx_bytes(images[:2]))
    write(f"{out}/images3.idx.gz", gzip.compress(idx_bytes(images[:3]), mtime=0))
    write(f"{out}/images0.idx", idx_bytes(images[:0]))


def png_chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload +
            struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_by_hand(pixels, color_type, interlace=False):
    # PIL writes neither 16-bit RGB/RGBA nor Adam7 interlacing: such PNGs are written here.
    h, w = pixels.shape[:2]
    depth = 16 if pixels.dtype == np.uint16 else 8
    big_endian = pixels.astype(">u2") if depth == 16 else pixels
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    rows = b""
    for x0, y0, dx, dy in passes:
        sub = big_endian[y0::dy, x0::dx]
        if sub.size:
            rows += b"".join(b"\0" + sub[y].tobytes() for y in range(sub.shape[0]))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def image_seeds(out):
    item = read_idx_gz(f"{FASHION}/t10k-images-idx3-ubyte.gz")[0]
    gray = item[6:22, 6:22]  # 16 x 16 from the middle of the first test image
    rgb = np.stack([gray, 255 - gray, np.roll(gray, 3, axis=1)], axis=-1)
    rgba = np.concatenate([rgb, gray[:, :, None]], axis=-1)
    g = Image.fromarray(gray, "L")
    c = Image.fromarray(rgb, "RGB")
    write(f"{out}/gray.png", encode(g, "PNG"))
    write(f"{out}/gray_alpha.png", encode(Image.fromarray(rgba[:, :, 2:], "LA"), "PNG"))
    write(f"{out}/rgb.png", encode(c, "PNG"))
    write(f"{out}/rgb_interlaced.png", png_by_hand(rgb, 2, interlace=True))
    write(f"{out}/rgba.png", encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    palette = c.convert("P", palette=Image.ADAPTIVE, colors=16)
    write(f"{out}/palette.png", encode(palette, "PNG"))
    write(f"{out}/palette_trns.png", encode(palette, "PNG", transparency=0))
    write(f"{out}/gray1bit.png", encode(g.convert("1"), "PNG"))
    write(f"{out}/gray16.png", encode(Image.fromarray(gray.astype(np.uint16) * 257, "I;16"), "PNG"))
    write(f"{out}/rgb16.png", png_by_hand(rgb.astype(np.uint16) * 257, 2))
    write(f"{out}/rgba16.png", png_by_hand(rgba.astype(np.uint16) * 257, 6))
    write(f"{out}/gray.jpg", encode(g, "JPEG", quality=80))
    write(f"{out}/rgb.jpg", encode(c, "JPEG", quality=80))
    write(f"{out}/rgb_444.jpg", encode(c, "JPEG", quality=80, subsampling=0))
    write(f"{out}/rgb_progressive.jpg", encode(c, "JPEG", quality=80, progressive=True))
    write(f"{out}/cmyk.jpg", encode(c.convert("CMYK"), "JPEG", quality=80))


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for reader, make in (("idx", idx_seeds), ("image", image_seeds)):
        os.makedirs(f"{corpus}/{reader}", exist_ok=True)
        make(f"{corpus}/{reader}")
    print(f"make_seeds.py: wrote {corpus}/idx and {corpus}/image")


if __name__ == "__main__":
    main()
