# Every RFC 8613 Appendix C vector under MicroPython; prints OK when all pass.

import gc

import oscore_vectors

for check in oscore_vectors.CHECKS:
    check()
    gc.collect()
print("OK")
