"""Symbolic (sympy) derivations run by the package: GMP moment polynomials, the Stieltjes polynomial of
an atomic weight law, the large-C expansion of the linear cross-entropy block ratio and the closed
forms of the MSE cases. See ``theory/`` for the derivations these functions reproduce.
"""
# Each module's public names are re-exported below (one import line per module).
