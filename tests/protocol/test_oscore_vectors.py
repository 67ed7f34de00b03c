"""RFC 8613 Appendix C (C.1-C.8) as exact bytes, on CPython and under MicroPython with
the hub's 100 KB heap."""

from pathlib import Path

import pytest

from tests.mp import oscore_vectors
from tests.mpy import run_micropython

MP_DIR = Path(__file__).resolve().parents[1] / "mp"


@pytest.mark.parametrize("check", oscore_vectors.CHECKS, ids=lambda c: c.__name__)
def test_rfc8613_appendix_c(check):
    check()


def test_rfc8613_appendix_c_on_micropython():
    res = run_micropython(path=MP_DIR / "oscore_appendix_c.py", heapsize="100K", paths=[MP_DIR])
    assert res.status == 0 and res.output.strip().endswith("OK"), res.output
