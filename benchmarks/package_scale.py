"""How fast `hyperdock package` fills a build context: one site of N files, as a folder and as a zip.

Builds the sample's generated folder, an extraction for WEB02 whose site holds N files of S KiB
(with a web.config to rewrite), and times `hyperdock package` in a fresh process: wall time and
throughput (every byte is hashed and copied once; a zip is unpacked first).

    python benchmarks/package_scale.py                      # 2000 and 20000 files of 16 KiB
    python benchmarks/package_scale.py --files 5000 --kib 64
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB02 = "384f42d1-8f9e-5f9d-a005-233de00f634b"


def make_extraction(root: Path, files: int, kib: int) -> int:
    """Write DIR/<WEB02>/webshop with `files` files and a manifest; return the bytes written."""
    part = root / WEB02 / "webshop"
    entries = []
    total = 0
    block = os.urandom(kib * 1024)
    for i in range(files):
        relative = f"assets/{i % 100:02d}/file{i:06d}.bin"
        data = block[i % 97:] + i.to_bytes(4, "little")
        (part / relative).parent.mkdir(parents=True, exist_ok=True)
        (part / relative).write_bytes(data)
        entries.append({"path": relative, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
        total += len(data)
    config = (b'<configuration><connectionStrings><add name="ShopDb" connectionString="Server=db;Password=x" />'
              b"</connectionStrings></configuration>")
    (part / "web.config").write_bytes(config)
    entries.append({"path": "web.config", "size": len(config), "sha256": hashlib.sha256(config).hexdigest()})
    manifest = {"schema": "hyperdock/extract@1", "vmId": WEB02,
                "parts": [{"source": "C:\\inetpub\\webshop", "folder": "webshop", "files": entries}]}
    (root / WEB02 / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return total


def run(plan_dir: Path, content: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "migrate", "package", str(plan_dir), "--content", str(content)],
                            cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--kib", type=int, default=16)
    args = parser.parse_args()
    print("| files | MiB | folder | MiB/s | zip | MiB/s |\n|---:|---:|---:|---:|---:|---:|")
    for files in args.files:
        with tempfile.TemporaryDirectory() as temporary:
            work = Path(temporary)
            subprocess.run([sys.executable, "-m", "migrate", "generate", str(ROOT / "examples" / "plan"), "--out",
                            str(work / "out")], cwd=ROOT, check=True, capture_output=True)
            shutil.copy(ROOT / "examples" / "plan" / "plan.json", work / "out" / "plan.json")
            size = make_extraction(work / "extract", files, args.kib) / 2 ** 20
            folder = run(work / "out", work / "extract")
            with zipfile.ZipFile(work / "extract.zip", "w", zipfile.ZIP_STORED) as bundle:
                for path in sorted((work / "extract").rglob("*")):
                    if path.is_file():
                        bundle.write(path, path.relative_to(work / "extract").as_posix())
            archive = run(work / "out", work / "extract.zip")
            print(f"| {files:,} | {size:,.0f} | {folder:.2f} s | {size / folder:,.0f} | {archive:.2f} s | {size / archive:,.0f} |")


if __name__ == "__main__":
    main()
