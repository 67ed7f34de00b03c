"""OSCORE security contexts for hubs, built from the database with aiocoap's own OSCORE
code, and a credentials map that finds them by kid (Hub.oscore_id).

What must survive a restart lives in the hub's OscoreState row:
- the replay window of the hub's requests. A number is struck out in memory when its
  request is unprotected, and the window reaches the row in the same transaction as
  the work the request does (HubResource writes it first thing, write_window); no
  response reusing the request's nonce leaves before the row holds that number
  (HubContext.protect saves the window in a transaction of its own when the request's
  transaction did not commit: a refusal, a rate limit, a database error). So a
  restarted server refuses every request it ever answered, with no Echo round trip
  (RFC 8613 B.1.2 is never needed), and a request that failed after the window moved
  either had its number saved or, if even that save failed, is answered with a fresh
  nonce of ours: a replay of it after a restart can never make us reuse a nonce. One
  commit per request on the hot path, not two.
  Saves merge in SQL (a larger top wins, an equal top ORs the bits), so saves that
  commit out of order never un-strike a number.
- our sender sequence number: numbers are reserved in chunks of SEQ_CHUNK by an atomic
  UPDATE … RETURNING before use (RFC 8613 B.1.1), so no two contexts, nor a restart,
  ever hand out the same number. Responses normally reuse the request's nonce; our own
  numbers are needed rarely.

One CoAP server process per database: two processes would each keep a replay window in
memory, and a hub's requests could be accepted once by each.
"""

import logging
import time

from aiocoap import error, oscore
from aiocoap.credentials import CredentialsMap
from sqlalchemy import bindparam, case, event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

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
# A merge, not an overwrite: windows only grow, so a save carrying an older window (a
# smaller top, or fewer bits at the same top) than the row's must change nothing.
_SAVE_WINDOW = (
    update(_STATE)
    .where(_STATE.c.hub_id == bindparam("pk"), _STATE.c.replay_top <= bindparam("top"))
    .values(
        replay_bits=case(
            (
                _STATE.c.replay_top == bindparam("top"),
                _STATE.c.replay_bits.op("|")(bindparam("bits")),
            ),
            else_=bindparam("bits"),
        ),
        replay_top=bindparam("top"),
    )
)
_PENDING = "fleet.coap.window"  # Session.info key: (window, state) written, not committed


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

    def save_window(self, hub_pk, state):
        """Merge a window (top, bits) into the row, in a transaction of its own."""
        with self.engine.begin() as conn:
            write(conn, hub_pk, state)

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


def write(conn, hub_pk, state):
    """Merge the window `state` (top, bits) into a hub's row on `conn`, uncommitted.
    Changes no row when the row already holds it, or the row went with a revocation."""
    conn.execute(_SAVE_WINDOW, {"pk": hub_pk, "top": state[0], "bits": state[1]})


def _merge(old, new):
    if new[0] > old[0]:
        return new
    if new[0] == old[0]:
        return old[0], old[1] | new[1]
    return old


def _refuses(state, number):
    top, bits = state
    if number > top:
        return False
    back = top - number
    return back >= WINDOW or bool((bits >> back) & 1)


class _Window:
    """The replay window as aiocoap's unprotect() uses it, kept as `state` = (top, bits):
    top the highest number accepted (-1 before any), bit i set if top - i was accepted.
    `saved` is the window the database is known to hold (for HubContext.protect)."""

    def __init__(self, top, bits):
        self.state = self.saved = (top, bits)

    def is_initialized(self):
        return True

    def is_valid(self, number):
        return not _refuses(self.state, number)

    def strike_out(self, number):
        top, bits = self.state
        if number > top:
            shift = number - top
            self.state = number, ((bits << shift) & _MASK if shift < WINDOW else 0) | 1
        else:
            self.state = top, bits | 1 << (top - number)

    def is_saved(self, number):
        return _refuses(self.saved, number)

    def saved_as(self, state):
        self.saved = _merge(self.saved, state)


@event.listens_for(Session, "after_commit")
def _committed(db):
    pending = db.info.pop(_PENDING, None)
    if pending is not None:
        pending[0].saved_as(pending[1])


@event.listens_for(Session, "after_rollback")
def _rolled_back(db):
    db.info.pop(_PENDING, None)


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
        self.recipient_replay_window = _Window(top, bits)
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

    def write_window(self, db):
        """Write the replay window into the transaction of `db` (a Session) doing this
        request's work: when that commits, the request's number is saved with it."""
        window = self.recipient_replay_window
        state = window.state
        write(db.connection(), self.hub_pk, state)
        db.info[_PENDING] = (window, state)

    def window_pending(self, db):
        """True while the window written by write_window is neither committed nor rolled
        back."""
        return _PENDING in db.info

    def protect(self, message, request_id=None, **kwargs):
        # A response reuses its request's nonce only once the database holds the
        # request's number: else a restarted server could accept the same request again
        # and seal a different response under the same nonce.
        if request_id is not None and request_id.can_reuse_nonce:
            window = self.recipient_replay_window
            if not window.is_saved(int.from_bytes(request_id.partial_iv, "big")):
                state = window.state
                try:
                    self.store.save_window(self.hub_pk, state)
                except Exception:
                    log.exception("could not save the replay window of hub %s", self.hub_id)
                    metrics.rejected.inc(reason="state_unsaved")
                    request_id.can_reuse_nonce = False  # a fresh nonce of ours instead
                else:
                    window.saved_as(state)
        try:
            return super().protect(message, request_id, **kwargs)
        except SQLAlchemyError:  # no sender number could be reserved either
            log.exception("could not reserve sequence numbers for hub %s", self.hub_id)
            raise error.ServiceUnavailable("try again later") from None

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
