"""RFC 6962 / RFC 9162 Merkle trees: hashes, roots, inclusion and consistency proofs.

Pure: no I/O. A leaf hash is ``SHA-256(0x00 || data)``, an interior node
``SHA-256(0x01 || left || right)``; the root of ``n`` leaves splits them at the largest
power of two below ``n`` (RFC 6962 section 2.1). Proofs are built from the leaf hashes
and checked with RFC 9162's verification algorithms (section 2.1.3.2 and 2.1.4.2), which
need only the proof, the sizes and the roots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: the hash of the empty string."""


class ProofError(ValueError):
    """A proof, size or hash that does not verify (the message says which)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """The tree over a list of leaf hashes; subtree hashes are kept, so proofs are cheap.

    Every range asked for is remembered (about ``2n`` of them at most), so building the
    inclusion proof of each of ``m`` leaves costs ``O(n + m log n)`` hashes in all.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._leaves: list[bytes] = []
        self._nodes: dict[tuple[int, int], bytes] = {}
        for value in leaf_hashes:
            self.append(value)

    @property
    def size(self) -> int:
        return len(self._leaves)

    def leaf(self, index: int) -> bytes:
        return self._leaves[index]

    def append(self, value: bytes) -> None:
        if len(value) != HASH_SIZE:
            raise ProofError(f"a leaf hash has {HASH_SIZE} bytes, not {len(value)}")
        self._leaves.append(value)

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 ``PATH(index, D[0:size])``."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """RFC 6962 ``PROOF(first, D[0:second])``: the tree of ``first`` leaves is a prefix."""
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise ProofError(f"no consistency proof from size {first} to {second}")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, True)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"the tree has {self.size} leaves, not {size}")

    def _hash(self, low: int, high: int) -> bytes:
        """MTH(D[low:high]) for ``high > low``."""
        if high - low == 1:
            return self._leaves[low]
        known = self._nodes.get((low, high))
        if known is None:
            middle = low + _split(high - low)
            known = node_hash(self._hash(low, middle), self._hash(middle, high))
            self._nodes[(low, high)] = known
        return known

    def _path(self, index: int, low: int, high: int) -> list[bytes]:
        if high - low == 1:
            return []
        middle = low + _split(high - low)
        if index < middle:
            return [*self._path(index, low, middle), self._hash(middle, high)]
        return [*self._path(index, middle, high), self._hash(low, middle)]

    def _subproof(self, first: int, low: int, high: int, complete: bool) -> list[bytes]:
        """RFC 6962 ``SUBPROOF(first - low, D[low:high], complete)``."""
        if first == high:
            return [] if complete else [self._hash(low, high)]
        middle = low + _split(high - low)
        if first <= middle:
            return [*self._subproof(first, low, middle, complete), self._hash(middle, high)]
        return [*self._subproof(first, middle, high, False), self._hash(low, middle)]


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The root of a tree given its frontier (see ``extend_frontier``)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def extend_frontier(frontier: Sequence[bytes], size: int, value: bytes) -> list[bytes]:
    """The frontier after appending leaf hash ``value`` to a tree of ``size`` leaves.

    A frontier is the roots of the perfect subtrees the tree splits into, largest first
    (one per 1-bit of ``size``): enough to compute the root and to append, without the
    leaves. ``ProofError`` when ``frontier`` cannot belong to a tree of ``size``.
    """
    if len(frontier) != size.bit_count():
        raise ProofError(f"a tree of {size} leaves has {size.bit_count()} frontier hashes")
    merged = list(frontier)
    carry = value
    position = size
    while position & 1:
        carry = node_hash(merged.pop(), carry)
        position >>= 1
    merged.append(carry)
    return merged


def _check_hash(value: bytes, name: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} has {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 2.1.3.2: ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns nothing; ``ProofError`` naming what does not hold.
    """
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root")
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    first, last, value = index, size - 1, leaf
    for step, sibling in enumerate(proof):
        _check_hash(sibling, f"proof hash {step}")
        if last == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if first & 1 or first == last:
            value = node_hash(sibling, value)
            while not first & 1 and first != 0:
                first >>= 1
                last >>= 1
        else:
            value = node_hash(value, sibling)
        first >>= 1
        last >>= 1
    if last != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    if value != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2: the tree of ``first`` leaves is a prefix of the one of ``second``.

    Returns nothing; ``ProofError`` naming what does not hold.
    """
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    if not 0 <= first <= second:
        raise ProofError(f"a tree of {second} leaves cannot extend one of {first}")
    if first in (0, second):
        if proof:
            raise ProofError("the consistency proof should be empty")
        if first == second and first_root != second_root:
            raise ProofError(f"two different roots for the same size {first}")
        return
    for step, value in enumerate(proof):
        _check_hash(value, f"proof hash {step}")
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a subtree
        path.insert(0, first_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    low, high = first - 1, second - 1
    while low & 1:
        low >>= 1
        high >>= 1
    old = new = path[0]
    for value in path[1:]:
        if high == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if low & 1 or low == high:
            old = node_hash(value, old)
            new = node_hash(value, new)
            while not low & 1 and low != 0:
                low >>= 1
                high >>= 1
        else:
            new = node_hash(new, value)
        low >>= 1
        high >>= 1
    if high != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if old != first_root:
        raise ProofError(f"the proof does not lead to the root of size {first}")
    if new != second_root:
        raise ProofError(f"the proof does not lead to the root of size {second}")
