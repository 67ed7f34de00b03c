#!/bin/sh
# A 32-bit build of the MicroPython unix port, for tests/bench/bench_hub_heap.py: an ESP32
# has 4-byte pointers and 16-byte GC blocks, the PyPI unix port 8 and 32, so its heap
# figures run up to twice a hub's. Needs git, make, python3 and gcc-multilib (apt).
# Leaves build/micropython-32/micropython; ROMFS (vfs.VfsRom), cryptolib (axTLS),
# hashlib, socket and the frozen asyncio, as the hub needs.
#
#     tests/bench/build_micropython32.sh      # MICROPYTHON_REPO, AXTLS_REPO: other clones
set -eu
COMMIT=1c3c201149f37fe8d81246191b3127bb198d6306  # 1.29 preview, as the PyPI port
REPO=${MICROPYTHON_REPO:-https://github.com/micropython/micropython}
AXTLS=${AXTLS_REPO:-https://github.com/micropython/axtls.git}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/micropython-32
SRC=$OUT/src
mkdir -p "$OUT"
if [ ! -d "$SRC/.git" ]; then
    git clone --no-checkout "$REPO" "$SRC"
fi
git -C "$SRC" checkout -q "$COMMIT"
git -C "$SRC" submodule init lib/axtls
git -C "$SRC" config submodule.lib/axtls.url "$AXTLS"
git -C "$SRC" submodule update lib/axtls
# Only asyncio frozen: the default manifest wants micropython-lib, which the hub does not.
echo 'include("$(MPY_DIR)/extmod/asyncio")' > "$OUT/manifest.py"
mkdir -p "$OUT/no-lib" && echo "not used" > "$OUT/no-lib/README.md"
make -C "$SRC/mpy-cross" -j2
make -C "$SRC/ports/unix" -j2 VARIANT=standard \
    FROZEN_MANIFEST="$OUT/manifest.py" MPY_LIB_DIR="$OUT/no-lib" \
    MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0 MICROPY_SSL_MBEDTLS=0 MICROPY_SSL_AXTLS=1 \
    CFLAGS_EXTRA=-m32 LDFLAGS_EXTRA=-m32
cp "$SRC/ports/unix/build-standard/micropython" "$OUT/micropython"
"$OUT/micropython" -c "import sys; print('built', sys.implementation._machine, sys.maxsize)"
