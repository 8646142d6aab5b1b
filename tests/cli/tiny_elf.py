#!/usr/bin/env python3
"""tiny_elf.py OUT lockup|fail - write the smallest firmware that misbehaves.

An ELF32 ARM file with one PT_LOAD segment at flash address 0.
  lockup  a vector table whose reset vector is even (no Thumb bit): ARMv6-M
          faults on the first instruction and the HardFault vector (also
          even) faults again: lockup before any checkpoint.
  fail    counts a register down from 3,000,000 (some checkpoints happen
          meanwhile), then semihosting SYS_EXIT with a reason that is not
          ApplicationExit: the guest exits with code 1.
`vmstress run` must call both an error (exit 2), never a clean run.
"""
import struct
import sys

out, mode = sys.argv[1], sys.argv[2]
if mode == "lockup":
    image = struct.pack("<4I", 0x20000400, 0x00000040, 0, 0x00000040)
elif mode == "fail":
    vectors = struct.pack("<4I", 0x20000400, 0x00000041, 0, 0x00000041) + bytes(0x30)
    code = struct.pack("<8H",
                       0x4A03,   # 0x40 ldr  r2, [pc, #12]   (the count at 0x50)
                       0x3A01,   # 0x42 subs r2, #1
                       0xD1FD,   # 0x44 bne  0x42
                       0x2018,   # 0x46 movs r0, #0x18       (SYS_EXIT)
                       0x2100,   # 0x48 movs r1, #0          (not ApplicationExit)
                       0xBEAB,   # 0x4a bkpt 0xab            (semihosting call)
                       0xE7FE,   # 0x4c b    .
                       0x0000)   # 0x4e padding
    image = vectors + code + struct.pack("<I", 3000000)
else:
    sys.exit(f"tiny_elf.py: unknown kind '{mode}' (lockup or fail)")
ehdr_size, phdr_size = 52, 32
offset = ehdr_size + phdr_size
ehdr = (b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
        + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x40, ehdr_size, 0, 0x5000000,
                      ehdr_size, phdr_size, 1, 40, 0, 0))
phdr = struct.pack("<8I", 1, offset, 0, 0, len(image), len(image), 5, 4)
with open(out, "wb") as f:
    f.write(ehdr + phdr + image)
