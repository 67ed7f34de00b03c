"""The CoAP code runs on the hub's MicroPython: the same checks, on the real port."""

import pytest

from tests.mpy import ROOT, run_micropython


@pytest.mark.parametrize("script", ["coap_vectors.py", "coap_endpoint.py"])
def test_on_micropython(script):
    res = run_micropython(path=ROOT / "tests" / "mp" / script, heapsize="100K")
    assert res.status == 0, res.output
    assert res.output.strip().endswith("OK"), res.output
