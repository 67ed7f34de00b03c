"""The hub's refusal codes (heartbeat key 9 "refused", protocol/README.md) are a closed
set the fleet knows: every code the hub's OTA modules can raise maps to a deployment
result of its own (none falls through to the fleet's "integrity" default unnoticed), and
every result has words on both page languages."""

import ast
from pathlib import Path

from fleet.ota import deployments
from fleet.web import i18n

HUB = Path(__file__).resolve().parents[2] / "firmware" / "hub"


def _word(node):
    """The refusal code a call states: Refused("code") or _note("refused", seq, "code")."""
    name = getattr(node.func, "attr", getattr(node.func, "id", None))
    if name == "Refused":
        return node.args[0]
    if name == "_note" and isinstance(node.args[0], ast.Constant) and len(node.args) == 3:
        return node.args[2] if node.args[0].value == "refused" else None
    return None


def _raised_codes():
    """Every refusal code the hub's OTA modules state; each must be a literal."""
    codes = set()
    for path in sorted(HUB.glob("ota*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            arg = _word(node) if isinstance(node, ast.Call) else None
            if arg is None:
                continue
            if isinstance(arg, ast.Call) and getattr(arg.func, "id", None) == "str":
                continue  # ota.py passes a caught Refused on: its code is counted where raised
            assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), path
            codes.add(arg.value)
    return codes


def test_every_code_the_hub_raises_is_one_the_fleet_maps():
    codes = _raised_codes()
    assert {"signature", "sequence", "hardware", "space", "integrity"} <= codes
    assert codes <= set(deployments._REFUSED), codes - set(deployments._REFUSED)


def test_every_refusal_result_has_words_in_both_languages():
    for result in set(deployments._REFUSED.values()):
        key = "ota_res_" + result
        assert key in i18n._IT and key in i18n._EN, key
