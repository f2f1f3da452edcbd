"""Reading archives safely: kinds by content, members one at a time, refused names and links,
encrypted members, nested archives, truncated data and zip bombs (issue 7, item 3)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from vulntune.io.archives import (
    MIB,
    ArchiveError,
    ArchiveLimits,
    archive_kind,
    iter_members,
)

REPORT = b'{"version": "2.1.0", "runs": []}'


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def make_tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def read_all(path: Path, tmp_path: Path, limits: ArchiveLimits | None = None):
    """(name, content or problem, skipped) of every member."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return [
        (m.name, m.path.read_bytes() if m.path else m.problem, m.skipped)
        for m in iter_members(path, out, limits)
    ]


def test_kinds_are_told_by_content_not_name(tmp_path):
    assert archive_kind(make_zip(tmp_path / "a.bin", {"r.sarif": REPORT})) == "zip"
    assert archive_kind(make_tar(tmp_path / "a.data", {"r.sarif": REPORT})) == "tar.gz"
    assert archive_kind(make_tar(tmp_path / "a.tar", {"r.sarif": REPORT}, "w")) == "tar"
    (tmp_path / "r.gz").write_bytes(gzip.compress(REPORT))
    assert archive_kind(tmp_path / "r.gz") == "gzip"
    (tmp_path / "fake.zip").write_bytes(REPORT)  # a report named .zip is a report
    assert archive_kind(tmp_path / "fake.zip") is None
    assert archive_kind(tmp_path / "missing.zip") is None


@pytest.mark.parametrize("mode", ["w:gz", "w"])
def test_zip_and_tar_members_are_read_in_order(tmp_path, mode):
    members = {"a/r.sarif": REPORT, "b/report.html": b"<html></html>"}
    expected = [(n, d, False) for n, d in members.items()]
    assert read_all(make_zip(tmp_path / "x.zip", members), tmp_path) == expected
    assert read_all(make_tar(tmp_path / "x.tgz", members, mode), tmp_path) == expected


def test_member_files_are_deleted_when_the_next_is_asked_for(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    archive = make_zip(tmp_path / "x.zip", {"a": REPORT, "b": REPORT})
    seen = []
    for member in iter_members(archive, out):
        seen.append(member.path)
        assert member.path.is_file()
    assert seen[0] != seen[1] and not any(p.exists() for p in seen)


def test_a_gzip_file_is_one_member_and_gzip_members_are_decompressed(tmp_path):
    (tmp_path / "r.sarif.gz").write_bytes(gzip.compress(REPORT))
    assert read_all(tmp_path / "r.sarif.gz", tmp_path) == [("r.sarif", REPORT, False)]
    archive = make_zip(tmp_path / "x.zip", {"r.sarif.gz": gzip.compress(REPORT)})
    assert read_all(archive, tmp_path) == [("r.sarif.gz", REPORT, False)]


def test_absolute_and_dotdot_members_are_refused_others_read(tmp_path):
    members = {"../evil.sarif": REPORT, "/etc/cron.d/x": REPORT, "C:/x.sarif": REPORT,
               "a/../../b.sarif": REPORT, "ok.sarif": REPORT}  # fmt: skip
    assert read_all(make_zip(tmp_path / "x.zip", members), tmp_path) == [
        ("../evil.sarif", "a '..' path that leaves the archive: refused", False),
        ("/etc/cron.d/x", "an absolute path: refused", False),
        ("C:/x.sarif", "an absolute path: refused", False),
        ("a/../../b.sarif", "a '..' path that leaves the archive: refused", False),
        ("ok.sarif", REPORT, False),
    ]
    tarred = read_all(make_tar(tmp_path / "x.tar.gz", members), tmp_path)
    assert [problem for _, problem, _ in tarred][-1] == REPORT
    assert sum("refused" in str(problem) for _, problem, _ in tarred) == 4


def test_tar_links_are_refused(tmp_path):
    path = tmp_path / "links.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, kind in (("to-passwd", tarfile.SYMTYPE), ("hard", tarfile.LNKTYPE)):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            archive.addfile(info)
        info = tarfile.TarInfo("r.sarif")
        info.size = len(REPORT)
        archive.addfile(info, io.BytesIO(REPORT))
    assert read_all(path, tmp_path) == [
        ("to-passwd", "a symbolic link: not read", False),
        ("hard", "a link or special file: not read", False),
        ("r.sarif", REPORT, False),
    ]


def test_zip_symlink_members_are_refused(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("link.sarif")
        link.external_attr = 0o120777 << 16  # S_IFLNK
        archive.writestr(link, "/etc/passwd")
    assert read_all(path, tmp_path) == [("link.sarif", "a link or special file: not read", False)]


def test_password_protected_members_are_refused(tmp_path):
    path = make_zip(tmp_path / "locked.zip", {"secret.sarif": REPORT, "open.sarif": REPORT})
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)  # the first member's local header and directory entry
        data[at + flag_offset] |= 0x1  # "encrypted"
    path.write_bytes(bytes(data))
    assert read_all(path, tmp_path) == [
        ("secret.sarif", "encrypted (password-protected): not read", False),
        ("open.sarif", REPORT, False),
    ]


def test_an_archive_inside_an_archive_is_skipped(tmp_path):
    inner = make_zip(tmp_path / "inner.zip", {"r.sarif": REPORT}).read_bytes()
    outer = make_zip(tmp_path / "outer.zip", {"inner.zip": inner, "r.sarif": REPORT})
    assert read_all(outer, tmp_path) == [
        ("inner.zip", "an archive inside the archive: not opened (one level)", True),
        ("r.sarif", REPORT, False),
    ]


def test_empty_and_unreadable_archives(tmp_path):
    with pytest.raises(ArchiveError, match="the archive is empty") as caught:
        read_all(make_zip(tmp_path / "empty.zip", {}), tmp_path)
    assert caught.value.where == str(tmp_path / "empty.zip")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(ArchiveError, match="not a readable zip archive"):
        read_all(tmp_path / "broken.zip", tmp_path)


def test_truncated_gzip_names_the_file(tmp_path):
    data = gzip.compress(REPORT * 50)
    (tmp_path / "r.sarif.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated") as caught:
        read_all(tmp_path / "r.sarif.gz", tmp_path)
    assert caught.value.where == str(tmp_path / "r.sarif.gz")


def test_truncated_member_names_archive_and_member(tmp_path):
    path = make_tar(tmp_path / "x.tar.gz", {"a.sarif": REPORT * 2000})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ArchiveError) as caught:
        read_all(path, tmp_path)
    assert caught.value.where in (str(path), f"{path}!a.sarif")
    assert "truncated" in caught.value.problem or "corrupt" in caught.value.problem


def test_zip_bomb_is_stopped_by_the_ratio(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {"ok.sarif": REPORT, "zeros.sarif": b"\0" * (8 * MIB)})
    limits = ArchiveLimits(ratio_floor=MIB, max_ratio=100)
    out = tmp_path / "out"
    out.mkdir()
    names = []
    with pytest.raises(ArchiveError, match="expands more than 100 times") as caught:
        for member in iter_members(bomb, out, limits):
            names.append(member.name)
    assert names == ["ok.sarif"]  # what came before the bomb was read
    assert caught.value.where == f"{bomb}!zeros.sarif"
    assert "unpack it and pass the files" in caught.value.problem


def test_size_limits_count_the_bytes_not_the_headers(tmp_path):
    # A gzip stream declares no size: the counter stops it.
    (tmp_path / "big.gz").write_bytes(gzip.compress(b"x" * (3 * MIB)))
    with pytest.raises(ArchiveError, match=r"unpacks to more than 2 MiB \(a zip bomb\?\)"):
        read_all(tmp_path / "big.gz", tmp_path, ArchiveLimits.total_mib(2))
    members = {f"r{i}.sarif": b"y" * MIB for i in range(3)}
    limits = ArchiveLimits(max_member_bytes=2 * MIB, max_total_bytes=2 * MIB + 10)
    with pytest.raises(ArchiveError, match="the archive unpacks to more than"):
        read_all(make_tar(tmp_path / "x.tgz", members), tmp_path, limits)


def test_not_an_archive(tmp_path):
    (tmp_path / "fake.zip").write_text("<html>not a zip</html>")
    with pytest.raises(ArchiveError, match="not a gzip, zip or tar archive"):
        read_all(tmp_path / "fake.zip", tmp_path)
