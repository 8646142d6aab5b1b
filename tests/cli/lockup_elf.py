#!/usr/bin/env python3
"""lockup_elf.py OUT - write the smallest firmware that locks up at once.

An ELF32 ARM file with one PT_LOAD segment at flash address 0: a vector
table whose reset vector is even (no Thumb bit). ARMv6-M faults on the
first instruction, and the HardFault vector (also even) faults again:
lockup before any checkpoint, which `vmstress run` must call an error.
"""
import struct
import sys

vectors = struct.pack("<4I", 0x20000400, 0x00000040, 0, 0x00000040)
ehdr_size, phdr_size = 52, 32
offset = ehdr_size + phdr_size
ehdr = (b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
        + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x40, ehdr_size, 0, 0x5000000,
                      ehdr_size, phdr_size, 1, 40, 0, 0))
phdr = struct.pack("<8I", 1, offset, 0, 0, len(vectors), len(vectors), 5, 4)
with open(sys.argv[1], "wb") as f:
    f.write(ehdr + phdr + vectors)
