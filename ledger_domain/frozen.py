"""Read-only list and dict: what the ledger hands out can be read, never written.

They subclass ``list``/``dict`` so that they print, compare and serialise exactly as the
guide shows (``['momentum_strategy']``, ``{'momentum_strategy': Decimal('0.6')}``), while
every mutating method raises ``TypeError``. Copies (``copy``, ``deepcopy``, pickle) come
back read-only too; ``list(x)``/``dict(x)`` give a caller a writable copy of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from copy import deepcopy
from typing import Any, NoReturn, SupportsIndex, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


def refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"{type(self).__name__} is read-only: the ledger's records cannot change")


class FrozenList(list[T]):
    """A list that cannot be changed after it is built."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))

    def __copy__(self) -> FrozenList[T]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList[T]:
        return type(self)(deepcopy(list(self), memo))

    @overload
    def __setitem__(self, index: SupportsIndex, value: T) -> NoReturn: ...
    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> NoReturn: ...
    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        refuse(self)

    def __delitem__(self, index: SupportsIndex | slice) -> NoReturn:
        refuse(self)

    def __iadd__(self, other: Iterable[T]) -> NoReturn:  # type: ignore[misc,override]
        refuse(self)

    def __imul__(self, other: SupportsIndex) -> NoReturn:
        refuse(self)

    append = extend = insert = remove = pop = clear = sort = reverse = refuse


class FrozenDict(dict[K, V]):
    """A dict that cannot be changed after it is built."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict[K, V]:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict[K, V]:
        return type(self)(deepcopy(dict(self), memo))

    def __setitem__(self, key: K, value: V) -> NoReturn:
        refuse(self)

    def __delitem__(self, key: K) -> NoReturn:
        refuse(self)

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        refuse(self)

    update = setdefault = pop = popitem = clear = refuse
