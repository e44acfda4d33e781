#!/usr/bin/env python3
"""Scales a JCL file made by gen_jcl.py up by a whole factor, for the memory check (bench/rss.sh).

    python3 scale_jcl.py --in jcl-1000000-s7.psv --times 10 --out jcl-10000000-s7x10.psv

The data lines are written `--times` times over. Copy k (0-based) puts the digit k in place of the
first digit of ACCT_NO's ten-digit number (gen_jcl.py numbers accounts from 0, so that digit is 0
below a billion lines), so keys stay unique across copies and the duplicates gen_jcl.py injected
stay duplicated within their copy. The trailer's count and sums are multiplied: each copy has the
same balances. Streams line by line; needs no memory to speak of.
"""
import argparse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="src", required=True)
    ap.add_argument("--times", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not 1 <= a.times <= 10:
        ap.error("--times must be between 1 and 10 (one digit of ACCT_NO tells the copies apart)")

    with open(a.src, "rb") as f:
        lines = f.read().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    header, data, trailer = lines[0], lines[1:-1], lines[-1]
    if not header.startswith(b"H|") or not trailer.startswith(b"T|"):
        raise SystemExit("scale_jcl.py: the input does not start with H| and end with T|")
    t = trailer.split(b"|")
    count, bal, od = int(t[1]), t[2], t[3]
    if count != len(data):
        raise SystemExit(f"scale_jcl.py: the trailer says {count} lines, the file has {len(data)}")

    def times_sen(text):
        # "123.45" (or "-123.45") times a whole factor, exactly, back in the same form.
        neg = text.startswith(b"-")
        whole, _, frac = text.lstrip(b"-").partition(b".")
        sen = (int(whole) * 100 + int((frac + b"00")[:2])) * a.times
        return ("-" if neg else "") + f"{sen // 100}.{sen % 100:02d}"

    with open(a.out, "wb") as out:
        out.write(header + b"\n")
        for k in range(a.times):
            digit = str(k).encode()
            for line in data:
                if line.startswith(b"JCL0"):
                    line = b"JCL" + digit + line[4:]
                out.write(line + b"\n")
        out.write(f"T|{count * a.times}|{times_sen(bal)}|{times_sen(od)}".encode() + b"\n")


if __name__ == "__main__":
    main()
