"""Microsoft's Azure Storage emulator (azurite, from npm) on a free loopback port, for tests."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from .ports import free_port

ROOT = Path(__file__).resolve().parent.parent
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
# azurite's fixed development account (published by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite:
    def __init__(self, location: Path):
        self.port = free_port()
        self.location = location
        self.process: subprocess.Popen | None = None

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    def start(self) -> None:
        # --disableTelemetry: otherwise it tries to reach an outside host.
        self.process = subprocess.Popen(
            [
                str(AZURITE),
                "--blobHost", "127.0.0.1",
                "--blobPort", str(self.port),
                "--location", str(self.location),
                "--silent",
                "--disableTelemetry",
                "--skipApiVersionCheck",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("azurite did not start") from None
                time.sleep(0.2)

    def create_container(self, name: str) -> None:
        from azure.storage.blob import BlobServiceClient

        client = BlobServiceClient.from_connection_string(self.connection_string)
        if not client.get_container_client(name).exists():
            client.create_container(name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
