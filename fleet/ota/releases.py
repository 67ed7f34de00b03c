"""Releases: manifests and bundles made and signed by tools/release.py, stored here once
their signature checks out under a trusted release key. The fleet holds public keys
only (setting FLEET_RELEASE_KEYS: an `ota.keys` file, CBOR [[kid, key], ...]).

    rel = upload(db, settings, manifest, bundle, user)   # -> Release, or OTAError(code)
    list_releases(db)                                    # newest seq first
    public(rel)                                          # the API's JSON
"""

import hashlib
from pathlib import Path

from sqlmodel import select

from fleet.models import Release
from fleet.ota import OTAError, utc
from fleet.services.audit import audit
from protocol import cbor, cose
from protocol.errors import ProtocolError

# Manifest map keys (protocol/README.md "OTA", tools/release.py).
M_FORMAT, M_SEQ, M_COMPONENT, M_VERSION, M_HW, M_SIZE, M_DIGEST = range(1, 8)
_TEXT_MAX = 64


def trusted_keys(settings):
    """[(kid, public key), ...] from settings.release_keys; [] when unset."""
    if not settings.release_keys:
        return []
    path = Path(settings.release_keys)
    try:
        keys = cbor.loads(path.read_bytes())
    except (OSError, ProtocolError) as e:
        raise OTAError("release_keys_unreadable", 500, path=str(path), error=str(e)) from None
    if not isinstance(keys, list) or not all(
        isinstance(k, list) and len(k) == 2 and isinstance(k[1], bytes) and len(k[1]) == 32
        for k in keys
    ):
        raise OTAError("release_keys_invalid", 500, path=str(path))
    return [(bytes(kid), bytes(key)) for kid, key in keys]


def _kid(manifest):
    try:
        raw = cbor.loads(manifest).value[0]
        return cbor.loads(raw).get(4)
    except (ProtocolError, AttributeError, IndexError, TypeError):
        return None


def verify(settings, manifest, bundle):
    """The manifest map once the signature, size and digest check out; OTAError else."""
    keys = trusted_keys(settings)
    if not keys:
        raise OTAError("no_release_keys")
    try:
        payload = cose.verify_sign1(manifest, keys)
    except ProtocolError as e:
        text = str(e)
        if "no trusted key" in text:
            raise OTAError("untrusted_key") from None
        if "does not verify" in text:
            raise OTAError("bad_signature") from None
        raise OTAError("not_signed", error=text) from None
    try:
        m = cbor.loads(payload)
    except ProtocolError as e:
        raise OTAError("manifest_not_cbor", error=str(e)) from None
    if not isinstance(m, dict) or m.get(M_FORMAT) != 1:
        raise OTAError("manifest_format")
    seq = m.get(M_SEQ)
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < 1 << 32:
        raise OTAError("manifest_seq")
    for key, what in ((M_COMPONENT, "component"), (M_VERSION, "version"), (M_HW, "hardware")):
        value = m.get(key)
        if not isinstance(value, str) or not 0 < len(value) <= _TEXT_MAX:
            raise OTAError("manifest_field", field=what)
    if m.get(M_SIZE) != len(bundle):
        said = m.get(M_SIZE)
        said = said if isinstance(said, int) and not isinstance(said, bool) else str(said)
        raise OTAError("size_mismatch", size=len(bundle), said=said)
    if m.get(M_DIGEST) != hashlib.sha256(bundle).digest():
        raise OTAError("digest_mismatch")
    return m


def upload(db, settings, manifest, bundle, user):
    """Store a release after verify(); a sequence number already stored is refused."""
    if len(bundle) > settings.ota_max_bundle_bytes:
        raise OTAError("too_big", 413, what="bundle", limit=settings.ota_max_bundle_bytes)
    manifest, bundle = bytes(manifest), bytes(bundle)
    m = verify(settings, manifest, bundle)
    if db.exec(select(Release.id).where(Release.seq == m[M_SEQ])).first() is not None:
        raise OTAError("duplicate_seq", seq=m[M_SEQ])
    rel = Release(
        seq=m[M_SEQ],
        version=m[M_VERSION],
        component=m[M_COMPONENT],
        hardware=m[M_HW],
        size=len(bundle),
        sha256=m[M_DIGEST],
        manifest=manifest,
        bundle=bundle,
        kid=_kid(manifest),
        created_by=user.id if user is not None else None,
    )
    db.add(rel)
    db.flush()
    audit(db, user, "upload", "release", str(rel.id), seq=rel.seq, version=rel.version,
          hardware=rel.hardware, size=rel.size)  # fmt: skip
    db.commit()
    db.refresh(rel)
    return rel


def list_releases(db):
    return list(db.exec(select(Release).order_by(Release.seq.desc())).all())


def get(db, release_id):
    rel = db.get(Release, release_id)
    if rel is None:
        raise OTAError("no_release", 404)
    return rel


def public(rel):
    return {
        "id": rel.id,
        "seq": rel.seq,
        "version": rel.version,
        "hardware": rel.hardware,
        "size": rel.size,
        "component": rel.component,
        "sha256": rel.sha256.hex(),
        "created_at": utc(rel.created_at),
    }
