"""Writes a Fashion-MNIST split as an ImageNet-layout image folder (<out>/<class>/<index>.png),
so that vitc's image-folder path can be tried and checked on real data without ImageNet:
`vitc eval --data <out> --crop-pct 1` must give the same top-1 as `--data fashion-mnist` on the
same images. Needs only the Python standard library.

    python3 python/make_image_folder.py --split test --per-class 100 --out runs/fm_png
    python3 python/make_image_folder.py --split test --per-class 20 --scale 16 --rgb --out runs/fm_big
"""

import argparse
import gzip
import os
import struct
import zlib

CLASSES = ["0_tshirt", "1_trouser", "2_pullover", "3_dress", "4_coat", "5_sandal", "6_shirt",
           "7_sneaker", "8_bag", "9_boot"]  # sorted names keep Fashion-MNIST's label order


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def png_bytes(width, height, channels, rows):
    def chunk(kind, payload):
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    color = 0 if channels == 1 else 2
    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--split", choices=["train", "test"], default="test")
    parser.add_argument("--per-class", type=int, default=0, help="first N images of each class (0 = all)")
    parser.add_argument("--scale", type=int, default=1, help="enlarge each pixel to scale x scale")
    parser.add_argument("--rgb", action="store_true", help="write 3-channel images")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    prefix = "train" if args.split == "train" else "t10k"
    (n, h, w), pixels = read_idx(os.path.join(args.data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    _, labels = read_idx(os.path.join(args.data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    counts = [0] * 10
    for name in CLASSES:
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
    written = 0
    for i in range(n):
        label = labels[i]
        if args.per_class and counts[label] >= args.per_class:
            continue
        counts[label] += 1
        image = pixels[i * h * w:(i + 1) * h * w]
        rows = []
        for y in range(h):
            row = image[y * w:(y + 1) * w]
            row = bytes(v for v in row for _ in range(args.scale))
            if args.rgb:
                row = bytes(v for v in row for _ in range(3))
            rows.extend([row] * args.scale)
        data = png_bytes(w * args.scale, h * args.scale, 3 if args.rgb else 1, rows)
        with open(os.path.join(args.out, CLASSES[label], f"{i:05d}.png"), "wb") as f:
            f.write(data)
        written += 1
    print(f"wrote {written} images to {args.out}")


if __name__ == "__main__":
    main()
