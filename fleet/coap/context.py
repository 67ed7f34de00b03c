"""OSCORE security contexts for hubs, built from the database with aiocoap's own OSCORE
code, and a credentials map that finds them by kid (Hub.oscore_id).

What must survive a restart lives in the hub's OscoreState row:
- the replay window of the hub's requests: written in the same step that accepts a
  request (before the request is handed on), so a restarted server knows every number
  it ever accepted. That costs one small UPDATE per request; in exchange no request
  needs Echo after a restart (RFC 8613 B.1.2 is never needed) and none is accepted twice.
- our sender sequence number: numbers are reserved in chunks of SEQ_CHUNK by an atomic
  UPDATE … RETURNING before use (RFC 8613 B.1.1), so no two contexts, nor a restart,
  ever hand out the same number. Responses normally reuse the request's nonce; our own
  numbers are needed rarely.

One CoAP server process per database: two processes would each keep a replay window in
memory and overwrite the other's row.
"""

import logging
import time

from aiocoap import error, oscore
from aiocoap.credentials import CredentialsMap
from sqlalchemy import bindparam, insert, select, update

from fleet import metrics, secrets
from fleet.models import Hub, OscoreState
from fleet.services import enrolment

log = logging.getLogger("fleet.coap")

WINDOW = 32  # replay window size (protocol/README.md)
_MASK = (1 << WINDOW) - 1
SEQ_CHUNK = 64  # sender sequence numbers reserved per database write
NEGATIVE_TTL_S = 10.0  # an unknown kid is looked up again after this long
_NEGATIVE_MAX = 10000
_STATE = OscoreState.__table__
_SAVE_WINDOW = (
    update(_STATE)
    .where(_STATE.c.hub_id == bindparam("pk"))
    .values(replay_top=bindparam("top"), replay_bits=bindparam("bits"))
)


class StateStore:
    """The OscoreState rows, through short transactions of their own."""

    def __init__(self, engine):
        self.engine = engine

    def load(self, hub_pk):
        """(replay_top, replay_bits) of a hub, creating its row on first use."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(_STATE.c.replay_top, _STATE.c.replay_bits).where(_STATE.c.hub_id == hub_pk)
            ).first()
            if row is None:
                conn.execute(insert(_STATE).values(hub_id=hub_pk, sender_seq=0))
                return -1, 0
            return row.replay_top, row.replay_bits

    def save_window(self, hub_pk, top, bits):
        with self.engine.begin() as conn:
            done = conn.execute(_SAVE_WINDOW, {"pk": hub_pk, "top": top, "bits": bits})
        if done.rowcount != 1:  # the row went with a revocation or re-provisioning
            raise oscore.ContextUnavailable("context was revoked")

    def reserve(self, hub_pk, count):
        """The first of `count` sender sequence numbers that are now ours alone."""
        with self.engine.begin() as conn:
            end = conn.execute(
                update(_STATE)
                .where(_STATE.c.hub_id == hub_pk)
                .values(sender_seq=_STATE.c.sender_seq + count)
                .returning(_STATE.c.sender_seq)
            ).scalar()
        if end is None:
            raise oscore.ContextUnavailable("context was revoked")
        return end - count


class _Window:
    """The replay window as aiocoap's unprotect() uses it, kept as `top` (the highest
    number accepted, -1 before any) and `bits` (bit i: top - i was accepted). A number
    is struck out in memory only after the database has it."""

    def __init__(self, ctx, top, bits):
        self._ctx = ctx
        self.top = top
        self.bits = bits

    def is_initialized(self):
        return True

    def is_valid(self, number):
        if number > self.top:
            return True
        back = self.top - number
        return back < WINDOW and not (self.bits >> back) & 1

    def strike_out(self, number):
        if number > self.top:
            shift = number - self.top
            bits = ((self.bits << shift) & _MASK if shift < WINDOW else 0) | 1
            top = number
        else:
            top, bits = self.top, self.bits | 1 << (self.top - number)
        try:
            self._ctx.store.save_window(self._ctx.hub_pk, top, bits)
        except oscore.ContextUnavailable:
            raise
        except Exception:
            log.exception("could not save the replay window of hub %s", self._ctx.hub_id)
            metrics.rejected.inc(reason="state_unsaved")
            raise error.ServiceUnavailable("try again later") from None
        self.top, self.bits = top, bits


class HubContext(oscore.CanProtect, oscore.CanUnprotect, oscore.SecurityContextUtils):
    """The fleet's side of one hub's OSCORE context: recipient id = the hub's sender id,
    our sender id empty, AES-CCM-16-64-128 and HKDF-SHA256 (protocol/README.md)."""

    alg_aead = oscore.algorithms[oscore.DEFAULT_ALGORITHM]
    hashfun = oscore.hashfunctions[oscore.DEFAULT_HASHFUNCTION]
    echo_recovery = None  # the window is always known: no B.1.2 round trip

    def __init__(self, store, hub_pk, hub_id, oscore_id, master_secret, master_salt):
        self.store = store
        self.hub_pk = hub_pk
        self.hub_id = hub_id
        self.sender_id = b""
        self.recipient_id = bytes(oscore_id)
        self.id_context = None
        self.derive_keys(master_salt, master_secret)
        top, bits = store.load(hub_pk)
        self.recipient_replay_window = _Window(self, top, bits)
        self.sender_sequence_number = 0
        self._seq_limit = 0  # nothing reserved yet

    def __repr__(self):
        return "<HubContext " + self.hub_id + ">"  # never the keys

    def new_sequence_number(self):
        if self.sender_sequence_number >= self._seq_limit:
            start = self.store.reserve(self.hub_pk, SEQ_CHUNK)
            self.sender_sequence_number, self._seq_limit = start, start + SEQ_CHUNK
        number = self.sender_sequence_number
        if number >= oscore.MAX_SEQNO:
            raise oscore.ContextUnavailable("sequence numbers exhausted")
        self.sender_sequence_number += 1
        return number

    def post_seqnoincrease(self):
        """Nothing to do: numbers are reserved in the database before they are used."""

    def unprotect(self, protected_message, request_id=None):
        try:
            return super().unprotect(protected_message, request_id)
        except oscore.ReplayError:
            metrics.rejected.inc(reason="replay")
            raise
        except oscore.DecodeError:
            metrics.rejected.inc(reason="bad_oscore")
            raise
        except oscore.ProtectionInvalid:
            metrics.rejected.inc(reason="decrypt")
            raise
        except oscore.ContextUnavailable:
            metrics.rejected.inc(reason="revoked")
            raise error.Unauthorized("context unavailable") from None


class HubCredentials(CredentialsMap):
    """aiocoap's credentials interface, answering find_oscore from the database: a
    context per hub, cached until its hub is revoked or re-provisioned (forget), and
    unknown kids remembered for a few seconds so a flood of them costs no queries."""

    def __init__(self, engine, settings):
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.store = StateStore(engine)
        self._contexts = {}  # oscore_id -> HubContext
        self._unknown = {}  # oscore_id -> monotonic time until which it stays unknown

    def find_oscore(self, unprotected):
        if unprotected.get(oscore.COSE_KID_CONTEXT) is not None:
            metrics.rejected.inc(reason="unknown_hub")
            raise KeyError("no ID context is used")
        kid = unprotected.get(oscore.COSE_KID)
        ctx = self._contexts.get(kid)
        if ctx is not None:
            return ctx
        if not isinstance(kid, bytes) or self._unknown.get(kid, 0) > time.monotonic():
            metrics.rejected.inc(reason="unknown_hub")
            raise KeyError("unknown hub")
        ctx = self._load(kid)
        if ctx is None:
            if len(self._unknown) >= _NEGATIVE_MAX:
                self._unknown.clear()
            self._unknown[kid] = time.monotonic() + NEGATIVE_TTL_S
            metrics.rejected.inc(reason="unknown_hub")
            raise KeyError("unknown hub")
        self._contexts[kid] = ctx
        return ctx

    def _load(self, kid):
        with self.engine.connect() as conn:
            hub = conn.execute(
                select(Hub.id, Hub.hub_id, Hub.state, Hub.secret_enc).where(Hub.oscore_id == kid)
            ).first()
        if hub is None or not hub.secret_enc or not enrolment.is_accepted(hub):
            return None
        try:
            secret, salt = secrets.unseal_hub_secret(self.settings, hub.secret_enc)
        except secrets.SecretError:
            log.error("sealed secret of hub %s does not open with this key", hub.hub_id)
            return None
        return HubContext(self.store, hub.id, hub.hub_id, kid, secret, salt)

    def forget(self, hub_id=None, oscore_id=None):
        """Drop a hub's cached context (enrolment.on_revoke calls this)."""
        if oscore_id is not None:
            self._contexts.pop(bytes(oscore_id), None)
        if hub_id is not None:
            for kid, ctx in list(self._contexts.items()):
                if ctx.hub_id == hub_id:
                    del self._contexts[kid]

    def find_all_used_contextless_oscore_kid(self):
        return set()  # no EDHOC here
