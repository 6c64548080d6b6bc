"""A small HTTP/1.1 client on raw sockets (like urllib3 or http.client)."""
import base64
import os
import socket
import ssl
from urllib.parse import urlsplit


def proxy_for(scheme):
    return os.environ.get(scheme.upper() + "_PROXY") or os.environ.get(scheme + "_proxy")


class Connection:
    def __init__(self, url, username=None, password=None, timeout=10.0):
        parts = urlsplit(url)
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.secure = parts.scheme == "https"
        self.auth = None
        if username is not None:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self.auth = "Basic " + token
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        if self.secure:
            self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)

    def request(self, method, path, body=b""):
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        if self.auth:
            head.append("Authorization: " + self.auth)
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        chunks = []
        while True:
            data = self.sock.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)

    def close(self):
        self.sock.close()
