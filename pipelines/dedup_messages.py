"""The messages of the dedup stage's joins, as small typed records with a compact Beam coder.

Every join of :mod:`jawebcorpus.pipelines.dedup` groups values of several kinds under one key
(a band key's members and its minimum; a node's label and its parents; …).  Each kind is a
named tuple subclass of :class:`Msg`; a consumer tells them apart with ``isinstance`` or
``match``::

    for msg in values:
        match msg:
            case Label(label): ...
            case ChildLabel(child, label): ...

**Coder.**  Beam's default coder writes a plain tuple compactly but pickles any other class
(a named tuple costs ≈ 2× the bytes and ≈ 10× the time).  :class:`MsgCoder`, registered for
``Msg``, writes one tag byte and the fields (bytes length-prefixed, integers as varints, the
document of :class:`DocEntry` with Beam's default coder): a :class:`Label` with a 15-byte id
is 17 bytes.  The transforms that produce messages declare ``KV[key, Msg]`` output types so
that Beam picks it; every message also pickles (``__reduce__`` of a named tuple), so a runner
that falls back to pickling still works.
"""

from __future__ import annotations

from typing import NamedTuple

from apache_beam import coders
from apache_beam.coders import coder_impl

from jawebcorpus.corpus.record import Doc

__all__ = [
    "Msg", "Member", "GroupMin", "ParentEdge", "Label", "ChildLabel", "NewLabel", "OldLabel", "DocEntry",
    "DropFor", "ClusterSize", "Changed", "Want", "MemberLabel", "GroupRecord", "GroupLabel", "Lower", "MsgCoder",
]


class Msg:
    """Base of the dedup messages (a marker for the coder registry; no state)."""

    __slots__ = ()
    TAG = -1


# -- hot band groups ------------------------------------------------------------------------------
class Member(NamedTuple("Member", [("node", bytes)]), Msg):
    """A member of a hot band group, under one sub-key of the group."""

    __slots__ = ()
    TAG = 1


class GroupMin(NamedTuple("GroupMin", [("node", bytes)]), Msg):
    """The minimum of a hot band group, replicated to every sub-key of the group."""

    __slots__ = ()
    TAG = 2


# -- label propagation ---------------------------------------------------------------------------
class ParentEdge(NamedTuple("ParentEdge", [("parent", bytes)]), Msg):
    """An edge child → ``parent``, under the child's key."""

    __slots__ = ()
    TAG = 3


class Label(NamedTuple("Label", [("label", bytes)]), Msg):
    """A node's current component label, under the node's key (or one of its sub-keys)."""

    __slots__ = ()
    TAG = 4


class ChildLabel(NamedTuple("ChildLabel", [("child", bytes), ("label", bytes)]), Msg):
    """A child's label, sent to its parent's group."""

    __slots__ = ()
    TAG = 5


class NewLabel(NamedTuple("NewLabel", [("label", bytes)]), Msg):
    """A lower label for a node, from one of its parent groups."""

    __slots__ = ()
    TAG = 6


class OldLabel(NamedTuple("OldLabel", [("label", bytes)]), Msg):
    """A node's label before the round (to count changes)."""

    __slots__ = ()
    TAG = 7


# -- the decision join ---------------------------------------------------------------------------
class DocEntry(NamedTuple("DocEntry", [("doc", Doc), ("keys", "bytes | None")]), Msg):
    """A document waiting for its decision, with its band keys (int64 bytes) when the index is
    written."""

    __slots__ = ()
    TAG = 8


class DropFor(NamedTuple("DropFor", [("survivor", bytes)]), Msg):
    """The node is dropped: ``survivor`` (its component's minimum) is kept."""

    __slots__ = ()
    TAG = 9


class ClusterSize(NamedTuple("ClusterSize", [("size", int)]), Msg):
    """The node survives; its cluster has ``size`` documents."""

    __slots__ = ()
    TAG = 10


# -- frontier rounds and the exact finish (docs/dedup.md, "components") -----------------------------
class Changed(NamedTuple("Changed", [("label", bytes), ("old", bytes)]), Msg):
    """A node whose label changed in the previous round: its label and the one before."""

    __slots__ = ()
    TAG = 11


class Want(NamedTuple("Want", [("parent", bytes), ("sub", int)]), Msg):
    """An active group ``(parent, sub)`` asks a child (the key) for its changed label."""

    __slots__ = ()
    TAG = 12


class MemberLabel(NamedTuple("MemberLabel", [("node", bytes), ("label", bytes), ("old", bytes)]), Msg):
    """A member of an active group whose label changed in the previous round."""

    __slots__ = ()
    TAG = 13


class GroupRecord(NamedTuple("GroupRecord", [("children", tuple), ("label", bytes)]), Msg):
    """A group's children (one sub-key of a hub) and its minimum label after round 1."""

    __slots__ = ()
    TAG = 14


class GroupLabel(NamedTuple("GroupLabel", [("label", bytes)]), Msg):
    """A group's minimum label in the previous round (when that round lowered some member)."""

    __slots__ = ()
    TAG = 15


class Lower(NamedTuple("Lower", [("label", bytes), ("old", bytes)]), Msg):
    """A lower label for a node from an active group, with the node's label before the round."""

    __slots__ = ()
    TAG = 16


_BYTES1 = (Member, GroupMin, ParentEdge, Label, NewLabel, OldLabel, DropFor, GroupLabel)
_BYTES2 = (ChildLabel, Changed, Lower)
_BY_TAG: list = [None] * 17
for _cls in (*_BYTES1, *_BYTES2, MemberLabel, Want, GroupRecord, DocEntry, ClusterSize):
    _BY_TAG[_cls.TAG] = _cls
_BYTES1_TAGS = frozenset(c.TAG for c in _BYTES1)
_BYTES2_TAGS = frozenset(c.TAG for c in _BYTES2)
_new = tuple.__new__


class _MsgCoderImpl(coder_impl.StreamCoderImpl):
    def __init__(self):
        self._fallback = coders.FastPrimitivesCoder().get_impl()

    def encode_to_stream(self, value, out, nested):
        tag = value.TAG
        out.write_byte(tag)
        if tag in _BYTES1_TAGS:
            out.write(value[0], True)
        elif tag in _BYTES2_TAGS:
            out.write(value[0], True)
            out.write(value[1], True)
        elif tag == 13:
            out.write(value[0], True)
            out.write(value[1], True)
            out.write(value[2], True)
        elif tag == 12:
            out.write(value[0], True)
            out.write_var_int64(value[1])
        elif tag == 14:
            out.write_var_int64(len(value[0]))
            for child in value[0]:
                out.write(child, True)
            out.write(value[1], True)
        elif tag == 10:
            out.write_var_int64(value[0])
        elif tag == 8:
            self._fallback.encode_to_stream(value[0], out, True)
            self._fallback.encode_to_stream(value[1], out, True)
        else:
            raise TypeError(f"not a dedup message: {type(value).__name__}")

    def decode_from_stream(self, stream, nested):
        tag = stream.read_byte()
        if tag in _BYTES1_TAGS:
            return _new(_BY_TAG[tag], (stream.read_all(True),))
        if tag in _BYTES2_TAGS:
            return _new(_BY_TAG[tag], (stream.read_all(True), stream.read_all(True)))
        if tag == 13:
            return _new(MemberLabel, (stream.read_all(True), stream.read_all(True), stream.read_all(True)))
        if tag == 12:
            return _new(Want, (stream.read_all(True), stream.read_var_int64()))
        if tag == 14:
            n = stream.read_var_int64()
            children = tuple(stream.read_all(True) for _ in range(n))
            return _new(GroupRecord, (children, stream.read_all(True)))
        if tag == 10:
            return _new(ClusterSize, (stream.read_var_int64(),))
        if tag == 8:
            return _new(DocEntry, (self._fallback.decode_from_stream(stream, True),
                                   self._fallback.decode_from_stream(stream, True)))
        raise ValueError(f"unknown dedup message tag {tag}")


class MsgCoder(coders.Coder):
    """Tag byte + fields; see the module docstring."""

    def _create_impl(self):
        return _MsgCoderImpl()

    def is_deterministic(self) -> bool:
        return False  # DocEntry's document goes through the (non-deterministic) default coder

    def to_type_hint(self):
        return Msg

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))


coders.registry.register_coder(Msg, MsgCoder)
