"""The release installer (scripts/install.sh) on archives laid out as scripts/package.sh lays them out, served
from file:// URLs: the archive each platform gets, the SHA-256 check, the install directory. The binary in the
archives is a stand-in script that prints a version (scripts/package.sh checks the real one)."""
import hashlib
import os
import stat
import subprocess
import tarfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INSTALLER = os.path.join(ROOT, "scripts", "install.sh")
VERSION = "9.8.7"


def _release(where, target, damaged=False):
    """Writes lppg-VERSION-TARGET.tar.gz and its .sha256 into `where`, as scripts/package.sh does."""
    name = f"lppg-{VERSION}-{target}"
    stage = where / "stage" / name
    stage.mkdir(parents=True)
    binary = stage / "lppg"
    binary.write_text(f'#!/bin/sh\necho "lppg {VERSION} ({target})"\n')
    binary.chmod(0o755)
    archive = where / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(stage, arcname=name)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (where / f"{name}.tar.gz.sha256").write_text(f"{digest}  {name}.tar.gz\n")
    if damaged:
        with open(archive, "ab") as f:
            f.write(b"x")


def _fake_uname(bin_dir, system, machine):
    """A `uname` that reports another platform (`-s`: the system, `-m`: the machine)."""
    bin_dir.mkdir(exist_ok=True)
    uname = bin_dir / "uname"
    uname.write_text(f'#!/bin/sh\ncase "$1" in -s) echo {system} ;; -m) echo {machine} ;; esac\n')
    uname.chmod(uname.stat().st_mode | stat.S_IEXEC)


def _install(tmp_path, url, platform=None, extra_env=None):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "LPPG_VERSION": VERSION, "LPPG_DOWNLOAD_URL": url,
           "LPPG_INSTALL_DIR": str(tmp_path / "installed")}
    if platform:
        fake = tmp_path / "fakebin"
        _fake_uname(fake, *platform)
        env["PATH"] = f"{fake}:{env['PATH']}"
    env.update(extra_env or {})
    return subprocess.run(["sh", INSTALLER], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("system, machine, target", [
    ("Linux", "x86_64", "x86_64-unknown-linux-musl"),
    ("Linux", "aarch64", "aarch64-unknown-linux-musl"),
    ("Darwin", "x86_64", "x86_64-apple-darwin"),
    ("Darwin", "arm64", "aarch64-apple-darwin"),
])
def test_each_platform_gets_its_archive(tmp_path, system, machine, target):
    files = tmp_path / "release"
    files.mkdir()
    for t in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl",
              "x86_64-apple-darwin", "aarch64-apple-darwin"]:
        _release(files, t)
    run = _install(tmp_path, f"file://{files}", (system, machine))
    assert run.returncode == 0, run.stderr
    installed = tmp_path / "installed" / "lppg"
    out = subprocess.run([str(installed)], capture_output=True, text=True).stdout
    assert out.strip() == f"lppg {VERSION} ({target})"
    assert "is not on your PATH" in run.stderr


def test_a_damaged_archive_is_refused_and_nothing_installed(tmp_path):
    files = tmp_path / "release"
    files.mkdir()
    _release(files, "x86_64-unknown-linux-musl", damaged=True)
    run = _install(tmp_path, f"file://{files}", ("Linux", "x86_64"))
    assert run.returncode == 1
    assert "the release says" in run.stderr and "not installed" in run.stderr
    assert not (tmp_path / "installed").exists()


def test_a_missing_archive_and_an_unknown_platform_are_named(tmp_path):
    files = tmp_path / "release"
    files.mkdir()
    run = _install(tmp_path, f"file://{files}", ("Linux", "x86_64"))
    assert run.returncode == 1
    assert f"cannot download file://{files}/lppg-{VERSION}-x86_64-unknown-linux-musl.tar.gz" in run.stderr
    run = _install(tmp_path, f"file://{files}", ("FreeBSD", "amd64"))
    assert run.returncode == 1
    assert "no lppg build for FreeBSD amd64" in run.stderr


def test_an_unwritten_installer_asks_for_its_release(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    run = subprocess.run(["sh", INSTALLER], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "not written by a release: set LPPG_REPO and LPPG_VERSION" in run.stderr
