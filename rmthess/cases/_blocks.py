r"""The block types of the Hessians, declared once (theory/cases.md, (CASE-1)).

A block type is a registered name — the string that results, JSON and CSV files carry — with the
two facts the rest of the package needs about it:

* ``square``: the blocks are d×d (indexed by rows of a first-layer matrix; their norms are divided
  by d) rather than m×m output blocks of the hidden network;
* ``indexed_by``: the blocks are indexed by the classes (``C`` of them) or by the hidden units (m).

>>> from rmthess.cases import BLOCK_HIDDEN, block_type
>>> block_type(BLOCK_HIDDEN).square, block_type("output").count(classes=10, m=4)
(True, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BlockType", "BLOCK_TYPES", "BLOCK_V", "BLOCK_HIDDEN", "BLOCK_OUTPUT", "block_type"]

#: the rows v_c of the output matrix of the linear model (d×d blocks, C of them)
BLOCK_V = "v"
#: the rows w_i of the hidden matrix of the one-hidden-layer network (d×d blocks, m of them)
BLOCK_HIDDEN = "hidden"
#: the rows v_c of the output matrix of the one-hidden-layer network (m×m blocks, C of them)
BLOCK_OUTPUT = "output"


@dataclass(frozen=True)
class BlockType:
    """One registered block type: its ``name``, whether its blocks are d×d, what indexes them."""

    name: str
    square: bool
    indexed_by: str  # "classes" or "width"

    def count(self, classes: int, m: int | None) -> int:
        """Number of blocks along one side: ``C`` or ``m``."""
        return int(classes) if self.indexed_by == "classes" else int(m)


#: name -> block type
BLOCK_TYPES: dict[str, BlockType] = {
    BLOCK_V: BlockType(BLOCK_V, square=True, indexed_by="classes"),
    BLOCK_HIDDEN: BlockType(BLOCK_HIDDEN, square=True, indexed_by="width"),
    BLOCK_OUTPUT: BlockType(BLOCK_OUTPUT, square=False, indexed_by="classes"),
}


def block_type(name) -> BlockType:
    """The registered :class:`BlockType` called ``name``; ``ValueError`` lists the valid names."""
    try:
        return BLOCK_TYPES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown block type {name!r}; valid: {', '.join(BLOCK_TYPES)}") from None
