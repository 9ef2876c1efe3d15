"""The code hash keys stored results: it changes with any source file of the package, only them."""

import hashlib

import rmthess._codehash as codehash


def _fresh(monkeypatch, root):
    monkeypatch.setattr(codehash, "_PACKAGE", root)
    codehash.code_hash.cache_clear()
    try:
        return codehash.code_hash()
    finally:
        codehash.code_hash.cache_clear()


def test_hash_follows_every_source_file_and_nothing_else(monkeypatch, tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "sub" / "b.py").write_text("y = 2\n")
    base = _fresh(monkeypatch, pkg)
    # an independent computation of the documented recipe: sorted paths, length-prefixed bytes
    want = hashlib.sha256()
    for rel, text in (("a.py", b"x = 1\n"), ("sub/b.py", b"y = 2\n")):
        want.update(f"{rel}\0{len(text)}\0".encode() + text)
    assert base == want.hexdigest()
    (pkg / "notes.txt").write_text("not code")
    (pkg / "sub" / "b.cpython-311.pyc").write_bytes(b"\0")
    assert _fresh(monkeypatch, pkg) == base              # non-source files do not count
    (pkg / "sub" / "b.py").write_text("y = 3\n")
    edited = _fresh(monkeypatch, pkg)
    assert edited != base                                # an edit anywhere changes it
    (pkg / "sub" / "b.py").rename(pkg / "c.py")
    assert _fresh(monkeypatch, pkg) not in (base, edited)   # so does a move


def test_hash_of_the_installed_package_is_computed_once():
    codehash.code_hash.cache_clear()
    first = codehash.code_hash()
    assert codehash.code_hash() is first and codehash.code_hash.cache_info().hits == 1
