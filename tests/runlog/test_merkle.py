"""The Merkle tree against published RFC 6962 test vectors, and its proofs as properties.

The vector values (leaves, roots of sizes 1..8, inclusion and consistency proofs) are
those of Certificate Transparency's reference implementation, as published in
transparency-dev/merkle ``proof/verify_test.go``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.archive.runlog.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    extend_frontier,
    leaf_hash,
    root_from_frontier,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(value)
    for value in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, proof)
INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (first size, second size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

VECTOR_TREE = MerkleTree([leaf_hash(data) for data in LEAVES])


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert MerkleTree().root() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert VECTOR_TREE.root(size) == ROOTS[size - 1]
    frontier: list[bytes] = []
    for count, data in enumerate(LEAVES[:size]):
        frontier = extend_frontier(frontier, count, leaf_hash(data))
    assert root_from_frontier(frontier) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(
    index: int, size: int, proof: list[str]
) -> None:
    expected = [bytes.fromhex(value) for value in proof]
    assert VECTOR_TREE.inclusion_proof(index, size) == expected
    verify_inclusion(index, size, leaf_hash(LEAVES[index]), expected, ROOTS[size - 1])


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(
    first: int, second: int, proof: list[str]
) -> None:
    expected = [bytes.fromhex(value) for value in proof]
    assert VECTOR_TREE.consistency_proof(first, second) == expected
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], expected)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_corrupted_inclusion_probes_fail(index: int, size: int, proof: list[str]) -> None:
    """The reference implementation's corruptions: wrong index, size, leaf, root, padding."""
    hashes = [bytes.fromhex(value) for value in proof]
    leaf, root = leaf_hash(LEAVES[index]), ROOTS[size - 1]
    probes = [
        (index - 1, size, leaf, hashes, root),
        (index + 1, size, leaf, hashes, root),
        (index ^ 2, size, leaf, hashes, root),
        (index, size * 2, leaf, hashes, root),
        (index, size // 2, leaf, hashes, root),
        (index, size, leaf_hash(b"WrongLeaf"), hashes, root),
        (index, size, leaf, hashes, EMPTY_ROOT),
        (index, size, leaf, [*hashes, b""], root),
        (index, size, leaf, [*hashes, root], root),
        (index, size, leaf, [root, *hashes], root),
        (index, size, leaf, hashes[:-1], root),
    ]
    for probe in probes:
        with pytest.raises(ProofError):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY[1:])
def test_corrupted_consistency_probes_fail(first: int, second: int, proof: list[str]) -> None:
    hashes = [bytes.fromhex(value) for value in proof]
    old, new = ROOTS[first - 1], ROOTS[second - 1]
    probes = [
        (first - 1, second, old, new, hashes),
        (first + 1, second, old, new, hashes),
        (first ^ 2, second, old, new, hashes),
        (first, second * 2, old, new, hashes),
        (first, second // 2, old, new, hashes),
        (first, second, new, old, hashes),
        (first, second, old, new, []),
        (first, second, old, new, [*hashes, old]),
        (first, second, old, new, [new, *hashes]),
        (first, second, old, new, [hashes[0], *hashes]),
        (first, second, old, new, hashes[:-1]),
    ]
    for probe in probes:
        with pytest.raises(ProofError):
            verify_consistency(*probe)


def test_trivial_consistency() -> None:
    verify_consistency(0, 5, EMPTY_ROOT, ROOTS[4], [])
    with pytest.raises(ProofError):
        verify_consistency(3, 3, ROOTS[2], ROOTS[3], [])
    with pytest.raises(ProofError):
        verify_consistency(4, 3, ROOTS[3], ROOTS[2], [])


# -- properties ------------------------------------------------------------------------

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
logs = st.lists(st.binary(max_size=12), min_size=1, max_size=40)


def _flip(value: bytes, bit: int) -> bytes:
    position = bit % (len(value) * 8)
    changed = bytearray(value)
    changed[position // 8] ^= 1 << (position % 8)
    return bytes(changed)


@PROPERTY
@given(entries=logs, data=st.data())
def test_every_inclusion_proof_verifies_and_any_bit_flip_fails(
    entries: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree()
    for count, entry in enumerate(entries, start=1):
        tree.append(leaf_hash(entry))
        index = data.draw(st.integers(0, count - 1), label="index")
        proof = tree.inclusion_proof(index)
        root, leaf = tree.root(), tree.leaf(index)
        verify_inclusion(index, count, leaf, proof, root)
        bit = data.draw(st.integers(0, 255), label="bit")
        with pytest.raises(ProofError):
            verify_inclusion(index, count, _flip(leaf, bit), proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, count, leaf, proof, _flip(root, bit))
        if proof:
            step = data.draw(st.integers(0, len(proof) - 1), label="step")
            changed = [*proof[:step], _flip(proof[step], bit), *proof[step + 1 :]]
            with pytest.raises(ProofError):
                verify_inclusion(index, count, leaf, changed, root)


@PROPERTY
@given(entries=logs, data=st.data())
def test_every_consistency_proof_verifies_and_any_bit_flip_fails(
    entries: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree([leaf_hash(entry) for entry in entries])
    frontier: list[bytes] = []
    for count in range(len(entries)):
        frontier = extend_frontier(frontier, count, tree.leaf(count))
    assert root_from_frontier(frontier) == tree.root()
    second = data.draw(st.integers(1, tree.size), label="second")
    first = data.draw(st.integers(1, second), label="first")
    old, new = tree.root(first), tree.root(second)
    proof = tree.consistency_proof(first, second)
    verify_consistency(first, second, old, new, proof)
    if first == second:
        return
    bit = data.draw(st.integers(0, 255), label="bit")
    with pytest.raises(ProofError):
        verify_consistency(first, second, _flip(old, bit), new, proof)
    with pytest.raises(ProofError):
        verify_consistency(first, second, old, _flip(new, bit), proof)
    step = data.draw(st.integers(0, len(proof) - 1), label="step")
    changed = [*proof[:step], _flip(proof[step], bit), *proof[step + 1 :]]
    with pytest.raises(ProofError):
        verify_consistency(first, second, old, new, changed)
