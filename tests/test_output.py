"""The all-or-nothing writer: a temporary sibling swapped in, a manifest, the user's files kept."""

from __future__ import annotations

import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from migrate.core.errors import InputError
from migrate.file_writer import WRITERS, TreeWriter
from migrate.output import MANIFEST, json_chunks, json_text, to_json, tree_writer, write_file, write_tree


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir())


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)
    previous = os.umask(0o022)
    yield set_mask
    os.umask(previous)


def test_fresh_result_and_manifest(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": b"{}\n", "containers/web01/Dockerfile": "FROM x\n"})
    assert tree(out) == {"plan.json": b"{}\n", "containers/web01/Dockerfile": b"FROM x\n",
                         MANIFEST: (out / MANIFEST).read_bytes()}
    listed = [line for line in (out / MANIFEST).read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert listed == ["containers/web01/Dockerfile", "plan.json"]
    assert siblings(out) == ["out"]


def test_rerun_removes_stale_files_and_keeps_the_users(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1", "containers/old01/Dockerfile": "old", "containers/web01/Dockerfile": "w1",
                     "k8s/old01.yaml": "old"})
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "containers" / "web01" / "content").mkdir()
    (out / "containers" / "web01" / "content" / "app.dll").write_bytes(b"\x00app")
    (out / "containers" / "old01" / "content").mkdir()
    (out / "containers" / "old01" / "content" / "keep.txt").write_text("kept", encoding="utf-8")
    (out / "secrets" / "web01").mkdir(parents=True)
    (out / "secrets" / "web01" / "DB").write_text("s3cret", encoding="utf-8")
    (out / "empty-folder").mkdir()

    write_tree(out, {"plan.json": "2", "containers/web01/Dockerfile": "w2"})

    assert tree(out) == {
        "plan.json": b"2", "containers/web01/Dockerfile": b"w2", MANIFEST: (out / MANIFEST).read_bytes(),
        "notes.txt": b"mine", "containers/web01/content/app.dll": b"\x00app",
        "containers/old01/content/keep.txt": b"kept", "secrets/web01/DB": b"s3cret",
    }
    assert (out / "empty-folder").is_dir()
    assert not (out / "k8s").exists()
    assert siblings(out) == ["out"]


def test_a_file_without_a_manifest_is_the_users_unless_overwritten(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.json").write_text("hand-made", encoding="utf-8")
    (out / "inventory.json").write_text("input", encoding="utf-8")
    write_tree(out, {"plan.json": "new"})
    assert (out / "plan.json").read_text(encoding="utf-8") == "new"
    assert (out / "inventory.json").read_text(encoding="utf-8") == "input"
    write_tree(out, {"report.md": "r"})
    assert not (out / "plan.json").exists()  # listed in the manifest of the run before
    assert (out / "inventory.json").read_text(encoding="utf-8") == "input"


def test_a_manifest_never_reaches_outside_the_folder(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1"})
    outside = tmp_path / "precious.txt"
    outside.write_text("keep", encoding="utf-8")
    with (out / MANIFEST).open("a", encoding="utf-8") as manifest:
        manifest.write("../precious.txt\n/etc/hostname\n")
    write_tree(out, {"plan.json": "2"})
    assert outside.read_text(encoding="utf-8") == "keep"


def test_failure_while_writing_leaves_the_previous_result(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1", "report.md": "r1"})
    before = tree(out)
    with pytest.raises(TypeError):
        write_tree(out, {"a.txt": "x", "plan.json": 42})  # type: ignore[dict-item] - not text: fails mid-write
    assert tree(out) == before
    assert siblings(out) == ["out"]


@pytest.mark.parametrize("setup, message", [
    (lambda out: out.write_text("a file", encoding="utf-8"), "is not a folder"),
    (lambda out: (out / "plan.json").mkdir(parents=True), "is a folder; hyperdock writes a file"),
    (lambda out: (out.mkdir(), (out / "containers").write_text("x", encoding="utf-8")), "is a file; hyperdock writes a folder"),
])
def test_an_out_that_cannot_hold_the_result(tmp_path, setup, message):
    out = tmp_path / "out"
    setup(out)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(InputError, match=message):
        write_tree(out, {"plan.json": "{}", "containers/web01/Dockerfile": "FROM x"})
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_modes_follow_the_umask(tmp_path, umask):
    for mask, file_mode, folder_mode in ((0o022, 0o644, 0o755), (0o077, 0o600, 0o700), (0o002, 0o664, 0o775)):
        umask(mask)
        out = tmp_path / f"out{mask:o}"
        write_tree(out, {"containers/web01/Dockerfile": "FROM x"})
        write_file(tmp_path / f"inv{mask:o}.json", b"{}")
        assert stat.S_IMODE((out / "containers/web01/Dockerfile").stat().st_mode) == file_mode
        assert stat.S_IMODE((out / "containers/web01").stat().st_mode) == folder_mode
        assert stat.S_IMODE(out.stat().st_mode) == folder_mode
        assert stat.S_IMODE((tmp_path / f"inv{mask:o}.json").stat().st_mode) == file_mode


def test_write_file_replaces_whole_and_refuses_a_folder(tmp_path):
    target = tmp_path / "inv.json"
    write_file(target, b"one")
    write_file(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.json"]
    with pytest.raises(InputError, match="is a folder"):
        write_file(tmp_path, b"x")


def test_temporaries_of_a_killed_run_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.hyperdock-{int(dead.stdout)}.new"
    (stale / "containers").mkdir(parents=True)
    (stale / "containers" / "half").write_text("half", encoding="utf-8")
    write_tree(tmp_path / "out", {"plan.json": "{}"})
    assert siblings(tmp_path / "out") == ["out"]


def test_a_killed_runs_temporary_file_is_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f".inv.json.hyperdock-{int(dead.stdout)}.new").write_text("half", encoding="utf-8")
    write_file(tmp_path / "inv.json", b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.json"]


def test_a_running_processs_temporary_is_kept(tmp_path):
    running = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        busy = tmp_path / f".out.hyperdock-{running.pid}.new"
        busy.mkdir()
        write_tree(tmp_path / "out", {"plan.json": "{}"})
        assert siblings(tmp_path / "out") == [busy.name, "out"]
        assert running.poll() is None  # probed, not signalled
    finally:
        running.communicate(b"")


class _Kernel32:
    """Win32 calls as ctypes gives them, answering from `processes` ({pid: exit code, or an error
    number from OpenProcess}). Only the query calls exist: a probe reaching for TerminateProcess or
    GenerateConsoleCtrlEvent would fail with AttributeError."""

    def __init__(self, processes: dict[int, int | str]) -> None:
        self.processes, self.error, self.opened, self.closed = processes, 0, [], []

    def OpenProcess(self, access, inherit, pid):  # noqa: N802 - the Win32 name
        self.opened.append(access)
        answer = self.processes.get(pid, "87")  # ERROR_INVALID_PARAMETER: no such process
        if isinstance(answer, str):
            self.error = int(answer)
            return None
        return 1000 + pid

    def GetExitCodeProcess(self, handle, code):  # noqa: N802
        code._obj.value = self.processes[handle - 1000]
        return 1

    def CloseHandle(self, handle):  # noqa: N802
        self.closed.append(handle)
        return 1


def test_the_windows_probe_only_queries_and_reads_the_exit_code():
    from migrate.result_folder import _windows_process_exists

    kernel32 = _Kernel32({10: 259, 11: 0, 12: "5"})  # running (STILL_ACTIVE), ended, another user's (access denied)
    exists = [_windows_process_exists(pid, kernel32, lambda: kernel32.error) for pid in (10, 11, 12, 13)]
    assert exists == [True, False, True, False]
    assert set(kernel32.opened) == {0x1000}  # PROCESS_QUERY_LIMITED_INFORMATION: no right to end or signal it
    assert kernel32.closed == [1010, 1011]


def test_out_that_is_the_working_folder_is_updated_in_place(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1", "k8s/old.yaml": "old"})
    (out / "mine.txt").write_text("mine", encoding="utf-8")
    inode = out.stat().st_ino
    monkeypatch.chdir(out)
    write_tree(Path("."), {"plan.json": "2"})
    assert out.stat().st_ino == inode  # the same folder: a shell inside it still sees the result
    assert not (out / "k8s").exists()
    assert tree(out) == {"plan.json": b"2", "mine.txt": b"mine", MANIFEST: (out / MANIFEST).read_bytes()}
    assert siblings(out) == ["out"]


def test_json_chunks_are_to_json_byte_for_byte():
    document = {
        "schema": "x", "empty": [], "emptyObject": {}, "nested": {"a": [1, {"b": []}], "s": "line\nbreak"},
        "items": [{"name": f"vm{i}", "ports": [80, 443], "tags": {}, "n": None} for i in range(2503)],
        "scalars": [1, "two", 3.5, True], "last": "ü\u2028",
    }
    assert b"".join(json_chunks(document)) == to_json(document)
    assert b"".join(json_chunks({})) == to_json({})
    plan = orjson.loads((Path(__file__).parent.parent / "examples" / "plan" / "plan.json").read_bytes())
    assert b"".join(json_chunks(plan)) == to_json(plan)


def test_streamed_content_is_written_and_a_failing_stream_leaves_the_previous_result(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": iter([b"{", "\"a\": \"\u00fc\"", b"}\n"]), "report.md": (c for c in ["# r\n", "x\n"])})
    assert tree(out)["plan.json"] == '{"a": "ü"}\n'.encode() and tree(out)["report.md"] == b"# r\nx\n"
    before = tree(out)

    def broken():
        yield b"partial"
        raise ValueError("serializer failed")

    with pytest.raises(ValueError):
        write_tree(out, {"plan.json": broken(), "report.md": "r2"})
    assert tree(out) == before
    assert siblings(out) == ["out"]


def _streamed(out: Path, files: dict[str, str | bytes], spawn_after: int) -> int | None:
    """Write `files` through `tree_writer` in their order; return the writer process's id (None: held, no process)."""
    with tree_writer(out, spawn_after=spawn_after) as writer:
        for relative, content in files.items():
            writer.put(relative, content)
        pid = writer._children[0].pid if writer._children else None
    return pid


def many() -> dict:
    """A result of 124 files, two of them given as chunks (as plan.json and report.md are)."""
    files: dict = {f"containers/w{i:03d}/{name}": f"{name} {i}\n" * i for i in range(60) for name in ("Dockerfile", "start.ps1")}
    files.update({"hosts.yaml": "pools: []\n", "k8s/namespace.yaml": b"kind: Namespace\n",
                  "report.md": iter(["# r\n", b"x\n"]), "containers/w007/notes.md": (c for c in ("a", "\u00fc"))})
    return files


@pytest.mark.parametrize("spawn_after,writers", [(0, 1), (0, 2), (10, 2), (100_000, 1)],
                         ids=["process-from-the-first", "two-processes", "two-after-ten", "held"])
def test_a_streamed_result_is_the_same_as_a_whole_one(tmp_path, spawn_after, writers, monkeypatch):
    monkeypatch.setattr(TreeWriter.__init__, "__defaults__", (spawn_after, writers))
    write_tree(tmp_path / "whole", many())
    pid = _streamed(tmp_path / "streamed", dict(reversed(many().items())), spawn_after)
    assert (pid is None) == (spawn_after > len(many()))
    assert tree(tmp_path / "streamed") == tree(tmp_path / "whole")
    assert tree(tmp_path / "whole")["containers/w007/notes.md"] == "a\u00fc".encode()
    assert len(tree(tmp_path / "whole")) == 124 + 1  # and the manifest
    assert siblings(tmp_path / "streamed") == ["streamed", "whole"]


@pytest.mark.parametrize("spawn_after", [0, 100_000], ids=["process", "held"])
def test_a_file_the_writer_cannot_create_names_it_and_leaves_the_previous_result(tmp_path, spawn_after):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1"})
    before = tree(out)
    # "k8s" is a file, so nothing can be created under it: the writer fails at k8s/web01.yaml.
    with pytest.raises(InputError, match=r"out/k8s/web01\.yaml: cannot write: File exists"):
        _streamed(out, {"plan.json": "2", "k8s": "x", "k8s/web01.yaml": "y", "hosts.yaml": "z"}, spawn_after)
    assert tree(out) == before
    assert siblings(out) == ["out"]


def test_an_exception_while_streaming_ends_the_writer_process_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    write_tree(out, {"plan.json": "1"})
    before = tree(out)
    with pytest.raises(KeyboardInterrupt):
        with tree_writer(out, spawn_after=0) as writer:
            writer.put("containers/web01/Dockerfile", "FROM x\n")
            pids = [child.pid for child in writer._children]
            raise KeyboardInterrupt
    assert len(pids) == WRITERS
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # ended and reaped
    assert tree(out) == before
    assert siblings(out) == ["out"]


def test_a_path_put_twice_is_a_bug_not_an_overwrite(tmp_path):
    with pytest.raises(ValueError, match="written twice"):
        with tree_writer(tmp_path / "out") as writer:
            writer.put("plan.json", "1")
            writer.put("plan.json", "2")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_json_text_is_the_stdlib_text_byte_for_byte():
    rnd = random.Random(5)
    pieces = list("ab /\\\"'\n\t\x00\x1f\x7f") + ["é", "日", "\U0001F600", "\ud800", "\u2028", "C:\\inetpub\\logs"]
    for _ in range(400):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        document = {"LogConfig": {"sources": [{"directory": text, "flag": rnd.random() < 0.5, "n": rnd.randint(-9, 2 ** 70),
                                               "none": None, "empty": {}, "list": []}], text: [text]}}
        assert json_text(document) == json.dumps(document, indent=2) + "\n"
